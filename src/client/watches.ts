// The watch manager: which listeners wait on which paths, in ZooKeeper's five tables (data, exist,
// child, persistent, persistent-recursive), how a server event reaches them (one-shot watches are
// removed as they fire, as Java's ZKWatchManager does), and the setWatches batches that re-register
// them all after a reconnect. Paths here are client paths (inside the chroot). No I/O.

import { EventType } from '../protocol/index.js';
import type { SetWatches2 } from '../protocol/records.js';

export type WatchedEventType =
  | 'nodeCreated'
  | 'nodeDeleted'
  | 'nodeDataChanged'
  | 'nodeChildrenChanged'
  | 'dataWatchRemoved'
  | 'childWatchRemoved'
  | 'persistentWatchRemoved';

/** A change of a znode, or the removal of the watch itself. `path` is a client path. */
export interface WatchedEvent {
  readonly type: WatchedEventType;
  readonly path: string;
}

export type WatchKind = 'data' | 'exist' | 'child' | 'persistent' | 'persistentRecursive';

/** What removeWatches / checkWatches name (ZooKeeper's WatcherType). */
export type WatcherTypeName = 'children' | 'data' | 'any' | 'persistent' | 'persistentRecursive';

export interface WatchListener {
  /** A matching event. One-shot listeners are already removed when this runs. */
  onEvent(event: WatchedEvent): void;
  /** The watch can never fire again (session expired, client closed). */
  onEnd(error: Error): void;
  /** The user's function behind this listener, by which removeWatches can name it. */
  readonly callback?: unknown;
}

const eventTypeNames: ReadonlyMap<number, WatchedEventType> = new Map<number, WatchedEventType>([
  [EventType.NODE_CREATED, 'nodeCreated'],
  [EventType.NODE_DELETED, 'nodeDeleted'],
  [EventType.NODE_DATA_CHANGED, 'nodeDataChanged'],
  [EventType.NODE_CHILDREN_CHANGED, 'nodeChildrenChanged'],
  [EventType.DATA_WATCH_REMOVED, 'dataWatchRemoved'],
  [EventType.CHILD_WATCH_REMOVED, 'childWatchRemoved'],
  [EventType.PERSISTENT_WATCH_REMOVED, 'persistentWatchRemoved'],
]);

/** The event type's name, or undefined for a code no server sends. */
export function watchedEventType(code: number): WatchedEventType | undefined {
  return eventTypeNames.get(code);
}

/**
 * The key getConfig's watches are kept under. It is no client path (it has no leading slash), so
 * under a chroot a user's "/zookeeper/config" (the server's "/app/zookeeper/config") and the real
 * config node never share listeners; events for it still report the path "/zookeeper/config".
 */
export const CONFIG_WATCH_KEY = 'zookeeper:config';

/** Java's limit on the path characters of one setWatches request (ClientCnxn SET_WATCHES_MAX_LENGTH). */
export const SET_WATCHES_CHARS_MAX = 128 * 1024;

const kinds: readonly WatchKind[] = ['data', 'exist', 'child', 'persistent', 'persistentRecursive'];

export class WatchManager {
  private readonly tables: Record<WatchKind, Map<string, Set<WatchListener>>> = {
    data: new Map(),
    exist: new Map(),
    child: new Map(),
    persistent: new Map(),
    persistentRecursive: new Map(),
  };
  private count = 0;

  constructor(private readonly onListenerError: (error: unknown) => void = () => {}) {}

  /** Listeners registered, over all paths and kinds. */
  get size(): number {
    return this.count;
  }

  add(kind: WatchKind, path: string, listener: WatchListener): void {
    const table = this.tables[kind];
    let listeners = table.get(path);
    if (listeners === undefined) table.set(path, (listeners = new Set()));
    if (!listeners.has(listener)) {
      listeners.add(listener);
      this.count++;
    }
  }

  /** Removes one listener; returns true when no listener of that kind is left on the path. */
  remove(kind: WatchKind, path: string, listener: WatchListener): boolean {
    const table = this.tables[kind];
    const listeners = table.get(path);
    if (listeners === undefined) return true;
    if (listeners.delete(listener)) this.count--;
    if (listeners.size > 0) return false;
    table.delete(path);
    return true;
  }

  has(kind: WatchKind, path: string): boolean {
    return this.tables[kind].has(path);
  }

  /**
   * Delivers a server event to every listener it concerns; returns how many were told. `key` is
   * where the listeners are kept (the client path, or CONFIG_WATCH_KEY); `eventPath` is the path
   * the event reports (the key by default).
   */
  dispatch(type: number, key: string, eventPath: string = key): number {
    const path = key;
    const name = watchedEventType(type);
    if (name === undefined) return 0;
    const targets = new Set<WatchListener>();
    const take = (kind: WatchKind) => this.takeAll(kind, path, targets);
    switch (type) {
      case EventType.NODE_CREATED:
      case EventType.NODE_DATA_CHANGED:
        take('data');
        take('exist');
        this.addPersistent(path, targets, true);
        break;
      case EventType.NODE_CHILDREN_CHANGED:
        take('child');
        this.addPersistent(path, targets, false);
        break;
      case EventType.NODE_DELETED:
        take('data');
        take('exist');
        take('child');
        this.addPersistent(path, targets, true);
        break;
      default:
        return 0;
    }
    const event: WatchedEvent = { type: name, path: eventPath };
    for (const listener of targets) this.call(() => listener.onEvent(event));
    return targets.size;
  }

  /**
   * Removes the local listeners a removeWatches of `type` on `path` concerns and tells each one
   * with a *WatchRemoved event; returns how many were removed.
   */
  removeLocal(path: string, type: WatcherTypeName, callback?: unknown): number {
    const removed: Array<[WatchListener, WatchedEventType]> = [];
    const collect = (kind: WatchKind, eventType: WatchedEventType) => {
      if (callback === undefined) {
        const into = new Set<WatchListener>();
        this.takeAll(kind, path, into);
        for (const listener of into) removed.push([listener, eventType]);
        return;
      }
      for (const listener of this.tables[kind].get(path) ?? []) {
        if (listener.callback !== callback) continue;
        this.remove(kind, path, listener);
        removed.push([listener, eventType]);
      }
    };
    if (type === 'data' || type === 'any') {
      collect('data', 'dataWatchRemoved');
      collect('exist', 'dataWatchRemoved');
    }
    if (type === 'children' || type === 'any') collect('child', 'childWatchRemoved');
    if (type === 'persistent' || type === 'any') collect('persistent', 'persistentWatchRemoved');
    if (type === 'persistentRecursive' || type === 'any')
      collect('persistentRecursive', 'persistentWatchRemoved');
    for (const [listener, eventType] of removed) this.call(() => listener.onEvent({ type: eventType, path }));
    return removed.length;
  }

  /**
   * How many local listeners of the kinds `type` names wait on `path`; with `callback`, only
   * those made from that function.
   */
  countLocal(path: string, type: WatcherTypeName, callback?: unknown): number {
    let count = 0;
    for (const kind of kindsOf(type)) {
      for (const listener of this.tables[kind].get(path) ?? []) {
        if (callback === undefined || listener.callback === callback) count++;
      }
    }
    return count;
  }

  /** Whether any local listener of the kinds `type` names waits on `path`. */
  hasLocal(path: string, type: WatcherTypeName): boolean {
    switch (type) {
      case 'data':
        return this.has('data', path) || this.has('exist', path);
      case 'children':
        return this.has('child', path);
      case 'persistent':
        return this.has('persistent', path);
      case 'persistentRecursive':
        return this.has('persistentRecursive', path);
      case 'any':
        return kinds.some((kind) => this.has(kind, path));
    }
  }

  /** Ends every listener (session gone for good) and forgets them all. */
  endAll(error: Error): void {
    const all = new Set<WatchListener>();
    for (const kind of kinds) {
      for (const listeners of this.tables[kind].values()) for (const l of listeners) all.add(l);
      this.tables[kind].clear();
    }
    this.count = 0;
    for (const listener of all) this.call(() => listener.onEnd(error));
  }

  /**
   * The setWatches requests that re-register every watch after a reconnect, each holding at most
   * `charsMax` path characters. Plain SetWatches (opcode 101) is used when there is no persistent
   * watch, so servers older than 3.6 understand it; otherwise SetWatches2 (105).
   */
  setWatchesRequests(
    relativeZxid: bigint,
    toServer: (path: string) => string,
    charsMax = SET_WATCHES_CHARS_MAX,
  ): Array<{ persistent: boolean; body: SetWatches2 }> {
    const lists = {
      dataWatches: [...this.tables.data.keys()],
      existWatches: [...this.tables.exist.keys()],
      childWatches: [...this.tables.child.keys()],
      persistentWatches: [...this.tables.persistent.keys()],
      persistentRecursiveWatches: [...this.tables.persistentRecursive.keys()],
    };
    const persistent = lists.persistentWatches.length + lists.persistentRecursiveWatches.length > 0;
    const requests: Array<{ persistent: boolean; body: SetWatches2 }> = [];
    let body = emptySetWatches(relativeZxid);
    let chars = 0;
    let paths = 0;
    for (const field of Object.keys(lists) as Array<keyof typeof lists>) {
      for (const clientPath of lists[field]) {
        const path = toServer(clientPath);
        if (paths > 0 && chars + path.length > charsMax) {
          requests.push({ persistent, body });
          body = emptySetWatches(relativeZxid);
          chars = 0;
          paths = 0;
        }
        body[field].push(path);
        chars += path.length;
        paths++;
      }
    }
    if (paths > 0) requests.push({ persistent, body });
    return requests;
  }

  private takeAll(kind: WatchKind, path: string, into: Set<WatchListener>): void {
    const listeners = this.tables[kind].get(path);
    if (listeners === undefined) return;
    this.tables[kind].delete(path);
    this.count -= listeners.size;
    for (const listener of listeners) into.add(listener);
  }

  /** Persistent watches on the path, and recursive ones on it and every ancestor. */
  private addPersistent(path: string, into: Set<WatchListener>, recursive: boolean): void {
    for (const listener of this.tables.persistent.get(path) ?? []) into.add(listener);
    if (!recursive || this.tables.persistentRecursive.size === 0) return;
    let current = path;
    for (;;) {
      for (const listener of this.tables.persistentRecursive.get(current) ?? []) into.add(listener);
      if (current === '/') break;
      const slash = current.lastIndexOf('/');
      current = slash <= 0 ? '/' : current.slice(0, slash);
    }
  }

  private call(deliver: () => void): void {
    try {
      deliver();
    } catch (error) {
      this.onListenerError(error);
    }
  }
}

/** The tables a removeWatches / checkWatches type covers. */
function kindsOf(type: WatcherTypeName): readonly WatchKind[] {
  switch (type) {
    case 'data':
      return ['data', 'exist'];
    case 'children':
      return ['child'];
    case 'persistent':
      return ['persistent'];
    case 'persistentRecursive':
      return ['persistentRecursive'];
    case 'any':
      return kinds;
  }
}

function emptySetWatches(relativeZxid: bigint): SetWatches2 {
  return {
    relativeZxid,
    dataWatches: [],
    existWatches: [],
    childWatches: [],
    persistentWatches: [],
    persistentRecursiveWatches: [],
  };
}
