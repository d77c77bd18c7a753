// What our lock nodes hold: a small JSON naming the owner, so `inspect()` and the CLI can say who holds
// a lock and who waits. Curator never reads lock node data (it writes the client's IP address there), so
// this is our own format; reading a node written by Curator or anything else gives `foreign` with its
// text, never an exception. Example: {"v":1,"owner":"billing#2","host":"web-3","pid":4242,"requestedAt":…}
// `requestedAt` (ms since the epoch) is when the node was created, i.e. when the contender joined the
// queue, not when it got the lock: the node is written once, and a second write per acquisition would
// double the cost of a lock cycle. The holder's own lease has `acquiredAtMs`; for a queued contender
// `requestedAt` is its waiting time's start. (Issue 8 named the field acquiredAt; it says what it is.)
// Cooperative revocation is Curator's too: whoever wants the lock overwrites the holder's node data with
// the bytes `__REVOKE__` (Revoker.attemptRevoke); a holder that watches its node data may then let go.
import { InvalidArgumentError } from '../../src/index.js';

export const LOCK_DATA_VERSION = 1;
/** Longest owner id, host name or trace id we write; keeps a node well under any data limit. */
export const LOCK_DATA_FIELD_CHARS_MAX = 256;
/** Nodes bigger than this are not ours: reported as foreign without parsing. */
export const LOCK_DATA_BYTES_MAX = 4096;
/** What Curator's Revoker writes into a holder's node to ask it to release. */
export const REVOKE_MESSAGE = '__REVOKE__';

export interface LockOwnerInfo {
  /** Who asked: the application's id for this participant. */
  owner: string;
  host: string;
  pid: number;
  /** When the contender node was created, i.e. when the acquire began (ms since the epoch). */
  requestedAt: number;
  traceId?: string;
}

export type LockNodeData =
  | ({ kind: 'menagerie' } & LockOwnerInfo)
  /** Someone asked the holder to release (Curator's `__REVOKE__`). */
  | { kind: 'revoke-requested' }
  /** Written by someone else (Curator writes its IP address, LeaderSelector the participant id). */
  | { kind: 'foreign'; text: string };

export function encodeLockNodeData(info: LockOwnerInfo): Uint8Array {
  const texts = [['owner', info.owner], ['host', info.host], ['traceId', info.traceId]] as const;
  for (const [field, value] of texts) {
    if (value === undefined && field === 'traceId') continue;
    if (typeof value !== 'string' || value.length > LOCK_DATA_FIELD_CHARS_MAX) {
      throw new InvalidArgumentError(
        `lock data ${field} must be a string of at most ${LOCK_DATA_FIELD_CHARS_MAX} chars`,
      );
    }
  }
  if (!Number.isSafeInteger(info.pid) || info.pid < 0) throw new InvalidArgumentError(`bad pid ${info.pid}`);
  if (!Number.isSafeInteger(info.requestedAt)) {
    throw new InvalidArgumentError(`bad requestedAt ${info.requestedAt}`);
  }
  const json: Record<string, unknown> = {
    v: LOCK_DATA_VERSION,
    owner: info.owner,
    host: info.host,
    pid: info.pid,
    requestedAt: info.requestedAt,
  };
  if (info.traceId !== undefined) json.traceId = info.traceId;
  return new TextEncoder().encode(JSON.stringify(json));
}

/** The node data that asks a holder to release, exactly as Curator writes and compares it. */
export function encodeRevokeRequest(): Uint8Array {
  return new TextEncoder().encode(REVOKE_MESSAGE);
}

export function decodeLockNodeData(bytes: Uint8Array): LockNodeData {
  const text = new TextDecoder('utf-8', { fatal: false }).decode(bytes.subarray(0, LOCK_DATA_BYTES_MAX));
  if (text === REVOKE_MESSAGE && bytes.length === REVOKE_MESSAGE.length) return { kind: 'revoke-requested' };
  if (bytes.length > LOCK_DATA_BYTES_MAX || !text.startsWith('{')) return { kind: 'foreign', text };
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { kind: 'foreign', text };
  }
  if (typeof value !== 'object' || value === null) return { kind: 'foreign', text };
  const v = value as Record<string, unknown>;
  const ok =
    v.v === LOCK_DATA_VERSION &&
    typeof v.owner === 'string' &&
    typeof v.host === 'string' &&
    Number.isSafeInteger(v.pid) &&
    Number.isSafeInteger(v.requestedAt) &&
    (v.traceId === undefined || typeof v.traceId === 'string');
  if (!ok) return { kind: 'foreign', text };
  const info: { kind: 'menagerie' } & LockOwnerInfo = {
    kind: 'menagerie',
    owner: v.owner as string,
    host: v.host as string,
    pid: v.pid as number,
    requestedAt: v.requestedAt as number,
  };
  if (v.traceId !== undefined) info.traceId = v.traceId as string;
  return info;
}
