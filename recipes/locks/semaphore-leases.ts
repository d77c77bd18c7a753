// Curator's InterProcessSemaphoreV2 layout and lease rule, so Java and Node holders share one semaphore:
// `<path>/locks` holds an ordinary mutex (one acquirer at a time, FIFO), `<path>/leases` holds one
// protected ephemeral-sequential `lease-` node per lease. While holding the mutex, an acquirer creates
// its lease node and waits until the leases directory has at most maxLeases children; then it releases
// the mutex and keeps the lease. maxLeases is advisory: every participant must use the same number.
import { InvalidArgumentError, joinPath, pathProblem } from '../../src/index.js';

/** Curator's names for the two sub-directories of a semaphore path. */
export const SEMAPHORE_LOCKS_CHILD = 'locks';
export const SEMAPHORE_LEASES_CHILD = 'leases';

export interface SemaphorePaths {
  /** The internal mutex's lock path. */
  locksPath: string;
  /** Where lease nodes live. */
  leasesPath: string;
}

export function semaphorePaths(path: string): SemaphorePaths {
  const problem = pathProblem(path);
  if (problem !== undefined) throw new InvalidArgumentError(`bad semaphore path ${path}: ${problem}`);
  return {
    locksPath: joinPath(path, SEMAPHORE_LOCKS_CHILD),
    leasesPath: joinPath(path, SEMAPHORE_LEASES_CHILD),
  };
}

export type LeaseDecision =
  /** Our lease counts: release the internal mutex and hand the lease to the caller. */
  | { kind: 'acquired' }
  /** Too many leases: keep the mutex, watch the leases directory's children, decide again on change. */
  | { kind: 'wait'; leaseCount: number }
  /** Our lease node is gone (session loss): delete nothing, start over. */
  | { kind: 'missing' };

/**
 * The rule for several leases taken at once (under the internal mutex the whole time): every one of our
 * nodes must be among the children, and the children at most `maxLeases`. All or nothing.
 */
export function decideLeases(
  leaseChildren: readonly string[],
  ourLeaseNodes: readonly string[],
  maxLeases: number,
): LeaseDecision {
  if (ourLeaseNodes.length === 0) throw new InvalidArgumentError('no lease nodes to decide on');
  for (const node of ourLeaseNodes) {
    const decision = decideLease(leaseChildren, node, maxLeases);
    if (decision.kind !== 'acquired') return decision;
  }
  return { kind: 'acquired' };
}

/**
 * Curator's rule: our lease node must be among the children, and the children (all of them, as Curator
 * counts, so a stray node makes us conservative rather than over the limit) at most `maxLeases`.
 */
export function decideLease(
  leaseChildren: readonly string[],
  ourLeaseNode: string,
  maxLeases: number,
): LeaseDecision {
  if (!Number.isSafeInteger(maxLeases) || maxLeases < 1) {
    throw new InvalidArgumentError(`maxLeases must be a positive integer, got ${maxLeases}`);
  }
  if (!leaseChildren.includes(ourLeaseNode)) return { kind: 'missing' };
  if (leaseChildren.length <= maxLeases) return { kind: 'acquired' };
  return { kind: 'wait', leaseCount: leaseChildren.length };
}
