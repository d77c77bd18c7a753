// Goal: the ServerCore ⇄ persistence adapter writes what Apache expects (root named "", pre-order
// copies, a digest that matches) and rebuilds the same core from a fuzzy snapshot: a node created
// mid-walk under an already-written parent gets its parent's cversion/pzxid back on replay, ACL
// references are counted, orphaned ephemerals are dropped, and a record-less closeSession replays.

import assert from 'node:assert/strict';
import { OpCode, Perms, type ACL } from '../../../src/protocol/index.js';
import type { Txn } from '../../../server/core/api.js';
import { ServerCore, txnCodecFor } from '../../../server/core/server-core.js';
import {
  CoreRecoveryTarget,
  coreDigest,
  coreSnapshotSource,
  killOrphanEphemerals,
} from '../../../server/durable/core-adapter.js';
import type { SnapshotNode, SnapshotSource } from '../../../server/persistence/types.js';

const T0 = 1_700_000_000_000;
const OPEN_ACL: ACL[] = [{ perms: Perms.ALL, id: { scheme: 'world', id: 'anyone' } }];
const READ_ACL: ACL[] = [{ perms: Perms.READ, id: { scheme: 'world', id: 'anyone' } }];

const newCore = () =>
  new ServerCore({
    tickTimeMs: 2000,
    minSessionTimeoutMs: 4000,
    maxSessionTimeoutMs: 40_000,
    startTimeMs: T0,
  });

function describeCore(core: ServerCore) {
  const snapshot = core.snapshot();
  return {
    zxid: snapshot.lastProcessedZxid,
    nodes: [...snapshot.nodes].map((node) => ({ ...node, acl: snapshot.acls.get(node.aclRef) ?? 'open' })),
    sessions: core.sessions(),
    ephemerals: core.ephemeralsBySession(),
  };
}

/** Writes through a core and records the txns, as a log would. */
function writer(core: ServerCore) {
  const log: Txn[] = [];
  const session = core.createSession(30_000, T0);
  log.push(session.txn);
  core.apply(session.txn);
  let cxid = 0;
  const write = (opcode: number, request: unknown) => {
    const ctx = { sessionId: session.sessionId, cxid: ++cxid, authIds: [] };
    const txn = core.prepare(ctx, opcode, request, T0);
    log.push(txn);
    const reply = core.apply(txn);
    assert.equal(reply.err, 0, `${opcode}`);
    return txn;
  };
  const create = (path: string, flags = 0, acl = OPEN_ACL) =>
    write(OpCode.create, { path, data: Buffer.from(path), acl, flags });
  return { log, write, create, sessionId: session.sessionId };
}

/** Feeds a snapshot source, then txns, into a recovery target, as recovery does. */
function load(nodes: SnapshotNode[], source: SnapshotSource, txns: Txn[]): CoreRecoveryTarget {
  const target = new CoreRecoveryTarget(newCore(), T0 + 60_000, txnCodecFor);
  for (const session of source.sessions()) target.addSession(session);
  for (const entry of source.aclEntries()) target.addAcl(entry);
  for (const node of nodes) target.addNode(node);
  target.snapshotLoaded({ zxid: source.zxid, digest: source.digest?.() });
  for (const txn of txns) target.applyTxn(txn);
  return target;
}

describe('durable: core ⇄ persistence adapter', () => {
  it('yields the root as "", parents first, with copied stats', () => {
    const core = newCore();
    const { create, write } = writer(core);
    create('/a');
    create('/a/b');
    const nodes = [...iterate(coreSnapshotSource(core))];
    assert.equal(nodes[0].path, '');
    const paths = nodes.map((node) => node.path);
    assert.ok(paths.indexOf('/a') < paths.indexOf('/a/b'));
    write(OpCode.setData, { path: '/a', data: Buffer.from('changed'), version: -1 });
    const a = nodes.find((node) => node.path === '/a')!;
    assert.equal(a.stat.version, 0, 'a yielded node is a copy');
    assert.equal(a.data!.toString(), '/a');
  });

  it('rebuilds the same core from a fuzzy snapshot taken while creates land mid-walk', () => {
    const core = newCore();
    const { log, create, write } = writer(core);
    create('/p');
    create('/p/old');
    create('/q', 0, READ_ACL);
    const source = coreSnapshotSource(core);
    const snapshotTxns = log.length;
    const walk = source.nodes();
    const nodes: SnapshotNode[] = [];
    // Walk up to and including /p, then let writes land: the walk meets /p/new, not /p's new stat.
    for (let step = walk.next(); !step.done; step = walk.next()) {
      nodes.push(step.value);
      if (step.value.path === '/p') break;
    }
    create('/p/new');
    write(OpCode.setACL, { path: '/p/old', acl: READ_ACL, version: -1 });
    write(OpCode.delete, { path: '/q', version: -1 });
    for (let step = walk.next(); !step.done; step = walk.next()) nodes.push(step.value);
    assert.ok(nodes.some((node) => node.path === '/p/new'), 'the walk saw the new child');
    assert.equal(nodes.find((node) => node.path === '/p')!.stat.cversion, 1, 'but /p from before it');

    const target = load(nodes, source, log.slice(snapshotTxns));
    const { digestMatched } = target.finish();
    assert.deepEqual(describeCore(target.core), describeCore(core));
    assert.equal(digestMatched, true, 'the digest taken after the walk matches the replayed tree');
    assert.deepEqual(target.core.snapshot().acls, core.snapshot().acls, 'the same ACL cache, refs included');
  });

  it("compares a snapshot's digest only when replaying the txn of its zxid, as Apache does", () => {
    const core = newCore();
    const { log, create } = writer(core);
    create('/a');
    const source = coreSnapshotSource(core);
    const nodes = [...iterate(source)];
    const atLoad = source.digest!()!;
    assert.equal(atLoad.zxid, source.zxid, 'nothing landed during the walk: the digest is at the snapshot');
    // Apache's fuzzy snapshot can hold a tree ahead of a digest at its own zxid (a txn applied to the
    // tree before its digest is recorded): such a digest is never compared, at load or later.
    const ahead = { ...atLoad, digest: atLoad.digest ^ 1n };
    const loadedOnly = load(nodes, { ...source, digest: () => ahead }, []);
    assert.equal(loadedOnly.finish().digestMatched, undefined, 'not compared at load');
    const snapshotTxns = log.length;
    create('/b');
    const replayedPast = load(nodes, { ...source, digest: () => ahead }, log.slice(snapshotTxns));
    assert.equal(replayedPast.finish().digestMatched, undefined, 'no replayed txn has the digest zxid');
    // A digest taken after the walk, at a txn that replay applies, is compared then: right and wrong.
    const later = coreDigest(core);
    const matched = load(nodes, { ...source, digest: () => later }, log.slice(snapshotTxns));
    assert.equal(matched.finish().digestMatched, true);
    const wrong = { ...later, digest: later.digest ^ 1n };
    const mismatched = load(nodes, { ...source, digest: () => wrong }, log.slice(snapshotTxns));
    assert.equal(mismatched.finish().digestMatched, false);
  });

  it('restored ACL references keep counting: a new ACL gets a new ref, the same ACL the same one', () => {
    const core = newCore();
    const { create } = writer(core);
    create('/r', 0, READ_ACL);
    const source = coreSnapshotSource(core);
    const target = load([...iterate(source)], source, []);
    target.finish();
    const restored = writer(target.core);
    restored.create('/r2', 0, READ_ACL);
    restored.create('/w', 0, [{ perms: Perms.WRITE, id: { scheme: 'world', id: 'anyone' } }]);
    const refs = [...target.core.snapshot().nodes]
      .filter((node) => ['/r', '/r2', '/w'].includes(node.path))
      .map((node) => node.aclRef);
    assert.equal(refs[0], refs[1]);
    assert.ok(refs[2] > refs[0]);
  });

  it('replays a closeSession without a record (pre-3.6 logs) and drops orphaned ephemerals', () => {
    const core = newCore();
    const { create, sessionId } = writer(core);
    create('/e', 1);
    const source = coreSnapshotSource(core);
    const nodes = [...iterate(source)];
    const closeTxn: Txn = {
      header: {
        clientId: sessionId,
        cxid: 0,
        zxid: source.zxid + 1n,
        time: BigInt(T0),
        type: OpCode.closeSession,
      },
      record: null,
    };
    const replayed = load(nodes, source, [closeTxn]);
    replayed.finish();
    assert.equal(replayed.core.ephemeralsBySession().size, 0);
    assert.equal(replayed.core.sessions().length, 0);

    // A snapshot whose session list lacks an ephemeral's owner: the node goes at load, as in Apache.
    const orphaned = new CoreRecoveryTarget(newCore(), T0, txnCodecFor);
    for (const entry of source.aclEntries()) orphaned.addAcl(entry);
    for (const node of nodes) orphaned.addNode(node);
    orphaned.snapshotLoaded({ zxid: source.zxid, digest: undefined });
    orphaned.finish();
    assert.deepEqual(killOrphanEphemerals(orphaned.core), [sessionId]);
    const exists = orphaned.core.read({ sessionId: 0n, cxid: 1, authIds: [] }, OpCode.exists, { path: '/e' });
    assert.equal(exists.err, -101);
  });

  it('computes the digest of the whole tree at the last applied zxid', () => {
    const core = newCore();
    const { create } = writer(core);
    const empty = coreDigest(core);
    create('/x');
    const after = coreDigest(core);
    assert.equal(after.zxid, core.lastProcessedZxid);
    assert.notEqual(after.digest, empty.digest);
    assert.equal(coreSnapshotSource(core, { withDigest: false }).digest, undefined);
  });
});

function* iterate(source: SnapshotSource): Generator<SnapshotNode> {
  const walk = source.nodes();
  for (let step = walk.next(); !step.done; step = walk.next()) yield step.value;
}
