// The transaction log's bytes, as Apache ZooKeeper 3.8 writes them (FileTxnLog, Util):
//   FileHeader{int magic "ZKLG", int version 2, long dbid 0}
//   per entry: long Adler32(payload), int length, payload, byte 0x42 ('B')
//   payload: TxnHeader, the txn record its type names, and (3.8 default) TxnDigest{int version, long digest}
// The file is preallocated with zeros, so a zero length marks the logical end.
// Pure: bytes in, txns out. `TxnLogDecoder` is incremental so the reader can stream large files.

import { DecodeError } from '../../src/protocol/errors.js';
import { JuteReader, JuteWriter, type JuteType } from '../../src/protocol/jute.js';
import { OpCode, txnRecordFor as protocolTxnRecordFor } from '../../src/protocol/opcodes.js';
import * as R from '../../src/protocol/records.js';
import { adler32 } from './adler32.js';
import { CorruptLogError, UnsupportedFormatError, type Txn } from './types.js';

/** "ZKLG" read as a big-endian int. */
export const LOG_MAGIC = 0x5a4b4c47;
export const LOG_VERSION = 2;
export const LOG_DBID = 0n;
export const FILE_HEADER_BYTES = 16;
/** The end-of-record byte after each entry. */
export const END_OF_RECORD = 0x42;
/** Checksum (8) + length (4) + end-of-record (1): what an entry adds around its payload. */
export const ENTRY_OVERHEAD_BYTES = 13;
/** Largest payload we accept when reading; Apache bounds it by jute.maxbuffer (1 MiB) plus slack. */
export const ENTRY_BYTES_MAX_DEFAULT = 64 * 1024 * 1024;

/** The txn record `type` carries, as Apache's SerializeUtils.deserializeTxn maps it; undefined if none. */
export const txnRecordFor = protocolTxnRecordFor;

function recordCodec(txn: Txn): JuteType<any> | null {
  if (txn.record === null || txn.record === undefined) return null;
  const codec = txnRecordFor(txn.header.type);
  if (codec === undefined) throw new DecodeError(`no txn record for type ${txn.header.type}`);
  return codec;
}

/** The payload of a log entry (also the `data` of a quorum PROPOSAL): header, record, digest. */
export function encodeTxnPayload(txn: Txn): Buffer {
  const codec = recordCodec(txn);
  const size =
    R.TxnHeader.size(txn.header) +
    (codec ? codec.size(txn.record) : 0) +
    (txn.digest ? R.TxnDigest.size(txn.digest) : 0);
  const bytes = Buffer.allocUnsafe(size);
  const writer = new JuteWriter(bytes);
  R.TxnHeader.write(writer, txn.header);
  if (codec) codec.write(writer, txn.record);
  if (txn.digest) R.TxnDigest.write(writer, txn.digest);
  return bytes;
}

/** One whole log entry: checksum, length, payload, 'B'. */
export function encodeLogEntry(txn: Txn): Buffer {
  return encodeLogEntryOfPayload(encodeTxnPayload(txn));
}

/** A log entry around a payload already encoded (a quorum proposal carries exactly these bytes). */
export function encodeLogEntryOfPayload(payload: Uint8Array): Buffer {
  const entry = Buffer.allocUnsafe(ENTRY_OVERHEAD_BYTES + payload.length);
  entry.writeBigInt64BE(BigInt(adler32(payload)), 0);
  entry.writeInt32BE(payload.length, 8);
  entry.set(payload, 12);
  entry[12 + payload.length] = END_OF_RECORD;
  return entry;
}

/** A log file's header. */
export function encodeLogFileHeader(): Buffer {
  return R.FileHeader.encode({ magic: LOG_MAGIC, version: LOG_VERSION, dbid: LOG_DBID });
}

/**
 * Decodes an entry's payload. Like Apache: an old CreateTxn without parentCVersion decodes with
 * parentCVersion -1; a closeSession without a record has record null; a digest is read when whole.
 */
export function decodeTxnPayload(payload: Buffer): Txn {
  const reader = new JuteReader(payload);
  const header = R.TxnHeader.read(reader);
  const codec = txnRecordFor(header.type);
  if (codec === undefined || header.type === OpCode.check) {
    throw new DecodeError(`unsupported txn type ${header.type}`);
  }
  const recordStart = reader.offset;
  let record: unknown;
  if (header.type === OpCode.closeSession && reader.remaining === 0) {
    record = null;
  } else {
    try {
      record = codec.read(reader);
    } catch (error) {
      if (header.type !== OpCode.create || !(error instanceof DecodeError)) throw error;
      reader.offset = recordStart;
      record = { ...R.CreateTxnV0.read(reader), parentCVersion: -1 };
    }
  }
  const digest = reader.remaining >= 12 ? R.TxnDigest.read(reader) : undefined;
  return digest === undefined ? { header, record } : { header, record, digest };
}

/** The ops of a MultiTxn, each decoded with its own record (for replay and for dump-log). */
export function decodeMultiOps(multi: R.MultiTxn): Array<{ type: number; record: unknown }> {
  return multi.txns.map((op) => {
    const codec = txnRecordFor(op.type);
    if (codec === undefined || op.data === null) return { type: op.type, record: op.data };
    return { type: op.type, record: codec.read(new JuteReader(op.data)) };
  });
}

/** Checks a log's file header; throws naming the file when it is not a version-2 ZooKeeper log. */
export function checkLogFileHeader(bytes: Buffer, file: string): void {
  const header = R.FileHeader.decode(bytes);
  if (header.magic !== LOG_MAGIC) {
    throw new UnsupportedFormatError(
      `not a transaction log: magic 0x${(header.magic >>> 0).toString(16)}`,
      file,
    );
  }
  if (header.version !== LOG_VERSION) {
    throw new UnsupportedFormatError(
      `unsupported transaction log version ${header.version} (expected 2)`,
      file,
    );
  }
  if (header.dbid !== LOG_DBID) {
    throw new UnsupportedFormatError(
      `unexpected dbid ${header.dbid} in transaction log header (expected 0)`,
      file,
    );
  }
}

/** What the decoder found next. */
export type LogStep =
  | { kind: 'entry'; offset: number; bytes: number; txn: Txn }
  /** The decoder needs more bytes before it can say (never returned once `end()` was called). */
  | { kind: 'more' }
  /** The logical end: a zero length (preallocated space) or the end of the file at an entry boundary. */
  | { kind: 'end'; offset: number }
  /** A partial or damaged last entry (crash mid-append): nothing at or after `offset` is valid. */
  | { kind: 'torn'; offset: number; reason: string };

const isAllZero = (bytes: Buffer, start: number, end: number): boolean => {
  for (let i = start; i < end; i++) if (bytes[i] !== 0) return false;
  return true;
};

/**
 * Reads a log file's entries from chunks pushed in order. A torn tail ends the log; a checksum
 * mismatch followed by a valid entry is corruption in the middle and throws CorruptLogError.
 */
export class TxnLogDecoder {
  private window: Buffer = Buffer.alloc(0);
  /** File offset of window[0]. */
  private windowOffset = 0;
  private position = 0;
  private headerChecked = false;
  private ended = false;
  private finished = false;

  constructor(
    readonly file: string,
    readonly entryBytesMax = ENTRY_BYTES_MAX_DEFAULT,
  ) {}

  /** File offset of the next byte to decode. */
  get offset(): number {
    return this.windowOffset + this.position;
  }

  push(chunk: Buffer): void {
    if (this.ended) throw new Error('TxnLogDecoder.push after end()');
    if (this.position > 0 && this.position >= this.window.length / 2) {
      this.window = this.window.subarray(this.position);
      this.windowOffset += this.position;
      this.position = 0;
    }
    this.window = this.window.length === 0 ? chunk : Buffer.concat([this.window, chunk]);
  }

  /** No more bytes will come: the file ends here. */
  end(): void {
    this.ended = true;
  }

  /** The next entry, or where and how the log ends. After 'end' or 'torn' it keeps returning that. */
  next(): LogStep {
    if (!this.headerChecked) {
      if (this.window.length < FILE_HEADER_BYTES) {
        if (!this.ended) return { kind: 'more' };
        // A file cut before its header was whole: created, then the crash.
        return this.finish({ kind: 'torn', offset: 0, reason: 'file shorter than its header' });
      }
      const header = this.window.subarray(0, FILE_HEADER_BYTES);
      // A header of zeros is a file whose data never reached the disk (size did, after a power cut).
      if (isAllZero(header, 0, FILE_HEADER_BYTES)) {
        return this.finish({ kind: 'torn', offset: 0, reason: 'file header is zeros' });
      }
      checkLogFileHeader(header, this.file);
      this.headerChecked = true;
      this.position = FILE_HEADER_BYTES;
    }
    if (this.finished) return this.finishedStep!;
    return this.decodeEntryAt();
  }

  private finishedStep: LogStep | undefined;

  private finish(step: LogStep): LogStep {
    this.finished = true;
    this.finishedStep = step;
    return step;
  }

  private decodeEntryAt(): LogStep {
    const bytes = this.window;
    const start = this.position;
    const offset = this.offset;
    const available = bytes.length - start;
    if (available < 12) {
      if (!this.ended) return { kind: 'more' };
      if (isAllZero(bytes, start, bytes.length)) return this.finish({ kind: 'end', offset });
      return this.finish({ kind: 'torn', offset, reason: 'file ends inside an entry header' });
    }
    const checksum = bytes.readBigInt64BE(start);
    const length = bytes.readInt32BE(start + 8);
    if (length === 0) {
      if (checksum === 0n) return this.finish({ kind: 'end', offset });
      return this.finish({ kind: 'torn', offset, reason: 'checksum without a length' });
    }
    const check = this.checkEntry(start);
    if (check === 'more') return { kind: 'more' };
    if (check !== 'ok') {
      if (
        check === 'checksum mismatch' &&
        this.validEntryFollows(start + ENTRY_OVERHEAD_BYTES + length) === 'more'
      ) {
        return { kind: 'more' };
      }
      if (
        check === 'checksum mismatch' &&
        this.validEntryFollows(start + ENTRY_OVERHEAD_BYTES + length) === true
      ) {
        throw new CorruptLogError(
          `checksum mismatch in the entry at offset ${offset}, and valid entries follow it: ` +
            'the log is damaged ' +
            'before its end (not a torn tail); refusing to skip acknowledged transactions',
          this.file,
        );
      }
      return this.finish({ kind: 'torn', offset, reason: check });
    }
    const payload = bytes.subarray(start + 12, start + 12 + length);
    let txn: Txn;
    try {
      txn = decodeTxnPayload(payload);
    } catch (error) {
      throw new CorruptLogError(
        `entry at offset ${offset} has a valid checksum but cannot be decoded: ${String(error)}`,
        this.file,
        {
          cause: error,
        },
      );
    }
    this.position = start + ENTRY_OVERHEAD_BYTES + length;
    return { kind: 'entry', offset, bytes: ENTRY_OVERHEAD_BYTES + length, txn };
  }

  /** Whether the entry at window position `start` is whole and checks out. */
  private checkEntry(start: number): 'ok' | 'more' | string {
    const bytes = this.window;
    const length = bytes.readInt32BE(start + 8);
    if (length < 0 || length > this.entryBytesMax) return `implausible entry length ${length}`;
    const total = ENTRY_OVERHEAD_BYTES + length;
    if (bytes.length - start < total) return this.ended ? 'file ends inside an entry' : 'more';
    if (bytes[start + total - 1] !== END_OF_RECORD) return "entry not followed by its end-of-record byte 'B'";
    const expected = bytes.readBigInt64BE(start);
    if (BigInt(adler32(bytes, start + 12, start + 12 + length)) !== expected) return 'checksum mismatch';
    return 'ok';
  }

  /** Whether a whole entry with a valid checksum starts at window position `start`. */
  private validEntryFollows(start: number): boolean | 'more' {
    const bytes = this.window;
    if (bytes.length - start < 12) return this.ended ? false : 'more';
    if (bytes.readInt32BE(start + 8) === 0) return false;
    const check = this.checkEntry(start);
    return check === 'more' ? 'more' : check === 'ok';
  }
}
