// Sessions as Apache's SessionTrackerImpl keeps them: ids formed from the server id and the start
// time, passwords from java.util.Random seeded with the id, and expiry in tickTime buckets (Apache's
// ExpiryQueue). Time comes in as arguments; nothing here reads a clock.

import assert from 'node:assert/strict';
import { CONTAINER_EPHEMERAL_OWNER, SESSION_PASSWORD_BYTES } from '../../src/protocol/index.js';

const MASK_64 = (1n << 64n) - 1n;
const MASK_48 = (1n << 48n) - 1n;
const JAVA_RANDOM_MULTIPLIER = 0x5deece66dn;
/** Apache's fixed password secret (ZooKeeperServer.superSecret). */
const PASSWORD_SECRET = 0xb3415c00n;

/** java.util.Random: the 48-bit LCG, enough of it for nextBytes. */
class JavaRandom {
  private seed: bigint;

  constructor(seed: bigint) {
    this.seed = (BigInt.asUintN(64, seed) ^ JAVA_RANDOM_MULTIPLIER) & MASK_48;
  }

  private next(bits: number): number {
    this.seed = (this.seed * JAVA_RANDOM_MULTIPLIER + 0xbn) & MASK_48;
    return Number(BigInt.asIntN(32, this.seed >> BigInt(48 - bits)));
  }

  nextBytes(bytes: Buffer): void {
    for (let i = 0; i < bytes.length; ) {
      let random = this.next(32);
      for (let n = Math.min(bytes.length - i, 4); n-- > 0; random >>= 8) bytes[i++] = random & 0xff;
    }
  }
}

/** The 16-byte password Apache gives a session: java.util.Random(sessionId ^ 0xB3415C00). */
export function sessionPassword(sessionId: bigint): Buffer {
  const passwd = Buffer.alloc(SESSION_PASSWORD_BYTES);
  new JavaRandom(sessionId ^ PASSWORD_SECRET).nextBytes(passwd);
  return passwd;
}

/** The first session id of a server: (serverId << 56) | ((timeMs << 24) >>> 8), as a signed long. */
export function initialSessionId(serverId: number, timeMs: number): bigint {
  const shifted = (BigInt(Math.trunc(timeMs)) << 24n) & MASK_64;
  let id = BigInt.asIntN(64, (shifted >> 8n) | (BigInt(serverId) << 56n));
  if (id === CONTAINER_EPHEMERAL_OWNER) id += 1n;
  return id;
}

export interface Session {
  readonly sessionId: bigint;
  timeoutMs: number;
  /** Set when expiry or closeSession started: the session is no longer live. */
  closing: boolean;
  /** The tick bucket the session expires in. */
  expiryMs: number;
}

/** Sessions and their expiry buckets. */
export class SessionTracker {
  private readonly sessions = new Map<bigint, Session>();
  /** Expiry time (a multiple of tickTime) → sessions due then. */
  private readonly buckets = new Map<number, Set<bigint>>();
  private nextSessionId: bigint | undefined;

  constructor(
    private readonly serverId: number,
    private readonly tickTimeMs: number,
    startTimeMs?: number,
  ) {
    assert(tickTimeMs > 0, 'tickTime must be positive');
    if (startTimeMs !== undefined) this.nextSessionId = initialSessionId(serverId, startTimeMs);
  }

  /** Rounds up to the next tick boundary strictly after `timeMs`, as ExpiryQueue does. */
  private bucketFor(timeMs: number): number {
    return (Math.floor(timeMs / this.tickTimeMs) + 1) * this.tickTimeMs;
  }

  /** Allocates the next session id (does not track it). */
  allocateSessionId(nowMs: number): bigint {
    this.nextSessionId ??= initialSessionId(this.serverId, nowMs);
    const id = this.nextSessionId;
    this.nextSessionId = BigInt.asIntN(64, id + 1n);
    return id;
  }

  /** Starts tracking a session (new, or restored from a snapshot/log); a known one is kept. */
  track(sessionId: bigint, timeoutMs: number, nowMs: number): Session {
    let session = this.sessions.get(sessionId);
    if (session === undefined) {
      session = { sessionId, timeoutMs, closing: false, expiryMs: 0 };
      this.sessions.set(sessionId, session);
      this.moveToBucket(session, this.bucketFor(nowMs + timeoutMs));
    }
    return session;
  }

  private moveToBucket(session: Session, expiryMs: number): void {
    if (session.expiryMs === expiryMs) return;
    this.buckets.get(session.expiryMs)?.delete(session.sessionId);
    if (this.buckets.get(session.expiryMs)?.size === 0) this.buckets.delete(session.expiryMs);
    let bucket = this.buckets.get(expiryMs);
    if (bucket === undefined) this.buckets.set(expiryMs, (bucket = new Set()));
    bucket.add(session.sessionId);
    session.expiryMs = expiryMs;
  }

  get(sessionId: bigint): Session | undefined {
    return this.sessions.get(sessionId);
  }

  /** Known and not closing. */
  isLive(sessionId: bigint): boolean {
    const session = this.sessions.get(sessionId);
    return session !== undefined && !session.closing;
  }

  /** Pushes expiry to the bucket after now + timeout; false for an unknown or closing session. */
  touch(sessionId: bigint, nowMs: number, timeoutMs?: number): boolean {
    const session = this.sessions.get(sessionId);
    if (session === undefined || session.closing) return false;
    if (timeoutMs !== undefined) session.timeoutMs = timeoutMs;
    this.moveToBucket(session, this.bucketFor(nowMs + session.timeoutMs));
    return true;
  }

  setClosing(sessionId: bigint): void {
    const session = this.sessions.get(sessionId);
    if (session !== undefined) session.closing = true;
  }

  remove(sessionId: bigint): void {
    const session = this.sessions.get(sessionId);
    if (session === undefined) return;
    this.sessions.delete(sessionId);
    this.buckets.get(session.expiryMs)?.delete(sessionId);
    if (this.buckets.get(session.expiryMs)?.size === 0) this.buckets.delete(session.expiryMs);
  }

  /** Every session in a bucket at or before now; they leave the queue and are marked closing. */
  expire(nowMs: number): bigint[] {
    const due = [...this.buckets.keys()].filter((expiryMs) => expiryMs <= nowMs).sort((a, b) => a - b);
    const expired: bigint[] = [];
    for (const expiryMs of due) {
      for (const sessionId of this.buckets.get(expiryMs)!) {
        const session = this.sessions.get(sessionId)!;
        session.closing = true;
        session.expiryMs = 0;
        expired.push(sessionId);
      }
      this.buckets.delete(expiryMs);
    }
    return expired;
  }

  /** The earliest bucket, for the shell's timer. */
  nextExpiryMs(): number | undefined {
    let earliest: number | undefined;
    for (const expiryMs of this.buckets.keys()) {
      if (earliest === undefined || expiryMs < earliest) earliest = expiryMs;
    }
    return earliest;
  }

  /** The expiry buckets in time order (dump's "Session Sets"). */
  expiryBuckets(): Array<{ expiryMs: number; sessionIds: bigint[] }> {
    return [...this.buckets]
      .sort(([a], [b]) => a - b)
      .map(([expiryMs, sessionIds]) => ({ expiryMs, sessionIds: [...sessionIds] }));
  }

  all(): Session[] {
    return [...this.sessions.values()];
  }

  get size(): number {
    return this.sessions.size;
  }
}
