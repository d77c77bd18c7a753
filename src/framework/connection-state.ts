// The connection states users and recipes see, and the pure machine that derives them from what
// the client reports. The machine reads no clock and arms no timer: inputs carry the time, and
// outputs say which state to publish, when to wake it up, and when the shell must give up the
// session and start a new one. Tests drive it with a fake clock.

/**
 * The connection as a recipe must reason about it (Curator 5 semantics).
 *
 * - `CONNECTED`: the first time the framework has a connection and a session. Sent once per
 *   framework. Recipes may start working.
 * - `SUSPENDED`: the connection is lost. The session may still be alive: its ephemeral nodes and
 *   watches may still exist, and may survive. A recipe must stop assuming it holds anything
 *   exclusive (a lock holder or leader should pause work that needs exclusivity), must not treat
 *   its ephemerals as gone, and should wait for RECONNECTED or LOST. Operations wait (within their
 *   retry policy) for the connection to come back.
 * - `RECONNECTED`: a connection is back after SUSPENDED, LOST or READ_ONLY. `sessionId` tells
 *   whether it is the same session: if it is, ephemerals and watches survived; if not (after LOST),
 *   everything session-bound is gone and a recipe must re-create its nodes and re-set its watches.
 * - `LOST`: the session must be presumed dead: the server expired it, or no server was heard for a
 *   whole session timeout, measured from the last server response. Every ephemeral node and watch
 *   of that session is gone (or will be shortly, and can no longer be relied on). A recipe must give
 *   up locks, leadership and leases at once and start again from scratch; the framework opens a new
 *   session by itself and reports RECONNECTED when it has one.
 * - `READ_ONLY`: connected to a server that lost its quorum (only with `canBeReadOnly`). Reads work,
 *   writes fail with NotReadOnly. A recipe that needs writes should behave as in SUSPENDED.
 */
export type ConnectionStateName = 'CONNECTED' | 'SUSPENDED' | 'RECONNECTED' | 'LOST' | 'READ_ONLY';

/** One published state change. */
export interface ConnectionStateChange {
  readonly state: ConnectionStateName;
  readonly previous: ConnectionStateName | undefined;
  /** The session the state concerns (for LOST, the session that was lost). */
  readonly sessionId: bigint;
  /** The machine's clock when it changed (monotonic ms). */
  readonly atMs: number;
}

/** True for the states in which operations can run (READ_ONLY allows reads only). */
export function isConnectedState(state: ConnectionStateName | undefined): boolean {
  return state === 'CONNECTED' || state === 'RECONNECTED' || state === 'READ_ONLY';
}

/**
 * Which states a recipe treats as "I may no longer hold what I held" (Curator's
 * ConnectionStateErrorPolicy). `standard`: SUSPENDED and LOST, the safe default: a lock holder or
 * leader stops at the first sign of trouble. `sessionOnly`: only LOST, so a short connection blip
 * does not cost leadership, at the price of a window in which two holders may both believe they
 * hold it (until the old session's expiry is noticed).
 */
export type ConnectionErrorPolicy = 'standard' | 'sessionOnly';

/** True when `state` means a recipe must give up exclusive things under `policy`. */
export function isErrorState(
  state: ConnectionStateName,
  policy: ConnectionErrorPolicy = 'standard',
): boolean {
  return state === 'LOST' || (policy === 'standard' && state === 'SUSPENDED');
}

export type ConnectionInput =
  /** The client has a connection and a session. */
  | {
      readonly type: 'connected';
      readonly nowMs: number;
      readonly sessionId: bigint;
      readonly negotiatedTimeoutMs: number;
      readonly readOnly: boolean;
    }
  /** The client lost its connection; `lastHeardMs` is its last server response, when known. */
  | { readonly type: 'disconnected'; readonly nowMs: number; readonly lastHeardMs?: number }
  /** The client's session is over (expired at the server, or the client gave up on it). */
  | { readonly type: 'expired'; readonly nowMs: number }
  /** The timer asked for by the last `timer` output went off. */
  | { readonly type: 'timer'; readonly nowMs: number }
  | { readonly type: 'close'; readonly nowMs: number };

export type ConnectionOutput =
  | { readonly type: 'state'; readonly change: ConnectionStateChange }
  /** Arm the single timer for `atMs`, or disarm it when undefined. */
  | { readonly type: 'timer'; readonly atMs: number | undefined }
  /** The session is presumed dead: drop the client and start a new session. */
  | { readonly type: 'newSession' };

type Phase = 'initial' | 'connected' | 'readOnly' | 'suspended' | 'lost' | 'closed';

export class ConnectionStateMachine {
  private phase: Phase = 'initial';
  private current: ConnectionStateName | undefined;
  private sessionId = 0n;
  private negotiatedTimeoutMs = 0;
  private lostAtMs = 0;

  get state(): ConnectionStateName | undefined {
    return this.current;
  }

  get session(): bigint {
    return this.sessionId;
  }

  /** When a SUSPENDED connection becomes LOST unless it comes back first (undefined otherwise). */
  get lostDeadlineMs(): number | undefined {
    return this.phase === 'suspended' ? this.lostAtMs : undefined;
  }

  step(input: ConnectionInput): ConnectionOutput[] {
    const outputs: ConnectionOutput[] = [];
    if (this.phase === 'closed') return outputs;
    switch (input.type) {
      case 'connected':
        this.onConnected(input, outputs);
        break;
      case 'disconnected':
        if (this.phase === 'connected' || this.phase === 'readOnly') {
          this.phase = 'suspended';
          this.lostAtMs = (input.lastHeardMs ?? input.nowMs) + this.negotiatedTimeoutMs;
          this.publish('SUSPENDED', input.nowMs, outputs);
          outputs.push({ type: 'timer', atMs: this.lostAtMs });
        }
        break;
      case 'expired':
        if (this.phase !== 'initial' && this.phase !== 'lost') this.lose(input.nowMs, outputs);
        break;
      case 'timer':
        if (this.phase === 'suspended' && input.nowMs >= this.lostAtMs) this.lose(input.nowMs, outputs);
        else if (this.phase === 'suspended') outputs.push({ type: 'timer', atMs: this.lostAtMs });
        break;
      case 'close':
        this.phase = 'closed';
        outputs.push({ type: 'timer', atMs: undefined });
        break;
    }
    return outputs;
  }

  private onConnected(
    input: Extract<ConnectionInput, { type: 'connected' }>,
    outputs: ConnectionOutput[],
  ): void {
    const sameSession = input.sessionId === this.sessionId;
    if (this.phase === 'suspended' && !sameSession) {
      // The server gave us a different session than the one we were waiting to resume.
      this.publish('LOST', input.nowMs, outputs);
    }
    const wasPhase = this.phase;
    this.sessionId = input.sessionId;
    this.negotiatedTimeoutMs = input.negotiatedTimeoutMs;
    outputs.push({ type: 'timer', atMs: undefined });
    if (input.readOnly) {
      this.phase = 'readOnly';
      if (wasPhase !== 'readOnly' || !sameSession) this.publish('READ_ONLY', input.nowMs, outputs);
      return;
    }
    this.phase = 'connected';
    if (wasPhase === 'initial') this.publish('CONNECTED', input.nowMs, outputs);
    else if (wasPhase !== 'connected' || !sameSession) this.publish('RECONNECTED', input.nowMs, outputs);
  }

  private lose(nowMs: number, outputs: ConnectionOutput[]): void {
    this.phase = 'lost';
    outputs.push({ type: 'timer', atMs: undefined });
    this.publish('LOST', nowMs, outputs);
    outputs.push({ type: 'newSession' });
  }

  private publish(state: ConnectionStateName, nowMs: number, outputs: ConnectionOutput[]): void {
    const change: ConnectionStateChange = {
      state,
      previous: this.current,
      sessionId: this.sessionId,
      atMs: nowMs,
    };
    this.current = state;
    outputs.push({ type: 'state', change });
  }
}
