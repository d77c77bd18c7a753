// The session state machine: which server to try next, when to back off, when the session is
// resumed, lost, expired or closed. It is pure: inputs carry the time (`nowMs`, monotonic) and the
// outcome of what the shell did; outputs are actions for the shell (open a connection, emit a
// state, arm the one timer). Randomness comes in through `random`, so tests can fix it.

import { ErrorCode, KeeperError, SESSION_PASSWORD_BYTES } from '../protocol/index.js';
import type { HostAddress } from './connect-string.js';
import { ClientClosedError, connectionLoss } from './errors.js';

/** What a user sees of the connection, as a tagged union. */
export type ConnectionState =
  | {
      readonly type: 'connected' | 'connectedReadOnly';
      readonly sessionId: bigint;
      readonly host: HostAddress;
      readonly negotiatedTimeoutMs: number;
    }
  | {
      readonly type: 'disconnected';
      readonly error?: Error;
      /**
       * When the server was last heard from (the client's clock, ms), absent before the first
       * connection. The session can be presumed dead a session timeout after it, not after now.
       */
      readonly lastHeardMs?: number;
    }
  | { readonly type: 'expired'; readonly error: Error }
  | { readonly type: 'authFailed'; readonly error: Error }
  | { readonly type: 'closed'; readonly error?: Error };

export type ConnectionStateType = ConnectionState['type'];

export type SessionInput =
  | { readonly type: 'start'; readonly nowMs: number }
  /** The handshake of attempt `attempt` finished with this ConnectResponse. */
  | {
      readonly type: 'connected';
      readonly nowMs: number;
      readonly attempt: number;
      readonly timeoutMs: number;
      readonly sessionId: bigint;
      readonly password: Buffer;
      readonly readOnly: boolean;
    }
  /** Attempt `attempt` failed before its handshake finished (refused, timed out, closed). */
  | {
      readonly type: 'connectFailed';
      readonly nowMs: number;
      readonly attempt: number;
      readonly error: Error;
    }
  /** The established connection of attempt `attempt` was lost; `lastHeardMs` is its last receipt. */
  | {
      readonly type: 'connectionLost';
      readonly nowMs: number;
      readonly attempt: number;
      readonly lastHeardMs: number;
      readonly error: Error;
    }
  | { readonly type: 'authFailed'; readonly nowMs: number; readonly error: Error }
  | { readonly type: 'timer'; readonly nowMs: number }
  /** A probe found a read-write server while we are connected read-only. */
  | { readonly type: 'readWriteServerFound'; readonly nowMs: number; readonly hostIndex: number }
  | { readonly type: 'close'; readonly nowMs: number; readonly error?: Error };

export type SessionAction =
  | {
      readonly type: 'connect';
      readonly attempt: number;
      readonly host: HostAddress;
      readonly sessionId: bigint;
      readonly password: Buffer;
      readonly readOnly: boolean;
    }
  /** Close the connection (or the attempt) numbered `attempt`, if it is still open. */
  | { readonly type: 'disconnect'; readonly attempt: number; readonly error: Error }
  /** The connection is up: re-send auth, re-register watches, then send what waited. */
  | { readonly type: 'established'; readonly attempt: number; readonly readOnly: boolean }
  /** Fail requests that were never sent (not indeterminate: they can be retried). */
  | { readonly type: 'failWaiting'; readonly error: Error }
  | { readonly type: 'state'; readonly state: ConnectionState }
  /** Arm the single timer for `atMs`, or disarm it when undefined. */
  | { readonly type: 'timer'; readonly atMs: number | undefined }
  /** Ask this host whether it serves read-write (the `isro` four-letter word). */
  | { readonly type: 'probe'; readonly hostIndex: number; readonly host: HostAddress }
  /** The session is over for good: fail everything, end every watch with `error`. */
  | { readonly type: 'terminate'; readonly error: Error };

export interface SessionMachineOptions {
  /** Hosts in the order to try them (the shell shuffles them once). */
  readonly hosts: readonly HostAddress[];
  readonly sessionTimeoutMs: number;
  readonly canBeReadOnly: boolean;
  /** After every host failed once in a row, wait up to this long (random) before the next round. */
  readonly reconnectDelayMaxMs: number;
  /** First and largest interval between read-write probes while connected read-only. */
  readonly readWriteProbeMinMs: number;
  readonly readWriteProbeMaxMs: number;
  /** A number in [0, 1). */
  readonly random: () => number;
  /** An existing session to resume instead of creating one. */
  readonly resume?: { readonly sessionId: bigint; readonly password: Buffer };
}

type Phase = 'idle' | 'connecting' | 'backoff' | 'connected' | 'closed';

const NO_PASSWORD = Buffer.alloc(SESSION_PASSWORD_BYTES);

export class SessionMachine {
  private phase: Phase = 'idle';
  private current: ConnectionState = { type: 'disconnected' };
  private attempt = 0;
  private hostIndex = -1;
  private failuresInRound = 0;
  private nextAttemptAtMs = 0;
  private probeAtMs = 0;
  private probeIntervalMs: number;
  private probeHostOffset = 0;
  private lastHeardMs = 0;
  private seenReadWrite = false;
  sessionId = 0n;
  password: Buffer = NO_PASSWORD;
  negotiatedTimeoutMs = 0;

  constructor(private readonly options: SessionMachineOptions) {
    if (options.hosts.length === 0) throw new Error('SessionMachine needs at least one host');
    this.probeIntervalMs = options.readWriteProbeMinMs;
    if (options.resume !== undefined && options.resume.sessionId !== 0n) {
      this.sessionId = options.resume.sessionId;
      this.password = options.resume.password;
      this.negotiatedTimeoutMs = options.sessionTimeoutMs;
      this.seenReadWrite = true;
    }
  }

  get state(): ConnectionState {
    return this.current;
  }

  get terminated(): boolean {
    return this.phase === 'closed';
  }

  /** The attempt whose connection is current (meaningful while connecting or connected). */
  get currentAttempt(): number {
    return this.attempt;
  }

  step(input: SessionInput): SessionAction[] {
    const actions: SessionAction[] = [];
    if (this.phase === 'closed') return actions;
    switch (input.type) {
      case 'start':
        if (this.phase === 'idle') {
          this.lastHeardMs = input.nowMs;
          this.tryNextHost(actions);
        }
        break;
      case 'connected':
        if (this.phase === 'connecting' && input.attempt === this.attempt) this.onConnected(input, actions);
        break;
      case 'connectFailed':
        if (this.phase === 'connecting' && input.attempt === this.attempt)
          this.onConnectFailed(input, actions);
        break;
      case 'connectionLost':
        if (this.phase === 'connected' && input.attempt === this.attempt) {
          this.lastHeardMs = input.lastHeardMs;
          const { error, lastHeardMs } = input;
          this.setState({ type: 'disconnected', error, lastHeardMs }, actions);
          this.tryNextHost(actions);
        }
        break;
      case 'authFailed':
        this.terminate({ type: 'authFailed', error: input.error }, input.error, actions);
        break;
      case 'timer':
        this.onTimer(input.nowMs, actions);
        break;
      case 'readWriteServerFound':
        if (this.phase === 'connected' && this.current.type === 'connectedReadOnly') {
          const error = connectionLoss(false, { cause: new Error('a read-write server was found') });
          actions.push({ type: 'disconnect', attempt: this.attempt, error });
          this.lastHeardMs = input.nowMs;
          this.setState({ type: 'disconnected', error, lastHeardMs: input.nowMs }, actions);
          this.hostIndex = input.hostIndex - 1;
          this.tryNextHost(actions);
        }
        break;
      case 'close': {
        const error = input.error ?? new ClientClosedError('the client was closed');
        this.terminate({ type: 'closed', error: input.error }, error, actions);
        break;
      }
    }
    return actions;
  }

  private onConnected(input: Extract<SessionInput, { type: 'connected' }>, actions: SessionAction[]): void {
    if (input.timeoutMs <= 0) {
      // The server no longer knows the session (or refused the password).
      this.expire(actions);
      return;
    }
    this.phase = 'connected';
    this.failuresInRound = 0;
    this.lastHeardMs = input.nowMs;
    this.sessionId = input.sessionId;
    this.password = input.password;
    this.negotiatedTimeoutMs = input.timeoutMs;
    const readOnly = input.readOnly;
    if (!readOnly) this.seenReadWrite = true;
    const host = this.options.hosts[this.hostIndex];
    const type = readOnly ? 'connectedReadOnly' : 'connected';
    this.setState({ type, sessionId: input.sessionId, host, negotiatedTimeoutMs: input.timeoutMs }, actions);
    actions.push({ type: 'established', attempt: this.attempt, readOnly });
    if (readOnly && this.options.hosts.length > 1) {
      this.probeIntervalMs = this.options.readWriteProbeMinMs;
      this.probeAtMs = input.nowMs + this.probeIntervalMs;
      actions.push({ type: 'timer', atMs: this.probeAtMs });
    } else {
      actions.push({ type: 'timer', atMs: undefined });
    }
  }

  private onConnectFailed(
    input: Extract<SessionInput, { type: 'connectFailed' }>,
    actions: SessionAction[],
  ): void {
    actions.push({ type: 'failWaiting', error: connectionLoss(false, { cause: input.error }) });
    if (this.sessionExpiredBy(input.nowMs)) {
      this.expire(actions);
      return;
    }
    this.failuresInRound++;
    if (this.failuresInRound < this.options.hosts.length) {
      this.tryNextHost(actions);
      return;
    }
    // Every host failed once in a row: wait a random moment so a crowd of clients spreads out.
    this.failuresInRound = 0;
    this.phase = 'backoff';
    this.nextAttemptAtMs = input.nowMs + Math.floor(this.options.random() * this.options.reconnectDelayMaxMs);
    this.armDisconnectedTimer(actions);
  }

  private onTimer(nowMs: number, actions: SessionAction[]): void {
    if (this.phase === 'connecting' || this.phase === 'backoff') {
      if (this.sessionExpiredBy(nowMs)) {
        this.expire(actions);
        return;
      }
      if (this.phase === 'backoff' && nowMs >= this.nextAttemptAtMs) {
        this.tryNextHost(actions);
        return;
      }
      this.armDisconnectedTimer(actions);
      return;
    }
    if (this.phase === 'connected' && this.current.type === 'connectedReadOnly' && nowMs >= this.probeAtMs) {
      const hosts = this.options.hosts;
      this.probeHostOffset = (this.probeHostOffset % (hosts.length - 1)) + 1;
      const hostIndex = (this.hostIndex + this.probeHostOffset) % hosts.length;
      actions.push({ type: 'probe', hostIndex, host: hosts[hostIndex] });
      this.probeIntervalMs = Math.min(this.probeIntervalMs * 2, this.options.readWriteProbeMaxMs);
      this.probeAtMs = nowMs + this.probeIntervalMs;
      actions.push({ type: 'timer', atMs: this.probeAtMs });
    }
  }

  private tryNextHost(actions: SessionAction[]): void {
    this.phase = 'connecting';
    this.attempt++;
    this.hostIndex = (this.hostIndex + 1) % this.options.hosts.length;
    // A session born on a read-only server is local to it; a read-write server needs a new one.
    const resume = this.seenReadWrite && this.sessionId !== 0n;
    actions.push({
      type: 'connect',
      attempt: this.attempt,
      host: this.options.hosts[this.hostIndex],
      sessionId: resume ? this.sessionId : 0n,
      password: resume ? this.password : NO_PASSWORD,
      readOnly: this.options.canBeReadOnly,
    });
    this.armDisconnectedTimer(actions);
  }

  /** While disconnected the timer serves the next attempt and the client-side expiry. */
  private armDisconnectedTimer(actions: SessionAction[]): void {
    const deadlines: number[] = [];
    if (this.phase === 'backoff') deadlines.push(this.nextAttemptAtMs);
    if (this.sessionId !== 0n) deadlines.push(this.lastHeardMs + this.negotiatedTimeoutMs);
    actions.push({ type: 'timer', atMs: deadlines.length === 0 ? undefined : Math.min(...deadlines) });
  }

  /** No server was heard for the whole negotiated timeout: the session must be presumed dead. */
  private sessionExpiredBy(nowMs: number): boolean {
    return this.sessionId !== 0n && nowMs - this.lastHeardMs >= this.negotiatedTimeoutMs;
  }

  private expire(actions: SessionAction[]): void {
    const error = KeeperError.from(ErrorCode.SESSION_EXPIRED);
    this.terminate({ type: 'expired', error }, error, actions);
  }

  private terminate(state: ConnectionState, error: Error, actions: SessionAction[]): void {
    const wasOpen = this.phase === 'connecting' || this.phase === 'connected';
    if (wasOpen) actions.push({ type: 'disconnect', attempt: this.attempt, error });
    this.phase = 'closed';
    actions.push({ type: 'timer', atMs: undefined });
    this.setState(state, actions);
    actions.push({ type: 'terminate', error });
    if (state.type !== 'closed') this.setState({ type: 'closed', error }, actions);
  }

  private setState(state: ConnectionState, actions: SessionAction[]): void {
    this.current = state;
    actions.push({ type: 'state', state });
  }
}
