// The order in which a multi-lock takes its locks. Curator's InterProcessMultiLock takes them in the
// caller's order, so two callers listing the same paths in different orders can deadlock until one
// times out. Taking every set in one canonical order (sorted paths) makes that impossible: a cycle of
// waiters would need someone to wait for a lower path while holding a higher one.
import { InvalidArgumentError, pathProblem } from '../../src/index.js';

/** More locks than this in one multi-lock is a bug in the caller, not a workload. */
export const MULTI_LOCK_PATHS_MAX = 256;

/**
 * The paths sorted by UTF-16 code units (the same order in every process), duplicates removed. Nested
 * paths are refused: a lock directory inside another lock's directory would be one of its children.
 */
export function canonicalLockOrder(paths: readonly string[]): string[] {
  if (paths.length === 0) throw new InvalidArgumentError('a multi-lock needs at least one path');
  if (paths.length > MULTI_LOCK_PATHS_MAX) {
    throw new InvalidArgumentError(
      `a multi-lock takes at most ${MULTI_LOCK_PATHS_MAX} paths, got ${paths.length}`,
    );
  }
  for (const path of paths) {
    const problem = pathProblem(path);
    if (problem !== undefined) throw new InvalidArgumentError(`bad lock path ${path}: ${problem}`);
    if (path === '/') throw new InvalidArgumentError('the root cannot be a lock path');
  }
  const sorted = [...new Set(paths)].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  // In code-unit order a path's descendants come right after it or after its other descendants, but
  // "/a/b" can follow "/a-x" ('-' < '/'), so compare against every earlier path, not only the previous.
  for (let i = 1; i < sorted.length; i++) {
    for (let j = 0; j < i; j++) {
      if (sorted[i]!.startsWith(`${sorted[j]!}/`)) {
        throw new InvalidArgumentError(`lock paths must not nest: ${sorted[i]} is inside ${sorted[j]}`);
      }
    }
  }
  return sorted;
}

/** Release order: the reverse of acquisition, as Curator does. */
export function releaseOrder<T>(acquired: readonly T[]): T[] {
  return [...acquired].reverse();
}
