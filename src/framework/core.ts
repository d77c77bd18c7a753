// The shell every framework view shares: it owns the current ZooKeeperClient, feeds the client's
// states into the pure connection-state machine, carries out its outputs (publish a state, arm the
// one timer, replace a dead session by a new client), and lets operations wait for a connection.

import {
  type ZooKeeperClient,
  type ConnectionState,
  type Data,
  type ZooKeeperClientOptions,
} from '../client/index.js';
import { ErrorCode, KeeperError, type ACL } from '../protocol/index.js';
import { sleep, type FrameworkClock } from './abort.js';
import {
  ConnectionStateMachine,
  isConnectedState,
  type ConnectionErrorPolicy,
  type ConnectionInput,
  type ConnectionStateChange,
} from './connection-state.js';
import { FrameworkClosedError, connectionWaitTimedOut } from './errors.js';
import { GuaranteedDeletes } from './guaranteed-delete.js';
import type { RetryPolicy } from './retry-policy.js';
import { Channel } from '../client/channel.js';
import { WatchRegistry } from './watch-registry.js';

/** Options of the ZooKeeperClient the framework makes for each session. */
export type FrameworkClientOptions = Omit<
  ZooKeeperClientOptions,
  | 'connectString'
  | 'sessionTimeoutMs'
  | 'canBeReadOnly'
  | 'sessionId'
  | 'sessionPassword'
  | 'onListenerError'
  | 'random'
  | 'clock'
>;

export interface CoreOptions {
  readonly connectString: string;
  readonly sessionTimeoutMs: number;
  readonly connectionTimeoutMs: number;
  readonly retry: RetryPolicy;
  readonly authorization: ReadonlyArray<{ readonly scheme: string; readonly auth: Data }>;
  readonly canBeReadOnly: boolean;
  readonly defaultAcl: readonly ACL[];
  readonly client: FrameworkClientOptions;
  readonly onListenerError: (error: unknown) => void;
  readonly random: () => number;
  readonly eventsQueuedMax: number;
  readonly connectionErrorPolicy: ConnectionErrorPolicy;
  readonly clock: FrameworkClock;
  /** Makes the client of each session (a test kit may pass one on an in-process transport). */
  readonly clientFactory: (options: ZooKeeperClientOptions) => ZooKeeperClient;
}

interface ConnectWaiter {
  resolve(): void;
  reject(error: Error): void;
}

export class FrameworkCore {
  readonly machine = new ConnectionStateMachine();
  readonly watches = new WatchRegistry();
  readonly deletes: GuaranteedDeletes;
  /** Namespace nodes already made sure of, by prefix. */
  readonly namespacesEnsured = new Map<string, Promise<void>>();
  private current!: ZooKeeperClient;
  private timer: unknown;
  private readonly stateListeners = new Set<(change: ConnectionStateChange) => void>();
  private readonly stateChannels = new Set<Channel<ConnectionStateChange>>();
  private lastChange: ConnectionStateChange | undefined;
  private connectWaiters = new Set<ConnectWaiter>();
  private closing: Promise<void> | undefined;
  private closeReason: Error | undefined;
  private isClosed = false;
  private resolveClosed!: (reason: Error | undefined) => void;
  readonly closedPromise = new Promise<Error | undefined>((resolve) => (this.resolveClosed = resolve));

  constructor(readonly options: CoreOptions) {
    this.deletes = new GuaranteedDeletes(
      {
        sessionId: () => this.current.sessionId,
        waitForConnection: (signal) => this.waitForConnection(signal),
        deleteOnce: (serverPath, version, signal) => this.current.delete(serverPath, { version, signal }),
        sleep: (ms, signal) => sleep(ms, signal, options.clock),
      },
      options.onListenerError,
    );
    this.openClient();
  }

  /** The client of the current session. */
  get client(): ZooKeeperClient {
    return this.current;
  }

  get closed(): boolean {
    return this.isClosed;
  }

  get lastStateChange(): ConnectionStateChange | undefined {
    return this.lastChange;
  }

  onStateChange(listener: (change: ConnectionStateChange) => void): () => void {
    this.stateListeners.add(listener);
    return () => this.stateListeners.delete(listener);
  }

  stateChanges(signal: AbortSignal | undefined): AsyncIterable<ConnectionStateChange> {
    const onAbort = () => channel.end();
    const channel = new Channel<ConnectionStateChange>(this.options.eventsQueuedMax, undefined, () => {
      this.stateChannels.delete(channel);
      signal?.removeEventListener('abort', onAbort);
    });
    if (this.isClosed || signal?.aborted) {
      channel.end();
      return channel;
    }
    this.stateChannels.add(channel);
    signal?.addEventListener('abort', onAbort, { once: true });
    return channel;
  }

  /** Resolves once a connection is up; a retryable ConnectionLoss after `timeoutMs`. */
  waitForConnection(
    signal: AbortSignal | undefined,
    timeoutMs = this.options.connectionTimeoutMs,
  ): Promise<void> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    if (this.isClosed) return Promise.reject(this.closedError());
    if (this.current.isConnected && isConnectedState(this.machine.state)) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const waiter: ConnectWaiter = {
        resolve: () => {
          cleanup();
          resolve();
        },
        reject: (error) => {
          cleanup();
          reject(error);
        },
      };
      const onAbort = () => waiter.reject(signal!.reason as Error);
      const clock = this.options.clock;
      const timer = clock.setTimer(() => waiter.reject(connectionWaitTimedOut(timeoutMs)), timeoutMs);
      const cleanup = () => {
        clock.clearTimer(timer);
        this.connectWaiters.delete(waiter);
        signal?.removeEventListener('abort', onAbort);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.connectWaiters.add(waiter);
    });
  }

  close(reason?: Error): Promise<void> {
    this.closing ??= this.closeOnce(reason);
    return this.closing;
  }

  closedError(): FrameworkClosedError {
    return new FrameworkClosedError('the framework is closed', { cause: this.closeReason });
  }

  // ----- the shell around the connection-state machine -----

  private openClient(): void {
    const { options } = this;
    const client = options.clientFactory({
      ...options.client,
      connectString: options.connectString,
      sessionTimeoutMs: options.sessionTimeoutMs,
      canBeReadOnly: options.canBeReadOnly,
      onListenerError: options.onListenerError,
      random: options.random,
      clock: options.clock,
    });
    this.current = client;
    client.onStateChange((state) => this.onClientState(client, state));
    // connect() gives up waiting after its timeout, but the client keeps trying until closed.
    client.connect({ timeoutMs: options.connectionTimeoutMs }).catch(() => undefined);
    for (const { scheme, auth } of options.authorization) {
      // A refused credential ends the session with authFailed, which closes the framework.
      client.addAuth(scheme, auth).catch(() => undefined);
    }
  }

  private onClientState(client: ZooKeeperClient, state: ConnectionState): void {
    if (client !== this.current || this.isClosed) return;
    const nowMs = this.options.clock.nowMs();
    switch (state.type) {
      case 'connected':
      case 'connectedReadOnly':
        this.input({
          type: 'connected',
          nowMs,
          sessionId: state.sessionId,
          negotiatedTimeoutMs: state.negotiatedTimeoutMs,
          readOnly: state.type === 'connectedReadOnly',
        });
        break;
      case 'disconnected':
        // LOST is measured from the last server response, not from when the loss was noticed.
        this.input({ type: 'disconnected', nowMs, lastHeardMs: state.lastHeardMs });
        break;
      case 'expired':
        this.input({ type: 'expired', nowMs });
        break;
      case 'authFailed':
        void this.close(state.error);
        break;
      case 'closed':
        // Not closed by us and not expired: the client ended for a reason of its own.
        void this.close(state.error ?? new FrameworkClosedError('the client closed'));
        break;
    }
  }

  private input(input: ConnectionInput): void {
    for (const output of this.machine.step(input)) {
      switch (output.type) {
        case 'state':
          this.publish(output.change);
          break;
        case 'timer':
          this.armTimer(output.atMs);
          break;
        case 'newSession':
          this.replaceSession();
          break;
      }
    }
  }

  private publish(change: ConnectionStateChange): void {
    this.lastChange = change;
    if (isConnectedState(change.state)) {
      for (const waiter of [...this.connectWaiters]) waiter.resolve();
    }
    for (const listener of this.stateListeners) {
      try {
        listener(change);
      } catch (error) {
        this.options.onListenerError(error);
      }
    }
    for (const channel of this.stateChannels) channel.push(change);
  }

  private armTimer(atMs: number | undefined): void {
    const clock = this.options.clock;
    if (this.timer !== undefined) clock.clearTimer(this.timer);
    this.timer = undefined;
    if (atMs === undefined) return;
    this.timer = clock.setTimer(
      () => {
        this.timer = undefined;
        this.input({ type: 'timer', nowMs: clock.nowMs() });
      },
      Math.max(1, Math.ceil(atMs - clock.nowMs())),
    );
  }

  /** The session is presumed dead: end what belonged to it and start a new session. */
  private replaceSession(): void {
    const old = this.current;
    const error = KeeperError.from(ErrorCode.SESSION_EXPIRED);
    this.watches.endClient(old, error);
    this.deletes.abandonSession(old.sessionId);
    this.openClient();
    void old.close();
  }

  private async closeOnce(reason: Error | undefined): Promise<void> {
    this.isClosed = true;
    this.closeReason = reason;
    this.input({ type: 'close', nowMs: this.options.clock.nowMs() });
    this.armTimer(undefined);
    const error = this.closedError();
    for (const waiter of [...this.connectWaiters]) waiter.reject(error);
    for (const channel of this.stateChannels) channel.end();
    this.stateChannels.clear();
    await this.deletes.close();
    this.watches.endClient(this.current, error);
    await this.current.close();
    this.resolveClosed(reason);
  }
}
