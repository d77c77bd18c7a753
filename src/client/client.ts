// The client users hold: every ZooKeeper 3.8 operation as a promise, watches as callbacks,
// promises and async iterables, connection states as a listener and an async iterable. It is the
// shell around the pure session machine: it opens connections when told, feeds their outcomes
// back, re-sends auth and re-registers watches after every reconnect, and keeps requests waiting
// while no connection is up.

import {
  AddWatchMode,
  CONFIG_PATH,
  ClosedError,
  ErrorCode,
  FRAME_BYTES_MAX_DEFAULT,
  InvalidArgumentError,
  KeeperError,
  OpCode,
  PROTOCOL_VERSION,
  TimeoutError,
  WatcherType,
  Xid,
  encodeFrame,
  operationFor,
  operations,
  part,
  type ACL,
  type ClientInfo,
  type ConnectResponse,
  type MultiResponse,
  type OpSpec,
  type ReplyHeader,
  type Stat,
  type WatcherEvent,
} from '../protocol/index.js';
import { AuthPacket, RequestHeader } from '../protocol/records.js';
import { Channel } from './channel.js';
import { realClock, type Clock } from './clock.js';
import { Chroot, parseConnectString, shuffled, type HostAddress } from './connect-string.js';
import { Connection, describeHost, type WireRequest } from './connection.js';
import { ClientClosedError, connectionLoss } from './errors.js';
import { observeClientState, observeRequest } from '../observability/observer.js';
import {
  op as opBuilder,
  toOpResult,
  toServerOp,
  type MultiOperation,
  type ReadOperation,
  type ResultsOf,
} from './ops.js';
import { probeReadWrite, type ProbeHandle } from './probe.js';
import { tcpTransport, type Transport } from './transport.js';
import { SessionMachine, type ConnectionState, type SessionAction, type SessionInput } from './session.js';
import {
  Acls,
  checkAcl,
  checkPath,
  checkVersion,
  planCreate,
  toBuffer,
  type CreateModeOptions,
  type Data,
} from './validate.js';
import {
  CONFIG_WATCH_KEY,
  WatchManager,
  type WatchedEvent,
  type WatcherTypeName,
  type WatchListener,
} from './watches.js';

export interface ZooKeeperClientOptions {
  /** "host:port,host:port/optional/chroot". */
  connectString: string;
  /** Requested session timeout; the server clamps it (Apache: 2 to 20 ticks). Default 30 000. */
  sessionTimeoutMs?: number;
  /** Limit for one connection attempt (TCP and handshake). Default: session timeout / hosts. */
  connectTimeoutMs?: number;
  /** Accept a read-only server (a partitioned member) and move to a read-write one when found. */
  canBeReadOnly?: boolean;
  /** Largest frame accepted from the server and sent to it (Apache's jute.maxbuffer). */
  frameBytesMax?: number;
  /** Requests written to one connection and not yet answered. Default 10 000. */
  outstandingRequestsMax?: number;
  /**
   * How long the oldest unanswered request may wait before its connection is declared broken and
   * replaced (its requests fail with ConnectionLoss). 0 disables it. Default: twice the session
   * timeout, at least 30 000.
   */
  requestTimeoutMs?: number;
  /** Requests waiting for a connection (or for room on it). Default 100 000. */
  waitingRequestsMax?: number;
  /** Watch listeners per client. Default 100 000. */
  watchesMax?: number;
  /** Events a persistent watch or a state iterator buffers for a slow reader. Default 10 000. */
  eventsQueuedMax?: number;
  /** Longest random pause after every host failed once in a row. Default 1 000. */
  reconnectDelayMaxMs?: number;
  /** Resume this session instead of creating one. */
  sessionId?: bigint;
  sessionPassword?: Buffer;
  /** Where errors thrown by watch and state listeners go (they never reach the client). */
  onListenerError?: (error: unknown) => void;
  /** Randomness for the host order and backoff; Math.random by default. */
  random?: () => number;
  /** Time and timers (pings, timeouts, expiry); real time by default. A test kit passes a virtual one. */
  clock?: Clock;
  /** How servers are reached; TCP by default. A test kit may pass an in-process transport. */
  transport?: Transport;
}

export interface SignalOptions {
  signal?: AbortSignal;
}

/** A one-shot watch: `true` for a promise of the event, or a callback. */
export type WatchOption = boolean | ((event: WatchedEvent) => void);

export interface WatchOptions extends SignalOptions {
  watch?: WatchOption;
}

type WatchResult<O> = O extends { watch: true } ? { watch: Promise<WatchedEvent> } : unknown;

export interface CreateOptions extends CreateModeOptions, SignalOptions {
  acl?: readonly ACL[];
}

export interface VersionOptions extends SignalOptions {
  /** Expected version; -1 (the default) matches any. */
  version?: number;
}

export interface CreateResult {
  readonly path: string;
  readonly stat: Stat;
}

export interface DataResult {
  /**
   * The node's data: null when it was created or set with null data (ZooKeeper keeps the two
   * apart: the reply carries length -1), an empty Buffer when it was given zero bytes.
   */
  readonly data: Buffer | null;
  readonly stat: Stat;
}

export interface ChildrenResult {
  readonly children: string[];
  /** Present when asked for with `withStat` (getChildren2). */
  readonly stat?: Stat;
}

export interface AddWatchOptions extends SignalOptions {
  /** 'persistent' (the node and its children list) or 'persistentRecursive' (the whole subtree). */
  mode?: 'persistent' | 'persistentRecursive';
  /** Receive events through a callback instead of iterating. */
  listener?: (event: WatchedEvent) => void;
}

export interface ReconfigOptions extends SignalOptions {
  joining?: string;
  leaving?: string;
  newMembers?: string;
  /** Only apply if the current config has this version; -1 (default) for any. */
  fromConfig?: bigint;
}

export type StateListener = (state: ConnectionState) => void;

/** What a request needs of its client once it settles (bound once per client, not per request). */
interface RequestOwner {
  drain(): void;
  removeWaiting(request: ClientRequest): void;
  requestError(error: Error, indeterminate: boolean, path: string | undefined): Error;
}

/**
 * One request, waiting or in flight: settles its caller's promise exactly once. A class rather than
 * a bundle of closures, since one is made per request on the hot path.
 */
class ClientRequest implements WireRequest {
  readonly response: WireRequest['response'];
  sent = false;
  settled = false;
  resolve!: (body: unknown) => void;
  reject!: (error: unknown) => void;
  onAbort: (() => void) | undefined;

  constructor(
    private readonly owner: RequestOwner,
    readonly spec: OpSpec,
    readonly frame: Buffer,
    private readonly path: string | undefined,
    private readonly signal: AbortSignal | undefined,
    private readonly onReply: ((code: number) => void) | undefined,
    private readonly observed: ((code: number) => void) | undefined,
  ) {
    this.response = spec.response;
  }

  complete(header: ReplyHeader, body: unknown): void {
    if (this.settled) return;
    this.settle();
    this.observed?.(header.err);
    this.onReply?.(header.err);
    if (header.err === 0) this.resolve(body);
    else this.reject(KeeperError.from(header.err, { path: this.path }));
    this.owner.drain();
  }

  fail(error: Error, sent: boolean): void {
    if (this.settled) return;
    this.settle();
    this.observed?.(ErrorCode.CONNECTION_LOSS);
    this.reject(this.owner.requestError(error, sent && !this.spec.traits.idempotent, this.path));
  }

  unreadable(error: Error): void {
    if (this.settled) return;
    this.settle();
    this.reject(error);
    this.owner.drain();
  }

  /** The caller's signal aborted: a request not yet sent leaves the queue. */
  abort(): void {
    if (this.settled) return;
    this.settled = true;
    if (!this.sent) this.owner.removeWaiting(this);
    this.reject(this.signal!.reason);
  }

  private settle(): void {
    this.settled = true;
    if (this.onAbort !== undefined) this.signal?.removeEventListener('abort', this.onAbort);
  }
}

interface AuthEntry {
  readonly scheme: string;
  readonly auth: Buffer;
  readonly frame: Buffer;
  waiters: Array<{ resolve(): void; reject(error: Error): void }>;
}

const DEFAULTS = {
  sessionTimeoutMs: 30_000,
  outstandingRequestsMax: 10_000,
  waitingRequestsMax: 100_000,
  watchesMax: 100_000,
  eventsQueuedMax: 10_000,
  reconnectDelayMaxMs: 1_000,
  closeSessionTimeoutMs: 2_000,
  probeTimeoutMs: 1_000,
};

const SPEC = operations;

export class ZooKeeperClient implements AsyncDisposable {
  /** The op builder for `multi` and `multiRead`, also exported as `op`. */
  static readonly op = opBuilder;

  readonly hosts: readonly HostAddress[];
  readonly chroot: Chroot;
  /** The connect string this client was made with. */
  readonly connectString: string;
  private readonly options: Required<
    Pick<
      ZooKeeperClientOptions,
      | 'sessionTimeoutMs'
      | 'frameBytesMax'
      | 'outstandingRequestsMax'
      | 'waitingRequestsMax'
      | 'watchesMax'
      | 'eventsQueuedMax'
      | 'connectTimeoutMs'
      | 'canBeReadOnly'
      | 'requestTimeoutMs'
    >
  >;
  private readonly machine: SessionMachine;
  private readonly watches: WatchManager;
  private readonly onListenerError: (error: unknown) => void;
  private started = false;
  private connection: Connection | undefined;
  private connectionAttempt = 0;
  private primed = false;
  private waiting: ClientRequest[] = [];
  private waitingHead = 0;
  private readonly auths: AuthEntry[] = [];
  private lastZxid = 0n;
  private timer: unknown;
  private readonly clock: Clock;
  private readonly transport: Transport;
  private readonly stateListeners = new Set<StateListener>();
  private readonly stateChannels = new Set<Channel<ConnectionState>>();
  private connectWaiters: Array<{ resolve(): void; reject(error: Error): void }> = [];
  private readonly probes = new Set<ProbeHandle>();
  private inputs: SessionInput[] = [];
  private stepping = false;
  private closing: Promise<void> | undefined;
  private closingSession = false;
  private closeRequested = false;
  private terminalError: Error | undefined;
  private closeReason: Error | undefined;
  private resolveClosed!: (reason: Error | undefined) => void;
  private readonly closedPromise: Promise<Error | undefined>;
  private readonly requestOwner: RequestOwner = {
    drain: () => this.drain(),
    removeWaiting: (request) => this.removeWaiting(request),
    requestError: (error, indeterminate, path) => this.requestError(error, indeterminate, path),
  };

  constructor(options: ZooKeeperClientOptions) {
    const { hosts, chroot } = parseConnectString(options.connectString);
    this.connectString = options.connectString;
    this.clock = options.clock ?? realClock;
    this.transport = options.transport ?? tcpTransport;
    const random = options.random ?? Math.random;
    this.hosts = shuffled(hosts, random);
    this.chroot = new Chroot(chroot);
    const sessionTimeoutMs = positiveInteger(
      options.sessionTimeoutMs ?? DEFAULTS.sessionTimeoutMs,
      'sessionTimeoutMs',
    );
    this.options = {
      sessionTimeoutMs,
      connectTimeoutMs: positiveInteger(
        options.connectTimeoutMs ?? Math.max(1, Math.floor(sessionTimeoutMs / hosts.length)),
        'connectTimeoutMs',
      ),
      canBeReadOnly: options.canBeReadOnly ?? false,
      requestTimeoutMs: nonNegativeInteger(
        options.requestTimeoutMs ?? Math.max(30_000, 2 * sessionTimeoutMs),
        'requestTimeoutMs',
      ),
      frameBytesMax: positiveInteger(options.frameBytesMax ?? FRAME_BYTES_MAX_DEFAULT, 'frameBytesMax'),
      outstandingRequestsMax: positiveInteger(
        options.outstandingRequestsMax ?? DEFAULTS.outstandingRequestsMax,
        'outstandingRequestsMax',
      ),
      waitingRequestsMax: positiveInteger(
        options.waitingRequestsMax ?? DEFAULTS.waitingRequestsMax,
        'waitingRequestsMax',
      ),
      watchesMax: positiveInteger(options.watchesMax ?? DEFAULTS.watchesMax, 'watchesMax'),
      eventsQueuedMax: positiveInteger(
        options.eventsQueuedMax ?? DEFAULTS.eventsQueuedMax,
        'eventsQueuedMax',
      ),
    };
    if ((options.sessionId === undefined) !== (options.sessionPassword === undefined)) {
      throw new InvalidArgumentError('sessionId and sessionPassword go together');
    }
    this.onListenerError =
      options.onListenerError ??
      ((error) =>
        process.emitWarning(`a ZooKeeperClient listener threw: ${String(error)}`, 'ZooKeeperClientWarning'));
    this.watches = new WatchManager(this.onListenerError);
    this.machine = new SessionMachine({
      hosts: this.hosts,
      sessionTimeoutMs,
      canBeReadOnly: this.options.canBeReadOnly,
      reconnectDelayMaxMs: positiveInteger(
        options.reconnectDelayMaxMs ?? DEFAULTS.reconnectDelayMaxMs,
        'reconnectDelayMaxMs',
      ),
      readWriteProbeMinMs: 100,
      readWriteProbeMaxMs: 60_000,
      random,
      resume:
        options.sessionId === undefined
          ? undefined
          : { sessionId: options.sessionId, password: options.sessionPassword! },
    });
    this.closedPromise = new Promise((resolve) => (this.resolveClosed = resolve));
  }

  // ----- lifecycle and state -----

  /**
   * Starts the session and resolves once a server accepted it. Rejects when the signal aborts,
   * after `timeoutMs` (default: the session timeout) without any server, or if the session ends;
   * the client keeps trying in the background until closed.
   */
  async connect(options: SignalOptions & { timeoutMs?: number } = {}): Promise<void> {
    options.signal?.throwIfAborted();
    if (this.terminalError !== undefined) throw this.terminalError;
    if (this.isConnected) return;
    const waited = new Promise<void>((resolve, reject) => {
      const timeoutMs = options.timeoutMs ?? this.options.sessionTimeoutMs;
      const waiter = {
        resolve: () => {
          cleanup();
          resolve();
        },
        reject: (error: Error) => {
          cleanup();
          reject(error);
        },
      };
      const onAbort = () => {
        this.connectWaiters = this.connectWaiters.filter((w) => w !== waiter);
        waiter.reject(options.signal!.reason as Error);
      };
      const timer = this.clock.setTimer(() => {
        this.connectWaiters = this.connectWaiters.filter((w) => w !== waiter);
        const hosts = this.hosts.map(describeHost).join(',');
        waiter.reject(
          new TimeoutError(`no ZooKeeper server of ${hosts} accepted a session within ${timeoutMs} ms`),
        );
      }, timeoutMs);
      const cleanup = () => {
        this.clock.clearTimer(timer);
        options.signal?.removeEventListener('abort', onAbort);
      };
      options.signal?.addEventListener('abort', onAbort, { once: true });
      this.connectWaiters.push(waiter);
    });
    if (!this.started) {
      this.started = true;
      this.input({ type: 'start', nowMs: this.clock.nowMs() });
    }
    await waited;
  }

  /** Closes the session (its ephemerals go at once) and the connection. Idempotent. */
  close(): Promise<void> {
    this.closing ??= this.closeOnce();
    return this.closing;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  /** Resolves when the client is closed: undefined after close(), else the error that ended it. */
  closed(): Promise<Error | undefined> {
    return this.closedPromise;
  }

  get state(): ConnectionState {
    return this.machine.state;
  }

  get isConnected(): boolean {
    const type = this.machine.state.type;
    return type === 'connected' || type === 'connectedReadOnly';
  }

  /** The session id (0n before the first connection). */
  get sessionId(): bigint {
    return this.machine.sessionId;
  }

  get sessionPassword(): Buffer {
    return this.machine.password;
  }

  /** The session timeout the server granted (0 before the first connection). */
  get negotiatedTimeoutMs(): number {
    return this.machine.negotiatedTimeoutMs;
  }

  /** The latest zxid seen in a reply; sent on reconnect so the client never goes back in time. */
  get lastZxidSeen(): bigint {
    return this.lastZxid;
  }

  /** Calls `listener` on every state change; returns the function that unsubscribes it. */
  onStateChange(listener: StateListener): () => void {
    this.stateListeners.add(listener);
    return () => this.stateListeners.delete(listener);
  }

  /** State changes as an async iterable, starting with the current state; ends after `closed`. */
  states(options: SignalOptions = {}): AsyncIterable<ConnectionState> {
    const channel: Channel<ConnectionState> = new Channel(this.options.eventsQueuedMax, () =>
      this.stateChannels.delete(channel),
    );
    channel.push(this.machine.state);
    if (this.machine.terminated) channel.end();
    else this.stateChannels.add(channel);
    options.signal?.addEventListener(
      'abort',
      () => {
        channel.end();
        this.stateChannels.delete(channel);
      },
      { once: true },
    );
    return channel;
  }

  /** For tests: drops the TCP connection as a network failure would; the client reconnects. */
  dropConnection(): void {
    this.connection?.close(connectionLoss(false, { cause: new Error('connection dropped on purpose') }));
  }

  // ----- operations -----

  /** Creates a znode; returns its path (with the sequence suffix, if any) and its stat. */
  async create(path: string, data?: Data | null, options: CreateOptions = {}): Promise<CreateResult> {
    const plan = planCreate(options);
    checkPath(path, { sequential: plan.sequential });
    const acl = checkAcl(options.acl ?? Acls.OPEN_ACL_UNSAFE);
    const body = { path: this.chroot.toServer(path), data: toBuffer(data), acl, flags: plan.flags };
    const spec = operationFor(plan.opCode)!;
    const request = plan.ttl === undefined ? body : { ...body, ttl: plan.ttl };
    const response = (await this.submit(spec, request, path, options.signal)) as { path: string; stat: Stat };
    return { path: this.chroot.toClient(response.path), stat: response.stat };
  }

  async delete(path: string, options: VersionOptions = {}): Promise<void> {
    checkPath(path);
    const version = checkVersion(options.version ?? -1);
    await this.submit(SPEC.delete, { path: this.chroot.toServer(path), version }, path, options.signal);
  }

  /** The node's stat, or null when it does not exist (a watch then waits for its creation). */
  async exists<O extends WatchOptions>(
    path: string,
    options?: O,
  ): Promise<O extends { watch: true } ? { stat: Stat | null; watch: Promise<WatchedEvent> } : Stat | null> {
    checkPath(path);
    const watch = this.prepareWatch(options?.watch);
    const body = { path: this.chroot.toServer(path), watch: watch !== undefined };
    let stat: Stat | null;
    try {
      const response = (await this.submit(SPEC.exists, body, path, options?.signal, (code) => {
        if (watch === undefined) return;
        if (code === 0) this.watches.add('data', path, watch.listener);
        else if (code === ErrorCode.NO_NODE) this.watches.add('exist', path, watch.listener);
      })) as { stat: Stat };
      stat = response.stat;
    } catch (error) {
      if (!(error instanceof KeeperError && error.code === ErrorCode.NO_NODE)) throw error;
      stat = null;
    }
    const result = watch?.promise === undefined ? stat : { stat, watch: watch.promise };
    return result as O extends { watch: true }
      ? { stat: Stat | null; watch: Promise<WatchedEvent> }
      : Stat | null;
  }

  async getData<O extends WatchOptions>(path: string, options?: O): Promise<DataResult & WatchResult<O>> {
    checkPath(path);
    const watch = this.prepareWatch(options?.watch);
    const body = { path: this.chroot.toServer(path), watch: watch !== undefined };
    const response = (await this.submit(SPEC.getData, body, path, options?.signal, (code) => {
      if (watch !== undefined && code === 0) this.watches.add('data', path, watch.listener);
    })) as { data: Buffer | null; stat: Stat };
    const result = { data: response.data, stat: response.stat };
    return (watch?.promise === undefined ? result : { ...result, watch: watch.promise }) as DataResult &
      WatchResult<O>;
  }

  async setData(path: string, data: Data | null, options: VersionOptions = {}): Promise<Stat> {
    checkPath(path);
    const version = checkVersion(options.version ?? -1);
    const body = { path: this.chroot.toServer(path), data: toBuffer(data), version };
    return ((await this.submit(SPEC.setData, body, path, options.signal)) as { stat: Stat }).stat;
  }

  async getACL(path: string, options: SignalOptions = {}): Promise<{ acl: ACL[]; stat: Stat }> {
    checkPath(path);
    return (await this.submit(SPEC.getACL, { path: this.chroot.toServer(path) }, path, options.signal)) as {
      acl: ACL[];
      stat: Stat;
    };
  }

  /** Replaces the node's ACL; `version` is the expected ACL version (aversion). */
  async setACL(path: string, acl: readonly ACL[], options: VersionOptions = {}): Promise<Stat> {
    checkPath(path);
    const version = checkVersion(options.version ?? -1);
    const body = { path: this.chroot.toServer(path), acl: checkAcl(acl), version };
    return ((await this.submit(SPEC.setACL, body, path, options.signal)) as { stat: Stat }).stat;
  }

  /** The child names (unordered); with `withStat`, the parent's stat too (getChildren2). */
  async getChildren<O extends WatchOptions & { withStat?: boolean }>(
    path: string,
    options?: O,
  ): Promise<ChildrenResult & WatchResult<O>> {
    checkPath(path);
    const watch = this.prepareWatch(options?.watch);
    const spec = options?.withStat ? SPEC.getChildren2 : SPEC.getChildren;
    const body = { path: this.chroot.toServer(path), watch: watch !== undefined };
    const response = (await this.submit(spec, body, path, options?.signal, (code) => {
      if (watch !== undefined && code === 0) this.watches.add('child', path, watch.listener);
    })) as ChildrenResult;
    const result: ChildrenResult =
      response.stat === undefined
        ? { children: response.children }
        : { children: response.children, stat: response.stat };
    return (watch?.promise === undefined ? result : { ...result, watch: watch.promise }) as ChildrenResult &
      WatchResult<O>;
  }

  /** How many nodes lie below `path` (all descendants, not only children). */
  async getAllChildrenNumber(path: string, options: SignalOptions = {}): Promise<number> {
    checkPath(path);
    const body = { path: this.chroot.toServer(path) };
    return (
      (await this.submit(SPEC.getAllChildrenNumber, body, path, options.signal)) as { totalNumber: number }
    ).totalNumber;
  }

  /** This session's ephemeral nodes whose path starts with `prefix` (a plain string prefix). */
  async getEphemerals(prefix = '/', options: SignalOptions = {}): Promise<string[]> {
    checkPath(prefix);
    const body = { prefixPath: this.chroot.toServer(prefix) };
    const response = (await this.submit(SPEC.getEphemerals, body, prefix, options.signal)) as {
      ephemerals: string[];
    };
    return response.ephemerals.map((p) => this.chroot.toClient(p));
  }

  /** Waits until the server this client talks to has caught up with the leader. */
  async sync(path = '/', options: SignalOptions = {}): Promise<void> {
    checkPath(path);
    await this.submit(SPEC.sync, { path: this.chroot.toServer(path) }, path, options.signal);
  }

  /**
   * Applies the ops atomically. On failure it rejects with the failing op's KeeperError, whose
   * `multiOpIndex` and `multiResults` say which op failed and what each op reported.
   */
  async multi<const T extends readonly MultiOperation[]>(
    ops: T,
    options: SignalOptions = {},
  ): Promise<ResultsOf<T>> {
    const wireOps = this.checkOps(ops, ['create', 'delete', 'setData', 'check']);
    if (wireOps.length === 0) return [] as unknown as ResultsOf<T>;
    const response = (await this.submit(
      SPEC.multi,
      { ops: wireOps },
      undefined,
      options.signal,
    )) as MultiResponse;
    const failed = response.results.findIndex((r) => r.type === -1 && r.err !== 0);
    if (failed >= 0) {
      const code = (response.results[failed] as { err: number }).err;
      const error = KeeperError.from(code, { path: ops[failed]?.path });
      error.multiOpIndex = failed;
      error.multiResults = response.results.map((r) => ({ type: 'error', code: r.type === -1 ? r.err : 0 }));
      throw error;
    }
    return response.results.map((r) => toOpResult(r, this.chroot)) as unknown as ResultsOf<T>;
  }

  /** Runs reads in one round trip; each op succeeds or fails on its own (not atomic). */
  async multiRead<const T extends readonly ReadOperation[]>(
    ops: T,
    options: SignalOptions = {},
  ): Promise<ResultsOf<T>> {
    const wireOps = this.checkOps(ops, ['getData', 'getChildren']);
    if (wireOps.length === 0) return [] as unknown as ResultsOf<T>;
    const response = (await this.submit(
      SPEC.multiRead,
      { ops: wireOps },
      undefined,
      options.signal,
    )) as MultiResponse;
    return response.results.map((r, i) => {
      const result = toOpResult(r, this.chroot);
      if (result.op !== 'error') return result;
      return { op: 'error', error: KeeperError.from(result.error.code, { path: ops[i]?.path }) };
    }) as unknown as ResultsOf<T>;
  }

  /**
   * Adds a persistent (or persistent-recursive) watch. Iterate the result for events; `stop()`
   * (or disposing it, or leaving the loop) removes it locally and, if no other listener of the
   * same mode waits on the path, on the server.
   */
  async addWatch(path: string, options: AddWatchOptions = {}): Promise<PersistentWatch> {
    checkPath(path);
    const mode = options.mode ?? 'persistent';
    if (mode !== 'persistent' && mode !== 'persistentRecursive') {
      throw new InvalidArgumentError(`unknown addWatch mode ${JSON.stringify(mode)}`);
    }
    this.checkWatchRoom();
    const wireMode = mode === 'persistent' ? AddWatchMode.PERSISTENT : AddWatchMode.PERSISTENT_RECURSIVE;
    let watch: PersistentWatch | undefined;
    const channel = new Channel<WatchedEvent>(this.options.eventsQueuedMax, () => void watch?.stop());
    const listener: WatchListener = {
      onEvent: (event) => {
        if (options.listener) options.listener(event);
        else channel.push(event);
        if (event.type === 'persistentWatchRemoved') channel.end();
      },
      onEnd: (error) => channel.end(error instanceof ClientClosedError ? undefined : error),
      callback: options.listener,
    };
    const body = { path: this.chroot.toServer(path), mode: wireMode };
    await this.submit(SPEC.addWatch, body, path, options.signal, (code) => {
      if (code === 0) this.watches.add(mode, path, listener);
    });
    watch = new PersistentWatch(path, mode, channel, async () => {
      channel.end();
      const last = this.watches.remove(mode, path, listener);
      if (!last || this.terminalError !== undefined || this.closeRequested) return;
      await this.removeServerWatches(path, mode, undefined).catch(
        () => undefined, // gone already, or the connection is down and it will not be re-registered
      );
    });
    return watch;
  }

  /**
   * Removes this session's watches of `type` on `path`, on the server and locally; listeners get a
   * *WatchRemoved event. With `listener` (a function given as `watch` or as addWatch's listener),
   * only that one is removed, as Java's removeWatches with a Watcher: NoWatcherError if it is not
   * registered; the server's watch stays while other listeners of the type still need it (it is
   * only checked, as Java does), and goes with the last one. With `local`, local listeners are
   * removed even if the server cannot be told.
   */
  async removeWatches(
    path: string,
    type: WatcherTypeName,
    options: SignalOptions & { local?: boolean; listener?: (event: WatchedEvent) => void } = {},
  ): Promise<void> {
    checkPath(path);
    const typeCode = watcherTypeCode(type);
    const listener = options.listener;
    if (listener !== undefined && this.watches.countLocal(path, type, listener) === 0) {
      throw KeeperError.from(ErrorCode.NO_WATCHER, { path });
    }
    const othersNeedIt =
      listener !== undefined &&
      this.watches.countLocal(path, type) > this.watches.countLocal(path, type, listener);
    try {
      if (!othersNeedIt) await this.removeServerWatches(path, type, options.signal);
      else if (type !== 'persistent' && type !== 'persistentRecursive') {
        // Apache 3.8 cannot check the persistent types (MarshallingError); the others are checked.
        const body = { path: this.chroot.toServer(path), type: typeCode };
        await this.submit(SPEC.checkWatches, body, path, options.signal);
      }
    } catch (error) {
      if (!options.local) throw error;
    }
    this.watches.removeLocal(path, type, listener);
  }

  /**
   * Sends removeWatches. Apache 3.8 answers the persistent types with MarshallingError (only 3.9
   * knows them); then, if no other kind of watch waits on the path locally, type Any removes it.
   */
  private async removeServerWatches(path: string, type: WatcherTypeName, signal: AbortSignal | undefined) {
    const serverPath = this.chroot.toServer(path);
    try {
      await this.submit(SPEC.removeWatches, { path: serverPath, type: watcherTypeCode(type) }, path, signal);
    } catch (error) {
      const persistent = type === 'persistent' || type === 'persistentRecursive';
      const old = error instanceof KeeperError && error.code === ErrorCode.MARSHALLING_ERROR;
      if (!persistent || !old) throw error;
      const others = (
        ['data', 'children', type === 'persistent' ? 'persistentRecursive' : 'persistent'] as const
      ).some((kind) => this.watches.hasLocal(path, kind));
      if (others) return; // leave it: its events find no listener, and a reconnect forgets it
      await this.submit(SPEC.removeWatches, { path: serverPath, type: WatcherType.ANY }, path, signal);
    }
  }

  /** Resolves if the server holds a watch of `type` on `path` for this session; NoWatcherError if not. */
  async checkWatches(path: string, type: WatcherTypeName, options: SignalOptions = {}): Promise<void> {
    checkPath(path);
    const body = { path: this.chroot.toServer(path), type: watcherTypeCode(type) };
    await this.submit(SPEC.checkWatches, body, path, options.signal);
  }

  /**
   * Adds credentials to the session (e.g. 'digest', 'user:password'); they are re-sent after every
   * reconnect. A refused credential ends the session with AuthFailedError, as in Java.
   */
  async addAuth(scheme: string, auth: Data, options: SignalOptions = {}): Promise<void> {
    if (typeof scheme !== 'string' || scheme === '')
      throw new InvalidArgumentError('scheme must be a non-empty string');
    const authBytes = toBuffer(auth) ?? Buffer.alloc(0);
    options.signal?.throwIfAborted();
    this.checkUsable();
    const frame = encodeFrame(
      part(RequestHeader, { xid: Xid.AUTH, type: OpCode.auth }),
      part(AuthPacket, { type: 0, scheme, auth: authBytes }),
    );
    if (frame.length - 4 > this.options.frameBytesMax)
      throw new InvalidArgumentError('auth data is over frameBytesMax');
    let entry = this.auths.find((a) => a.scheme === scheme && a.auth.equals(authBytes));
    if (entry === undefined) {
      entry = { scheme, auth: authBytes, frame, waiters: [] };
      this.auths.push(entry);
    }
    const done = new Promise<void>((resolve, reject) => entry.waiters.push({ resolve, reject }));
    // Sent now when connected; otherwise the next connection's priming sends it.
    if (this.connection !== undefined && this.primed) this.sendAuth(this.connection, entry);
    await abortable(done, options.signal);
  }

  /** The identities the server associates with this session. */
  async whoAmI(options: SignalOptions = {}): Promise<ClientInfo[]> {
    return ((await this.submit(SPEC.whoAmI, {}, undefined, options.signal)) as { clientInfo: ClientInfo[] })
      .clientInfo;
  }

  /** The ensemble configuration (getData of /zookeeper/config, never under the chroot). */
  async getConfig<O extends WatchOptions>(options?: O): Promise<DataResult & WatchResult<O>> {
    const watch = this.prepareWatch(options?.watch);
    const body = { path: CONFIG_PATH, watch: watch !== undefined };
    const response = (await this.submit(SPEC.getData, body, CONFIG_PATH, options?.signal, (code) => {
      if (watch !== undefined && code === 0) this.watches.add('data', CONFIG_WATCH_KEY, watch.listener);
    })) as { data: Buffer | null; stat: Stat };
    const result = { data: response.data, stat: response.stat };
    return (watch?.promise === undefined ? result : { ...result, watch: watch.promise }) as DataResult &
      WatchResult<O>;
  }

  /** Changes the ensemble membership (needs reconfigEnabled and the right to write /zookeeper/config). */
  async reconfig(options: ReconfigOptions): Promise<DataResult> {
    const body = {
      joiningServers: options.joining ?? null,
      leavingServers: options.leaving ?? null,
      newMembers: options.newMembers ?? null,
      curConfigId: options.fromConfig ?? -1n,
    };
    const response = (await this.submit(SPEC.reconfig, body, CONFIG_PATH, options.signal)) as {
      data: Buffer | null;
      stat: Stat;
    };
    return { data: response.data, stat: response.stat };
  }

  // ----- requests -----

  private checkOps(ops: readonly (MultiOperation | ReadOperation)[], allowed: string[]) {
    if (!Array.isArray(ops)) throw new InvalidArgumentError('ops must be an array');
    return ops.map((operation, i) => {
      if (operation === null || typeof operation !== 'object' || !allowed.includes(operation.op)) {
        throw new InvalidArgumentError(`op ${i} is not one of ${allowed.join(', ')}: build ops with op.*()`);
      }
      return toServerOp(operation, this.chroot);
    });
  }

  private checkUsable(): void {
    if (this.terminalError !== undefined) throw this.terminalError;
    if (this.closeRequested) throw new ClientClosedError('the client is closing');
    if (!this.started) throw new ClosedError('the client is not connected: call connect() first');
  }

  private checkWatchRoom(): void {
    if (this.watches.size >= this.options.watchesMax) {
      throw new InvalidArgumentError(
        `this client already holds ${this.options.watchesMax} watches (watchesMax)`,
      );
    }
  }

  /** A one-shot watch's listener and, for `watch: true`, the promise handed to the caller. */
  private prepareWatch(
    option: WatchOption | undefined,
  ): { listener: WatchListener; promise: Promise<WatchedEvent> | undefined } | undefined {
    if (option === undefined || option === false) return undefined;
    this.checkWatchRoom();
    if (typeof option === 'function') {
      return { listener: { onEvent: option, onEnd: () => undefined, callback: option }, promise: undefined };
    }
    let listener!: WatchListener;
    const promise = new Promise<WatchedEvent>((resolve, reject) => {
      listener = { onEvent: resolve, onEnd: reject };
    });
    promise.catch(() => undefined); // a watch nobody awaits must not become an unhandled rejection
    return { listener, promise };
  }

  /**
   * Sends one request (now, or once a connection has room) and resolves with its reply body.
   * `onReply` runs synchronously with the reply's error code, before any later event is read, so a
   * watch it registers cannot miss the notification that follows the reply.
   */
  private submit(
    spec: OpSpec,
    body: unknown,
    path: string | undefined,
    signal: AbortSignal | undefined,
    onReply?: (code: number) => void,
  ): Promise<unknown> {
    signal?.throwIfAborted();
    this.checkUsable();
    const frame = encodeFrame(part(RequestHeader, { xid: 0, type: spec.code }), part(spec.request!, body));
    const limit = this.options.frameBytesMax;
    if (frame.length - 4 > limit) {
      throw new InvalidArgumentError(
        `${spec.name} request of ${frame.length - 4} bytes is over frameBytesMax (${limit})`,
      );
    }
    const observed = observeRequest(spec.name); // undefined unless an observer times requests
    const request = new ClientRequest(this.requestOwner, spec, frame, path, signal, onReply, observed);
    const settled = new Promise<unknown>((resolve, reject) => {
      request.resolve = resolve;
      request.reject = reject;
    });
    if (signal !== undefined) {
      request.onAbort = () => request.abort();
      signal.addEventListener('abort', request.onAbort, { once: true });
    }
    if (
      this.connection !== undefined &&
      this.primed &&
      this.waitingCount === 0 &&
      this.connection.hasCapacity
    ) {
      request.sent = true;
      this.connection.send(request);
    } else if (this.waitingCount >= this.options.waitingRequestsMax) {
      request.fail(new Error(`${this.options.waitingRequestsMax} requests are already waiting`), false);
    } else {
      this.waiting.push(request);
    }
    return settled;
  }

  private requestError(error: Error, indeterminate: boolean, path: string | undefined): Error {
    if (error instanceof KeeperError && error.code !== ErrorCode.CONNECTION_LOSS) return error;
    if (error instanceof ClosedError) return error;
    const cause = error instanceof KeeperError && error.cause !== undefined ? error.cause : error;
    return connectionLoss(indeterminate, { path, cause });
  }

  private get waitingCount(): number {
    return this.waiting.length - this.waitingHead;
  }

  private removeWaiting(request: ClientRequest): void {
    const index = this.waiting.indexOf(request, this.waitingHead);
    if (index >= 0) this.waiting.splice(index, 1);
  }

  /** Sends waiting requests while the connection has room. */
  private drain(): void {
    const connection = this.connection;
    if (connection === undefined || !this.primed) return;
    while (this.waitingHead < this.waiting.length && connection.hasCapacity) {
      const request = this.waiting[this.waitingHead++];
      if (request.settled) continue;
      request.sent = true;
      connection.send(request);
    }
    if (this.waitingHead === this.waiting.length) {
      this.waiting = [];
      this.waitingHead = 0;
    } else if (this.waitingHead > 1024 && this.waitingHead * 2 > this.waiting.length) {
      // A backlog that never empties must not keep every request it ever held.
      this.waiting.splice(0, this.waitingHead);
      this.waitingHead = 0;
    }
  }

  private failWaiting(error: Error): void {
    const waiting = this.waiting.slice(this.waitingHead);
    this.waiting = [];
    this.waitingHead = 0;
    for (const request of waiting) request.fail(error, false);
  }

  // ----- the shell around the session machine -----

  private input(input: SessionInput): void {
    this.inputs.push(input);
    if (this.stepping) return;
    this.stepping = true;
    try {
      for (let next = this.inputs.shift(); next !== undefined; next = this.inputs.shift()) {
        for (const action of this.machine.step(next)) this.perform(action);
      }
    } finally {
      this.stepping = false;
    }
  }

  private perform(action: SessionAction): void {
    switch (action.type) {
      case 'connect':
        this.openConnection(action);
        break;
      case 'disconnect':
        if (this.connectionAttempt === action.attempt && this.connection !== undefined) {
          const connection = this.connection;
          this.connection = undefined;
          this.primed = false;
          connection.close(action.error);
        }
        break;
      case 'established':
        this.prime(action.attempt);
        break;
      case 'failWaiting':
        this.failWaiting(action.error);
        break;
      case 'state':
        this.publishState(action.state);
        break;
      case 'timer':
        this.armTimer(action.atMs);
        break;
      case 'probe':
        this.probe(action.hostIndex, action.host);
        break;
      case 'terminate':
        this.terminate(action.error);
        break;
    }
  }

  private openConnection(action: Extract<SessionAction, { type: 'connect' }>): void {
    const attempt = action.attempt;
    this.primed = false;
    const { connection, handshake } = Connection.open(
      {
        host: action.host,
        connectRequest: {
          protocolVersion: PROTOCOL_VERSION,
          lastZxidSeen: this.lastZxid,
          timeOut: this.options.sessionTimeoutMs,
          sessionId: action.sessionId,
          passwd: action.password,
          readOnly: action.readOnly,
        },
        connectTimeoutMs: this.options.connectTimeoutMs,
        frameBytesMax: this.options.frameBytesMax,
        outstandingMax: this.options.outstandingRequestsMax,
        requestTimeoutMs: this.options.requestTimeoutMs,
        clock: this.clock,
        transport: this.transport,
      },
      {
        onNotification: (event) => this.onNotification(event),
        onZxid: (zxid) => {
          if (zxid > this.lastZxid) this.lastZxid = zxid;
        },
        onClose: (error) => {
          if (this.connection === connection) {
            this.connection = undefined;
            this.primed = false;
          }
          if (this.closingSession) return;
          this.input({
            type: 'connectionLost',
            nowMs: this.clock.nowMs(),
            attempt,
            lastHeardMs: connection.lastReceivedMs,
            error,
          });
        },
      },
    );
    this.connection = connection;
    this.connectionAttempt = attempt;
    handshake.then(
      (response: ConnectResponse) => {
        // A refusal (timeout 0: the session is gone) counts even when the server hung up at once.
        if (connection.isClosed && response.timeOut > 0) {
          this.input({
            type: 'connectFailed',
            nowMs: this.clock.nowMs(),
            attempt,
            error: connectionLoss(false),
          });
          return;
        }
        this.input({
          type: 'connected',
          nowMs: this.clock.nowMs(),
          attempt,
          timeoutMs: response.timeOut,
          sessionId: response.sessionId,
          password: response.passwd ?? Buffer.alloc(16),
          readOnly: response.readOnly ?? false,
        });
      },
      (error: Error) => {
        if (this.connection === connection) this.connection = undefined;
        this.input({ type: 'connectFailed', nowMs: this.clock.nowMs(), attempt, error });
      },
    );
  }

  /** Re-sends auth, then re-registers every watch, then lets waiting requests go. */
  private prime(attempt: number): void {
    const connection = this.connection;
    if (connection === undefined || this.connectionAttempt !== attempt) return;
    for (const entry of this.auths) this.sendAuth(connection, entry);
    const batches = this.watches.setWatchesRequests(this.lastZxid, (p) =>
      p === CONFIG_WATCH_KEY ? CONFIG_PATH : this.chroot.toServer(p),
    );
    for (const batch of batches) {
      const spec = batch.persistent ? SPEC.setWatches2 : SPEC.setWatches;
      const frame = encodeFrame(
        part(RequestHeader, { xid: 0, type: spec.code }),
        part(spec.request!, batch.body),
      );
      const ignore = () => undefined;
      connection.send({ frame, response: null, complete: ignore, fail: ignore, unreadable: ignore });
    }
    this.primed = true;
    this.drain();
  }

  private sendAuth(connection: Connection, entry: AuthEntry): void {
    connection.sendAuth(entry.frame, (error, code) => {
      if (error !== undefined) return; // the connection closed: sent again on the next one
      if (code === 0) {
        for (const waiter of entry.waiters.splice(0)) waiter.resolve();
        return;
      }
      const failure = KeeperError.from(code);
      const index = this.auths.indexOf(entry);
      if (index >= 0) this.auths.splice(index, 1);
      for (const waiter of entry.waiters.splice(0)) waiter.reject(failure);
      if (code === ErrorCode.AUTH_FAILED)
        this.input({ type: 'authFailed', nowMs: this.clock.nowMs(), error: failure });
    });
  }

  private onNotification(event: WatcherEvent): void {
    // As Java's client: a path under the chroot is the user's; the config node lies outside it
    // (unless there is no chroot, when both are the same node).
    const underChroot = this.chroot.contains(event.path);
    if (underChroot) this.watches.dispatch(event.type, this.chroot.toClient(event.path));
    if (event.path === CONFIG_PATH) this.watches.dispatch(event.type, CONFIG_WATCH_KEY, CONFIG_PATH);
  }

  private publishState(state: ConnectionState): void {
    observeClientState(this, state.type);
    if (state.type === 'connected' || state.type === 'connectedReadOnly') {
      for (const waiter of this.connectWaiters.splice(0)) waiter.resolve();
    }
    for (const listener of this.stateListeners) {
      try {
        listener(state);
      } catch (error) {
        this.onListenerError(error);
      }
    }
    for (const channel of this.stateChannels) channel.push(state);
    if (state.type === 'closed') {
      for (const channel of this.stateChannels) channel.end();
      this.stateChannels.clear();
    }
  }

  private armTimer(atMs: number | undefined): void {
    if (this.timer !== undefined) this.clock.clearTimer(this.timer);
    this.timer = undefined;
    if (atMs === undefined) return;
    const delayMs = Math.max(1, Math.ceil(atMs - this.clock.nowMs()));
    this.timer = this.clock.setTimer(() => {
      this.timer = undefined;
      this.input({ type: 'timer', nowMs: this.clock.nowMs() });
    }, delayMs);
  }

  private probe(hostIndex: number, host: HostAddress): void {
    const handle = probeReadWrite(host, DEFAULTS.probeTimeoutMs);
    this.probes.add(handle);
    handle.result.then((readWrite) => {
      this.probes.delete(handle);
      if (readWrite) this.input({ type: 'readWriteServerFound', nowMs: this.clock.nowMs(), hostIndex });
    });
  }

  private terminate(error: Error): void {
    this.terminalError = error;
    this.armTimer(undefined);
    for (const probe of this.probes) probe.cancel();
    this.probes.clear();
    const connection = this.connection;
    this.connection = undefined;
    this.primed = false;
    connection?.close(error);
    this.failWaiting(error);
    for (const entry of this.auths) for (const waiter of entry.waiters.splice(0)) waiter.reject(error);
    for (const waiter of this.connectWaiters.splice(0)) waiter.reject(error);
    this.watches.endAll(error);
    this.resolveClosed(error instanceof ClientClosedError ? this.closeReason : error);
  }

  private async closeOnce(): Promise<void> {
    if (this.machine.terminated) return;
    const connection = this.connection;
    if (connection !== undefined && this.primed && this.isConnected) {
      // Tell the server, so the session's ephemerals go now rather than at expiry.
      this.closingSession = true;
      const timeout = new AbortController();
      const timer = this.clock.setTimer(() => timeout.abort(), DEFAULTS.closeSessionTimeoutMs);
      const request = this.submit(SPEC.closeSession, {}, undefined, timeout.signal);
      this.closeRequested = true;
      await request.catch(() => undefined);
      this.clock.clearTimer(timer);
    }
    this.closeRequested = true;
    this.input({ type: 'close', nowMs: this.clock.nowMs() });
  }
}

/** A persistent or persistent-recursive watch: iterate it for events; stop or dispose it to end it. */
export class PersistentWatch implements AsyncIterable<WatchedEvent>, AsyncDisposable {
  private stopping: Promise<void> | undefined;

  constructor(
    readonly path: string,
    readonly mode: 'persistent' | 'persistentRecursive',
    private readonly channel: Channel<WatchedEvent>,
    private readonly stopOnce: () => Promise<void>,
  ) {}

  [Symbol.asyncIterator](): AsyncIterator<WatchedEvent> {
    return this.channel[Symbol.asyncIterator]();
  }

  /** Removes the watch (locally, and on the server when it was the last of its mode there). */
  stop(): Promise<void> {
    this.stopping ??= this.stopOnce();
    return this.stopping;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }
}

function watcherTypeCode(type: WatcherTypeName): number {
  switch (type) {
    case 'children':
      return WatcherType.CHILDREN;
    case 'data':
      return WatcherType.DATA;
    case 'any':
      return WatcherType.ANY;
    case 'persistent':
      return WatcherType.PERSISTENT;
    case 'persistentRecursive':
      return WatcherType.PERSISTENT_RECURSIVE;
    default:
      throw new InvalidArgumentError(`unknown watcher type ${JSON.stringify(type)}`);
  }
}

function nonNegativeInteger(value: number, name: string): number {
  if (!Number.isInteger(value) || value < 0) {
    throw new InvalidArgumentError(`${name} must be a non-negative integer, got ${value}`);
  }
  return value;
}

function positiveInteger(value: number, name: string): number {
  if (!Number.isInteger(value) || value <= 0)
    throw new InvalidArgumentError(`${name} must be a positive integer, got ${value}`);
  return value;
}

function abortable<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (signal === undefined) return promise;
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}
