// The tree cache's bookkeeping as pure functions: what a node read means for the cached snapshot (created,
// changed, deleted, or nothing), and what changed between the snapshot we had and the one rebuilt after
// a reconnect or a session loss, so consumers get events for what happened while we were away.
//
// Identity is the node's czxid: a node deleted and created again while we were not looking is a delete
// and a create, even if its version is back to the same number (Curator's CuratorCache compares only
// the version and misses that). A change is a different mzxid.

export interface CachedNode {
  data: Uint8Array;
  /** Creation zxid: the node's identity. */
  czxid: bigint;
  /** Last modification zxid. */
  mzxid: bigint;
  version: number;
}

export type CacheSnapshot = ReadonlyMap<string, CachedNode>;

export type CacheEvent =
  | { type: 'created'; path: string; node: CachedNode }
  | { type: 'changed'; path: string; node: CachedNode; previous: CachedNode }
  | { type: 'deleted'; path: string; previous: CachedNode };

/** Applies one read of `path` (undefined: it does not exist) to the snapshot; returns the events. */
export function applyNodeRead(
  snapshot: CacheSnapshot,
  path: string,
  read: CachedNode | undefined,
): { snapshot: CacheSnapshot; events: CacheEvent[] } {
  const previous = snapshot.get(path);
  const events = nodeEvents(path, previous, read);
  if (events.length === 0) return { snapshot, events };
  const next = new Map(snapshot);
  if (read === undefined) next.delete(path);
  else next.set(path, read);
  return { snapshot: next, events };
}

function nodeEvents(
  path: string,
  previous: CachedNode | undefined,
  read: CachedNode | undefined,
): CacheEvent[] {
  if (previous === undefined) return read === undefined ? [] : [{ type: 'created', path, node: read }];
  if (read === undefined) return [{ type: 'deleted', path, previous }];
  if (read.czxid !== previous.czxid) {
    return [
      { type: 'deleted', path, previous },
      { type: 'created', path, node: read },
    ];
  }
  // An older read arriving late (its mzxid below what we hold) must not roll the cache back.
  if (read.mzxid > previous.mzxid) return [{ type: 'changed', path, node: read, previous }];
  return [];
}

/**
 * Everything that differs between two snapshots, as the events a listener would have seen: deletions
 * first, deepest paths first; then creations and changes, parents before children.
 */
export function diffSnapshots(before: CacheSnapshot, after: CacheSnapshot): CacheEvent[] {
  const deletions: CacheEvent[] = [];
  const updates: CacheEvent[] = [];
  for (const [path, previous] of before) {
    const now = after.get(path);
    if (now === undefined || now.czxid !== previous.czxid) {
      deletions.push({ type: 'deleted', path, previous });
    }
  }
  for (const [path, node] of after) {
    const previous = before.get(path);
    if (previous === undefined || previous.czxid !== node.czxid) {
      updates.push({ type: 'created', path, node });
    } else if (node.mzxid !== previous.mzxid) updates.push({ type: 'changed', path, node, previous });
  }
  deletions.sort((a, b) => depth(b.path) - depth(a.path) || compare(a.path, b.path));
  updates.sort((a, b) => depth(a.path) - depth(b.path) || compare(a.path, b.path));
  return [...deletions, ...updates];
}

function depth(path: string): number {
  return path === '/' ? 0 : path.split('/').length - 1;
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
