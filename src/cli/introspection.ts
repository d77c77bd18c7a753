// Reads the recipes' own node layouts, as Curator 5.4 and our recipes write them, into plain views for
// `zk-cli locks | leader | services`: who holds a lock and who waits (in Curator's order), who leads an
// election, which service instances are registered. Only reads: getChildren and getData. Since the
// layouts are Curator's, this works on locks and elections of Java services too. A lock node's data
// says who made it: our owner JSON (owner, host, pid, requestedAt), Curator's default (the client's IP
// address as text) or a participant id; the node's Stat adds the session, czxid (the fencing token)
// and ctime (when it joined the queue, on the server's clock).

import type { Stat } from '../protocol/index.js';
import { ErrorCode, KeeperError } from '../protocol/index.js';
import {
  decideContender,
  describeContenders,
  latchPolicy,
  mutexPolicy,
  readWritePolicy,
  type LockPolicy,
} from '../../recipes/locks/contenders.js';
import { decodeLockNodeData } from '../../recipes/locks/lock-data.js';
import { NodeMarker, parseContenderName } from '../../recipes/locks/node-names.js';
import { SEMAPHORE_LEASES_CHILD, SEMAPHORE_LOCKS_CHILD } from '../../recipes/locks/semaphore-leases.js';
import { decodeServiceInstance, type ServiceInstance } from '../../recipes/discovery/instance-format.js';
import { childPath } from './command-kit.js';

/** What the readers need of a client: ZooKeeperClient fits, and so does a fake tree in unit tests. */
export interface NodeReader {
  getChildren(path: string, options?: { signal?: AbortSignal }): Promise<{ children: string[] }>;
  getData(path: string, options?: { signal?: AbortSignal }): Promise<{ data: Uint8Array | null; stat: Stat }>;
}

/** Upper bounds, so a command on a huge tree ends in reasonable time with a note instead of hanging. */
export const INTROSPECTION_NODES_MAX = 5_000;
export const INTROSPECTION_DEPTH_MAX = 8;
/** Contender nodes read per lock; those further back in the queue are listed by name only. */
export const CONTENDERS_READ_MAX = 1_000;
/** Reads in flight at once. */
const READS_PARALLEL_MAX = 100;

export type LockKind = 'mutex' | 'read-write' | 'latch' | 'semaphore';

export interface ContenderView {
  nodeName: string;
  /** Position in Curator's order (0 is first in line). */
  position: number;
  holds: boolean;
  /** The node's marker: lock-, __READ__, __WRIT__, latch- or lease-. */
  marker: string;
  sequence: number;
  /** False when the node went away between listing and reading. */
  present: boolean;
  /** True for a node past CONTENDERS_READ_MAX in the queue: named, not read. */
  unread?: boolean;
  /** For a waiter: the node it watches, whose going lets it decide again (its predecessor). */
  waitsOn?: string;
  sessionId?: bigint;
  /** The fencing token while it holds. */
  czxid?: bigint;
  /** When the node was created (server clock, ms since the epoch). */
  ctimeMs?: number;
  /** From our owner JSON; for Curator's nodes `host` is the IP address it writes. */
  owner?: string;
  host?: string;
  pid?: number;
  requestedAtMs?: number;
  traceId?: string;
  /** Node data that is neither our JSON nor an IP address (e.g. a participant id), as text. */
  text?: string;
  revokeRequested: boolean;
}

export interface LockView {
  path: string;
  kind: LockKind;
  holders: ContenderView[];
  /** Waiting contenders, first in line first. For a semaphore: acquirers queued on its internal mutex. */
  queue: ContenderView[];
}

const IP_ADDRESS = /^(\d{1,3}(\.\d{1,3}){3}|[0-9a-fA-F:]*:[0-9a-fA-F:.]*(%\w+)?)$/;

function isNoNode(error: unknown): boolean {
  return error instanceof KeeperError && error.code === ErrorCode.NO_NODE;
}

async function childrenOrUndefined(reader: NodeReader, path: string, signal?: AbortSignal) {
  try {
    return (await reader.getChildren(path, { signal })).children;
  } catch (error) {
    if (isNoNode(error)) return undefined;
    throw error;
  }
}

/** The children of `path`; a NoNode KeeperError (with the path) when it does not exist. */
async function childrenOf(reader: NodeReader, path: string, signal?: AbortSignal): Promise<string[]> {
  const children = await childrenOrUndefined(reader, path, signal);
  if (children === undefined) throw KeeperError.from(ErrorCode.NO_NODE, { path });
  return children;
}

const ALL_MARKERS = Object.values(NodeMarker);

/** Which lock layout `children` show, or undefined when they hold no contender node. */
export function detectLockKind(children: readonly string[]): LockKind | undefined {
  const markers = new Set<string>();
  for (const child of children) {
    const contender = parseContenderName(child, ALL_MARKERS);
    if (contender !== undefined) markers.add(contender.marker);
  }
  if (markers.has(NodeMarker.read) || markers.has(NodeMarker.write)) return 'read-write';
  if (markers.has(NodeMarker.latch)) return 'latch';
  if (markers.has(NodeMarker.mutex)) return 'mutex';
  const semaphore = children.includes(SEMAPHORE_LEASES_CHILD) && children.includes(SEMAPHORE_LOCKS_CHILD);
  if (semaphore) return 'semaphore';
  return undefined;
}

const POLICIES: Record<Exclude<LockKind, 'semaphore'>, LockPolicy> = {
  mutex: mutexPolicy,
  'read-write': readWritePolicy,
  latch: latchPolicy,
};

/** Reads one node's data and Stat into a contender view (absent: gone meanwhile). */
async function readContender(
  reader: NodeReader,
  dir: string,
  base: Pick<ContenderView, 'nodeName' | 'position' | 'holds' | 'marker' | 'sequence'>,
  signal?: AbortSignal,
): Promise<ContenderView> {
  let read: { data: Uint8Array | null; stat: Stat };
  try {
    read = await reader.getData(childPath(dir, base.nodeName), { signal });
  } catch (error) {
    if (isNoNode(error)) return { ...base, present: false, revokeRequested: false };
    throw error;
  }
  const { stat } = read;
  const view: ContenderView = {
    ...base,
    present: true,
    sessionId: stat.ephemeralOwner,
    czxid: stat.czxid,
    ctimeMs: Number(stat.ctime),
    revokeRequested: false,
  };
  const decoded = decodeLockNodeData(read.data ?? new Uint8Array());
  if (decoded.kind === 'menagerie') {
    view.owner = decoded.owner;
    view.host = decoded.host;
    view.pid = decoded.pid;
    view.requestedAtMs = decoded.requestedAt;
    if (decoded.traceId !== undefined) view.traceId = decoded.traceId;
  } else if (decoded.kind === 'revoke-requested') {
    view.revokeRequested = true;
  } else if (IP_ADDRESS.test(decoded.text.trim()) && decoded.text.trim() !== '') {
    view.host = decoded.text.trim(); // Curator's default node data: the client's address
  } else if (decoded.text !== '') {
    view.text = decoded.text;
  }
  return view;
}

/** Holders and queue of the contender nodes in `dir`, read in Curator's order. */
async function readContenders(
  reader: NodeReader,
  dir: string,
  children: readonly string[],
  policy: LockPolicy,
  signal?: AbortSignal,
): Promise<ContenderView[]> {
  const states = describeContenders(children, policy);
  const views: ContenderView[] = [];
  for (let start = 0; start < states.length; start += READS_PARALLEL_MAX) {
    const batch = states.slice(start, start + READS_PARALLEL_MAX).map(({ contender, position, holds }) => {
      const base = { nodeName: contender.nodeName, position, holds, marker: contender.marker };
      const named = { ...base, sequence: contender.sequence };
      if (position >= CONTENDERS_READ_MAX) {
        return Promise.resolve({ ...named, present: true, unread: true, revokeRequested: false });
      }
      return readContender(reader, dir, named, signal);
    });
    views.push(...(await Promise.all(batch)));
  }
  for (const view of views) {
    if (view.holds || view.unread === true) continue;
    const decision = decideContender(children, view.nodeName, policy);
    if (decision.kind === 'watch') view.waitsOn = decision.predecessor;
  }
  return views;
}

/**
 * The lock at `path`: its layout (detected from the children unless `kind` is given), the holders and
 * the queue. A semaphore's holders are its lease nodes; its queue is its internal mutex's contenders.
 */
export async function inspectLockAt(
  reader: NodeReader,
  path: string,
  options: { kind?: LockKind; signal?: AbortSignal } = {},
): Promise<LockView> {
  const { signal } = options;
  const children = await childrenOf(reader, path, signal);
  const kind = options.kind ?? detectLockKind(children) ?? 'mutex';
  if (kind === 'semaphore') {
    const leasesDir = childPath(path, SEMAPHORE_LEASES_CHILD);
    const locksDir = childPath(path, SEMAPHORE_LOCKS_CHILD);
    const leaseChildren = (await childrenOrUndefined(reader, leasesDir, signal)) ?? [];
    const lockChildren = (await childrenOrUndefined(reader, locksDir, signal)) ?? [];
    const leasePolicy = { rules: { [NodeMarker.lease]: { blockedBy: [], maxLeases: 1 } } };
    const holders = await readContenders(reader, leasesDir, leaseChildren, leasePolicy, signal);
    const queue = await readContenders(reader, locksDir, lockChildren, mutexPolicy, signal);
    return { path, kind, holders, queue };
  }
  const contenders = await readContenders(reader, path, children, POLICIES[kind], signal);
  return {
    path,
    kind,
    holders: contenders.filter((c) => c.holds),
    queue: contenders.filter((c) => !c.holds),
  };
}

export interface LockListing {
  locks: LockView[];
  /** True when the walk stopped at INTROSPECTION_NODES_MAX or INTROSPECTION_DEPTH_MAX. */
  truncated: boolean;
}

/**
 * Every lock (and election) at or below `root`: a breadth-first walk that stops descending at lock
 * directories, skips /zookeeper, and is bounded in nodes and depth.
 */
export async function listLocks(
  reader: NodeReader,
  root: string,
  options: { signal?: AbortSignal; nodesMax?: number } = {},
): Promise<LockListing> {
  const nodesMax = options.nodesMax ?? INTROSPECTION_NODES_MAX;
  const locks: LockView[] = [];
  let visited = 0;
  let truncated = false;
  let level: string[] = [root];
  for (let depth = 0; level.length > 0; depth++) {
    if (depth > INTROSPECTION_DEPTH_MAX) {
      truncated = true;
      break;
    }
    const next: string[] = [];
    for (const path of level) {
      if (++visited > nodesMax) {
        truncated = true;
        break;
      }
      // The root must exist; a node below it may vanish during the walk.
      const children =
        depth === 0
          ? await childrenOf(reader, path, options.signal)
          : await childrenOrUndefined(reader, path, options.signal);
      if (children === undefined) continue;
      const kind = detectLockKind(children);
      if (kind !== undefined) {
        locks.push(await inspectLockAt(reader, path, { kind, signal: options.signal }));
        continue;
      }
      const sorted = [...children].sort();
      for (const child of sorted) {
        const childFull = childPath(path, child);
        if (childFull !== '/zookeeper') next.push(childFull);
      }
    }
    if (truncated) break;
    level = next;
  }
  locks.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return { locks, truncated };
}

export interface ElectionView {
  path: string;
  /** 'latch' (LeaderLatch: latch- nodes) or 'selector' (LeaderSelector: lock- nodes). */
  recipe: 'latch' | 'selector';
  /** Participants in order; the first present one leads. */
  participants: Array<ContenderView & { id: string; isLeader: boolean }>;
}

/** The election at `path`: leader first, then the others in line, with their participant ids. */
export async function inspectElection(
  reader: NodeReader,
  path: string,
  options: { signal?: AbortSignal } = {},
): Promise<ElectionView> {
  const children = await childrenOf(reader, path, options.signal);
  const kind = detectLockKind(children);
  const recipe = kind === 'latch' ? 'latch' : 'selector';
  const policy = recipe === 'latch' ? latchPolicy : mutexPolicy;
  const contenders = await readContenders(reader, path, children, policy, options.signal);
  const participants: ElectionView['participants'] = [];
  for (const contender of contenders) {
    if (!contender.present) continue; // gone between listing and reading, as Curator skips it
    // The participant id is the node's data as text; Curator's default (an IP address) reads as host.
    const id = contender.text ?? contender.owner ?? contender.host ?? '';
    participants.push({ ...contender, id, isLeader: participants.length === 0 });
  }
  return { path, recipe, participants };
}

export interface ServiceSummary {
  name: string;
  instances: number;
}

export type InstanceView =
  | { id: string; ok: true; instance: ServiceInstance; sessionId: bigint; ctimeMs: number }
  | { id: string; ok: false; problem: string };

/** The service names under `basePath` with their instance counts. */
export async function listServices(
  reader: NodeReader,
  basePath: string,
  options: { signal?: AbortSignal } = {},
): Promise<ServiceSummary[]> {
  const names = (await childrenOf(reader, basePath, options.signal)).sort();
  const summaries: ServiceSummary[] = [];
  for (const name of names.slice(0, INTROSPECTION_NODES_MAX)) {
    const ids = await childrenOrUndefined(reader, childPath(basePath, name), options.signal);
    if (ids !== undefined) summaries.push({ name, instances: ids.length });
  }
  return summaries;
}

/** The instances of one service, decoded from Curator's JSON; broken ones carry their problem. */
export async function listInstances(
  reader: NodeReader,
  basePath: string,
  name: string,
  options: { signal?: AbortSignal } = {},
): Promise<InstanceView[]> {
  const dir = childPath(basePath, name);
  const ids = (await childrenOf(reader, dir, options.signal)).sort();
  const views: InstanceView[] = [];
  for (const id of ids.slice(0, INTROSPECTION_NODES_MAX)) {
    let read: { data: Uint8Array | null; stat: Stat };
    try {
      read = await reader.getData(childPath(dir, id), { signal: options.signal });
    } catch (error) {
      if (isNoNode(error)) continue;
      throw error;
    }
    const decoded = decodeServiceInstance(read.data ?? new Uint8Array(), { expected: { name, id } });
    if (!decoded.ok) {
      views.push({ id, ok: false, problem: decoded.problem });
      continue;
    }
    const { stat } = read;
    const { instance } = decoded;
    views.push({ id, ok: true, instance, sessionId: stat.ephemeralOwner, ctimeMs: Number(stat.ctime) });
  }
  return views;
}
