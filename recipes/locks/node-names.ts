// Contender node names as Curator writes them, so Java services using Curator and ours share one lock:
// a protected name `_c_<uuid>-<marker><sequence>`,
// e.g. `_c_1ccdb2b9-7f9a-4570-9555-201c91ec2dcb-lock-0000000042`.
// The uuid finds our node again after a create whose reply was lost; the marker says which recipe (and for
// the read/write lock which kind) the node belongs to; the server appends the 10-digit sequence.
// Pure: the uuid comes in from the caller (crypto.randomUUID() in the shell).
import { InvalidArgumentError } from '../../src/index.js';

/** Curator's protected-name prefix (ProtectedUtils.PROTECTED_PREFIX). */
export const PROTECTED_PREFIX = '_c_';
/** `_c_` + a 36-character uuid + `-`: what precedes the given name in a protected node name. */
export const PROTECTED_PREFIX_WITH_UUID_LENGTH = PROTECTED_PREFIX.length + 36 + 1;

/** The name markers Curator's recipes put before the server's sequence number. */
export const NodeMarker = {
  /** InterProcessMutex, InterProcessSemaphoreV2's internal mutex, LeaderSelector. */
  mutex: 'lock-',
  /** InterProcessReadWriteLock read node (same length as the write marker, which Curator relies on). */
  read: '__READ__',
  /** InterProcessReadWriteLock write node. */
  write: '__WRIT__',
  /** LeaderLatch. */
  latch: 'latch-',
  /** InterProcessSemaphoreV2 lease under `<path>/leases`. */
  lease: 'lease-',
} as const;
export type NodeMarkerValue = (typeof NodeMarker)[keyof typeof NodeMarker];

const UUID_PATTERN = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;
const SEQUENCE_PATTERN = /^-?[0-9]{1,10}$/;

/** Why `uuid` cannot be a protected id, or undefined. Curator uses UUID.toString(): 36 characters. */
export function protectedIdProblem(uuid: string): string | undefined {
  if (UUID_PATTERN.test(uuid)) return undefined;
  return `protected id must be a uuid like crypto.randomUUID() gives: ${uuid}`;
}

/** `_c_<uuid>-`: every node created under this protected id starts with it. */
export function protectedPrefix(uuid: string): string {
  const problem = protectedIdProblem(uuid);
  if (problem !== undefined) throw new InvalidArgumentError(problem);
  return `${PROTECTED_PREFIX}${uuid}-`;
}

/** The name to create (before the server appends a sequence): `_c_<uuid>-<name>`, e.g. name = 'lock-'. */
export function protectedNodeName(uuid: string, name: string): string {
  return protectedPrefix(uuid) + name;
}

export interface ProtectedName {
  /** The protected id (a uuid). */
  uuid: string;
  /** What follows the prefix: the given name plus the sequence, e.g. `lock-0000000042`. */
  name: string;
}

/** Splits a protected node name as Curator's ProtectedUtils does; undefined when it is not one. */
export function parseProtectedName(nodeName: string): ProtectedName | undefined {
  if (nodeName.length <= PROTECTED_PREFIX_WITH_UUID_LENGTH) return undefined;
  if (!nodeName.startsWith(PROTECTED_PREFIX)) return undefined;
  if (nodeName[PROTECTED_PREFIX_WITH_UUID_LENGTH - 1] !== '-') return undefined;
  const uuid = nodeName.slice(PROTECTED_PREFIX.length, PROTECTED_PREFIX_WITH_UUID_LENGTH - 1);
  if (!UUID_PATTERN.test(uuid)) return undefined;
  return { uuid, name: nodeName.slice(PROTECTED_PREFIX_WITH_UUID_LENGTH) };
}

/**
 * Our node among `children` after a create whose outcome is unknown (connection loss): the child that
 * starts with our protected prefix, as Curator's CreateBuilderImpl.findNode looks for it. Undefined if
 * the create did not happen (or the node is gone). The caller must still check the node's
 * ephemeralOwner against its session before trusting it: a node found after a session change belongs
 * to the old session and will vanish.
 */
export function findProtectedNode(children: readonly string[], uuid: string): string | undefined {
  const prefix = protectedPrefix(uuid);
  return children.find((child) => child.startsWith(prefix));
}

/**
 * Curator's sort key (StandardLockInternalsDriver.standardFixForSorting): the text after the last
 * occurrence of `marker`, or the whole name when the marker is absent. Several markers apply one after
 * the other, as the read/write lock's driver does.
 */
export function curatorSortKey(nodeName: string, markers: readonly string[]): string {
  let key = nodeName;
  for (const marker of markers) {
    const index = key.lastIndexOf(marker);
    if (index >= 0) key = key.slice(index + marker.length);
  }
  return key;
}

export interface ContenderName {
  nodeName: string;
  /** Which of the given markers the name carries (the last one found in it). */
  marker: string;
  /** Curator's sort key: the sequence text as the server wrote it (%010d of a signed int). */
  sortKey: string;
  /** The sequence as a number; negative once the parent's counter wrapped past 2^31 - 1. */
  sequence: number;
  /** The protected id, when the name is protected. */
  uuid: string | undefined;
}

/**
 * Reads a contender name: one of `markers` followed by a sequence number, with or without a protected
 * prefix. Undefined for anything else (a child directory, another library's node), which callers ignore.
 */
export function parseContenderName(nodeName: string, markers: readonly string[]): ContenderName | undefined {
  let found: { marker: string; index: number } | undefined;
  for (const marker of markers) {
    const index = nodeName.lastIndexOf(marker);
    if (index >= 0 && (found === undefined || index > found.index)) found = { marker, index };
  }
  if (found === undefined) return undefined;
  const sortKey = nodeName.slice(found.index + found.marker.length);
  if (!SEQUENCE_PATTERN.test(sortKey)) return undefined;
  return {
    nodeName,
    marker: found.marker,
    sortKey,
    sequence: Number(sortKey),
    uuid: parseProtectedName(nodeName)?.uuid,
  };
}

/**
 * The read node to create, non-sequentially, when the holder of the write lock takes the read lock
 * (downgrade): a fresh protected name carrying the write node's sequence, so the read node sorts level
 * with the write node and ahead of every writer queued behind it (Curator 5.5's fix for CURATOR-621;
 * 5.4 created a new sequential read node, letting a queued writer in when the write lock was released).
 */
export function downgradeReadNodeName(writeNodeName: string, uuid: string): string {
  const write = parseContenderName(writeNodeName, [NodeMarker.write]);
  if (write === undefined) throw new InvalidArgumentError(`not a write-lock node name: ${writeNodeName}`);
  return protectedNodeName(uuid, NodeMarker.read + write.sortKey);
}
