// The znode tree as Apache 3.8's DataTree keeps it: nodes by path with their data, ACL reference
// and persisted stat, the ephemerals of each session, the container and TTL sets, quota usage, and
// the two watch tables, fired as each change is applied. Pure: zxids and times come from the txns.
// It also keeps Apache 3.8's tree digest (the wrapping sum of every node's digest) up to date with each
// change, so a txn's TxnDigest costs no tree walk.

import {
  CONTAINER_EPHEMERAL_OWNER,
  ErrorCode,
  EventType,
  TTL_EPHEMERAL_OWNER_MARK,
  type ACL,
  type Stat,
  type StatPersisted,
} from '../../src/protocol/index.js';
import { READ_ACL_UNSAFE } from '../auth/acl.js';
import { nodeDigestBits } from '../persistence/digest.js';
import { AclCache, OPEN_UNSAFE_ACL_REF } from './acl-cache.js';
import { LIMIT_NODE, QUOTA_ROOT, STAT_NODE, StatsTrack, statPath } from './quota.js';
import { WatchTable, type WatchFilter } from './watch-table.js';

export type MutableStat = { -readonly [K in keyof StatPersisted]: StatPersisted[K] };

export interface DataNode {
  /** A fresh Buffer on each read (the tree stores the bytes compactly): read it once per use. */
  readonly data: Buffer | null;
  readonly dataLength: number;
  aclRef: bigint;
  /** cversion here is the number of creates ever under this node (Apache's stored counter). */
  stat: MutableStat;
  /** Read-only to callers: leaves share one empty set, the tree swaps in its own on the first child. */
  readonly children: ReadonlySet<string>;
  /** This node's digest as the tree last counted it (the tree keeps it current; forecasts read it). */
  digest?: bigint;
}

/** Shared by every leaf: an empty Set per node cost about 160 bytes (issue 12's memory target). */
const NO_CHILDREN: ReadonlySet<string> = Object.freeze(new Set<string>());

/**
 * One znode as the tree holds it, laid out for memory: a Buffer per node costs about 200 bytes of
 * object beside its data, so the bytes live in a one-byte (latin1) string, which round-trips every
 * byte value exactly; the CRC-32 digest is an int32 rather than a bigint; leaves share NO_CHILDREN.
 * Copying into the string is also the copy that keeps a request's socket buffer from being pinned.
 */
class TreeNode implements DataNode {
  private bytes: string | null;
  /** The CRC-32 digest as an int32 (a Smi: no heap number), undefined until the tree counts it. */
  digestBits: number | undefined = undefined;
  children: ReadonlySet<string> = NO_CHILDREN;

  constructor(
    data: Uint8Array | null,
    public aclRef: bigint,
    public stat: MutableStat,
  ) {
    this.bytes = latin1Of(data);
  }

  get data(): Buffer | null {
    return this.bytes === null ? null : Buffer.from(this.bytes, 'latin1');
  }

  set data(data: Uint8Array | null) {
    this.bytes = latin1Of(data);
  }

  get dataLength(): number {
    return this.bytes === null ? 0 : this.bytes.length;
  }

  get digest(): bigint | undefined {
    return this.digestBits === undefined ? undefined : BigInt(this.digestBits >>> 0);
  }

  set digest(digest: bigint | undefined) {
    this.digestBits = digest === undefined ? undefined : Number(digest) | 0;
  }

  /** The node's digest counted now (unsigned). */
  countedDigest(path: string, data: Uint8Array | null | undefined): number {
    const bits = nodeDigestBits(path, data === undefined ? this.data : data, this.stat);
    this.digestBits = bits | 0;
    return bits;
  }

  /** The set to add a child to: the node's own, made on its first child. */
  ownChildren(): Set<string> {
    if (this.children === NO_CHILDREN) this.children = new Set();
    return this.children as Set<string>;
  }
}

function latin1Of(data: Uint8Array | null): string | null {
  if (data === null) return null;
  const view = Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  return view.toString('latin1');
}

/** A ZooKeeper error met while applying (e.g. replaying a txn whose node is already gone). */
export class TreeError extends Error {
  constructor(
    readonly code: number,
    readonly path: string,
  ) {
    super(`error ${code} for ${path}`);
  }
}

export const ZOOKEEPER_NODE = '/zookeeper';
export const CONFIG_NODE = '/zookeeper/config';
const SPECIAL_PATHS: ReadonlySet<string> = new Set(['/', ZOOKEEPER_NODE, QUOTA_ROOT, CONFIG_NODE]);

const TTL_MASK = 0xff00000000000000n;
/** The two bytes after the high byte name the extended feature; 0 is TTL. */
const RESERVED_MASK = 0x00ffff0000000000n;

/** How a stored ephemeralOwner reads: a session's ephemeral, a container, a TTL node, or none. */
export type EphemeralKind = 'none' | 'ephemeral' | 'container' | 'ttl';

/**
 * Apache's EphemeralType.get: the TTL encoding (high byte 0xff, next two bytes 0) only means TTL when
 * extended types are enabled; otherwise such an owner is a session (myid 255 makes those ids).
 */
export function ephemeralKind(owner: bigint, extendedTypesEnabled: boolean): EphemeralKind {
  if (owner === 0n) return 'none';
  if (owner === CONTAINER_EPHEMERAL_OWNER) return 'container';
  const unsigned = BigInt.asUintN(64, owner);
  const ttlMarked = (unsigned & TTL_MASK) === TTL_MASK && (unsigned & RESERVED_MASK) === 0n;
  if (extendedTypesEnabled && ttlMarked) return 'ttl';
  return 'ephemeral';
}

/** The TTL in ms stored in a TTL node's ephemeralOwner. */
export function ttlOf(owner: bigint): bigint {
  return BigInt.asUintN(64, owner) & ~(TTL_MASK | RESERVED_MASK) & ((1n << 64n) - 1n);
}

export function ttlOwner(ttlMs: bigint): bigint {
  return BigInt.asIntN(64, BigInt.asUintN(64, TTL_EPHEMERAL_OWNER_MARK) | ttlMs);
}

export function isSpecialPath(path: string): boolean {
  return SPECIAL_PATHS.has(path);
}

export function newStat(zxid: bigint, timeMs: bigint, ephemeralOwner: bigint): MutableStat {
  return {
    czxid: zxid,
    mzxid: zxid,
    ctime: timeMs,
    mtime: timeMs,
    version: 0,
    cversion: 0,
    aversion: 0,
    ephemeralOwner: ephemeralOwner === 0n ? 0n : ephemeralOwner, // one shared 0n, not a decoded copy
    pzxid: zxid,
  };
}

/**
 * A loaded stat's own copy, with equal 64-bit fields sharing one bigint (a snapshot decodes each field
 * separately; most nodes have czxid = mzxid = pzxid, ctime = mtime and no owner): 32 bytes per share.
 */
function sharedStat(stat: StatPersisted): MutableStat {
  const { czxid, ctime } = stat;
  return {
    czxid,
    mzxid: stat.mzxid === czxid ? czxid : stat.mzxid,
    ctime,
    mtime: stat.mtime === ctime ? ctime : stat.mtime,
    version: stat.version,
    cversion: stat.cversion,
    aversion: stat.aversion,
    ephemeralOwner: stat.ephemeralOwner === 0n ? 0n : stat.ephemeralOwner,
    pzxid: stat.pzxid === czxid ? czxid : stat.pzxid,
  };
}

/** The stat clients see: visible cversion = 2 × creates − children; container/TTL owners read 0. */
export function clientStat(node: DataNode, extendedTypesEnabled: boolean): Stat {
  const { stat } = node;
  const numChildren = node.children.size;
  const kind = ephemeralKind(stat.ephemeralOwner, extendedTypesEnabled);
  return {
    czxid: stat.czxid,
    mzxid: stat.mzxid,
    ctime: stat.ctime,
    mtime: stat.mtime,
    version: stat.version,
    cversion: (stat.cversion * 2 - numChildren) | 0,
    aversion: stat.aversion,
    ephemeralOwner: kind === 'ephemeral' ? stat.ephemeralOwner : 0n,
    dataLength: node.dataLength,
    numChildren,
    pzxid: stat.pzxid,
  };
}

function splitPath(path: string): { parent: string; child: string } {
  const slash = path.lastIndexOf('/');
  return { parent: slash <= 0 ? '/' : path.slice(0, slash), child: path.slice(slash + 1) };
}

function childPath(parent: string, child: string): string {
  return parent === '/' ? `/${child}` : `${parent}/${child}`;
}

export interface DataTreeOptions {
  readonly configData?: Buffer;
  /** Whether TTL owners are read as TTL nodes (Apache's extendedTypesEnabled). */
  readonly extendedTypesEnabled: boolean;
  /** READ filter for watch events. */
  readonly watchFilter: WatchFilter;
}

export class DataTree {
  readonly nodes = new Map<string, TreeNode>();
  readonly acls = new AclCache();
  readonly ephemerals = new Map<bigint, Set<string>>();
  readonly containers = new Set<string>();
  readonly ttls = new Set<string>();
  /** Paths that have a quota (a zookeeper_limits node exists for them). */
  readonly quotaPaths = new Set<string>();
  readonly dataWatches = new WatchTable();
  readonly childWatches = new WatchTable();
  private dataSize = 0;
  /** The parent of the node last loaded from a snapshot (cleared when a load starts or ends). */
  private loadParent: { path: string; node: TreeNode } | undefined;
  /**
   * The tree digest is a wrapping 64-bit sum; node digests are added to a plain number while it is
   * exact (below 2^52) and folded into the bigint only then: no bigint arithmetic per change.
   */
  private treeDigestFolded = 0n;
  private treeDigestPending = 0;

  constructor(private readonly options: DataTreeOptions) {
    this.reset();
  }

  /** Back to a fresh tree: "/", /zookeeper, /zookeeper/quota and /zookeeper/config. */
  reset(): void {
    this.nodes.clear();
    this.ephemerals.clear();
    this.containers.clear();
    this.ttls.clear();
    this.quotaPaths.clear();
    this.acls.load(new Map());
    this.loadParent = undefined;
    this.dataSize = 0;
    this.treeDigestFolded = 0n;
    this.treeDigestPending = 0;
    const blank = (data: Buffer) => new TreeNode(data, OPEN_UNSAFE_ACL_REF, newStat(0n, 0n, 0n));
    this.putNode('/', blank(Buffer.alloc(0)));
    this.putNode(ZOOKEEPER_NODE, blank(Buffer.alloc(0)));
    this.putNode(QUOTA_ROOT, blank(Buffer.alloc(0)));
    const config = blank(this.options.configData ?? Buffer.alloc(0));
    // Apache sets this ACL with setACL(path, acl, -1) at startup, so its aversion reads -1.
    config.aclRef = this.acls.acquire(READ_ACL_UNSAFE);
    config.stat.aversion = -1;
    this.putNode(CONFIG_NODE, config);
    this.nodes.get('/')!.ownChildren().add('zookeeper');
    this.nodes.get(ZOOKEEPER_NODE)!.ownChildren().add('quota');
    this.nodes.get(ZOOKEEPER_NODE)!.ownChildren().add('config');
  }

  private putNode(path: string, node: TreeNode, data: Uint8Array | null = node.data): void {
    this.nodes.set(path, node);
    this.dataSize += path.length + node.dataLength;
    this.countDigest(path, node, 1, data);
  }

  /** Apache's tree digest (DigestCalculator version 2) of the tree as it is now. */
  get digest(): bigint {
    return BigInt.asIntN(64, this.treeDigestFolded + BigInt(this.treeDigestPending));
  }

  /** Adds (1) or removes (-1) a node's digest; a node's change is a removal, the change, an addition. */
  private countDigest(path: string, node: TreeNode, sign: 1 | -1, data?: Uint8Array | null): void {
    const known = node.digestBits;
    const bits = sign === 1 || known === undefined ? node.countedDigest(path, data) : known >>> 0;
    this.treeDigestPending += sign * bits;
    if (Math.abs(this.treeDigestPending) > 2 ** 52) {
      this.treeDigestFolded = BigInt.asIntN(64, this.treeDigestFolded + BigInt(this.treeDigestPending));
      this.treeDigestPending = 0;
    }
  }

  /** The node at `path`; "" is the root, as Apache's alias makes it. */
  /** What kind of node an ephemeralOwner makes, under this tree's extendedTypesEnabled. */
  kindOf(owner: bigint): EphemeralKind {
    return ephemeralKind(owner, this.options.extendedTypesEnabled);
  }

  /** The stat clients see for a node. */
  statOf(node: DataNode): Stat {
    return clientStat(node, this.options.extendedTypesEnabled);
  }

  getNode(path: string): DataNode | undefined {
    return this.nodes.get(path === '' ? '/' : path);
  }

  aclOf(node: DataNode): readonly ACL[] {
    return this.acls.get(node.aclRef);
  }

  get approximateDataSize(): number {
    return this.dataSize;
  }

  /** Creates a node (txn apply). `parentCVersion` -1 means "one more than now". */
  createNode(
    path: string,
    data: Buffer | null,
    acl: readonly ACL[],
    ephemeralOwner: bigint,
    parentCVersion: number,
    zxid: bigint,
    timeMs: bigint,
  ): Stat {
    const { parent: parentName, child: childName } = splitPath(path);
    const parent = this.nodes.get(parentName);
    if (parent === undefined) throw new TreeError(ErrorCode.NO_NODE, path);
    if (parent.children.has(childName)) throw new TreeError(ErrorCode.NODE_EXISTS, path);
    const cversion = parentCVersion === -1 ? parent.stat.cversion + 1 : parentCVersion;
    // Replaying a create that a fuzzy snapshot already holds must not move cversion back.
    if (cversion > parent.stat.cversion) {
      this.countDigest(parentName, parent, -1);
      parent.stat.cversion = cversion;
      parent.stat.pzxid = zxid;
      this.countDigest(parentName, parent, 1);
    }
    const stat = newStat(zxid, timeMs, ephemeralOwner);
    const node = new TreeNode(data, this.acls.acquire(acl), stat);
    parent.ownChildren().add(childName);
    this.putNode(path, node, data);
    // Apache copies the reply's stat here, before a new zookeeper_stats node gets its recount.
    const created = this.statOf(node);
    const kind = this.kindOf(ephemeralOwner);
    if (kind === 'container') this.containers.add(path);
    else if (kind === 'ttl') this.ttls.add(path);
    else if (kind === 'ephemeral') {
      let owned = this.ephemerals.get(ephemeralOwner);
      if (owned === undefined) this.ephemerals.set(ephemeralOwner, (owned = new Set()));
      owned.add(path);
    }
    if (parentName.startsWith(QUOTA_ROOT)) {
      const quotaPath = parentName.slice(QUOTA_ROOT.length);
      if (childName === LIMIT_NODE) this.quotaPaths.add(quotaPath);
      if (childName === STAT_NODE) this.recountQuota(quotaPath);
    }
    const quotaPrefix = this.maxQuotaPrefix(path);
    if (quotaPrefix !== undefined) this.updateQuotaStat(quotaPrefix, BigInt(data?.length ?? 0), 1n);
    const filter = this.options.watchFilter;
    this.dataWatches.trigger(path, EventType.NODE_CREATED, zxid, acl, filter);
    this.childWatches.trigger(parentName, EventType.NODE_CHILDREN_CHANGED, zxid, this.aclOf(parent), filter);
    return created;
  }

  /** Deletes a node (txn apply). */
  deleteNode(path: string, zxid: bigint): void {
    const { parent: parentName, child: childName } = splitPath(path);
    const parent = this.nodes.get(parentName);
    if (parent === undefined) throw new TreeError(ErrorCode.NO_NODE, path);
    // A fuzzy snapshot may already lack the child: the parent's pzxid still moves (as Apache).
    if (parent.children.has(childName)) parent.ownChildren().delete(childName);
    if (zxid > parent.stat.pzxid) {
      this.countDigest(parentName, parent, -1);
      parent.stat.pzxid = zxid;
      this.countDigest(parentName, parent, 1);
    }
    const node = this.nodes.get(path);
    if (node === undefined) throw new TreeError(ErrorCode.NO_NODE, path);
    const acl = this.aclOf(node);
    this.countDigest(path, node, -1);
    this.nodes.delete(path);
    this.acls.release(node.aclRef);
    this.dataSize -= path.length + node.dataLength;
    const owner = node.stat.ephemeralOwner;
    const kind = this.kindOf(owner);
    if (kind === 'container') this.containers.delete(path);
    else if (kind === 'ttl') this.ttls.delete(path);
    else if (kind === 'ephemeral') {
      const owned = this.ephemerals.get(owner);
      owned?.delete(path);
      if (owned?.size === 0) this.ephemerals.delete(owner);
    }
    if (parentName.startsWith(ZOOKEEPER_NODE) && childName === LIMIT_NODE) {
      this.quotaPaths.delete(parentName.slice(QUOTA_ROOT.length));
    }
    const quotaPrefix = this.maxQuotaPrefix(path);
    if (quotaPrefix !== undefined) this.updateQuotaStat(quotaPrefix, -BigInt(node.dataLength), -1n);
    const filter = this.options.watchFilter;
    const fired = this.dataWatches.trigger(path, EventType.NODE_DELETED, zxid, acl, filter);
    this.childWatches.trigger(path, EventType.NODE_DELETED, zxid, acl, filter, fired);
    this.childWatches.trigger(parentName, EventType.NODE_CHILDREN_CHANGED, zxid, this.aclOf(parent), filter);
  }

  /** Sets data (txn apply): version, mzxid and mtime come from the txn. */
  setData(path: string, data: Buffer | null, version: number, zxid: bigint, timeMs: bigint): Stat {
    const node = this.nodes.get(path);
    if (node === undefined) throw new TreeError(ErrorCode.NO_NODE, path);
    const previousLength = node.dataLength;
    this.countDigest(path, node, -1);
    node.data = data;
    node.stat.mtime = timeMs;
    node.stat.mzxid = zxid;
    node.stat.version = version;
    this.countDigest(path, node, 1, data);
    const updated = this.statOf(node); // taken before any quota usage update, as Apache's copyStat
    this.dataSize += (data?.length ?? 0) - previousLength;
    const quotaPrefix = this.maxQuotaPrefix(path);
    if (quotaPrefix !== undefined) {
      this.updateQuotaStat(quotaPrefix, BigInt((data?.length ?? 0) - previousLength), 0n);
    }
    const acl = this.aclOf(node);
    this.dataWatches.trigger(path, EventType.NODE_DATA_CHANGED, zxid, acl, this.options.watchFilter);
    return updated;
  }

  /** Replaces a node's ACL (txn apply); only aversion changes in the stat. */
  setAcl(path: string, acl: readonly ACL[], aversion: number): Stat {
    const node = this.nodes.get(path);
    if (node === undefined) throw new TreeError(ErrorCode.NO_NODE, path);
    this.countDigest(path, node, -1);
    node.stat.aversion = aversion;
    this.countDigest(path, node, 1);
    this.acls.release(node.aclRef);
    node.aclRef = this.acls.acquire(acl);
    return this.statOf(node);
  }

  /** closeSession: deletes the listed paths that are still there (one zxid for all). */
  killSession(sessionId: bigint, paths: readonly string[], zxid: bigint): void {
    for (const path of paths) {
      if (this.nodes.has(path)) this.deleteNode(path, zxid);
    }
    const owned = this.ephemerals.get(sessionId);
    if (owned !== undefined && owned.size === 0) this.ephemerals.delete(sessionId);
  }

  /** The deepest ancestor-or-self with a quota, except "/" (Apache keeps no quota on the root). */
  maxQuotaPrefix(path: string): string | undefined {
    if (this.quotaPaths.size === 0) return undefined;
    let current = path;
    for (;;) {
      if (current !== '/' && this.quotaPaths.has(current)) return current;
      if (current === '/' || current.length === 0) return undefined;
      current = splitPath(current).parent;
    }
  }

  /** Adds to the usage in the quota's zookeeper_stats node (its stat is left alone, as Apache). */
  private updateQuotaStat(quotaPath: string, bytesDelta: bigint, countDelta: bigint): void {
    const node = this.nodes.get(statPath(quotaPath));
    if (node === undefined) return;
    const stats = StatsTrack.fromBytes(node.data);
    stats.set('count', stats.get('count') + countDelta);
    stats.set('bytes', stats.get('bytes') + bytesDelta);
    this.replaceDataQuietly(node, stats.toBytes());
  }

  /** Recomputes a quota's usage from its subtree (when its zookeeper_stats node appears). */
  recountQuota(quotaPath: string): void {
    const node = this.nodes.get(statPath(quotaPath));
    if (node === undefined) return;
    let count = 0n;
    let bytes = 0n;
    for (const path of this.subtree(quotaPath)) {
      count++;
      bytes += BigInt(this.nodes.get(path)!.dataLength);
    }
    const stats = new StatsTrack();
    stats.set('count', count);
    stats.set('bytes', bytes);
    this.replaceDataQuietly(node, stats.toBytes());
  }

  /** Only for zookeeper_stats nodes: under /zookeeper/, so their digest is 0 and stays 0. */
  private replaceDataQuietly(node: TreeNode, data: Buffer): void {
    this.dataSize += data.length - node.dataLength;
    node.data = data;
  }

  /** A path and all its descendants, pre-order. */
  *subtree(path: string): Generator<string> {
    const node = this.nodes.get(path);
    if (node === undefined) return;
    yield path;
    // An explicit stack: nested yield* costs a generator hop per level for every node (a snapshot walk).
    const stack: Array<{ path: string; children: Iterator<string> }> = [
      { path, children: node.children.values() },
    ];
    while (stack.length > 0) {
      const top = stack[stack.length - 1]!;
      const next = top.children.next();
      if (next.done === true) {
        stack.pop();
        continue;
      }
      const nextPath = childPath(top.path, next.value);
      const child = this.nodes.get(nextPath);
      if (child === undefined) continue;
      yield nextPath;
      if (child.children.size > 0) stack.push({ path: nextPath, children: child.children.values() });
    }
  }

  /** Number of descendants (not counting the node itself). */
  allChildrenNumber(path: string): number {
    if (path === '') return this.nodes.size; // Apache counts keys starting with "/": all but its "" alias
    let count = -1;
    for (const _ of this.subtree(path)) count++;
    return Math.max(0, count);
  }

  /** Rebuilds the quota prefixes and their usage (after a snapshot load). */
  setupQuotas(): void {
    this.quotaPaths.clear();
    for (const path of this.subtree(QUOTA_ROOT)) {
      if (path.endsWith(`/${LIMIT_NODE}`) && this.nodes.get(path)!.children.size === 0) {
        const quotaPath = path.slice(QUOTA_ROOT.length, path.length - LIMIT_NODE.length - 1);
        this.quotaPaths.add(quotaPath);
        this.recountQuota(quotaPath);
      }
    }
  }

  /** Empties the tree before loading a snapshot into it, with the snapshot's ACL cache. */
  clearForLoad(acls: ReadonlyMap<bigint, readonly ACL[]>): void {
    this.nodes.clear();
    this.ephemerals.clear();
    this.containers.clear();
    this.ttls.clear();
    this.quotaPaths.clear();
    this.acls.load(acls);
    this.loadParent = undefined;
    this.dataSize = 0;
    this.treeDigestFolded = 0n;
    this.treeDigestPending = 0;
  }

  /** After a snapshot load: puts back any reserved node the snapshot lacked, drops unused ACLs. */
  finishLoad(): void {
    const fresh = new DataTree(this.options);
    for (const path of [ZOOKEEPER_NODE, QUOTA_ROOT, CONFIG_NODE]) {
      if (this.nodes.has(path)) continue;
      const node = fresh.nodes.get(path)!;
      const acl = path === CONFIG_NODE ? this.acls.acquire(READ_ACL_UNSAFE) : OPEN_UNSAFE_ACL_REF;
      this.loadNode(path, node.data, acl, node.stat);
      this.acls.release(acl); // loadNode counted the use; drop the acquire's own count

    }
    this.loadParent = undefined;
    this.acls.purgeUnused();
    this.setupQuotas();
  }

  /** Puts a node loaded from a snapshot in place (parents first); links it to its parent. */
  loadNode(path: string, data: Buffer | null, aclRef: bigint, stat: StatPersisted): void {
    const existing = this.nodes.get(path);
    if (existing !== undefined) {
      this.loadParent = undefined; // it may be the node replaced here
      this.dataSize -= path.length + existing.dataLength;
      this.countDigest(path, existing, -1);
      this.acls.release(existing.aclRef);
    }
    const node = new TreeNode(data, aclRef, sharedStat(stat));
    if (existing !== undefined) node.children = existing.children;
    this.acls.addUsage(aclRef);
    this.putNode(path, node, data);
    if (path !== '/') {
      const { parent, child } = splitPath(path);
      // Siblings arrive together in pre-order: the last parent saves a lookup in a map of every node.
      const parentNode = this.loadParent?.path === parent ? this.loadParent.node : this.nodes.get(parent);
      if (parentNode === undefined) throw new Error(`snapshot node ${path} comes before its parent`);
      this.loadParent = { path: parent, node: parentNode };
      parentNode.ownChildren().add(child);
    }
    const kind = this.kindOf(stat.ephemeralOwner);
    if (kind === 'container') this.containers.add(path);
    else if (kind === 'ttl') this.ttls.add(path);
    else if (kind === 'ephemeral') {
      let owned = this.ephemerals.get(stat.ephemeralOwner);
      if (owned === undefined) this.ephemerals.set(stat.ephemeralOwner, (owned = new Set()));
      owned.add(path);
    }
  }
}
