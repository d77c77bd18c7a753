// The framework users and recipes hold: every operation with an options object, run inside the one
// retry loop, under an optional namespace; protected creates, guaranteed deletes, create-parents,
// ensurePath and transactions; connection states as a listener and an async iterable. A Framework
// is a view over a shared core: `usingNamespace` and `withWatcherRemoval` give more views over the
// same session.
//
//   await using zk = createFramework({ connectString: 'localhost:2181', namespace: 'app' });
//   await zk.blockUntilConnected();
//   const { path } = await zk.create('/locks/job/lock-', {
//     mode: 'EPHEMERAL_SEQUENTIAL', protected: true, createParents: true, parentsAsContainers: true,
//   });
//   zk.onConnectionStateChange(({ state }) => { if (isErrorState(state)) stopWork(); });
//   await zk.delete(path, { guaranteed: true });

import {
  Acls,
  ClientClosedError,
  isIndeterminate,
  type Data,
  ZooKeeperClient,
  type PersistentWatch,
  type WatchedEvent,
  type ZooKeeperClientOptions,
} from '../client/index.js';
import {
  ErrorCode,
  InvalidArgumentError,
  KeeperError,
  CreateMode,
  createModeTraits,
  joinPath,
  operations,
  parentPath,
  type ACL,
  type CreateModeFlag,
  type CreateModeName,
  type CreateModeTraits,
  type OpName,
  type Stat,
} from '../protocol/index.js';
import { raceAbort, realClock, sleep, type FrameworkClock } from './abort.js';
import {
  isConnectedState,
  type ConnectionErrorPolicy,
  type ConnectionStateChange,
  type ConnectionStateName,
} from './connection-state.js';
import { FrameworkCore, type FrameworkClientOptions } from './core.js';
import { hasCode, isRetryable } from './errors.js';
import type { GuaranteedDeleteOutcome } from './guaranteed-delete.js';
import { Namespace } from './namespace.js';
import { findProtectedChild, newProtectionId, protectedPath } from './protected-name.js';
import { retryLoop, type AttemptContext, type Resolution, type Resolver } from './retry-loop.js';
import { defaultRetryPolicy, type RetryPolicy } from './retry-policy.js';
import {
  toClientOp,
  toTransactionResult,
  type TransactionOp,
  type TransactionResults,
} from './transaction.js';
import { WatchScope, type WatchHandle, type WatchKind } from './watch-registry.js';

export interface FrameworkOptions {
  /** "host:port,host:port/optional/chroot". */
  connectString: string;
  /** Requested session timeout; the server clamps it. Default 60 000 (Curator's). */
  sessionTimeoutMs?: number;
  /** How long one attempt of an operation waits for a connection. Default 15 000 (Curator's). */
  connectionTimeoutMs?: number;
  /** Default: exponential backoff from 1 s, 3 retries. */
  retry?: RetryPolicy;
  /** Every path of this framework lives under this node ("app" or "/app"); made on first use. */
  namespace?: string;
  /** Credentials added to every session, e.g. `[{ scheme: 'digest', auth: 'user:password' }]`. */
  authorization?: ReadonlyArray<{ scheme: string; auth: Data }>;
  /** Accept read-only servers (READ_ONLY state) while the ensemble has no quorum. */
  canBeReadOnly?: boolean;
  /** The ACL of nodes created without one. Default: OPEN_ACL_UNSAFE. */
  defaultAcl?: readonly ACL[];
  /** Which connection states recipes built on this framework treat as errors. Default 'standard'. */
  connectionErrorPolicy?: ConnectionErrorPolicy;
  /** Options for the ZooKeeperClient of each session (limits, reconnect delay, timeouts). */
  client?: FrameworkClientOptions;
  /** Where errors thrown by state, watch and delete listeners go. */
  onListenerError?: (error: unknown) => void;
  /** Randomness for retry jitter and host order; Math.random by default. */
  random?: () => number;
  /** State changes an iterator buffers for a slow reader. Default 10 000. */
  eventsQueuedMax?: number;
  /** The framework's time and timers; a test kit passes a virtual clock. Default: real time. */
  clock?: FrameworkClock;
  /** Makes the client of each session; a test kit may pass one on an in-process transport. */
  clientFactory?: (options: ZooKeeperClientOptions) => ZooKeeperClient;
}

export interface SignalOptions {
  signal?: AbortSignal;
}

/** A one-shot watch: `true` for a promise of the event, or a callback. */
export type WatchOption = true | ((event: WatchedEvent) => void);

export interface WatchOptions extends SignalOptions {
  watch?: WatchOption;
}

/** The one-shot watch listener a read hands to the client. */
type Listener = ((event: WatchedEvent) => void) | undefined;

type WithWatch<O, R> = O extends { watch: true } ? R & { watch: Promise<WatchedEvent> } : R;

export interface CreateOptions extends SignalOptions {
  /** A CreateMode name or flag; PERSISTENT by default. */
  mode?: CreateModeName | CreateModeFlag;
  data?: Data | null;
  acl?: readonly ACL[];
  /** For the *_WITH_TTL modes. */
  ttlMs?: number;
  /** Create missing parents (persistent, or containers with `parentsAsContainers`). */
  createParents?: boolean;
  /** Create missing parents as CONTAINER nodes, removed by the server once empty (implies createParents). */
  parentsAsContainers?: boolean;
  /**
   * Prefix the node's name with `_c_<uuid>-` so that, if the reply is lost, the node is found
   * again by that prefix instead of being created twice (use it for ephemeral-sequential nodes).
   */
  protected?: boolean;
  /** If the node already exists with the same data, succeed instead of failing with NodeExists. */
  idempotent?: boolean;
}

export interface CreateResult {
  readonly path: string;
  readonly stat: Stat | undefined;
}

export interface DeleteOptions extends SignalOptions {
  /** Expected version; -1 (the default) matches any. */
  version?: number;
  /** Delete the children first (recursively). */
  deleteChildren?: boolean;
  /** If the delete cannot finish now, keep retrying it in the background (see onGuaranteedDelete). */
  guaranteed?: boolean;
  /** A node that does not exist is not an error. */
  quietly?: boolean;
}

export interface DataResult {
  /** null for a node with null data; ZooKeeper keeps null and empty data apart. */
  readonly data: Buffer | null;
  readonly stat: Stat;
}

export interface ChildrenResult {
  readonly children: string[];
  readonly stat?: Stat;
}

const NOT_APPLIED: Resolution<never> = { applied: false };

/** Starts a framework: it connects in the background; `blockUntilConnected()` waits for it. */
export function createFramework(options: FrameworkOptions): Framework {
  if (options === null || typeof options !== 'object') throw new InvalidArgumentError('options are required');
  if (typeof options.connectString !== 'string') throw new InvalidArgumentError('connectString is required');
  const namespace = new Namespace(options.namespace);
  const core = new FrameworkCore({
    connectString: options.connectString,
    sessionTimeoutMs: options.sessionTimeoutMs ?? 60_000,
    connectionTimeoutMs: positive(options.connectionTimeoutMs ?? 15_000, 'connectionTimeoutMs'),
    retry: options.retry ?? defaultRetryPolicy(),
    authorization: options.authorization ?? [],
    canBeReadOnly: options.canBeReadOnly ?? false,
    defaultAcl: options.defaultAcl ?? Acls.OPEN_ACL_UNSAFE,
    client: options.client ?? {},
    onListenerError:
      options.onListenerError ??
      ((error) => process.emitWarning(`a framework listener threw: ${String(error)}`, 'FrameworkWarning')),
    random: options.random ?? Math.random,
    eventsQueuedMax: positive(options.eventsQueuedMax ?? 10_000, 'eventsQueuedMax'),
    connectionErrorPolicy: connectionErrorPolicy(options.connectionErrorPolicy),
    clock: options.clock ?? realClock,
    clientFactory: options.clientFactory ?? ((clientOptions) => new ZooKeeperClient(clientOptions)),
  });
  return new Framework(core, namespace, undefined);
}

export class Framework implements AsyncDisposable {
  /** @internal */
  constructor(
    protected readonly core: FrameworkCore,
    protected readonly ns: Namespace,
    protected readonly scope: WatchScope | undefined,
  ) {}

  // ----- views, lifecycle and state -----

  /** The namespace of this view ("" for none), without its leading slash, as Curator reports it. */
  get namespace(): string {
    return this.ns.name;
  }

  /** A view over the same session whose paths live under `namespace` ("" or null for none). */
  usingNamespace(namespace: string | null): Framework {
    return new Framework(this.core, new Namespace(namespace), this.scope);
  }

  /**
   * A view that remembers every watch set through it; `removeWatches()` (or disposing the view)
   * removes those that have not fired. Recipes use one and dispose it when they close.
   */
  withWatcherRemoval(): WatcherRemovingFramework {
    return new WatcherRemovingFramework(this.core, this.ns, new WatchScope(this.core.watches));
  }

  /** The connection-state error policy recipes should apply (see isErrorState). */
  get connectionErrorPolicy(): ConnectionErrorPolicy {
    return this.core.options.connectionErrorPolicy;
  }

  /** The client of the current session, for what the framework does not wrap. Changes after LOST. */
  get client(): ZooKeeperClient {
    return this.core.client;
  }

  get sessionId(): bigint {
    return this.core.client.sessionId;
  }

  /** The last published connection state (undefined before the first connection). */
  get connectionState(): ConnectionStateName | undefined {
    return this.core.machine.state;
  }

  get isConnected(): boolean {
    return this.core.client.isConnected && isConnectedState(this.core.machine.state);
  }

  /** Calls `listener` on every connection-state change; returns the function that unsubscribes it. */
  onConnectionStateChange(listener: (change: ConnectionStateChange) => void): () => void {
    return this.core.onStateChange(listener);
  }

  /** Connection-state changes from now on, as an async iterable; ends when the framework closes. */
  connectionStates(options: SignalOptions = {}): AsyncIterable<ConnectionStateChange> {
    return this.core.stateChanges(options.signal);
  }

  /** Resolves once connected; rejects with ConnectionLoss after `timeoutMs` (default connectionTimeoutMs). */
  blockUntilConnected(options: SignalOptions & { timeoutMs?: number } = {}): Promise<void> {
    return this.core.waitForConnection(options.signal, options.timeoutMs);
  }

  /** Listens to the outcomes of guaranteed deletes that went to the background. */
  onGuaranteedDelete(listener: (outcome: GuaranteedDeleteOutcome) => void): () => void {
    return this.core.deletes.onOutcome(listener);
  }

  /**
   * The outcome of the background delete of `path` (in this namespace) that a guaranteed delete
   * left pending, or undefined when none is pending.
   */
  guaranteedDeleteOf(path: string): Promise<GuaranteedDeleteOutcome> | undefined {
    return this.core.deletes.outcomeOf(this.ns.toServer(path));
  }

  /** Resolves when no guaranteed delete is pending in the background. */
  guaranteedDeletesSettled(): Promise<void> {
    return this.core.deletes.settled();
  }

  /** Server paths of guaranteed deletes still pending in the background. */
  get pendingGuaranteedDeletes(): string[] {
    return this.core.deletes.paths;
  }

  /** Resolves when the framework is closed: undefined after close(), else the error that ended it. */
  closed(): Promise<Error | undefined> {
    return this.core.closedPromise;
  }

  /** Closes the session and the framework (all views). Idempotent. */
  close(): Promise<void> {
    return this.core.close();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  // ----- writes -----

  /** Creates a node; returns its path (inside this namespace) and stat. */
  async create(path: string, options: CreateOptions = {}): Promise<CreateResult> {
    options.signal?.throwIfAborted();
    const traits = modeTraits(options.mode);
    if (options.idempotent && traits.sequential) {
      throw new InvalidArgumentError('idempotent creates cannot be sequential: use protected instead');
    }
    await this.ensureNamespace(options.signal);
    const protectionId = options.protected ? newProtectionId() : undefined;
    const named = protectionId === undefined ? path : protectedPath(path, protectionId);
    const serverPath = this.ns.toServer(named);
    let attemptSession = 0n;
    let maybeCreated = false;
    const attempt = async ({ signal }: AttemptContext): Promise<CreateResult> => {
      const client = this.core.client;
      attemptSession = client.sessionId;
      try {
        return await this.createOnce(client, serverPath, options, protectionId, signal);
      } catch (error) {
        if (isIndeterminate(error)) maybeCreated = true;
        throw error;
      }
    };
    const resolve =
      protectionId === undefined && traits.sequential
        ? undefined // nothing names the node we might have made: never retried after a lost reply
        : async (error: KeeperError): Promise<Resolution<CreateResult>> => {
            const client = this.core.client;
            if (client.sessionId !== attemptSession) throw sessionEnded(error);
            return protectionId === undefined
              ? this.resolveCreate(client, serverPath, options, traits, error)
              : this.resolveProtectedCreate(client, serverPath, protectionId, traits);
          };
    try {
      return await this.run('create', attempt, resolve, options.signal);
    } catch (error) {
      // A reply was lost and never resolved: the node may exist with nobody knowing its name.
      if (maybeCreated && protectionId !== undefined) {
        this.removeProtectedOrphan(parentPath(serverPath), protectionId);
      } else if (maybeCreated && traits.ephemeral && !traits.sequential) {
        this.removeOwnEphemeral(serverPath, attemptSession);
      }
      throw this.userError(error);
    }
  }

  /** Deletes a node; see DeleteOptions for children, background retries and missing nodes. */
  async delete(path: string, options: DeleteOptions = {}): Promise<void> {
    options.signal?.throwIfAborted();
    const version = options.version ?? -1;
    const serverPath = this.ns.toServer(path);
    const sessionAtStart = this.core.client.sessionId;
    const attempt = async ({ signal, afterIndeterminate }: AttemptContext): Promise<void> => {
      const client = this.core.client;
      try {
        if (options.deleteChildren) await deleteTree(client, serverPath, version, signal);
        else await client.delete(serverPath, { version, signal });
      } catch (error) {
        // After a lost reply, NoNode means our earlier attempt did it.
        if (hasCode(error, ErrorCode.NO_NODE) && (options.quietly || afterIndeterminate)) return;
        throw error;
      }
    };
    try {
      await this.ensureNamespace(options.signal);
      await this.run('delete', attempt, async () => NOT_APPLIED, options.signal);
    } catch (error) {
      // Connection trouble or a caller who stopped waiting: the node must still go.
      const unfinished = isRetryable(error) || options.signal?.aborted === true;
      if (options.guaranteed && unfinished && !this.core.closed) {
        void this.core.deletes.add(serverPath, path, version, sessionAtStart);
      }
      throw this.userError(error);
    }
  }

  /** Replaces a node's data; returns its new stat. */
  async setData(
    path: string,
    data: Data | null,
    options: SignalOptions & { version?: number } = {},
  ): Promise<Stat> {
    options.signal?.throwIfAborted();
    const version = options.version ?? -1;
    await this.ensureNamespace(options.signal);
    const serverPath = this.ns.toServer(path);
    const wanted = dataBuffer(data);
    const resolve = async (): Promise<Resolution<Stat>> => {
      const current = await this.core.client.getData(serverPath);
      const sameData = sameBytes(current.data, wanted);
      if (sameData && (version === -1 || current.stat.version > version)) {
        return { applied: true, value: current.stat };
      }
      return NOT_APPLIED; // a repeat is either what happened, or fails with BadVersion
    };
    try {
      return await this.run(
        'setData',
        ({ signal }) => this.core.client.setData(serverPath, data, { version, signal }),
        resolve,
        options.signal,
      );
    } catch (error) {
      throw this.userError(error);
    }
  }

  /** Replaces a node's ACL; `version` is the expected ACL version. */
  async setACL(
    path: string,
    acl: readonly ACL[],
    options: SignalOptions & { version?: number } = {},
  ): Promise<Stat> {
    options.signal?.throwIfAborted();
    const version = options.version ?? -1;
    await this.ensureNamespace(options.signal);
    const serverPath = this.ns.toServer(path);
    // Setting the same ACL twice without a version is harmless; with one, a repeat says BadVersion.
    const resolve = version === -1 ? async () => NOT_APPLIED : undefined;
    try {
      return await this.run(
        'setACL',
        ({ signal }) => this.core.client.setACL(serverPath, acl, { version, signal }),
        resolve,
        options.signal,
      );
    } catch (error) {
      throw this.userError(error);
    }
  }

  /** Creates every missing node of `path` (persistent, or containers), ignoring those that exist. */
  async ensurePath(path: string, options: SignalOptions & { asContainers?: boolean } = {}): Promise<void> {
    options.signal?.throwIfAborted();
    await this.ensureNamespace(options.signal);
    const serverPath = this.ns.toServer(path);
    try {
      await this.run(
        'create',
        ({ signal }) => this.makePath(this.core.client, serverPath, options.asContainers ?? false, signal),
        async () => NOT_APPLIED, // making a path again is harmless: existing nodes are skipped
        options.signal,
      );
    } catch (error) {
      throw this.userError(error);
    }
  }

  /**
   * Applies the ops atomically (ZooKeeper's multi); results are typed per position. A failure
   * rejects with the failing op's KeeperError (`multiOpIndex` says which). A transaction whose
   * reply was lost is not repeated: its error is marked indeterminate; include a `check` op and
   * read back if you need to know.
   */
  async transaction<const T extends readonly TransactionOp[]>(
    ops: T,
    options: SignalOptions = {},
  ): Promise<TransactionResults<T>> {
    options.signal?.throwIfAborted();
    if (!Array.isArray(ops)) throw new InvalidArgumentError('ops must be an array of txn.*() ops');
    const clientOps = ops.map((o) => toClientOp(o, this.ns, this.core.options.defaultAcl));
    await this.ensureNamespace(options.signal);
    try {
      const results = await this.run(
        'multi',
        ({ signal }) => this.core.client.multi(clientOps, { signal }),
        undefined,
        options.signal,
      );
      const typed = results.map((result, i) => toTransactionResult(ops[i], result, this.ns));
      return typed as TransactionResults<T>;
    } catch (error) {
      throw this.userError(error);
    }
  }

  // ----- reads -----

  /** The node's data and stat; with `watch`, a one-shot data watch. */
  async getData<O extends WatchOptions>(path: string, options?: O): Promise<WithWatch<O, DataResult>> {
    options?.signal?.throwIfAborted();
    await this.ensureNamespace(options?.signal);
    const serverPath = this.ns.toServer(path);
    const read = async (client: ZooKeeperClient, listener: Listener, signal: AbortSignal | undefined) => {
      const result = await client.getData(serverPath, { watch: listener, signal });
      return { data: result.data, stat: result.stat };
    };
    const result = this.watchedRead(path, serverPath, 'data', 'getData', options, read);
    return result as Promise<WithWatch<O, DataResult>>;
  }

  /** The node's stat, or null when absent; a watch then waits for its creation. */
  async exists<O extends WatchOptions>(
    path: string,
    options?: O,
  ): Promise<O extends { watch: true } ? { stat: Stat | null; watch: Promise<WatchedEvent> } : Stat | null> {
    options?.signal?.throwIfAborted();
    await this.ensureNamespace(options?.signal);
    const serverPath = this.ns.toServer(path);
    const read = async (client: ZooKeeperClient, listener: Listener, signal: AbortSignal | undefined) => ({
      stat: (await client.exists(serverPath, { watch: listener, signal })) as Stat | null,
    });
    const result = await this.watchedRead(path, serverPath, 'data', 'exists', options, read);
    return (options?.watch === true ? result : (result as { stat: Stat | null }).stat) as never;
  }

  /** The child names (unordered); with `withStat`, the parent's stat too. */
  async getChildren<O extends WatchOptions & { withStat?: boolean }>(
    path: string,
    options?: O,
  ): Promise<WithWatch<O, ChildrenResult>> {
    options?.signal?.throwIfAborted();
    await this.ensureNamespace(options?.signal);
    const serverPath = this.ns.toServer(path);
    const withStat = options?.withStat ?? false;
    const read = async (client: ZooKeeperClient, listener: Listener, signal: AbortSignal | undefined) => {
      const { children, stat } = await client.getChildren(serverPath, { watch: listener, withStat, signal });
      return stat === undefined ? { children } : { children, stat };
    };
    const result = this.watchedRead(path, serverPath, 'children', 'getChildren', options, read);
    return result as Promise<WithWatch<O, ChildrenResult>>;
  }

  async getACL(path: string, options: SignalOptions = {}): Promise<{ acl: ACL[]; stat: Stat }> {
    options.signal?.throwIfAborted();
    await this.ensureNamespace(options.signal);
    const serverPath = this.ns.toServer(path);
    try {
      const read = ({ signal }: AttemptContext) => this.core.client.getACL(serverPath, { signal });
      return await this.run('getACL', read, undefined, options.signal);
    } catch (error) {
      throw this.userError(error);
    }
  }

  /** Waits until the connected server has caught up with the leader (for `path`). */
  async sync(path = '/', options: SignalOptions = {}): Promise<void> {
    options.signal?.throwIfAborted();
    await this.ensureNamespace(options.signal);
    const serverPath = this.ns.toServer(path);
    try {
      const sync = ({ signal }: AttemptContext) => this.core.client.sync(serverPath, { signal });
      await this.run('sync', sync, undefined, options.signal);
    } catch (error) {
      throw this.userError(error);
    }
  }

  /**
   * Adds a persistent (or persistent-recursive) watch: iterate the result for events, with paths
   * inside this namespace, or pass `listener`. Stop it (or dispose it) to remove it.
   */
  async addWatch(
    path: string,
    options: SignalOptions & {
      mode?: 'persistent' | 'persistentRecursive';
      listener?: (event: WatchedEvent) => void;
    } = {},
  ): Promise<NamespacedPersistentWatch> {
    options.signal?.throwIfAborted();
    await this.ensureNamespace(options.signal);
    const serverPath = this.ns.toServer(path);
    const toUser = (event: WatchedEvent) => this.userEvent(event);
    const { listener } = options;
    const clientOptions = {
      mode: options.mode ?? 'persistent',
      ...(listener === undefined ? {} : { listener: (event: WatchedEvent) => listener(toUser(event)) }),
    };
    try {
      const watch = await this.run(
        'addWatch',
        ({ signal }) =>
          // Raced rather than passed down: a watch the server set after the caller gave up is stopped.
          raceAbort(this.core.client.addWatch(serverPath, clientOptions), signal, (late) => {
            if ('value' in late) void late.value.stop();
          }),
        undefined,
        options.signal,
      );
      const wrapped = new NamespacedPersistentWatch(path, watch, toUser);
      this.scope?.trackPersistent(wrapped);
      return wrapped;
    } catch (error) {
      throw this.userError(error);
    }
  }

  // ----- helpers -----

  /** Runs one operation in the retry loop with the traits of `name`. */
  protected run<T>(
    name: OpName,
    attempt: (context: AttemptContext) => Promise<T>,
    resolveIndeterminate: Resolver<T> | undefined,
    signal: AbortSignal | undefined,
  ): Promise<T> {
    if (this.core.closed) return Promise.reject(this.core.closedError());
    return retryLoop(attempt, {
      policy: this.core.options.retry,
      traits: operations[name].traits,
      signal,
      waitForConnection: (s) => this.core.waitForConnection(s),
      resolveIndeterminate,
      random: this.core.options.random,
      nowMs: () => this.core.options.clock.nowMs(),
      sleep: (ms, s) => sleep(ms, s, this.core.options.clock),
    }).catch((error: unknown) => {
      // The framework closed the client of a session it gave up on (LOST): for the caller, the
      // session expired; the framework itself goes on with a new one.
      if (error instanceof ClientClosedError && !this.core.closed) {
        throw KeeperError.from(ErrorCode.SESSION_EXPIRED, { cause: error });
      }
      throw error;
    });
  }

  /**
   * A read that may set a watch. The client call runs without the caller's signal and is raced
   * against it instead, so a watch the server set after the caller gave up is removed again.
   */
  private async watchedRead<R extends object>(
    path: string,
    serverPath: string,
    kind: WatchKind,
    name: OpName,
    options: WatchOptions | undefined,
    read: (
      client: ZooKeeperClient,
      listener: ((event: WatchedEvent) => void) | undefined,
      signal: AbortSignal | undefined,
    ) => Promise<R>,
  ): Promise<R & { watch?: Promise<WatchedEvent> }> {
    const option = options?.watch;
    if (option !== undefined && option !== true && typeof option !== 'function') {
      throw new InvalidArgumentError('watch must be true or a function');
    }
    const attempt = async ({ signal }: AttemptContext): Promise<R & { watch?: Promise<WatchedEvent> }> => {
      const client = this.core.client;
      if (option === undefined) return read(client, undefined, signal);
      const watch = this.newWatch(client, serverPath, kind, option);
      try {
        const result = await raceAbort(read(client, watch.handle.listener, undefined), signal, (late) => {
          if ('value' in late) void this.core.watches.remove(watch.handle, path);
          else watch.handle.end(late.error as Error);
        });
        this.scope?.track(watch.handle, path);
        return watch.promise === undefined ? result : { ...result, watch: watch.promise };
      } catch (error) {
        if (!signal?.aborted) watch.handle.end(error as Error);
        throw error;
      }
    };
    try {
      return await this.run(name, attempt, undefined, options?.signal);
    } catch (error) {
      throw this.userError(error);
    }
  }

  /** A registered one-shot watch whose events reach the user with namespace-stripped paths. */
  private newWatch(
    client: ZooKeeperClient,
    serverPath: string,
    kind: WatchKind,
    option: WatchOption,
  ): { handle: WatchHandle; promise: Promise<WatchedEvent> | undefined } {
    const toUser = (event: WatchedEvent) => this.userEvent(event);
    if (typeof option === 'function') {
      const handle = this.core.watches.add(client, serverPath, kind, (event) => {
        try {
          option(toUser(event));
        } catch (error) {
          this.core.options.onListenerError(error);
        }
      }, () => undefined);
      return { handle, promise: undefined };
    }
    let handle!: WatchHandle;
    const promise = new Promise<WatchedEvent>((resolve, reject) => {
      handle = this.core.watches.add(client, serverPath, kind, (event) => resolve(toUser(event)), reject);
    });
    promise.catch(() => undefined); // a watch nobody awaits must not become an unhandled rejection
    return { handle, promise };
  }

  /** One create attempt: makes missing parents when asked, and accepts an identical node when idempotent. */
  private async createOnce(
    client: ZooKeeperClient,
    serverPath: string,
    options: CreateOptions,
    protectionId: string | undefined,
    signal: AbortSignal | undefined,
  ): Promise<CreateResult> {
    const call = () =>
      raceAbort(
        client.create(serverPath, options.data ?? null, {
          mode: options.mode ?? CreateMode.PERSISTENT,
          acl: options.acl ?? this.core.options.defaultAcl,
          ...(options.ttlMs === undefined ? {} : { ttlMs: options.ttlMs }),
        }),
        signal,
        // The caller gave up: undo a create that happened anyway, so no node is left behind.
        (late) => {
          if ('value' in late) {
            const { path: created, stat } = late.value;
            void this.core.deletes.add(created, this.ns.toClient(created), stat.version, client.sessionId);
          }
          else if (protectionId !== undefined && isIndeterminate(late.error)) {
            this.removeProtectedOrphan(parentPath(serverPath), protectionId);
          }
        },
      );
    try {
      const created = await call().catch(async (error: unknown) => {
        const makeParents = options.createParents === true || options.parentsAsContainers === true;
        if (!(makeParents && hasCode(error, ErrorCode.NO_NODE))) throw error;
        await this.makePath(client, parentPath(serverPath), options.parentsAsContainers ?? false, signal);
        return call();
      });
      return { path: this.ns.toClient(created.path), stat: created.stat };
    } catch (error) {
      if (!(options.idempotent && hasCode(error, ErrorCode.NODE_EXISTS))) throw error;
      const existing = await client.getData(serverPath, { signal });
      if (!sameBytes(existing.data, dataBuffer(options.data))) throw error;
      return { path: this.ns.toClient(serverPath), stat: existing.stat };
    }
  }

  /** Was a plain (non-sequential) create whose reply was lost applied? Read the node back. */
  private async resolveCreate(
    client: ZooKeeperClient,
    serverPath: string,
    options: CreateOptions,
    traits: CreateModeTraits,
    lost: KeeperError,
  ): Promise<Resolution<CreateResult>> {
    let existing: { data: Buffer | null; stat: Stat };
    try {
      existing = await client.getData(serverPath);
    } catch (error) {
      if (hasCode(error, ErrorCode.NO_NODE)) return NOT_APPLIED;
      throw error;
    }
    const value = { path: this.ns.toClient(serverPath), stat: existing.stat };
    const ours = traits.ephemeral && existing.stat.ephemeralOwner === client.sessionId;
    const same = options.idempotent === true && sameBytes(existing.data, dataBuffer(options.data));
    if (ours || same) return { applied: true, value };
    // It exists, and nothing proves it is ours: report NodeExists, marked as possibly our own.
    const error = KeeperError.from(ErrorCode.NODE_EXISTS, { path: serverPath, cause: lost });
    error.indeterminate = !traits.ephemeral;
    throw error;
  }

  /** Was a protected create whose reply was lost applied? Look for our `_c_<uuid>-` child. */
  private async resolveProtectedCreate(
    client: ZooKeeperClient,
    serverPath: string,
    protectionId: string,
    traits: CreateModeTraits,
  ): Promise<Resolution<CreateResult>> {
    const parent = parentPath(serverPath);
    let children: string[];
    try {
      children = (await client.getChildren(parent)).children;
    } catch (error) {
      if (hasCode(error, ErrorCode.NO_NODE)) return NOT_APPLIED;
      throw error;
    }
    const found = findProtectedChild(children, protectionId);
    if (found === undefined) return NOT_APPLIED;
    const foundPath = joinPath(parent, found);
    const stat = await client.exists(foundPath);
    if (stat === null) return NOT_APPLIED;
    if (traits.ephemeral && stat.ephemeralOwner !== client.sessionId) return NOT_APPLIED; // another session's
    return { applied: true, value: { path: this.ns.toClient(foundPath), stat } };
  }

  /** In the background, finds a protected node whose create was given up on, and deletes it. */
  private removeProtectedOrphan(parentServerPath: string, protectionId: string): void {
    const core = this.core;
    void this.backgroundRead(async () => {
      const { children } = await core.client.getChildren(parentServerPath);
      const found = findProtectedChild(children, protectionId);
      if (found === undefined) return;
      const foundPath = joinPath(parentServerPath, found);
      await core.deletes.add(foundPath, this.ns.toClient(foundPath), -1, core.client.sessionId);
    });
  }

  /** In the background, deletes an ephemeral node whose create was given up on, if it is ours. */
  private removeOwnEphemeral(serverPath: string, sessionId: bigint): void {
    const core = this.core;
    void this.backgroundRead(async () => {
      const stat = await core.client.exists(serverPath);
      if (stat === null || stat.ephemeralOwner !== sessionId || core.client.sessionId !== sessionId) return;
      await core.deletes.add(serverPath, this.ns.toClient(serverPath), stat.version, sessionId);
    });
  }

  /** Runs cleanup reads in the retry loop, in the background; failures only mean nothing to clean. */
  private async backgroundRead(read: () => Promise<void>): Promise<void> {
    if (this.core.closed) return;
    await retryLoop(read, {
      policy: this.core.options.retry,
      traits: operations.getChildren.traits,
      waitForConnection: (s) => this.core.waitForConnection(s),
      random: this.core.options.random,
      nowMs: () => this.core.options.clock.nowMs(),
      sleep: (ms, s) => sleep(ms, s, this.core.options.clock),
    }).catch(() => undefined);
  }

  /**
   * Creates the missing nodes of `serverPath`, from the top, skipping those that exist (checked
   * first, as Curator's ZKPaths.mkdirs does, so an existing parent we may not write is no error).
   */
  private async makePath(
    client: ZooKeeperClient,
    serverPath: string,
    asContainers: boolean,
    signal: AbortSignal | undefined,
  ): Promise<void> {
    if (serverPath === '/' || (await client.exists(serverPath, { signal })) !== null) return;
    const parts = serverPath.split('/').slice(1);
    let current = '';
    for (let i = 0; i < parts.length; i++) {
      current += `/${parts[i]}`;
      const last = i === parts.length - 1;
      if (!last && (await client.exists(current, { signal })) !== null) continue;
      try {
        await client.create(current, null, {
          mode: asContainers ? 'CONTAINER' : 'PERSISTENT',
          acl: this.core.options.defaultAcl,
          signal,
        });
      } catch (error) {
        if (!hasCode(error, ErrorCode.NODE_EXISTS)) throw error;
      }
    }
  }

  /** Makes the namespace node once per framework, as Curator does, before the first operation. */
  protected async ensureNamespace(signal: AbortSignal | undefined): Promise<void> {
    const prefix = this.ns.prefix;
    if (prefix === '') return;
    let ensured = this.core.namespacesEnsured.get(prefix);
    if (ensured === undefined) {
      ensured = this.run(
        'create',
        ({ signal: s }) => this.makePath(this.core.client, prefix, false, s),
        async () => NOT_APPLIED,
        undefined,
      );
      this.core.namespacesEnsured.set(prefix, ensured);
      ensured.catch(() => this.core.namespacesEnsured.delete(prefix));
    }
    await raceAbort(ensured, signal);
  }

  /** A watch event as this view names it: the path moved back out of the namespace. */
  private userEvent(event: WatchedEvent): WatchedEvent {
    return { type: event.type, path: this.ns.toClient(event.path) };
  }

  /** An error as this view names it: a KeeperError's path moved back out of the namespace. */
  private userError(error: unknown): unknown {
    if (this.ns.isRoot || !(error instanceof KeeperError) || error.path === undefined) return error;
    const path = this.ns.toClient(error.path);
    if (path === error.path) return error;
    const mapped = KeeperError.from(error.code, { path, cause: error });
    if (error.indeterminate !== undefined) mapped.indeterminate = error.indeterminate;
    if (error.multiOpIndex !== undefined) mapped.multiOpIndex = error.multiOpIndex;
    if (error.multiResults !== undefined) mapped.multiResults = error.multiResults;
    return mapped;
  }
}

/** A persistent watch whose events carry paths inside the namespace of the view that set it. */
export class NamespacedPersistentWatch implements AsyncIterable<WatchedEvent>, AsyncDisposable {
  constructor(
    /** The watched path, inside the namespace. */
    readonly path: string,
    private readonly watch: PersistentWatch,
    private readonly toUser: (event: WatchedEvent) => WatchedEvent,
  ) {}

  get mode(): 'persistent' | 'persistentRecursive' {
    return this.watch.mode;
  }

  [Symbol.asyncIterator](): AsyncIterator<WatchedEvent> {
    const inner = this.watch[Symbol.asyncIterator]();
    return {
      next: async () => {
        const result = await inner.next();
        return result.done ? result : { done: false, value: this.toUser(result.value) };
      },
      return: async () => inner.return?.() ?? { done: true, value: undefined },
    };
  }

  /** Removes the watch (on the server too, when no other listener of its mode needs it). */
  stop(): Promise<void> {
    return this.watch.stop();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }
}

/** A view that tracks the watches set through it, to remove them all when its recipe closes. */
export class WatcherRemovingFramework extends Framework {
  /** Removes every watch set through this view that has not fired yet. */
  async removeWatches(): Promise<void> {
    await this.scope!.removeAll();
  }

  /** Watches set through this view that have not fired or been removed. */
  get watchCount(): number {
    return this.scope!.size;
  }

  /** Disposing the view removes its watches; the framework itself stays open. */
  override async [Symbol.asyncDispose](): Promise<void> {
    await this.removeWatches();
  }
}

/** Deletes the children of `serverPath` (depth first), then the node itself with `version`. */
async function deleteTree(
  client: ZooKeeperClient,
  serverPath: string,
  version: number,
  signal: AbortSignal | undefined,
): Promise<void> {
  for (let round = 0; ; round++) {
    const { children } = await client.getChildren(serverPath, { signal });
    for (const child of children) {
      try {
        await deleteTree(client, joinPath(serverPath, child), -1, signal);
      } catch (error) {
        if (!hasCode(error, ErrorCode.NO_NODE)) throw error;
      }
    }
    try {
      await client.delete(serverPath, { version, signal });
      return;
    } catch (error) {
      // A child appeared meanwhile: go again, a bounded number of times.
      if (!hasCode(error, ErrorCode.NOT_EMPTY) || round >= 10) throw error;
    }
  }
}

function modeTraits(mode: CreateModeName | CreateModeFlag | undefined): CreateModeTraits {
  const flag = typeof mode === 'string' ? CreateMode[mode] : (mode ?? CreateMode.PERSISTENT);
  const traits = flag === undefined ? undefined : createModeTraits(flag);
  if (traits === undefined) throw new InvalidArgumentError(`unknown create mode ${JSON.stringify(mode)}`);
  return traits;
}

/** The bytes a write sends: null stays null (a node with null data), as the client sends it. */
function dataBuffer(data: Data | null | undefined): Buffer | null {
  if (data === undefined || data === null) return null;
  return typeof data === 'string' ? Buffer.from(data, 'utf8') : Buffer.from(data);
}

/** Equal node data: null matches only null, as ZooKeeper tells null from empty. */
function sameBytes(a: Buffer | null, b: Buffer | null): boolean {
  return a === null || b === null ? a === b : a.equals(b);
}

function sessionEnded(cause: KeeperError): KeeperError {
  return KeeperError.from(ErrorCode.SESSION_EXPIRED, { path: cause.path, cause });
}

function connectionErrorPolicy(policy: ConnectionErrorPolicy | undefined): ConnectionErrorPolicy {
  if (policy === undefined) return 'standard';
  if (policy !== 'standard' && policy !== 'sessionOnly') {
    const got = String(policy);
    throw new InvalidArgumentError(`connectionErrorPolicy must be 'standard' or 'sessionOnly', got ${got}`);
  }
  return policy;
}

function positive(value: number, name: string): number {
  if (!Number.isInteger(value) || value <= 0) {
    throw new InvalidArgumentError(`${name} must be a positive integer, got ${value}`);
  }
  return value;
}
