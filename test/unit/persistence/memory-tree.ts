// A small in-memory data tree for persistence tests only: it implements RecoveryTarget and
// SnapshotSource the way the real data tree must (Apache's root path "", an ACL cache with
// reference counts, txns carrying their resulting values), so tests can round-trip data dirs
// without the server's tree. It is deliberately simple: no watches, quotas or validation.

import { OpCode } from '../../../src/protocol/opcodes.js';
import * as R from '../../../src/protocol/records.js';
import { addToTreeDigest, nodeDigest, TREE_DIGEST_VERSION } from '../../../server/persistence/digest.js';
import { decodeMultiOps } from '../../../server/persistence/txn-format.js';
import type {
  AclEntry,
  RecoveryTarget,
  SessionEntry,
  SnapshotNode,
  SnapshotSource,
  Txn,
  ZxidDigest,
} from '../../../server/persistence/types.js';

export interface MemoryNode {
  data: Buffer | null;
  aclRef: bigint;
  stat: R.StatPersisted;
  children: Set<string>;
}

const emptyStat = (): R.StatPersisted => ({
  czxid: 0n,
  mzxid: 0n,
  ctime: 0n,
  mtime: 0n,
  version: 0,
  cversion: 0,
  aversion: 0,
  ephemeralOwner: 0n,
  pzxid: 0n,
});

export const OPEN_ACL: R.ACL[] = [{ perms: 31, id: { scheme: 'world', id: 'anyone' } }];
export const READ_ACL: R.ACL[] = [{ perms: 1, id: { scheme: 'world', id: 'anyone' } }];

const parentOf = (path: string): string => {
  const slash = path.lastIndexOf('/');
  return slash <= 0 ? '' : path.slice(0, slash);
};
const key = (path: string): string => (path === '/' ? '' : path);

export class MemoryTree implements RecoveryTarget, SnapshotSource {
  readonly nodesByPath = new Map<string, MemoryNode>();
  readonly sessionTimeouts = new Map<bigint, number>();
  readonly acls = new Map<bigint, { acl: R.ACL[]; count: number }>();
  lastZxid = 0n;
  loadedDigest: ZxidDigest | undefined;
  private aclIndex = 0n;

  /** A fresh Apache 3.8 standalone server's tree: /, /zookeeper, /zookeeper/quota, /zookeeper/config. */
  static initial(): MemoryTree {
    const tree = new MemoryTree();
    tree.nodesByPath.set('', { data: Buffer.alloc(0), aclRef: -1n, stat: emptyStat(), children: new Set() });
    tree.attach('/zookeeper', { data: Buffer.alloc(0), aclRef: -1n, stat: emptyStat(), children: new Set() });
    tree.attach('/zookeeper/quota', {
      data: Buffer.alloc(0),
      aclRef: -1n,
      stat: emptyStat(),
      children: new Set(),
    });
    const configAcl = tree.refFor(READ_ACL);
    tree.attach('/zookeeper/config', {
      data: Buffer.alloc(0),
      aclRef: configAcl,
      stat: { ...emptyStat(), aversion: -1 },
      children: new Set(),
    });
    return tree;
  }

  get zxid(): bigint {
    return this.lastZxid;
  }

  node(path: string): MemoryNode | undefined {
    return this.nodesByPath.get(key(path));
  }

  aclOf(path: string): R.ACL[] | undefined {
    const node = this.node(path);
    if (node === undefined) return undefined;
    return node.aclRef === -1n ? OPEN_ACL : this.acls.get(node.aclRef)?.acl;
  }

  private attach(path: string, node: MemoryNode): void {
    this.nodesByPath.set(path, node);
    this.nodesByPath.get(parentOf(path))?.children.add(path.slice(path.lastIndexOf('/') + 1));
  }

  /** Apache's ReferenceCountedACLCache.convertAcls: the same list gets the same ref. */
  refFor(acl: readonly R.ACL[]): bigint {
    const wanted = JSON.stringify(acl);
    for (const [ref, entry] of this.acls) {
      if (JSON.stringify(entry.acl) === wanted) {
        entry.count++;
        return ref;
      }
    }
    const ref = ++this.aclIndex;
    this.acls.set(ref, { acl: [...acl], count: 1 });
    return ref;
  }

  private release(ref: bigint): void {
    const entry = this.acls.get(ref);
    if (entry === undefined) return;
    if (--entry.count <= 0) this.acls.delete(ref);
  }

  // ----- RecoveryTarget -----

  addSession(session: SessionEntry): void {
    this.sessionTimeouts.set(session.id, session.timeoutMs);
  }

  addAcl(entry: AclEntry): void {
    this.acls.set(entry.ref, { acl: [...entry.acl], count: 0 });
    if (entry.ref > this.aclIndex) this.aclIndex = entry.ref;
  }

  addNode(node: SnapshotNode): void {
    const entry = this.acls.get(node.aclRef);
    if (entry) entry.count++;
    const stored: MemoryNode = {
      data: node.data,
      aclRef: node.aclRef,
      stat: { ...node.stat },
      children: new Set(),
    };
    if (node.path === '') this.nodesByPath.set('', stored);
    else {
      if (!this.nodesByPath.has(parentOf(node.path))) throw new Error(`parent of ${node.path} missing`);
      this.attach(node.path, stored);
    }
  }

  snapshotLoaded(info: { zxid: bigint; digest: ZxidDigest | undefined }): void {
    this.lastZxid = info.zxid;
    this.loadedDigest = info.digest;
    for (const [ref, entry] of this.acls) if (entry.count === 0) this.acls.delete(ref);
  }

  applyTxn(txn: Txn): void {
    this.apply(txn.header, txn.header.type, txn.record);
    if (txn.header.zxid > this.lastZxid) this.lastZxid = txn.header.zxid;
  }

  private apply(header: R.TxnHeader, type: number, record: unknown): void {
    switch (type) {
      case OpCode.createSession:
        this.sessionTimeouts.set(header.clientId, (record as R.CreateSessionTxn).timeOut);
        return;
      case OpCode.closeSession:
        this.sessionTimeouts.delete(header.clientId);
        for (const [path, node] of [...this.nodesByPath]) {
          if (node.stat.ephemeralOwner === header.clientId) this.remove(path, header.zxid);
        }
        return;
      case OpCode.create:
      case OpCode.create2:
      case OpCode.createContainer:
      case OpCode.createTTL:
        this.create(header, type, record as R.CreateTxn & { ttl?: bigint });
        return;
      case OpCode.delete:
      case OpCode.deleteContainer:
        this.remove((record as R.DeleteTxn).path, header.zxid);
        return;
      case OpCode.setData: {
        const txn = record as R.SetDataTxn;
        const node = this.node(txn.path);
        if (!node) return;
        node.data = txn.data;
        node.stat = { ...node.stat, version: txn.version, mzxid: header.zxid, mtime: header.time };
        return;
      }
      case OpCode.setACL: {
        const txn = record as R.SetACLTxn;
        const node = this.node(txn.path);
        if (!node) return;
        this.release(node.aclRef);
        node.aclRef = this.refFor(txn.acl);
        node.stat = { ...node.stat, aversion: txn.version };
        return;
      }
      case OpCode.multi:
        for (const op of decodeMultiOps(record as R.MultiTxn)) this.apply(header, op.type, op.record);
        return;
      default:
        return;
    }
  }

  private create(header: R.TxnHeader, type: number, txn: R.CreateTxn & { ttl?: bigint }): void {
    if (this.nodesByPath.has(txn.path)) return;
    const parent = this.nodesByPath.get(parentOf(txn.path));
    if (!parent) return;
    const owner =
      type === OpCode.createContainer
        ? -0x8000000000000000n
        : type === OpCode.createTTL
          ? BigInt.asIntN(64, 0xff00000000000000n | (txn.ttl ?? 0n))
          : txn.ephemeral
            ? header.clientId
            : 0n;
    this.attach(txn.path, {
      data: txn.data,
      aclRef: this.refFor(txn.acl),
      stat: {
        ...emptyStat(),
        czxid: header.zxid,
        mzxid: header.zxid,
        pzxid: header.zxid,
        ctime: header.time,
        mtime: header.time,
        ephemeralOwner: owner,
      },
      children: new Set(),
    });
    parent.stat = { ...parent.stat, cversion: txn.parentCVersion, pzxid: header.zxid };
  }

  private remove(path: string, zxid: bigint): void {
    const node = this.nodesByPath.get(path);
    if (!node) return;
    this.release(node.aclRef);
    this.nodesByPath.delete(path);
    const parent = this.nodesByPath.get(parentOf(path));
    if (parent) {
      // Apache stores cversion as the count of creates; a delete only moves pzxid forward.
      parent.children.delete(path.slice(path.lastIndexOf('/') + 1));
      if (zxid > parent.stat.pzxid) parent.stat = { ...parent.stat, pzxid: zxid };
    }
  }

  // ----- SnapshotSource -----

  sessions(): Iterable<SessionEntry> {
    return [...this.sessionTimeouts].map(([id, timeoutMs]) => ({ id, timeoutMs }));
  }

  aclEntries(): Iterable<AclEntry> {
    return [...this.acls].map(([ref, entry]) => ({ ref, acl: entry.acl }));
  }

  aclFor(ref: bigint): readonly R.ACL[] | undefined {
    return this.acls.get(ref)?.acl;
  }

  *nodes(): Iterator<SnapshotNode> {
    const visit = function* (tree: MemoryTree, path: string): Generator<SnapshotNode> {
      const node = tree.nodesByPath.get(path);
      if (!node) return;
      yield { path, data: node.data, aclRef: node.aclRef, stat: { ...node.stat } };
      for (const child of [...node.children]) yield* visit(tree, `${path}/${child}`);
    };
    yield* visit(this, '');
  }

  /** Apache 3.8's tree digest of this tree (summed afresh: test trees are small). */
  treeDigest(): bigint {
    let digest = 0n;
    for (const [path, node] of this.nodesByPath)
      digest = addToTreeDigest(digest, nodeDigest(path, node.data, node.stat));
    return digest;
  }

  digest(): ZxidDigest {
    return { zxid: this.lastZxid, digestVersion: TREE_DIGEST_VERSION, digest: this.treeDigest() };
  }

  /** Applies `txn` and returns it with the TxnDigest Apache 3.8 would log with it. */
  applyWithDigest(txn: Txn): Txn {
    this.applyTxn(txn);
    return { ...txn, digest: { version: TREE_DIGEST_VERSION, treeDigest: this.treeDigest() } };
  }

  /** Everything a test compares after a round trip, in a stable order. */
  describe(): string {
    const lines = [...this.nodesByPath.keys()].sort().map((path) => {
      const node = this.nodesByPath.get(path)!;
      const acl = JSON.stringify(this.aclOf(path || '/'));
      const data = node.data?.toString('hex') ?? 'null';
      return `${path || '/'} ${data} ${acl} ${R.StatPersisted.describe(node.stat)}`;
    });
    const sessions = [...this.sessionTimeouts]
      .sort(([a], [b]) => (a < b ? -1 : 1))
      .map(([id, t]) => `session ${id} ${t}`);
    return [...lines, ...sessions].join('\n');
  }
}

/** Builders for the txns tests log. */
export const txns = {
  header(zxid: bigint, type: number, clientId = 0x100n, time = 1_700_000_000_000n + zxid): R.TxnHeader {
    return { clientId, cxid: Number(zxid), zxid, time, type };
  },
  createSession(zxid: bigint, sessionId: bigint, timeOut = 30_000): Txn {
    return { header: txns.header(zxid, OpCode.createSession, sessionId), record: { timeOut } };
  },
  closeSession(zxid: bigint, sessionId: bigint, paths2Delete: string[] = []): Txn {
    return { header: txns.header(zxid, OpCode.closeSession, sessionId), record: { paths2Delete } };
  },
  create(
    zxid: bigint,
    path: string,
    data: string,
    parentCVersion: number,
    options: { ephemeralOwner?: bigint; acl?: R.ACL[] } = {},
  ): Txn {
    const record: R.CreateTxn = {
      path,
      data: Buffer.from(data),
      acl: options.acl ?? OPEN_ACL,
      ephemeral: options.ephemeralOwner !== undefined,
      parentCVersion,
    };
    return { header: txns.header(zxid, OpCode.create, options.ephemeralOwner ?? 0x100n), record };
  },
  setData(zxid: bigint, path: string, data: string, version: number): Txn {
    return { header: txns.header(zxid, OpCode.setData), record: { path, data: Buffer.from(data), version } };
  },
  setACL(zxid: bigint, path: string, acl: R.ACL[], version: number): Txn {
    return { header: txns.header(zxid, OpCode.setACL), record: { path, acl, version } };
  },
  delete(zxid: bigint, path: string): Txn {
    return { header: txns.header(zxid, OpCode.delete), record: { path } };
  },
};
