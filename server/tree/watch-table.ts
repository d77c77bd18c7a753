// One watch table (Apache keeps two: data and child), as 3.8's WatchManager: path → watchers with a
// mode each (standard one-shot, persistent, persistent-recursive). Triggering a path fires standard
// and persistent watches on the path itself and recursive watches on it and every ancestor
// (recursive ones never for NodeChildrenChanged); standard watches are removed when they fire.

import { EventType, KeeperState, type ACL } from '../../src/protocol/index.js';
import type { Watcher } from '../core/api.js';

export const WatchMode = { STANDARD: 0, PERSISTENT: 1, PERSISTENT_RECURSIVE: 2 } as const;
export type WatchMode = (typeof WatchMode)[keyof typeof WatchMode];

/** Decides whether a watcher may see an event on a node with this ACL (READ permission). */
export type WatchFilter = (watcher: Watcher, acl: readonly ACL[] | null) => boolean;

function* pathAndAncestors(path: string): Generator<string> {
  yield path;
  let current = path;
  while (current.length > 1) {
    const slash = current.lastIndexOf('/');
    current = slash <= 0 ? '/' : current.slice(0, slash);
    yield current;
  }
}

export class WatchTable {
  private readonly byPath = new Map<string, Map<Watcher, WatchMode>>();
  private readonly byWatcher = new Map<Watcher, Set<string>>();
  private recursiveCount = 0;

  /** Registers (or re-moded: the last registration's mode wins, as in 3.8) a watch. */
  add(path: string, watcher: Watcher, mode: WatchMode = WatchMode.STANDARD): void {
    let watchers = this.byPath.get(path);
    if (watchers === undefined) this.byPath.set(path, (watchers = new Map()));
    const previous = watchers.get(watcher);
    if (previous === WatchMode.PERSISTENT_RECURSIVE) this.recursiveCount--;
    if (mode === WatchMode.PERSISTENT_RECURSIVE) this.recursiveCount++;
    watchers.set(watcher, mode);
    let paths = this.byWatcher.get(watcher);
    if (paths === undefined) this.byWatcher.set(watcher, (paths = new Set()));
    paths.add(path);
  }

  /** Removes one watcher's watch on a path; false when it had none. */
  remove(path: string, watcher: Watcher): boolean {
    const watchers = this.byPath.get(path);
    const mode = watchers?.get(watcher);
    if (watchers === undefined || mode === undefined) return false;
    this.forget(path, watcher, watchers, mode);
    return true;
  }

  private forget(path: string, watcher: Watcher, watchers: Map<Watcher, WatchMode>, mode: WatchMode): void {
    watchers.delete(watcher);
    if (watchers.size === 0) this.byPath.delete(path);
    if (mode === WatchMode.PERSISTENT_RECURSIVE) this.recursiveCount--;
    const paths = this.byWatcher.get(watcher);
    paths?.delete(path);
    if (paths?.size === 0) this.byWatcher.delete(watcher);
  }

  /** Removes every watch of a watcher (its connection closed). */
  removeWatcher(watcher: Watcher): void {
    for (const path of [...(this.byWatcher.get(watcher) ?? [])]) this.remove(path, watcher);
  }

  /** How many paths this watcher watches in this table. */
  countOf(watcher: Watcher): number {
    return this.byWatcher.get(watcher)?.size ?? 0;
  }

  has(path: string, watcher: Watcher): boolean {
    return this.byPath.get(path)?.has(watcher) ?? false;
  }

  /**
   * checkWatches as 3.8's WatchManager.containsWatcher answers it: true when anyone (not only this
   * watcher) watches exactly `path`, or this watcher's watch there is recursive. Walking a path's
   * parents fails on a name without '/', which Apache answers with MarshallingError: 'invalid'.
   */
  contains(path: string, watcher: Watcher): boolean | 'invalid' {
    const recursive = this.byPath.get(path)?.get(watcher) === WatchMode.PERSISTENT_RECURSIVE;
    let current = path;
    for (let level = 0; current.length > 0 && (level === 0 || this.recursiveCount > 0); level++) {
      const here = current;
      if (current === '/') current = '';
      else {
        const slash = current.lastIndexOf('/');
        if (slash < 0) return 'invalid';
        current = slash === 0 ? '/' : current.slice(0, slash);
      }
      if (level === 0 && this.byPath.has(here)) return true;
      if (recursive) return true;
    }
    return false;
  }

  /**
   * Fires `type` for `path`: delivers to each matching watcher once (skipping `suppress`, and those
   * the filter refuses) and returns every watcher that matched, delivered or not.
   */
  trigger(
    path: string,
    type: number,
    zxid: bigint,
    acl: readonly ACL[] | null,
    filter: WatchFilter,
    suppress?: ReadonlySet<Watcher>,
  ): Set<Watcher> {
    const matched = new Set<Watcher>();
    const paths = this.recursiveCount === 0 ? [path] : pathAndAncestors(path);
    for (const candidate of paths) {
      const watchers = this.byPath.get(candidate);
      if (watchers === undefined) continue;
      for (const [watcher, mode] of [...watchers]) {
        if (mode === WatchMode.PERSISTENT_RECURSIVE) {
          if (type !== EventType.NODE_CHILDREN_CHANGED) matched.add(watcher);
        } else if (candidate === path) {
          matched.add(watcher);
          if (mode === WatchMode.STANDARD) this.forget(candidate, watcher, watchers, mode);
        }
      }
    }
    const event = { type, state: KeeperState.SYNC_CONNECTED, path };
    for (const watcher of matched) {
      if (suppress?.has(watcher) || !filter(watcher, acl)) continue;
      watcher.process(event, zxid);
    }
    return matched;
  }

  /** Watched paths per watcher (wchc). */
  pathsByWatcher(): Map<Watcher, string[]> {
    return new Map([...this.byWatcher].map(([watcher, paths]) => [watcher, [...paths]]));
  }

  /** Watchers per path (wchp). */
  watchersByPath(): Map<string, Watcher[]> {
    return new Map([...this.byPath].map(([path, watchers]) => [path, [...watchers.keys()]]));
  }

  get pathCount(): number {
    return this.byPath.size;
  }

  get watcherCount(): number {
    return this.byWatcher.size;
  }

  get watchCount(): number {
    let count = 0;
    for (const paths of this.byWatcher.values()) count += paths.size;
    return count;
  }
}
