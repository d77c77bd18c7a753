// How a golden transcript names its frames. Per connection, the first request is a ConnectRequest
// and the first reply a ConnectResponse; after that a request names its opcode in its header, and a
// reply is matched to the request of the same xid (notifications carry xid -1 and no request).
// The capture script labels with this; the golden test relabels the raw bytes and compares.
import {
  JuteReader,
  operationFor,
  opName,
  part,
  readReplyHeader,
  records,
  Xid,
  type FramePart,
  type JuteType,
} from '../../src/protocol/index.js';

const { ConnectRequest, ConnectResponse, ReplyHeader, RequestHeader, WatcherEvent } = records;
type RequestHeader = records.RequestHeader;
type ReplyHeader = records.ReplyHeader;

export type FrameKind = 'connect' | 'request' | 'reply' | 'notification';

export interface GoldenFrame {
  connection: number;
  direction: 'request' | 'reply';
  kind: FrameKind;
  /** The opcode's name (requests and replies), 'connect', or 'notification'. */
  op: string;
  /** The opcode number the reply answers (absent for connect frames). */
  opcode?: number;
  xid?: number;
  /** The reply header's err (replies only). */
  err?: number;
  /** One line, for people reading the file; the test does not compare it. */
  summary?: string;
  /** The frame as it crossed the wire, length prefix included. */
  hex: string;
}

export interface GoldenFile {
  description: string;
  server: string;
  client: string;
  frames: GoldenFrame[];
}

export interface RawFrame {
  connection: number;
  direction: 'request' | 'reply';
  bytes: Buffer;
}

/** Labels frames in capture order; throws if a reply answers no outstanding request. */
export function labelFrames(frames: RawFrame[]): Array<Omit<GoldenFrame, 'summary'>> {
  const connected = new Map<number, { request: boolean; reply: boolean }>();
  // Outstanding requests per connection and xid; pings share xid -2, so each xid holds a queue.
  const pending = new Map<string, number[]>();
  return frames.map((frame) => {
    const body = frame.bytes.subarray(4);
    const hex = frame.bytes.toString('hex');
    const seen = connected.get(frame.connection) ?? { request: false, reply: false };
    connected.set(frame.connection, seen);
    const base = { connection: frame.connection, direction: frame.direction, hex };
    if (frame.direction === 'request' && !seen.request) {
      seen.request = true;
      return { ...base, kind: 'connect' as const, op: 'connect' };
    }
    if (frame.direction === 'reply' && !seen.reply) {
      seen.reply = true;
      return { ...base, kind: 'connect' as const, op: 'connect' };
    }
    if (frame.direction === 'request') {
      const header = RequestHeader.decode(body);
      const key = `${frame.connection}/${header.xid}`;
      pending.set(key, [...(pending.get(key) ?? []), header.type]);
      const op = opName(header.type);
      return { ...base, kind: 'request' as const, op, opcode: header.type, xid: header.xid };
    }
    const { header } = readReplyHeader(body);
    if (header.xid === Xid.NOTIFICATION) {
      const { xid, err } = header;
      return { ...base, kind: 'notification' as const, op: 'notification', opcode: 0, xid, err };
    }
    const key = `${frame.connection}/${header.xid}`;
    const queue = pending.get(key) ?? [];
    const opcode = queue.shift();
    if (opcode === undefined) {
      throw new Error(`reply with xid ${header.xid} on connection ${frame.connection} answers no request`);
    }
    return { ...base, kind: 'reply' as const, op: opName(opcode), opcode, xid: header.xid, err: header.err };
  });
}

/**
 * The rest of a frame whose opcode declares no jute body: deleteContainer's body is the path's
 * raw UTF-8 bytes (Apache's ContainerManager builds it so; PrepRequestProcessor reads it so).
 */
const unparsedBody: JuteType<Buffer> = {
  name: 'unparsed',
  shape: { kind: 'custom', name: 'unparsed' },
  minBytes: 0,
  read: (r) => {
    const bytes = Buffer.from(r.buffer.subarray(r.offset, r.end));
    r.offset = r.end;
    return bytes;
  },
  write: (w, v) => {
    w.buffer.set(v, w.offset);
    w.offset += v.length;
  },
  size: (v) => v.length,
  describe: (v) => `raw${JSON.stringify(v.toString('utf8'))}`,
};

/** A frame decoded into the records it is made of, ready to re-encode with `encodeFrame`. */
export interface DecodedFrame {
  parts: FramePart[];
  summary: string;
}

/**
 * Decodes a labelled frame with the opcode table: connect frames as ConnectRequest/Response, requests
 * as header and body, replies as header and (when err is 0, or for a multi) the response record,
 * notifications as WatcherEvent. Throws if the frame has bytes the records do not account for.
 */
export function decodeGoldenFrame(
  frame: Pick<GoldenFrame, 'kind' | 'direction' | 'opcode'>,
  bytes: Buffer,
): DecodedFrame {
  const reader = new JuteReader(bytes, 4);
  if (bytes.readInt32BE(0) !== bytes.length - 4) throw new Error('length prefix does not match the frame');
  const parts: FramePart[] = [];
  const take = (type: JuteType<any>) => {
    const value = type.read(reader);
    parts.push(part(type, value));
    return value;
  };
  if (frame.kind === 'connect') {
    take(frame.direction === 'request' ? ConnectRequest : ConnectResponse);
  } else if (frame.kind === 'request') {
    const header = take(RequestHeader) as RequestHeader;
    const spec = operationFor(header.type);
    if (spec?.request) take(spec.request);
    else if (reader.remaining > 0) take(unparsedBody);
  } else if (frame.kind === 'notification') {
    take(ReplyHeader);
    take(WatcherEvent);
  } else {
    const header = take(ReplyHeader) as ReplyHeader;
    const spec = operationFor(frame.opcode ?? Number.NaN);
    const isMulti = spec?.name === 'multi' || spec?.name === 'multiRead';
    if (spec?.response && (header.err === 0 || (isMulti && reader.remaining > 0))) take(spec.response);
  }
  if (reader.remaining !== 0) {
    throw new Error(`${reader.remaining} bytes left after ${parts.map((p) => p.type.name).join(' + ')}`);
  }
  return { parts, summary: parts.map((p) => p.type.describe(p.value)).join(' ') };
}
