// The decision at the heart of every lock kind: given the children of a lock path, our contender node and
// a policy, either we hold the lock or we watch exactly one predecessor (no herd effect) and decide again
// when it goes. The lock core lists the children, calls `decideContender`, and does what it says.
//
// Order is Curator's, so a Java service using Curator and ours agree on who is first: children sort by the
// text after the last marker (the server's %010d sequence), compared as strings. Note the string compare:
// once a parent's signed 32-bit counter wraps, "-000000001" sorts first. Sorting numerically instead would
// be "more correct" but would disagree with Curator on the same path, and two clients that disagree on the
// order can both believe they hold the lock. Sequences are not fencing tokens for that reason (use czxid).
//
// Variation is data: a policy gives, for each marker, which markers ahead of such a node block it and how
// many blockers it tolerates. Children with none of the policy's markers (a sub-directory, another
// library's node) are ignored; Curator counts them, which makes it wait longer but never admits two
// holders that we would not.
import { InvalidArgumentError } from '../../src/index.js';
import { NodeMarker, parseContenderName, type ContenderName } from './node-names.js';

export interface ContenderRule {
  /** Markers of nodes ahead of ours that count against us. */
  readonly blockedBy: readonly string[];
  /** We hold the lock while fewer than this many blockers are ahead (1 = exclusive). */
  readonly maxLeases: number;
}

export interface LockPolicy {
  /** For each contender marker, the rule that applies to a node carrying it. */
  readonly rules: Readonly<Record<string, ContenderRule>>;
}

/** Curator's InterProcessMutex (and LeaderSelector, and the semaphore's internal mutex): FIFO, exclusive. */
export const mutexPolicy: LockPolicy = {
  rules: { [NodeMarker.mutex]: { blockedBy: [NodeMarker.mutex], maxLeases: 1 } },
};

/** Curator's LeaderLatch: the first latch node leads. */
export const latchPolicy: LockPolicy = {
  rules: { [NodeMarker.latch]: { blockedBy: [NodeMarker.latch], maxLeases: 1 } },
};

/**
 * Curator's InterProcessReadWriteLock, one directory for both kinds: a writer waits for every node ahead
 * of it; a reader waits only for writers ahead of it. A writer queued ahead of a reader therefore goes
 * first (writer preference, no reader starvation of writers).
 */
export const readWritePolicy: LockPolicy = {
  rules: {
    [NodeMarker.read]: { blockedBy: [NodeMarker.write], maxLeases: 1 },
    [NodeMarker.write]: { blockedBy: [NodeMarker.read, NodeMarker.write], maxLeases: 1 },
  },
};

/** Curator's InterProcessMutex with maxLeases > 1: the first `maxLeases` contenders hold it together. */
export function sharedPolicy(marker: string, maxLeases: number): LockPolicy {
  if (!Number.isSafeInteger(maxLeases) || maxLeases < 1) {
    throw new InvalidArgumentError(`maxLeases must be a positive integer, got ${maxLeases}`);
  }
  return { rules: { [marker]: { blockedBy: [marker], maxLeases } } };
}

export function policyMarkers(policy: LockPolicy): string[] {
  return Object.keys(policy.rules);
}

/** The contenders among `children`, in Curator's order (ties, which only a downgrade makes, by name). */
export function sortContenders(children: readonly string[], policy: LockPolicy): ContenderName[] {
  const markers = policyMarkers(policy);
  const contenders: ContenderName[] = [];
  for (const child of children) {
    const contender = parseContenderName(child, markers);
    if (contender !== undefined) contenders.push(contender);
  }
  return contenders.sort(
    (a, b) => compareCodeUnits(a.sortKey, b.sortKey) || compareCodeUnits(a.nodeName, b.nodeName),
  );
}

/** Java's String.compareTo: UTF-16 code units, which is also what JavaScript's `<` compares. */
function compareCodeUnits(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

export type LockDecision =
  /** We hold the lock. `position` is our index in the sorted contenders. */
  | { kind: 'acquired'; position: number }
  /** Watch `predecessor` (a getData watch: no watch is left if it is already gone), then decide again. */
  | { kind: 'watch'; predecessor: string; position: number }
  /** Our node is not among the children: deleted, or our session ended. Start over with a new node. */
  | { kind: 'missing' };

export interface DecideOptions {
  /**
   * Our own nodes that already hold this lock; they never block us (Curator's rule: the holder of the
   * write lock gets the read lock at once). A read node named by `downgradeReadNodeName` needs no entry
   * here, since a node with the same sequence never blocks. Do not use this with a read node created
   * sequentially while holding the write lock (Curator 5.4's way): a writer queued between the two would
   * get the write lock when the write node goes, while the read lock is still held (CURATOR-621).
   */
  heldByUs?: readonly string[];
}

/** Says whether `ourNode` holds the lock among `children`, or which single node to watch. */
export function decideContender(
  children: readonly string[],
  ourNode: string,
  policy: LockPolicy,
  options: DecideOptions = {},
): LockDecision {
  const markers = policyMarkers(policy);
  const ours = parseContenderName(ourNode, markers);
  if (ours === undefined) {
    throw new InvalidArgumentError(`${ourNode} is not a contender name for markers ${markers.join(', ')}`);
  }
  const sorted = sortContenders(children, policy);
  const position = sorted.findIndex((c) => c.nodeName === ourNode);
  if (position < 0) return { kind: 'missing' };
  const rule = policy.rules[ours.marker]!;
  const heldByUs = new Set(options.heldByUs ?? []);
  const blockers = sorted
    .slice(0, position)
    .filter((c) => blocks(c, ours, rule) && !heldByUs.has(c.nodeName));
  if (blockers.length < rule.maxLeases) return { kind: 'acquired', position };
  // With maxLeases = 1 this is the nearest blocker ahead: the one whose going may let us in next.
  return { kind: 'watch', predecessor: blockers[blockers.length - rule.maxLeases]!.nodeName, position };
}

/**
 * Whether `ahead` counts against `contender`. A node with the same sequence never does: sequences are
 * unique in a parent, so an equal one is a read node made by a write-lock holder's downgrade (see
 * `downgradeReadNodeName`), which holds together with its write node.
 */
function blocks(ahead: ContenderName, contender: ContenderName, rule: ContenderRule): boolean {
  return rule.blockedBy.includes(ahead.marker) && ahead.sortKey !== contender.sortKey;
}

export interface ContenderState {
  contender: ContenderName;
  /** Index in Curator's order. */
  position: number;
  /** True for the nodes that hold the lock now. */
  holds: boolean;
}

/** Every contender with whether it holds the lock: the holders and the queue, for `inspect()`. */
export function describeContenders(children: readonly string[], policy: LockPolicy): ContenderState[] {
  const sorted = sortContenders(children, policy);
  const aheadByMarker = new Map<string, number>();
  // Nodes sharing a sequence are adjacent in the order; count those already passed separately.
  let groupKey: string | undefined;
  let groupByMarker = new Map<string, number>();
  return sorted.map((contender, position) => {
    if (contender.sortKey !== groupKey) {
      for (const [marker, count] of groupByMarker) {
        aheadByMarker.set(marker, (aheadByMarker.get(marker) ?? 0) + count);
      }
      groupKey = contender.sortKey;
      groupByMarker = new Map();
    }
    const rule = policy.rules[contender.marker]!;
    let blockersAhead = 0;
    for (const marker of rule.blockedBy) blockersAhead += aheadByMarker.get(marker) ?? 0;
    groupByMarker.set(contender.marker, (groupByMarker.get(contender.marker) ?? 0) + 1);
    return { contender, position, holds: blockersAhead < rule.maxLeases };
  });
}
