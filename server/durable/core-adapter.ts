// The adapter between the pure ServerCore and persistence: a SnapshotSource over the live core (for
// fuzzy background snapshots) and a RecoveryTarget that rebuilds a core from a snapshot and the log.
// The core names the root "/", Apache's files name it ""; the core stores cversion as Apache does,
// so stats pass through unchanged. No I/O here; time comes in as `nowMs`.

import { OpCode, type ACL, type StatPersisted } from '../../src/protocol/index.js';
import type { PersistedNode } from '../core/server-core.js';
import { ServerCore } from '../core/server-core.js';
import { TREE_DIGEST_VERSION } from '../persistence/digest.js';
import type {
  AclEntry,
  RecoveryTarget,
  SessionEntry,
  SnapshotNode,
  SnapshotSource,
  Txn,
  ZxidDigest,
} from '../persistence/types.js';

/**
 * Apache's tree digest of the core as it is now, at its last applied zxid: the tree keeps it up to
 * date on every change, so this costs no walk.
 */
export function coreDigest(core: ServerCore): ZxidDigest {
  return { zxid: core.lastProcessedZxid, digestVersion: TREE_DIGEST_VERSION, digest: core.treeDigest };
}

/**
 * A fuzzy snapshot source over a live core. zxid, sessions and the ACL cache are taken now; nodes are
 * walked lazily (the core's walk copies each stat and never mutates data buffers in place, so every
 * yielded node is a consistent copy). The digest, computed after the walk, is of the whole tree at
 * the core's last applied zxid then, which is what Apache writes too. `withDigest: false` skips that
 * walk (a snapshot then records no digest, which Apache accepts).
 */
export function coreSnapshotSource(core: ServerCore, options: { withDigest?: boolean } = {}): SnapshotSource {
  const view = core.snapshot();
  const sessions: SessionEntry[] = view.sessions.map((s) => ({ id: s.sessionId, timeoutMs: s.timeoutMs }));
  const aclEntries: AclEntry[] = [...view.acls].map(([ref, acl]) => ({ ref, acl }));
  const walk = view.nodes[Symbol.iterator]();
  const nodes = function* (): Generator<SnapshotNode> {
    for (let step = walk.next(); !step.done; step = walk.next()) {
      const node = step.value;
      yield node.path === '/' ? { ...node, path: '' } : node;
    }
  };
  return {
    zxid: view.lastProcessedZxid,
    sessions: () => sessions,
    aclEntries: () => aclEntries,
    nodes: () => nodes(),
    // A reference first seen during the walk: look it up in the cache as it is now.
    aclFor: (ref) => core.snapshot().acls.get(ref),
    digest: options.withDigest === false ? undefined : () => coreDigest(core),
  };
}

const CREATE_TYPES: ReadonlySet<number> = new Set([
  OpCode.create,
  OpCode.create2,
  OpCode.createContainer,
  OpCode.createTTL,
]);

/** A create inside a txn (top level or in a multi): the path and the parent cversion it carries. */
interface LoggedCreate {
  readonly path: string;
  readonly parentCVersion: number;
}

function createsOf(txn: Txn, decodeSub: (type: number, data: Buffer) => unknown): LoggedCreate[] {
  const { type } = txn.header;
  if (CREATE_TYPES.has(type)) {
    const record = txn.record as { path: string; parentCVersion: number };
    return [{ path: record.path, parentCVersion: record.parentCVersion }];
  }
  if (type !== OpCode.multi || txn.record === null) return [];
  const subs = (txn.record as { txns: Array<{ type: number; data: Buffer }> }).txns;
  if (subs.some((sub) => sub.type === OpCode.error)) return [];
  return subs
    .filter((sub) => CREATE_TYPES.has(sub.type))
    .map((sub) => decodeSub(sub.type, sub.data) as LoggedCreate);
}

function parentOf(path: string): string {
  const slash = path.lastIndexOf('/');
  return slash <= 0 ? '/' : path.slice(0, slash);
}

/**
 * Rebuilds a core from a snapshot and the log. The snapshot and the replayed txns are gathered first
 * and applied by `finish()`, because a fuzzy snapshot can hold a node created during its walk while
 * holding its parent from before that create: replay then meets NodeExists, and Apache repairs the
 * parent's cversion and pzxid from the logged create (FileTxnSnapLog.processTransaction). The core
 * has no call for that, so the repair is made on the gathered snapshot before it is loaded.
 */
export class CoreRecoveryTarget implements RecoveryTarget {
  private readonly sessions: Array<{ sessionId: bigint; timeoutMs: number }> = [];
  private readonly acls = new Map<bigint, readonly ACL[]>();
  private readonly nodes: SnapshotNode[] = [];
  private readonly txns: Txn[] = [];
  private snapshotZxid: bigint | undefined;
  private snapshotDigest: ZxidDigest | undefined;
  /** The newest czxid among the snapshot's nodes (a repair needs one above the snapshot's zxid). */
  private newestCzxid = 0n;
  private finished = false;

  /**
   * @param core a fresh core (nothing applied yet)
   * @param nowMs the time recovery happens: restored sessions expire one timeout after it, as Apache
   *   re-arms every session it loads
   * @param txnCodecFor decodes a multi's sub-records (the core's `txnCodecFor`)
   */
  constructor(
    readonly core: ServerCore,
    private readonly nowMs: number,
    private readonly txnCodecFor: (type: number) => { decode(data: Buffer): unknown },
  ) {}

  addSession(session: SessionEntry): void {
    this.sessions.push({ sessionId: session.id, timeoutMs: session.timeoutMs });
  }

  addAcl(entry: AclEntry): void {
    this.acls.set(entry.ref, entry.acl);
  }

  addNode(node: SnapshotNode): void {
    this.nodes.push(node);
    if (node.stat.czxid > this.newestCzxid) this.newestCzxid = node.stat.czxid;
  }

  snapshotLoaded(info: { zxid: bigint; digest: ZxidDigest | undefined }): void {
    this.snapshotZxid = info.zxid;
    this.snapshotDigest = info.digest;
  }

  applyTxn(txn: Txn): void {
    if (this.finished) throw new Error('recovery already finished');
    this.txns.push(txn);
  }

  /**
   * Loads the gathered snapshot into the core and replays the gathered txns through `core.apply`.
   * Returns whether the snapshot's digest matched the tree when replay applied the txn of its zxid
   * (undefined when no replayed txn has that zxid, as when the digest is at the snapshot's own zxid:
   * Apache compares only then too), and whether
   * the TxnDigest Apache 3.8 logs after each txn matched the tree after the last replayed txn that
   * carries one (one O(nodes) walk; undefined when there was nothing to compare), as Apache checks
   * and reports. A txn digest at or before the snapshot's digest zxid is not compared: replay of a
   * fuzzy snapshot converges only once past it (Apache skips those too). With `replay: false` only the
   * snapshot is loaded (still repaired for the gathered txns): an ensemble peer delivers its logged
   * txns itself once it knows they are committed.
   */
  finish(options: { replay?: boolean } = {}): {
    digestMatched: boolean | undefined;
    txnDigestMatched: boolean | undefined;
  } {
    if (this.finished) throw new Error('recovery already finished');
    this.finished = true;
    if (this.snapshotZxid !== undefined) this.loadSnapshot(this.snapshotZxid);
    const digestAt = this.snapshotDigest?.zxid;
    let digestMatched: boolean | undefined;
    const compareDigest = () => {
      const loaded = this.snapshotDigest;
      if (loaded === undefined || loaded.digestVersion !== TREE_DIGEST_VERSION) return;
      digestMatched = coreDigest(this.core).digest === loaded.digest;
    };
    // As Apache (DataTree.compareSnapshotDigests): only while replaying the txn of the digest's zxid,
    // never at load. A fuzzy snapshot's tree can be ahead of a digest at (or below) its own zxid:
    // Apache reads the file's zxid before the walk and the digest after it, and applies a txn to the
    // tree before it records that txn's digest. Such a digest is not compared at all.
    const lastDigested = this.lastComparableTxnDigest(digestAt ?? this.snapshotZxid ?? 0n);
    let txnDigestMatched: boolean | undefined;
    const replayed = this.txns.splice(0);
    if (options.replay === false) replayed.length = 0;
    for (const txn of replayed) {
      this.core.apply(this.completed(txn), this.nowMs);
      if (digestAt !== undefined && txn.header.zxid === digestAt) compareDigest();
      if (txn === lastDigested) txnDigestMatched = coreDigest(this.core).digest === txn.digest!.treeDigest;
    }
    this.nodes.length = 0;
    return { digestMatched, txnDigestMatched };
  }

  /** The last gathered txn after `afterZxid` with a TxnDigest of the version we compute. */
  private lastComparableTxnDigest(afterZxid: bigint): Txn | undefined {
    for (let index = this.txns.length - 1; index >= 0; index--) {
      const txn = this.txns[index]!;
      if (txn.header.zxid <= afterZxid) return undefined;
      if (txn.digest?.version === TREE_DIGEST_VERSION) return txn;
    }
    return undefined;
  }

  private loadSnapshot(zxid: bigint): void {
    this.repairParentsOfReplayedCreates(zxid);
    const nodes = this.nodes.map(
      (node): PersistedNode => (node.path === '' ? { ...node, path: '/' } : node),
    );
    this.core.restore(
      { lastProcessedZxid: zxid, sessions: this.sessions, acls: this.acls, nodes },
      this.nowMs,
    );
  }

  /** Parent cversion/pzxid for creates the snapshot already holds (created during its walk). */
  private repairParentsOfReplayedCreates(snapshotZxid: bigint): void {
    // Only a node created after the snapshot's zxid (during its walk) can need its parent repaired;
    // without one, skip decoding every replayed multi's creates.
    if (this.newestCzxid <= snapshotZxid) return;
    // Built on first use: most recoveries replay no create the snapshot already holds, and a map of
    // every path costs about a second per million nodes.
    let indexByPath: Map<string, number> | undefined;
    const indexOf = (path: string) => {
      if (indexByPath === undefined) {
        const index = new Map<string, number>();
        this.nodes.forEach((node, at) => index.set(node.path === '' ? '/' : node.path, at));
        indexByPath = index;
      }
      return indexByPath.get(path);
    };
    const byPath = (path: string) => {
      const index = indexOf(path);
      return index === undefined ? undefined : this.nodes[index];
    };
    const decode = (type: number, data: Buffer) => this.txnCodecFor(type).decode(data);
    for (const txn of this.txns) {
      const zxid = txn.header.zxid;
      if (zxid <= snapshotZxid) continue;
      for (const create of createsOf(txn, decode)) {
        const node = byPath(create.path);
        if (node === undefined || node.stat.czxid !== zxid) continue;
        const parentPath = parentOf(create.path);
        const parent = byPath(parentPath);
        if (parent === undefined) continue;
        const stat: StatPersisted = { ...parent.stat };
        if (create.parentCVersion > stat.cversion) stat.cversion = create.parentCVersion;
        if (zxid > stat.pzxid) stat.pzxid = zxid;
        this.nodes[indexOf(parentPath)!] = { ...parent, stat };
      }
    }
  }

  /** A closeSession logged before CloseSessionTxn existed has no record: its paths are the owner's. */
  private completed(txn: Txn): Txn {
    if (txn.header.type !== OpCode.closeSession || txn.record !== null) return txn;
    const paths2Delete = this.core.ephemeralsBySession().get(txn.header.clientId) ?? [];
    return { ...txn, record: { paths2Delete } };
  }
}

/**
 * Ephemerals whose owner is no longer a session (its close was logged in a way the snapshot missed)
 * are deleted after loading, as Apache's loadData does, with no txn of their own. Returns the owners.
 */
export function killOrphanEphemerals(core: ServerCore): bigint[] {
  const live = new Set(core.sessions().map((session) => session.sessionId));
  const orphans: bigint[] = [];
  for (const [owner, paths] of core.ephemeralsBySession()) {
    if (live.has(owner)) continue;
    orphans.push(owner);
    const header = {
      clientId: owner,
      cxid: 0,
      zxid: core.lastProcessedZxid,
      time: 0n,
      type: OpCode.closeSession,
    };
    core.apply({ header, record: { paths2Delete: paths } });
  }
  return orphans;
}
