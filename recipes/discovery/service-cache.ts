// ServiceCache: the instances of one service, kept current (Curator's ServiceCache), as a consistent
// snapshot plus a change stream. Built on a TreeCache of `<base>/<name>` with depth 1; each instance
// node is decoded with Curator's JSON rules, and a broken one is reported and left out, never thrown.
//
//   await using cache = await discovery.cache('api');
//   cache.instances;                                  // ServiceInstance[] right now
//   for await (const change of cache) console.log(change.type, change.instance?.id);
//
// Guarantees: those of TreeCache. SUSPENDED: the last view is kept (possibly stale) and no changes are
// emitted. RECONNECTED or a new session: the service is read again and the differences come as
// changes. Instances whose owner's session expired disappear when the server deletes their nodes.
import type { Framework } from '../../src/index.js';
import { closeWithFramework, EventStream, EVENTS_QUEUED_MAX_DEFAULT } from '../cache/events.js';
import type { CacheEvent } from '../cache/snapshot.js';
import { TreeCache, type TreeCacheEvent } from '../cache/tree-cache.js';
import { decodeServiceInstance, type DecodeOptions, type ServiceInstance } from './instance-format.js';
import { servicePath } from './paths.js';

export type ServiceCacheEvent<P> =
  | { type: 'added'; instance: ServiceInstance<P> }
  | { type: 'updated'; instance: ServiceInstance<P>; previous: ServiceInstance<P> }
  | { type: 'removed'; instance: ServiceInstance<P> }
  /** An instance node that cannot be read as an instance (it is left out of the snapshot). */
  | { type: 'broken'; id: string; problem: string }
  | { type: 'initialized' };

export interface ServiceCacheOptions {
  validatePayload?: DecodeOptions['validatePayload'];
  eventsQueuedMax?: number;
  onError?: (error: unknown) => void;
}

export class ServiceCache<P = unknown> implements AsyncDisposable, AsyncIterable<ServiceCacheEvent<P>> {
  readonly #tree: TreeCache;
  readonly #stream: EventStream<ServiceCacheEvent<P>>;
  readonly #instances = new Map<string, ServiceInstance<P>>();
  readonly #broken = new Map<string, string>();
  readonly #validatePayload: DecodeOptions['validatePayload'];
  #closed: Promise<void> | undefined;

  constructor(
    zk: Framework,
    readonly basePath: string,
    readonly name: string,
    options: ServiceCacheOptions = {},
  ) {
    this.#tree = new TreeCache(zk, servicePath(basePath, name), {
      maxDepth: 1,
      ...(options.onError === undefined ? {} : { onError: options.onError }),
    });
    this.#validatePayload = options.validatePayload;
    this.#stream = new EventStream(options.eventsQueuedMax ?? EVENTS_QUEUED_MAX_DEFAULT);
    this.#tree.onEvent((event) => this.#onTreeEvent(event));
    closeWithFramework(zk, this); // iterators end with the framework
  }

  /** The instances now, sorted by id. */
  get instances(): ServiceInstance<P>[] {
    return [...this.#instances.values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }

  /** Instance nodes that could not be read, by id, with the problem. */
  get broken(): ReadonlyMap<string, string> {
    return this.#broken;
  }

  get initialized(): boolean {
    return this.#tree.initialized;
  }

  onChange(listener: (event: ServiceCacheEvent<P>) => void): () => void {
    return this.#stream.on(listener);
  }

  /** The current instances as `added` (and `initialized` once loaded), then every change. */
  changes(options: { signal?: AbortSignal } = {}): AsyncIterableIterator<ServiceCacheEvent<P>> {
    const initial: ServiceCacheEvent<P>[] = this.instances.map((instance) => ({ type: 'added', instance }));
    if (this.#tree.initialized) initial.push({ type: 'initialized' });
    return this.#stream.iterate(initial, options.signal);
  }

  [Symbol.asyncIterator](): AsyncIterator<ServiceCacheEvent<P>> {
    return this.changes();
  }

  start(options: { signal?: AbortSignal } = {}): Promise<void> {
    return this.#tree.start(options);
  }

  close(): Promise<void> {
    this.#closed ??= this.#tree.close().finally(() => this.#stream.end());
    return this.#closed;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  #onTreeEvent(event: TreeCacheEvent): void {
    if (event.type === 'initialized') {
      this.#stream.emit({ type: 'initialized' });
      return;
    }
    const id = event.path.slice(event.path.lastIndexOf('/') + 1);
    if (event.path === this.#tree.path) return; // the service directory itself
    if (event.type === 'deleted') {
      this.#broken.delete(id);
      this.#remove(id);
      return;
    }
    this.#read(id, (event as Exclude<CacheEvent, { type: 'deleted' }>).node.data);
  }

  #read(id: string, data: Uint8Array): void {
    const decoded = decodeServiceInstance<P>(data, {
      expected: { name: this.name, id },
      ...(this.#validatePayload === undefined ? {} : { validatePayload: this.#validatePayload }),
    });
    if (!decoded.ok) {
      this.#remove(id);
      this.#broken.set(id, decoded.problem);
      this.#stream.emit({ type: 'broken', id, problem: decoded.problem });
      return;
    }
    this.#broken.delete(id);
    const previous = this.#instances.get(id);
    this.#instances.set(id, decoded.instance);
    this.#stream.emit(
      previous === undefined
        ? { type: 'added', instance: decoded.instance }
        : { type: 'updated', instance: decoded.instance, previous },
    );
  }

  #remove(id: string): void {
    const previous = this.#instances.get(id);
    if (previous === undefined) return;
    this.#instances.delete(id);
    this.#stream.emit({ type: 'removed', instance: previous });
  }
}
