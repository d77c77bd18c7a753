// The snapshot's bytes, as Apache ZooKeeper 3.8 writes them (FileSnap, SerializeUtils, DataTree,
// ReferenceCountedACLCache, SnapStream):
//   FileHeader{int magic "ZKSN", int version 2, long dbid -1}
//   int sessionCount, then (long id, int timeoutMs) per session
//   int aclCount, then (long ref, vector<ACL>) per ACL cache entry
//   per node, pre-order from the root (path ""): ustring path, buffer data, long aclRef, StatPersisted
//   ustring "/" (end of nodes)
//   seal: long Adler32 of every byte so far, ustring "/"
//   digest: long zxid, int digestVersion, long digest (digestVersion < 2 wrote a hex string), then a seal
//   (3.9 adds: long lastProcessedZxid, then a seal; 3.8 neither writes nor reads it; we read it)
// Pure: the encoder returns byte chunks, the decoder takes chunks and returns items.

import * as R from '../../src/protocol/records.js';
import { JuteReader, JuteWriter } from '../../src/protocol/jute.js';
import { ADLER32_INITIAL, adler32Update } from './adler32.js';
import {
  CorruptSnapshotError,
  UnsupportedFormatError,
  type AclEntry,
  type SessionEntry,
  type SnapshotNode,
  type ZxidDigest,
} from './types.js';

/** "ZKSN" read as a big-endian int. */
export const SNAPSHOT_MAGIC = 0x5a4b534e;
export const SNAPSHOT_VERSION = 2;
export const SNAPSHOT_DBID = -1n;
/** DigestCalculator.DIGEST_VERSION in 3.8. */
export const DIGEST_VERSION = 2;
/** The digest 3.8 writes when it has none: zxid 0, which readers take as "no digest". */
export const EMPTY_ZXID_DIGEST: ZxidDigest = { zxid: 0n, digestVersion: DIGEST_VERSION, digest: 0n };
/** Largest single string or buffer we accept from a snapshot (Apache bounds them by jute.maxbuffer). */
export const SNAPSHOT_ITEM_BYTES_MAX_DEFAULT = 64 * 1024 * 1024;

const STAT_PERSISTED_BYTES = 60;
const SEAL_BYTES = 8 + 4 + 1;

/** Writes a snapshot as chunks, keeping the running checksum the seals need. */
export class SnapshotEncoder {
  private checksum = ADLER32_INITIAL;
  /** Bytes produced so far. */
  bytes = 0;

  private emit(size: number, fill: (writer: JuteWriter) => void): Buffer {
    const chunk = Buffer.allocUnsafe(size);
    const writer = new JuteWriter(chunk);
    fill(writer);
    if (writer.offset !== size)
      throw new Error(`snapshot encoder sized ${size} bytes but wrote ${writer.offset}`);
    this.checksum = adler32Update(this.checksum, chunk);
    this.bytes += size;
    return chunk;
  }

  /** Passes bytes produced elsewhere (a copied node section) through the checksum. */
  passThrough(chunk: Buffer): Buffer {
    this.checksum = adler32Update(this.checksum, chunk);
    this.bytes += chunk.length;
    return chunk;
  }

  header(): Buffer {
    return this.emit(16, (w) =>
      R.FileHeader.write(w, { magic: SNAPSHOT_MAGIC, version: SNAPSHOT_VERSION, dbid: SNAPSHOT_DBID }),
    );
  }

  sessions(sessions: readonly SessionEntry[]): Buffer {
    return this.emit(4 + 12 * sessions.length, (w) => {
      w.int(sessions.length);
      for (const session of sessions) {
        w.long(session.id);
        w.int(session.timeoutMs);
      }
    });
  }

  aclEntries(entries: readonly AclEntry[]): Buffer {
    const aclList = R.ACL;
    let size = 4;
    for (const entry of entries) size += 8 + 4 + entry.acl.reduce((sum, acl) => sum + aclList.size(acl), 0);
    return this.emit(size, (w) => {
      w.int(entries.length);
      for (const entry of entries) {
        w.long(entry.ref);
        w.int(entry.acl.length);
        for (const acl of entry.acl) aclList.write(w, acl);
      }
    });
  }

  /** Written in place (a snapshot has a million of these): no JuteWriter, DataView for the longs. */
  node(node: SnapshotNode): Buffer {
    const { path, data, stat } = node;
    const pathBytes = Buffer.byteLength(path);
    const dataBytes = data === null ? 0 : data.length;
    const chunk = Buffer.allocUnsafe(4 + pathBytes + 4 + dataBytes + 8 + STAT_PERSISTED_BYTES);
    const view = new DataView(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    view.setInt32(0, pathBytes);
    let at = 4 + chunk.write(path, 4, 'utf8');
    view.setInt32(at, data === null ? -1 : dataBytes);
    at += 4;
    if (data !== null) chunk.set(data, at);
    at += dataBytes;
    view.setBigInt64(at, node.aclRef);
    view.setBigInt64(at + 8, stat.czxid);
    view.setBigInt64(at + 16, stat.mzxid);
    view.setBigInt64(at + 24, stat.ctime);
    view.setBigInt64(at + 32, stat.mtime);
    view.setInt32(at + 40, stat.version);
    view.setInt32(at + 44, stat.cversion);
    view.setInt32(at + 48, stat.aversion);
    view.setBigInt64(at + 52, stat.ephemeralOwner);
    view.setBigInt64(at + 60, stat.pzxid);
    return this.passThrough(chunk);
  }

  /** The "/" that ends the node section. */
  endOfNodes(): Buffer {
    return this.emit(5, (w) => w.ustring('/'));
  }

  /** The checksum of everything so far, and "/". */
  seal(): Buffer {
    const value = BigInt(this.checksum);
    return this.emit(SEAL_BYTES, (w) => {
      w.long(value);
      w.ustring('/');
    });
  }

  digest(digest: ZxidDigest): Buffer {
    return this.emit(20, (w) => {
      w.long(digest.zxid);
      w.int(digest.digestVersion);
      w.long(digest.digest);
    });
  }
}

/** What the decoder found next. */
export type SnapshotStep =
  | { kind: 'session'; session: SessionEntry }
  | { kind: 'acl'; entry: AclEntry }
  | { kind: 'node'; node: SnapshotNode }
  /** Everything was read and every seal verified. */
  | { kind: 'done'; digest: ZxidDigest | undefined; lastProcessedZxid: bigint | undefined; bytes: number }
  | { kind: 'more' };

type Phase =
  | 'header'
  | 'session-count'
  | 'sessions'
  | 'acl-count'
  | 'acls'
  | 'nodes'
  | 'seal'
  | 'digest'
  | 'digest-seal'
  | 'last-zxid'
  | 'last-zxid-seal'
  | 'done';

/** Reads a snapshot from chunks pushed in order; throws CorruptSnapshotError naming the file. */
export class SnapshotDecoder {
  private window: Buffer = Buffer.alloc(0);
  private position = 0;
  private consumed = 0;
  private checksum = ADLER32_INITIAL;
  private ended = false;
  private phase: Phase = 'header';
  private remainingInPhase = 0;
  private digest: ZxidDigest | undefined;
  private lastProcessedZxid: bigint | undefined;
  /** The previous node's ACL reference: consecutive nodes mostly share one, and so its bigint. */
  private lastAclRef: bigint | undefined;

  constructor(
    readonly file: string,
    readonly itemBytesMax = SNAPSHOT_ITEM_BYTES_MAX_DEFAULT,
  ) {}

  push(chunk: Buffer): void {
    if (this.position > 0) {
      this.window = this.window.subarray(this.position);
      this.position = 0;
    }
    this.window = this.window.length === 0 ? chunk : Buffer.concat([this.window, chunk]);
  }

  end(): void {
    this.ended = true;
  }

  next(): SnapshotStep {
    for (;;) {
      const step = this.step();
      if (step !== null) return step;
    }
  }

  private corrupt(message: string): CorruptSnapshotError {
    return new CorruptSnapshotError(`${message} (at byte ${this.consumed})`, this.file);
  }

  /** Makes `size` bytes available, or says 'more', or throws at the end of the file. */
  private have(size: number | 'more'): boolean {
    if (size === 'more') {
      if (this.ended) throw this.corrupt('file ends inside a record');
      return false;
    }
    if (this.window.length - this.position >= size) return true;
    if (this.ended) throw this.corrupt(`file ends inside a record (needs ${size} bytes)`);
    return false;
  }

  /** Takes `size` bytes as a reader, passing them through the checksum. */
  private take(size: number): JuteReader {
    const start = this.position;
    this.checksum = adler32Update(this.checksum, this.window, start, start + size);
    this.position += size;
    this.consumed += size;
    return new JuteReader(this.window, start, start + size);
  }

  /** Bytes of a length-prefixed field at `at`, or 'more' when its length is not yet here. */
  private lengthPrefixed(at: number, what: string): number | 'more' {
    if (this.window.length - at < 4) return 'more';
    const length = this.window.readInt32BE(at);
    if (length < -1 || length > this.itemBytesMax) throw this.corrupt(`implausible ${what} length ${length}`);
    return 4 + Math.max(length, 0);
  }

  private step(): SnapshotStep | null {
    switch (this.phase) {
      case 'header': {
        if (!this.have(16)) return { kind: 'more' };
        if (this.window.subarray(this.position, this.position + 16).every((b) => b === 0)) {
          // Data that never reached the disk (a power cut after the size did): damage, not a format.
          throw this.corrupt('file header is zeros');
        }
        this.checkHeader(R.FileHeader.read(this.take(16)));
        this.phase = 'session-count';
        return null;
      }
      case 'session-count':
      case 'acl-count': {
        if (!this.have(4)) return { kind: 'more' };
        const count = this.take(4).int();
        if (count < 0) throw this.corrupt(`negative count ${count}`);
        this.remainingInPhase = count;
        this.phase = this.phase === 'session-count' ? 'sessions' : 'acls';
        return null;
      }
      case 'sessions': {
        if (this.remainingInPhase === 0) {
          this.phase = 'acl-count';
          return null;
        }
        if (!this.have(12)) return { kind: 'more' };
        const reader = this.take(12);
        this.remainingInPhase--;
        return { kind: 'session', session: { id: reader.long(), timeoutMs: reader.int() } };
      }
      case 'acls':
        return this.aclStep();
      case 'nodes':
        return this.nodeStep();
      case 'seal':
      case 'digest-seal':
      case 'last-zxid-seal':
        return this.sealStep();
      case 'digest':
        return this.digestStep();
      case 'last-zxid': {
        if (this.window.length - this.position === 0 && this.ended) return this.done();
        if (!this.have(8)) return { kind: 'more' };
        this.lastProcessedZxid = this.take(8).long();
        this.phase = 'last-zxid-seal';
        return null;
      }
      case 'done':
        return this.done();
    }
  }

  private checkHeader(header: R.FileHeader): void {
    if (header.magic !== SNAPSHOT_MAGIC) {
      throw new UnsupportedFormatError(
        `not a snapshot: magic 0x${(header.magic >>> 0).toString(16)}`,
        this.file,
      );
    }
    if (header.version !== SNAPSHOT_VERSION) {
      throw new UnsupportedFormatError(
        `unsupported snapshot version ${header.version} (expected 2)`,
        this.file,
      );
    }
    if (header.dbid !== SNAPSHOT_DBID) {
      throw new UnsupportedFormatError(
        `unexpected dbid ${header.dbid} in snapshot header (expected -1)`,
        this.file,
      );
    }
  }

  private aclStep(): SnapshotStep | null {
    if (this.remainingInPhase === 0) {
      this.phase = 'nodes';
      return null;
    }
    const size = this.aclEntrySize();
    if (!this.have(size)) return { kind: 'more' };
    const reader = this.take(size as number);
    const ref = reader.long();
    const count = reader.int();
    const acl: R.ACL[] = [];
    for (let i = 0; i < count; i++) acl.push(R.ACL.read(reader));
    this.remainingInPhase--;
    return { kind: 'acl', entry: { ref, acl } };
  }

  private aclEntrySize(): number | 'more' {
    let at = this.position + 8;
    if (this.window.length - at < 4) return 'more';
    const count = this.window.readInt32BE(at);
    if (count < 0 || count > 1_000_000) throw this.corrupt(`implausible ACL list length ${count}`);
    at += 4;
    for (let i = 0; i < count; i++) {
      if (this.window.length - at < 4) return 'more';
      at += 4;
      for (const what of ['scheme', 'id']) {
        const field = this.lengthPrefixed(at, what);
        if (field === 'more') return 'more';
        at += field;
      }
    }
    return at - this.position;
  }

  private nodeStep(): SnapshotStep | null {
    const pathBytes = this.lengthPrefixed(this.position, 'path');
    if (!this.have(pathBytes)) return { kind: 'more' };
    const pathLength = this.window.readInt32BE(this.position);
    if (pathLength === 1 && this.window[this.position + 4] === 0x2f) {
      this.take(5);
      this.phase = 'seal';
      return null;
    }
    const dataBytes = this.lengthPrefixed(this.position + (pathBytes as number), 'data');
    const size = dataBytes === 'more' ? 'more' : (pathBytes as number) + dataBytes + 8 + STAT_PERSISTED_BYTES;
    if (!this.have(size)) return { kind: 'more' };
    // Decoded in place rather than through a JuteReader and the generic record: a million nodes
    // make a million of each intermediate, and recovery time is mostly allocation and GC.
    const window = this.window;
    let at = this.position;
    this.take(size as number);
    at += 4;
    const path = pathLength <= 0 ? '' : window.toString('utf8', at, at + pathLength);
    at += Math.max(pathLength, 0);
    const dataLength = window.readInt32BE(at);
    at += 4;
    // A copy, so a node never pins the (large) chunk it came from.
    const data = dataLength < 0 ? null : Buffer.from(window.subarray(at, at + dataLength));
    at += Math.max(dataLength, 0);
    const aclRef = this.sharedLong(window, at, this.lastAclRef);
    this.lastAclRef = aclRef;
    const czxid = this.sharedLong(window, at + 8, undefined);
    const mzxid = this.sharedLong(window, at + 16, czxid);
    const ctime = this.sharedLong(window, at + 24, undefined);
    const mtime = this.sharedLong(window, at + 32, ctime);
    const stat: R.StatPersisted = {
      czxid,
      mzxid,
      ctime,
      mtime,
      version: window.readInt32BE(at + 40),
      cversion: window.readInt32BE(at + 44),
      aversion: window.readInt32BE(at + 48),
      ephemeralOwner: this.sharedLong(window, at + 52, 0n),
      pzxid: this.sharedLong(window, at + 60, mzxid === czxid ? czxid : mzxid),
    };
    if (path !== '' && !path.startsWith('/'))
      throw this.corrupt(`node path ${JSON.stringify(path)} is not absolute`);
    return { kind: 'node', node: { path, data, aclRef, stat } };
  }

  /**
   * The long at `at`, as `same` itself when equal (most nodes repeat a value: czxid = mzxid = pzxid,
   * ctime = mtime, owner 0, one ACL ref), else a bigint made from two halves when it is exact as a
   * number (cheaper than readBigInt64BE).
   */
  private sharedLong(window: Buffer, at: number, same: bigint | undefined): bigint {
    const high = window.readInt32BE(at);
    const low = window.readUInt32BE(at + 4);
    if (high >= -0x200000 && high < 0x200000) {
      const value = high * 0x1_0000_0000 + low;
      // bigint == number compares the values without making a bigint.
      if (same !== undefined && (same as unknown as number) == value) return same;
      return BigInt(value);
    }
    const value = window.readBigInt64BE(at);
    return same === value ? same : value;
  }

  private sealStep(): SnapshotStep | null {
    const phase = this.phase;
    // A snapshot from before the digest existed ends after its first seal; a 3.8 one after its second.
    if (phase !== 'seal' && this.window.length - this.position === 0 && this.ended) return this.done();
    if (!this.have(SEAL_BYTES)) return { kind: 'more' };
    const expected = BigInt(this.checksum);
    const reader = this.take(SEAL_BYTES);
    const value = reader.long();
    const slash = reader.ustring();
    if (value !== expected) {
      throw this.corrupt(`checksum mismatch: the file says ${value}, its content sums to ${expected}`);
    }
    if (slash !== '/') throw this.corrupt('seal is not followed by "/"');
    this.phase = phase === 'seal' ? 'digest' : phase === 'digest-seal' ? 'last-zxid' : 'done';
    return null;
  }

  private digestStep(): SnapshotStep | null {
    if (this.window.length - this.position === 0 && this.ended) return this.done();
    if (!this.have(12)) return { kind: 'more' };
    const version = this.window.readInt32BE(this.position + 8);
    // Digest version 1 wrote the digest as a hex string.
    const size = version < 2 ? this.lengthPrefixed(this.position + 12, 'digest') : 8;
    const total = size === 'more' ? 'more' : 12 + size;
    if (!this.have(total)) return { kind: 'more' };
    const reader = this.take(total as number);
    const zxid = reader.long();
    const digestVersion = reader.int();
    const digest = version < 2 ? BigInt.asIntN(64, BigInt(`0x${reader.ustring() || '0'}`)) : reader.long();
    this.digest = { zxid, digestVersion, digest };
    this.phase = 'digest-seal';
    return null;
  }

  private done(): SnapshotStep {
    // Bytes after the last seal we know are ignored, as Apache ignores them.
    if (!this.ended) return { kind: 'more' };
    this.phase = 'done';
    return {
      kind: 'done',
      digest: this.digest,
      lastProcessedZxid: this.lastProcessedZxid,
      bytes: this.consumed,
    };
  }
}
