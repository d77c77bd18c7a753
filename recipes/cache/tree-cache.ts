// TreeCache: a local copy of a node and its subtree (Curator's CuratorCache), kept current from watch
// events, with events for every change: created, changed, deleted, then `initialized` once the first
// load is done. Built on one persistent recursive watch where the server has it (ZooKeeper 3.6+),
// falling back to one-shot data and child watches per node on older servers. NodeCache (depth 0) and
// ChildrenCache (depth 1) are the same cache with a depth limit.
//
//   await using cache = await startTreeCache(zk, '/config');
//   cache.get('/config/db')?.data;
//   for await (const event of cache.events({ signal })) console.log(event.type, event.path);
//
// Guarantees. Events are applied strictly in the order the server sent them, and each comes from a
// read of the node (a node deleted and re-created is a delete and a create, told apart by czxid).
// SUSPENDED: the cache keeps its last view and emits nothing; it may be stale. RECONNECTED: the
// whole tree is read again and compared with the cache, and the differences are emitted as events
// (a persistent watch does not replay what changed while the connection was down). Session loss:
// the same rebuild on the new session, with the watch set again. Long pauses: the cache is as stale
// as the pause is long, then catches up through the watch or the rebuild. Limits: `nodesMax` nodes.
import { setMaxListeners } from 'node:events';
import {
  ErrorCode,
  InvalidArgumentError,
  joinPath,
  observeCacheRebuild,
  pathProblem,
  type Framework,
  type NamespacedPersistentWatch,
  type Stat,
  type WatchedEvent,
  type WatcherRemovingFramework,
} from '../../src/index.js';
import {
  closeWithFramework,
  EventStream,
  EVENTS_QUEUED_MAX_DEFAULT,
  hasErrorCode,
  SerialTasks,
  waitFor,
} from './events.js';
import {
  applyNodeRead,
  diffSnapshots,
  type CacheEvent,
  type CacheSnapshot,
  type CachedNode,
} from './snapshot.js';

export type TreeCacheEvent = CacheEvent | { type: 'initialized' };

export interface TreeCacheOptions {
  /** How deep below the root to cache: 0 = the node only, 1 = its children too. Default unlimited. */
  maxDepth?: number;
  /** 'auto' (default): a persistent recursive watch, one-shot watches if the server lacks it. */
  watchMode?: 'auto' | 'persistentRecursive' | 'oneShot';
  /** Nodes cached at most; beyond it further nodes are left out and an error is reported. */
  nodesMax?: number;
  /** Events an iterator buffers for a slow reader. */
  eventsQueuedMax?: number;
  /** Where background read failures go; a warning by default. */
  onError?: (error: unknown) => void;
}

export const TREE_CACHE_NODES_MAX_DEFAULT = 100_000;
/** Paths whose reads a (re)build has in flight at once (two reads each: data and children). */
export const LOAD_PATHS_IN_FLIGHT_MAX = 500;

export class TreeCache implements AsyncDisposable {
  readonly #zk: WatcherRemovingFramework;
  readonly #options: TreeCacheOptions;
  readonly #maxDepth: number;
  readonly #nodesMax: number;
  readonly #tasks: SerialTasks;
  readonly #stream: EventStream<TreeCacheEvent>;
  readonly #closing = new AbortController();
  #snapshot: CacheSnapshot = new Map();
  #mode: 'persistentRecursive' | 'oneShot' | undefined;
  #watch: NamespacedPersistentWatch | undefined;
  #watchSession = 0n;
  #isInitialized = false;
  #started = false;
  #stale = false;
  #closed: Promise<void> | undefined;
  #stopStates: (() => void) | undefined;
  #overLimitReported = false;

  constructor(
    zk: Framework,
    readonly path: string,
    options: TreeCacheOptions = {},
  ) {
    const problem = pathProblem(path);
    if (problem !== undefined) throw new InvalidArgumentError(`bad cache path ${path}: ${problem}`);
    const maxDepth = options.maxDepth ?? Number.POSITIVE_INFINITY;
    if (!(maxDepth >= 0)) throw new InvalidArgumentError(`maxDepth must be >= 0, got ${maxDepth}`);
    this.#zk = zk.withWatcherRemoval();
    this.#options = options;
    this.#maxDepth = maxDepth;
    this.#nodesMax = options.nodesMax ?? TREE_CACHE_NODES_MAX_DEFAULT;
    this.#tasks = new SerialTasks((error) => this.#reportError(error));
    this.#stream = new EventStream(options.eventsQueuedMax ?? EVENTS_QUEUED_MAX_DEFAULT);
    // Every read in flight listens on this signal: a level's reads go out together.
    setMaxListeners(2 * LOAD_PATHS_IN_FLIGHT_MAX + 16, this.#closing.signal);
  }

  /** 'persistentRecursive' or 'oneShot' once started. */
  get watchMode(): 'persistentRecursive' | 'oneShot' | undefined {
    return this.#mode;
  }

  get initialized(): boolean {
    return this.#isInitialized;
  }

  /** The cached tree: path → node, a consistent snapshot (never mutated; replaced on change). */
  get snapshot(): CacheSnapshot {
    return this.#snapshot;
  }

  get(path: string): CachedNode | undefined {
    return this.#snapshot.get(path);
  }

  /** The cached child names of `path`, sorted. */
  children(path: string): string[] {
    const prefix = path === '/' ? '/' : `${path}/`;
    const names: string[] = [];
    for (const key of this.#snapshot.keys()) {
      if (key.startsWith(prefix) && key !== path && !key.slice(prefix.length).includes('/')) {
        names.push(key.slice(prefix.length));
      }
    }
    return names.sort();
  }

  /** Calls `listener` with every event from now on; returns the function that unsubscribes it. */
  onEvent(listener: (event: TreeCacheEvent) => void): () => void {
    return this.#stream.on(listener);
  }

  /**
   * The current tree as `created` events (parents first) and `initialized` if the first load is done,
   * then every later event, until the cache closes or `signal` aborts.
   */
  events(options: { signal?: AbortSignal; replay?: boolean } = {}): AsyncIterableIterator<TreeCacheEvent> {
    const initial: TreeCacheEvent[] =
      options.replay === false ? [] : diffSnapshots(new Map(), this.#snapshot);
    if (options.replay !== false && this.#isInitialized) initial.push({ type: 'initialized' });
    return this.#stream.iterate(initial, options.signal);
  }

  [Symbol.asyncIterator](): AsyncIterator<TreeCacheEvent> {
    return this.events();
  }

  /** Sets the watch, loads the tree and resolves once `initialized` was emitted. */
  async start(options: { signal?: AbortSignal } = {}): Promise<void> {
    if (this.#started) throw new InvalidArgumentError('a cache starts once');
    if (this.#closed !== undefined) throw new InvalidArgumentError('the cache is closed');
    this.#started = true;
    closeWithFramework(this.#zk, this); // iterators end with the framework
    this.#stopStates = this.#zk.onConnectionStateChange(({ state }) => {
      if (state === 'LOST') this.#stale = true;
      if (state === 'RECONNECTED') void this.#tasks.run(() => this.#rebuild());
    });
    // A first load that fails (retries used up, no permission...) fails start; later ones are reported.
    const loaded = this.#tasks.call(() => this.#firstLoad());
    loaded.catch(() => undefined);
    await waitFor(loaded, { signal: options.signal, what: `loading ${this.path}` });
    await loaded;
  }

  close(): Promise<void> {
    this.#closed ??= this.#close();
    return this.#closed;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  async #close(): Promise<void> {
    this.#stopStates?.();
    this.#closing.abort(new InvalidArgumentError('the cache closed'));
    await this.#tasks.drained();
    await this.#watch?.stop().catch(() => undefined);
    await this.#zk.removeWatches().catch(() => undefined);
    this.#stream.end();
  }

  async #firstLoad(): Promise<void> {
    const signal = this.#closing.signal;
    await this.#setWatch(signal);
    const loaded = await this.#loadTree(signal);
    this.#replace(loaded);
    this.#isInitialized = true;
    this.#stream.emit({ type: 'initialized' });
  }

  /** Sets the persistent recursive watch (unless one-shot), deciding the mode on first use. */
  async #setWatch(signal: AbortSignal): Promise<void> {
    const wanted = this.#options.watchMode ?? 'auto';
    if (wanted === 'oneShot' || this.#mode === 'oneShot') {
      this.#mode = 'oneShot';
      return;
    }
    await this.#watch?.stop().catch(() => undefined);
    try {
      this.#watchSession = this.#zk.sessionId;
      this.#watch = await this.#zk.addWatch(this.path, {
        // A node cache needs no events from below the node.
        mode: this.#maxDepth === 0 ? 'persistent' : 'persistentRecursive',
        signal,
        listener: (event) => this.#onPersistentEvent(event),
      });
      this.#mode = 'persistentRecursive';
    } catch (error) {
      const unsupported = hasErrorCode(error, ErrorCode.UNIMPLEMENTED);
      if (!unsupported || wanted === 'persistentRecursive') throw error;
      this.#mode = 'oneShot';
    }
  }

  #onPersistentEvent(event: WatchedEvent): void {
    if (this.#closing.signal.aborted || this.#depthOf(event.path) > this.#maxDepth) return;
    if (event.type === 'nodeCreated' || event.type === 'nodeDataChanged') {
      void this.#tasks.run(() => this.#refreshNode(event.path, false));
    } else if (event.type === 'nodeDeleted') {
      void this.#tasks.run(async () => this.#removeSubtree(event.path));
    }
  }

  /** Reads one node again and applies it; with `withChildren` (one-shot mode) new children too. */
  async #refreshNode(path: string, oneShotWatch: boolean): Promise<void> {
    const signal = this.#closing.signal;
    if (signal.aborted) return;
    const read = await this.#readNode(path, oneShotWatch, signal);
    if (read === undefined) {
      this.#removeSubtree(path);
      if (path === this.path && this.#mode === 'oneShot' && (await this.#watchRootCreation(signal))) {
        await this.#loadRoot();
      }
      return;
    }
    this.#apply(path, read);
  }

  /** One-shot mode: the children of `path` changed; load the new ones (removals come as deletes). */
  async #refreshChildren(path: string): Promise<void> {
    const signal = this.#closing.signal;
    if (signal.aborted || !this.#snapshot.has(path)) return;
    const children = await this.#readChildren(path, true, signal);
    const added = children.map((child) => joinPath(path, child)).filter((p) => !this.#snapshot.has(p));
    if (added.length === 0) return;
    const loaded = new Map<string, CachedNode>();
    await this.#loadInto(added, loaded, signal);
    for (const [p, node] of loaded) this.#apply(p, node); // loaded level by level: parents first
  }

  #removeSubtree(path: string): void {
    const prefix = `${path === '/' ? '' : path}/`;
    const doomed = [...this.#snapshot.keys()].filter((p) => p === path || p.startsWith(prefix));
    doomed.sort((a, b) => b.length - a.length);
    for (const p of doomed) this.#apply(p, undefined);
  }

  #apply(path: string, read: CachedNode | undefined): void {
    if (read !== undefined && !this.#snapshot.has(path) && this.#snapshot.size >= this.#nodesMax) {
      this.#overLimit();
      return;
    }
    const { snapshot, events } = applyNodeRead(this.#snapshot, path, read);
    this.#snapshot = snapshot;
    for (const event of events) this.#stream.emit(event);
  }

  #replace(next: CacheSnapshot): void {
    const events = diffSnapshots(this.#snapshot, next);
    this.#snapshot = next;
    for (const event of events) this.#stream.emit(event);
  }

  /** After a reconnect or a new session: read everything again and emit what differs. */
  async #rebuild(): Promise<void> {
    const signal = this.#closing.signal;
    if (signal.aborted || !this.#isInitialized) return;
    const newSession = this.#zk.sessionId !== this.#watchSession;
    if (this.#mode === 'oneShot') {
      // Same session: the client re-set our watches and the server replays what we missed.
      if (!newSession && !this.#stale) return;
      this.#watchSession = this.#zk.sessionId;
    } else if (newSession) {
      await this.#setWatch(signal);
    }
    this.#stale = false;
    observeCacheRebuild(this.path, newSession ? 'new-session' : 'reconnect');
    this.#replace(await this.#loadTree(signal));
  }

  async #loadTree(signal: AbortSignal): Promise<Map<string, CachedNode>> {
    const loaded = new Map<string, CachedNode>();
    this.#watchSession = this.#zk.sessionId;
    await this.#loadInto([this.path], loaded, signal);
    if (!loaded.has(this.path) && this.#mode === 'oneShot' && (await this.#watchRootCreation(signal))) {
      await this.#loadInto([this.path], loaded, signal);
    }
    return loaded;
  }

  /**
   * Reads the subtrees at `roots` into `into`, a level at a time, parents first, within the depth and
   * size limits. A level's reads (every node's data and children) go out together, in chunks of
   * LOAD_PATHS_IN_FLIGHT_MAX paths, so a (re)build takes one round trip per level, not two per node.
   */
  async #loadInto(
    roots: readonly string[],
    into: Map<string, CachedNode>,
    signal: AbortSignal,
  ): Promise<void> {
    const oneShot = this.#mode === 'oneShot';
    let level = [...roots];
    while (level.length > 0) {
      const nextLevel: string[] = [];
      for (let start = 0; start < level.length; start += LOAD_PATHS_IN_FLIGHT_MAX) {
        const chunk = level.slice(start, start + LOAD_PATHS_IN_FLIGHT_MAX);
        const reading = chunk.map((path) => this.#readNodeAndChildren(path, oneShot, signal));
        const reads = await Promise.all(reading);
        for (const [i, path] of chunk.entries()) {
          const { node, children } = reads[i]!;
          if (node === undefined) continue;
          if (into.size >= this.#nodesMax) {
            this.#overLimit();
            return;
          }
          into.set(path, node);
          for (const child of children) nextLevel.push(joinPath(path, child));
        }
      }
      level = nextLevel;
    }
  }

  /** A node's data and (where the depth allows) its children, read together. */
  async #readNodeAndChildren(path: string, watch: boolean, signal: AbortSignal) {
    const wantChildren = this.#depthOf(path) < this.#maxDepth;
    const [node, children] = await Promise.all([
      this.#readNode(path, watch, signal),
      wantChildren ? this.#readChildren(path, watch, signal) : Promise.resolve([]),
    ]);
    return { node, children: node === undefined ? [] : children };
  }

  async #readNode(path: string, watch: boolean, signal: AbortSignal): Promise<CachedNode | undefined> {
    try {
      const onData = (event: WatchedEvent) => {
        if (!this.#closing.signal.aborted) void this.#tasks.run(() => this.#refreshNode(event.path, true));
      };
      const { data, stat } = await this.#zk.getData(path, watch ? { watch: onData, signal } : { signal });
      return cachedNode(data ?? Buffer.alloc(0), stat);
    } catch (error) {
      if (hasErrorCode(error, ErrorCode.NO_NODE)) return undefined;
      throw error;
    }
  }

  async #readChildren(path: string, watch: boolean, signal: AbortSignal): Promise<string[]> {
    // One-shot mode watches children only where the depth allows more nodes below.
    const childWatch = watch && this.#depthOf(path) < this.#maxDepth;
    try {
      const onChildren = (event: WatchedEvent) => {
        if (!this.#closing.signal.aborted) void this.#tasks.run(() => this.#refreshChildren(event.path));
      };
      const options = childWatch ? { watch: onChildren, signal } : { signal };
      return (await this.#zk.getChildren(path, options)).children;
    } catch (error) {
      if (hasErrorCode(error, ErrorCode.NO_NODE)) return [];
      throw error;
    }
  }

  /**
   * One-shot mode, root absent: an exists watch says when it appears. True when it exists already
   * (made between our read and the watch): the caller loads it then, as no creation event will come.
   */
  async #watchRootCreation(signal: AbortSignal): Promise<boolean> {
    const onCreated = (event: WatchedEvent) => {
      if (this.#closing.signal.aborted || event.type !== 'nodeCreated') return;
      void this.#tasks.run(() => this.#loadRoot());
    };
    return (await this.#zk.exists(this.path, { watch: onCreated, signal })) !== null;
  }

  /** Loads the root's subtree into the live snapshot, parents first. */
  async #loadRoot(): Promise<void> {
    const loaded = new Map<string, CachedNode>();
    await this.#loadInto([this.path], loaded, this.#closing.signal);
    for (const [p, node] of loaded) this.#apply(p, node); // loaded level by level: parents first
  }

  #depthOf(path: string): number {
    if (path === this.path) return 0;
    const rest = this.path === '/' ? path.slice(1) : path.slice(this.path.length + 1);
    return rest.split('/').length;
  }

  #overLimit(): void {
    if (this.#overLimitReported) return;
    this.#overLimitReported = true;
    this.#reportError(new InvalidArgumentError(`cache of ${this.path} is over ${this.#nodesMax} nodes`));
  }

  #reportError(error: unknown): void {
    if (this.#closing.signal.aborted) return;
    // A read that failed (retries used up) may have lost a one-shot watch: rebuild on the next reconnect.
    this.#stale = true;
    const report =
      this.#options.onError ??
      ((e: unknown) => process.emitWarning(`cache of ${this.path}: ${String(e)}`, 'RecipeWarning'));
    report(error);
  }
}

function cachedNode(data: Buffer, stat: Stat): CachedNode {
  return { data, czxid: stat.czxid, mzxid: stat.mzxid, version: stat.version };
}

/** Starts a tree cache and waits for its first load; closes it again if that fails. */
export async function startTreeCache(
  zk: Framework,
  path: string,
  options: TreeCacheOptions & { signal?: AbortSignal } = {},
): Promise<TreeCache> {
  const { signal, ...cacheOptions } = options;
  const cache = new TreeCache(zk, path, cacheOptions);
  try {
    await cache.start({ signal });
    return cache;
  } catch (error) {
    await cache.close();
    throw error;
  }
}

/** A cache of one node (Curator's NodeCache): `current` is its data and stat, or undefined. */
export async function startNodeCache(
  zk: Framework,
  path: string,
  options: Omit<TreeCacheOptions, 'maxDepth'> & { signal?: AbortSignal } = {},
): Promise<TreeCache> {
  return startTreeCache(zk, path, { ...options, maxDepth: 0 });
}

/** A cache of a node's children (Curator's PathChildrenCache): events for the node itself too. */
export async function startChildrenCache(
  zk: Framework,
  path: string,
  options: Omit<TreeCacheOptions, 'maxDepth'> & { signal?: AbortSignal } = {},
): Promise<TreeCache> {
  return startTreeCache(zk, path, { ...options, maxDepth: 1 });
}
