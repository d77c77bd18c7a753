// The life of a held lease (a lock, a semaphore lease, a leadership term) as a pure state machine:
// held → uncertain → held again, or lost; released and lost are final. The shell feeds it connection
// events, the result of re-checking our node, watch events and clock ticks, and carries out what it
// returns: verify our node, wake at a time, tell listeners, abort `lease.signal` once lost.
//
// Why a deadline from the last server response: the server expires a session sessionTimeout after it
// last heard from the client, which is before our last response arrived. Counting from SUSPENDED (as
// Curator's simulated expiry does, CURATOR-460) starts the clock late, by up to 2/3 of the timeout, and
// two holders can overlap. We count from the last response and keep a margin for the network and for
// clock rate differences; past the deadline the lease is lost even if the session might survive.

/** Why a lease ended without being released. */
export type LeaseLossReason =
  /** The session expired (or the client now runs a different session): our ephemeral node is gone. */
  | 'session-expired'
  /** Our node was deleted (an admin broke the lock, or it vanished with the session). */
  | 'node-deleted'
  /** Our node exists but belongs to another session. */
  | 'not-owner'
  /** The connection stayed down past the point where the session may have expired. */
  | 'uncertain-timeout'
  /** Policy: give the lease up as soon as the connection is suspended (a latch set to 'resign'). */
  | 'suspended'
  /** The client was closed. */
  | 'client-closed';

export type LeaseState =
  | { kind: 'held' }
  /** May still be ours; act as if lost unless it comes back before `deadlineMs`. */
  | { kind: 'uncertain'; deadlineMs: number }
  | { kind: 'lost'; reason: LeaseLossReason }
  | { kind: 'released' };

export type LeaseInput =
  /** The connection is down. `lastResponseAtMs`: when the last reply from the server arrived. */
  | { type: 'suspended'; lastResponseAtMs: number; sessionTimeoutMs: number }
  /** Connected again, under `sessionId` (a different id means the old session, and our node, are gone). */
  | { type: 'reconnected'; sessionId: bigint }
  /** The answer to a `verify` action: our node's ephemeralOwner, or undefined when it does not exist. */
  | { type: 'verified'; ephemeralOwner: bigint | undefined }
  | { type: 'session-expired' }
  /** A watch on our own node reported it deleted. */
  | { type: 'node-deleted' }
  | { type: 'tick'; nowMs: number }
  | { type: 'released' }
  | { type: 'client-closed' };

export type LeaseAction =
  /** Read our node's Stat (exists) and feed back `verified`. */
  | { type: 'verify' }
  /** Feed back a `tick` at this time (replaces any earlier wake-up). */
  | { type: 'wake-at'; atMs: number }
  /** The state changed: tell listeners; if it is `lost`, abort the lease's signal. */
  | { type: 'notify'; state: LeaseState };

export interface LeasePolicy {
  /** The session that created our node. */
  sessionId: bigint;
  /** What SUSPENDED means: doubt until the deadline (the default), or give up at once. */
  onSuspended?: 'uncertain' | 'lose';
  /** Kept off the session timeout for one-way network delay and clock rate differences; default 10 %. */
  safetyMarginFraction?: number;
}

export interface LeaseStep {
  state: LeaseState;
  actions: LeaseAction[];
}

/** When an uncertain lease must count as lost. */
export function uncertainDeadlineMs(
  lastResponseAtMs: number,
  sessionTimeoutMs: number,
  marginFraction = 0.1,
): number {
  return lastResponseAtMs + Math.floor(sessionTimeoutMs * (1 - marginFraction));
}

/** One transition. Final states ignore everything; inputs that change nothing return no actions. */
export function stepLease(state: LeaseState, input: LeaseInput, policy: LeasePolicy): LeaseStep {
  if (state.kind === 'lost' || state.kind === 'released') return { state, actions: [] };
  switch (input.type) {
    case 'released':
      return moveTo({ kind: 'released' });
    case 'client-closed':
      return lose('client-closed');
    case 'session-expired':
      return lose('session-expired');
    case 'node-deleted':
      return lose('node-deleted');
    case 'suspended': {
      if (policy.onSuspended === 'lose') return lose('suspended');
      const deadlineMs = uncertainDeadlineMs(input.lastResponseAtMs, input.sessionTimeoutMs,
        policy.safetyMarginFraction);
      // A second SUSPENDED never extends the deadline: only a verified node brings the lease back.
      if (state.kind === 'uncertain' && state.deadlineMs <= deadlineMs) return { state, actions: [] };
      const next: LeaseState = { kind: 'uncertain', deadlineMs };
      const actions: LeaseAction[] = [{ type: 'notify', state: next }, { type: 'wake-at', atMs: deadlineMs }];
      return { state: next, actions };
    }
    case 'reconnected':
      if (input.sessionId !== policy.sessionId) return lose('session-expired');
      return { state, actions: [{ type: 'verify' }] };
    case 'verified':
      if (input.ephemeralOwner === undefined) return lose('node-deleted');
      if (input.ephemeralOwner !== policy.sessionId) return lose('not-owner');
      return state.kind === 'held' ? { state, actions: [] } : moveTo({ kind: 'held' });
    case 'tick':
      if (state.kind === 'uncertain' && input.nowMs >= state.deadlineMs) return lose('uncertain-timeout');
      return { state, actions: [] };
  }
}

function moveTo(state: LeaseState): LeaseStep {
  return { state, actions: [{ type: 'notify', state }] };
}

function lose(reason: LeaseLossReason): LeaseStep {
  return moveTo({ kind: 'lost', reason });
}
