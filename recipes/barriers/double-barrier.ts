// Curator's DistributedDoubleBarrier (the ZooKeeper recipe), as decisions on the barrier's children.
// Layout: each member creates an EPHEMERAL child named by a fresh uuid; the member that sees enough
// members creates the PERSISTENT `ready` child, which lets everyone in. Leaving: members delete their own
// node, the lowest waits for the highest, the others for the lowest, and the last one out removes `ready`.
//
// Enter passes only on a state seen in a listing (ready present, or enough members), never on a wake-up
// alone: Curator's loop once let a member through on a spurious or connection-state wake-up (GH-1290).
// And `ready` already present is a pass even if some members have started leaving, so a late waiter
// cannot be stranded below the count.

export const READY_NODE = 'ready';

/** The member nodes, sorted as Curator sorts them (plain string order), without `ready`. */
export function barrierMembers(children: readonly string[]): string[] {
  return children.filter((name) => name !== READY_NODE).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

export type EnterDecision =
  /** Through. With `createReady`, create `ready` (NodeExists is fine: someone else did). */
  | { kind: 'pass'; createReady: boolean }
  /** Not enough members yet: watch `ready` (an exists watch), list again when it fires. */
  | { kind: 'wait'; members: number };

export function decideEnter(children: readonly string[], memberQty: number): EnterDecision {
  if (children.includes(READY_NODE)) return { kind: 'pass', createReady: false };
  const members = barrierMembers(children).length;
  return members >= memberQty ? { kind: 'pass', createReady: true } : { kind: 'wait', members };
}

export type LeaveDecision =
  /** Everyone is out: delete our node first if `deleteOurs`, then delete `ready` (NoNode is fine). */
  | { kind: 'done'; deleteOurs: boolean }
  /** Delete our node first if `deleteOurs`, then watch `node` (exists) and decide again when it goes. */
  | { kind: 'watch'; node: string; deleteOurs: boolean }
  /** Our node is gone though we never deleted it: the session was lost; the caller decides. */
  | { kind: 'missing' };

/**
 * One step of leaving. `ourNodeExists` says whether we have not deleted our node yet (Curator's
 * `ourNodeShouldExist`); once deleted, we only wait for the others.
 */
export function decideLeave(
  children: readonly string[],
  ourNode: string,
  ourNodeExists: boolean,
): LeaveDecision {
  const members = barrierMembers(children);
  if (members.length === 0) return { kind: 'done', deleteOurs: false };
  const ourIndex = members.indexOf(ourNode);
  if (ourIndex < 0 && ourNodeExists) return { kind: 'missing' };
  if (members.length === 1) {
    // Only someone else's node is left: they have not called leave yet. Curator 5.4 returns here and
    // deletes `ready` under them; the ZooKeeper recipe (and we) wait for that node to go.
    if (ourIndex !== 0) return { kind: 'watch', node: members[0]!, deleteOurs: false };
    return { kind: 'done', deleteOurs: true };
  }
  if (ourIndex === 0) return { kind: 'watch', node: members[members.length - 1]!, deleteOurs: false };
  return { kind: 'watch', node: members[0]!, deleteOurs: ourNodeExists };
}
