// Layouts of Curator's managed nodes, so a Java GroupMember or PersistentTtlNode and ours agree.
// GroupMember: one EPHEMERAL child `<groupPath>/<memberId>` per member, data = the member's payload.
// PersistentTtlNode: the node itself is a CONTAINER holding the data, with a PERSISTENT_WITH_TTL child
// `touch` set every ttl / 2; when the owner stops touching it, the child expires and the server then
// reaps the empty container. (Not a TTL node with a child: the TTL sits on the child.)
import { CreateMode, InvalidArgumentError, joinPath, pathProblem, TTL_MAX_MS, type CreateModeFlag } from
  '../../src/index.js';
import { segmentProblem } from '../discovery/paths.js';

export const TTL_TOUCH_CHILD = 'touch';
/** The child is touched every ttlMs / this. */
export const TTL_TOUCH_FACTOR_DEFAULT = 2;

export interface TtlNodeLayout {
  nodePath: string;
  nodeMode: CreateModeFlag;
  touchPath: string;
  touchMode: CreateModeFlag;
  ttlMs: number;
  touchEveryMs: number;
}

export function ttlNodeLayout(
  path: string,
  ttlMs: number,
  touchFactor = TTL_TOUCH_FACTOR_DEFAULT,
): TtlNodeLayout {
  const problem = pathProblem(path);
  if (problem !== undefined) throw new InvalidArgumentError(`bad TTL node path ${path}: ${problem}`);
  if (!Number.isSafeInteger(ttlMs) || ttlMs <= 0 || BigInt(ttlMs) > TTL_MAX_MS) {
    throw new InvalidArgumentError(`ttlMs must be 1..${TTL_MAX_MS}, got ${ttlMs}`);
  }
  if (!Number.isSafeInteger(touchFactor) || touchFactor < 1) {
    throw new InvalidArgumentError(`touchFactor must be a positive integer, got ${touchFactor}`);
  }
  return {
    nodePath: path,
    nodeMode: CreateMode.CONTAINER,
    touchPath: joinPath(path, TTL_TOUCH_CHILD),
    touchMode: CreateMode.PERSISTENT_WITH_TTL,
    ttlMs,
    touchEveryMs: Math.floor(ttlMs / touchFactor),
  };
}

export function groupMemberPath(groupPath: string, memberId: string): string {
  const problem = pathProblem(groupPath) ?? segmentProblem(memberId, 'member id');
  if (problem !== undefined) throw new InvalidArgumentError(problem);
  return joinPath(groupPath, memberId);
}

/**
 * The membership as Curator's getCurrentMembers reports it: member id → payload, from the group's
 * children, with ourselves always included (with our own payload) even before our node shows up.
 */
export function currentMembers(
  children: ReadonlyArray<{ name: string; data: Uint8Array }>,
  self: { id: string; payload: Uint8Array },
): Map<string, Uint8Array> {
  const members = new Map(children.map((child) => [child.name, child.data] as const));
  if (!members.has(self.id)) members.set(self.id, self.payload);
  return members;
}
