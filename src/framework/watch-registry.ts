// Every one-shot watch set through the framework, so that a recipe can remove all the watches it
// set when it closes, without touching watches other recipes set on the same paths: a watch is
// disarmed locally at once, and removed at the server only when no other framework watch of the
// same kind waits on that path. Watches of a session that ended are ended with its error.

import type { WatchedEvent, ZooKeeperClient } from '../client/index.js';

/** The two one-shot watch kinds ZooKeeper can remove: data (and exists) and children. */
export type WatchKind = 'data' | 'children';

export class WatchHandle {
  private live = true;

  constructor(
    private readonly registry: WatchRegistry,
    readonly client: ZooKeeperClient,
    readonly serverPath: string,
    readonly kind: WatchKind,
    private readonly onEvent: (event: WatchedEvent) => void,
    private readonly onEnd: (error: Error) => void,
  ) {}

  get isLive(): boolean {
    return this.live;
  }

  /** The listener handed to the client: it fires once, and not at all after removal. */
  readonly listener = (event: WatchedEvent): void => {
    if (!this.live) return;
    this.release();
    this.onEvent(event);
  };

  /** Disarms the watch locally; true when it was the last live framework watch on its path and kind. */
  disarm(removedEvent: WatchedEvent | undefined): boolean {
    if (!this.live) return false;
    const last = this.release();
    if (removedEvent !== undefined) this.onEvent(removedEvent);
    return last;
  }

  /** The watch can never fire (its session ended, or the call that set it failed). */
  end(error: Error): void {
    if (!this.live) return;
    this.release();
    this.onEnd(error);
  }

  private release(): boolean {
    this.live = false;
    return this.registry.release(this);
  }
}

export class WatchRegistry {
  private readonly live = new Set<WatchHandle>();
  private readonly counts = new Map<string, number>();

  add(
    client: ZooKeeperClient,
    serverPath: string,
    kind: WatchKind,
    onEvent: (event: WatchedEvent) => void,
    onEnd: (error: Error) => void,
  ): WatchHandle {
    const handle = new WatchHandle(this, client, serverPath, kind, onEvent, onEnd);
    this.live.add(handle);
    const key = keyOf(serverPath, kind);
    this.counts.set(key, (this.counts.get(key) ?? 0) + 1);
    return handle;
  }

  /** Live framework watches of `kind` on `serverPath`. */
  count(serverPath: string, kind: WatchKind): number {
    return this.counts.get(keyOf(serverPath, kind)) ?? 0;
  }

  get size(): number {
    return this.live.size;
  }

  /** Called by a handle as it stops being live; true when it was the last on its path and kind. */
  release(handle: WatchHandle): boolean {
    if (!this.live.delete(handle)) return false;
    const key = keyOf(handle.serverPath, handle.kind);
    const left = (this.counts.get(key) ?? 1) - 1;
    if (left > 0) {
      this.counts.set(key, left);
      return false;
    }
    this.counts.delete(key);
    return true;
  }

  /** Ends every live watch set through `client` (its session is over). */
  endClient(client: ZooKeeperClient, error: Error): void {
    for (const handle of [...this.live]) if (handle.client === client) handle.end(error);
  }

  /**
   * Disarms `handle` and removes its listener from the client, which removes the server watch too
   * when no other listener (of the framework or not) needs it (best effort: a watch that cannot be
   * removed now fires once into nothing).
   */
  async remove(handle: WatchHandle, clientPath: string): Promise<void> {
    const removedEvent: WatchedEvent = {
      type: handle.kind === 'data' ? 'dataWatchRemoved' : 'childWatchRemoved',
      path: clientPath,
    };
    if (!handle.isLive) return;
    handle.disarm(removedEvent);
    const options = { local: true, listener: handle.listener };
    await handle.client.removeWatches(handle.serverPath, handle.kind, options).catch(() => undefined);
  }
}

/** The watches one recipe (one watcher-removing view) set, to remove them all when it closes. */
export class WatchScope {
  private readonly handles = new Map<WatchHandle, string>();
  private readonly persistent = new Set<{ stop(): Promise<void> }>();

  constructor(private readonly registry: WatchRegistry) {}

  track(handle: WatchHandle, clientPath: string): void {
    this.handles.set(handle, clientPath);
  }

  /** A persistent watch to stop with the others. */
  trackPersistent(watch: { stop(): Promise<void> }): void {
    this.persistent.add(watch);
  }

  get size(): number {
    let live = this.persistent.size;
    for (const handle of this.handles.keys()) if (handle.isLive) live++;
    return live;
  }

  /** Removes every watch this scope set that has not fired yet. */
  async removeAll(): Promise<void> {
    const entries = [...this.handles];
    const persistent = [...this.persistent];
    this.handles.clear();
    this.persistent.clear();
    await Promise.all([
      ...entries.map(([handle, clientPath]) => this.registry.remove(handle, clientPath)),
      ...persistent.map((watch) => watch.stop().catch(() => undefined)),
    ]);
  }

  /** Forgets handles that fired, so a long-lived scope does not grow. */
  prune(): void {
    for (const handle of this.handles.keys()) if (!handle.isLive) this.handles.delete(handle);
  }
}

function keyOf(serverPath: string, kind: WatchKind): string {
  return `${kind}\u0000${serverPath}`;
}
