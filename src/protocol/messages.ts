// Whole messages: a frame is a length prefix and then one or more records (a header and a body).
// Both sides build frames with `encodeFrame` and read the header first, then the body the opcode
// table names, so neither side writes a per-message codec.

import { DecodeError } from './errors.js';
import { JuteReader, JuteWriter, type JuteType } from './jute.js';
import { FRAME_LENGTH_BYTES } from './limits.js';
import { operationFor, type OpSpec } from './opcodes.js';
import { ReplyHeader, RequestHeader } from './records.js';

/** One record of a frame, with its type, so a frame can be sized and written in one pass. */
export interface FramePart {
  readonly type: JuteType<any>;
  readonly value: unknown;
}

/** Pairs a value with its record type; the compiler checks that they agree. */
export function part<T>(type: JuteType<T>, value: T): FramePart {
  return { type, value };
}

/** Encodes the parts behind a 4-byte length prefix, in one allocation. */
export function encodeFrame(...parts: FramePart[]): Buffer {
  let size = 0;
  for (const p of parts) size += p.type.size(p.value);
  const bytes = Buffer.allocUnsafe(FRAME_LENGTH_BYTES + size);
  bytes.writeInt32BE(size, 0);
  const writer = new JuteWriter(bytes, FRAME_LENGTH_BYTES);
  for (const p of parts) p.type.write(writer, p.value);
  return bytes;
}

/** A decoded request: its header, the operation it names (if known) and its body. */
export interface DecodedRequest {
  header: RequestHeader;
  /** Undefined for an opcode ZooKeeper does not define. */
  spec: OpSpec | undefined;
  /** The request record, or undefined when the op is unknown or has no body. */
  body: unknown;
}

/**
 * Decodes a request frame (without its length prefix). Throws DecodeError if the header or the
 * body is malformed; an unknown opcode is not an error here (the server answers UNIMPLEMENTED).
 */
export function decodeRequest(frame: Buffer): DecodedRequest {
  const reader = new JuteReader(frame);
  const header = RequestHeader.read(reader);
  const spec = operationFor(header.type);
  if (spec === undefined || spec.request === null) return { header, spec, body: undefined };
  const body = spec.request.read(reader);
  return { header, spec, body };
}

/** Reads a reply header, leaving the reader at the body. */
export function readReplyHeader(frame: Buffer): { header: ReplyHeader; reader: JuteReader } {
  const reader = new JuteReader(frame);
  return { header: ReplyHeader.read(reader), reader };
}

/** Decodes one record that must fill a frame exactly (used by tools and tests). */
export function decodeExactly<T>(type: JuteType<T>, bytes: Buffer): T {
  const reader = new JuteReader(bytes);
  const value = type.read(reader);
  if (reader.remaining !== 0) throw new DecodeError(`${reader.remaining} unexpected trailing bytes after ${type.name}`);
  return value;
}
