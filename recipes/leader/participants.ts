// Who leads, as Curator's leader recipes see it. LeaderLatch: protected ephemeral-sequential
// `_c_<uuid>-latch-<seq>` nodes whose data is the participant id in UTF-8; the first in the lock core's
// order leads, every other participant watches the one just ahead. LeaderSelector: the same over an
// InterProcessMutex (`lock-` nodes, data = id). Pure: the shell lists children and reads data.
import { decideContender, latchPolicy, mutexPolicy, sortContenders, type LockDecision, type LockPolicy } from
  '../locks/contenders.js';
import { NodeMarker, protectedNodeName } from '../locks/node-names.js';

export type LeaderRecipe = 'latch' | 'selector';

const policies: Record<LeaderRecipe, LockPolicy> = { latch: latchPolicy, selector: mutexPolicy };

export function leaderPolicy(recipe: LeaderRecipe): LockPolicy {
  return policies[recipe];
}

/** The name to create, EPHEMERAL_SEQUENTIAL, under the leader path. */
export function participantNodeName(recipe: LeaderRecipe, uuid: string): string {
  return protectedNodeName(uuid, recipe === 'latch' ? NodeMarker.latch : NodeMarker.mutex);
}

/** Participant ids are stored as UTF-8, as Curator's LeaderSelector.getIdBytes writes them. */
export function encodeParticipantId(id: string): Uint8Array {
  return new TextEncoder().encode(id);
}

export function decodeParticipantId(data: Uint8Array): string {
  return new TextDecoder('utf-8', { fatal: false }).decode(data);
}

/** Leading, or which participant node to watch: the lock core's decision for our participant node. */
export function decideLeadership(
  recipe: LeaderRecipe,
  children: readonly string[],
  ourNode: string,
): LockDecision {
  return decideContender(children, ourNode, policies[recipe]);
}

/** The participant nodes in order, the leader first. */
export function participantOrder(recipe: LeaderRecipe, children: readonly string[]): string[] {
  return sortContenders(children, policies[recipe]).map((c) => c.nodeName);
}

export interface Participant {
  id: string;
  nodeName: string;
  isLeader: boolean;
}

/**
 * Participants as Curator's getParticipants reports them: in order, ids from the node data, nodes that
 * vanished between listing and reading (data undefined) skipped, the first remaining one the leader.
 */
export function describeParticipants(
  recipe: LeaderRecipe,
  nodes: ReadonlyArray<{ nodeName: string; data: Uint8Array | undefined }>,
): Participant[] {
  const dataByName = new Map(nodes.map((n) => [n.nodeName, n.data]));
  const participants: Participant[] = [];
  for (const nodeName of participantOrder(recipe, [...dataByName.keys()])) {
    const data = dataByName.get(nodeName);
    if (data === undefined) continue;
    participants.push({ id: decodeParticipantId(data), nodeName, isLeader: participants.length === 0 });
  }
  return participants;
}
