// Client answers made comparable across servers, for the differential specs: what differs by
// server alone (zxids, session ids, times, unordered lists) is made relative or left out.
import { KeeperError, type Stat } from '../../../src/index.js';

/**
 * Makes server-specific numbers relative: zxids and session ids by order of first appearance; times
 * are left out (two writes in one millisecond would make ctime = mtime on one server only).
 */
export class Normalizer {
  private readonly zxids = new Map<bigint, number>();
  private readonly sessions = new Map<bigint, number>();

  zxid(value: bigint): string {
    if (value === 0n) return 'z0';
    if (!this.zxids.has(value)) this.zxids.set(value, this.zxids.size + 1);
    return `z${this.zxids.get(value)}`;
  }

  session(value: bigint): string {
    if (value === 0n) return '0';
    // Containers and TTL nodes keep encodings with the top bit set: compared as they are.
    if (value < 0n || value >= 1n << 63n) return `0x${BigInt.asUintN(64, value).toString(16)}`;
    if (!this.sessions.has(value)) this.sessions.set(value, this.sessions.size + 1);
    return `s${this.sessions.get(value)}`;
  }

  stat(stat: Stat): Record<string, unknown> {
    return {
      czxid: this.zxid(stat.czxid),
      mzxid: this.zxid(stat.mzxid),
      pzxid: this.zxid(stat.pzxid),
      version: stat.version,
      cversion: stat.cversion,
      aversion: stat.aversion,
      ephemeralOwner: this.session(stat.ephemeralOwner),
      dataLength: stat.dataLength,
      numChildren: stat.numChildren,
    };
  }

  /** Any value the client returned, with Stats, Buffers, bigints and errors made comparable. */
  value(value: unknown): unknown {
    if (value instanceof KeeperError) {
      const results = value.multiResults;
      return { error: value.code, path: value.path, multiOpIndex: value.multiOpIndex, results };
    }
    if (Buffer.isBuffer(value)) return value.toString('latin1');
    if (typeof value === 'bigint') return String(value);
    if (Array.isArray(value)) return value.map((v) => this.value(v));
    if (value !== null && typeof value === 'object') {
      if ('czxid' in value && 'pzxid' in value) return this.stat(value as Stat);
      // Child order is unspecified (Apache's follows a hash set): compared sorted.
      const sorted = (k: string, v: unknown) => (k === 'children' && Array.isArray(v) ? [...v].sort() : v);
      return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, this.value(sorted(k, v))]));
    }
    return value;
  }
}
