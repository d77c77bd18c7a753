// Goal: a snapshot taken in the background while transactions keep being applied (fuzzy, as Apache's)
// plus the log after its zxid recovers exactly the live tree; a node given a brand-new ACL during the
// walk still finds its ACL in the snapshot; the snapshot is written under a temporary name first.

import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Persistence } from '../../../server/persistence/persistence.js';
import { recover } from '../../../server/persistence/recovery.js';
import { loadNewestSnapshot, writeSnapshot } from '../../../server/persistence/snapshot-files.js';
import { TxnLogFailedError, type Txn } from '../../../server/persistence/types.js';
import { FaultFileSystem } from './fault-fs.js';
import { MemoryTree, txns } from './memory-tree.js';

const SECRET_ACL = [{ perms: 31, id: { scheme: 'digest', id: 'late:Jq7wMyA/w2Vd5WIDAKdu4OIIFEQ=' } }];

describe('fuzzy snapshots', () => {
  let dataDir: string;
  beforeEach(async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), 'menagerie-snapshot-'));
  });
  afterEach(async () => {
    await rm(dataDir, { recursive: true, force: true });
  });

  it('a snapshot written while txns apply, plus the log, recovers the live tree', async () => {
    const tree = MemoryTree.initial();
    await using persistence = await Persistence.open({ dataDir, preAllocBytes: 64 * 1024 });
    let zxid = 0n;
    const commit = async (make: (zxid: bigint) => Txn) => {
      const txn = make(++zxid);
      await persistence.persist(txn);
      tree.applyTxn(txn);
    };
    await commit((z) => txns.createSession(z, 0x77n));
    for (let i = 0; i < 300; i++) await commit((z) => txns.create(z, `/n${i}`, `data ${i}`, i + 1));
    await commit((z) => txns.create(z, '/z', 'last top-level node', 301));

    // Small chunks: the walk yields to the event loop every few nodes while writes go on.
    const snapshotting = writeSnapshot(tree, {
      directory: persistence.snapshotDirectory,
      chunkBytes: 256,
      sync: false,
    });
    const snapshotZxid = zxid;
    // Applied in this turn: the writer has taken the ACL cache but not yet walked to /z.
    const late = txns.create(++zxid, '/z/late', 'created during the walk', 1, { acl: SECRET_ACL });
    tree.applyTxn(late);
    await persistence.persist(late);
    for (let i = 0; i < 50; i++) {
      await commit((z) => txns.setData(z, `/n${i * 5}`, `changed ${i}`, 1));
      await commit((z) => txns.delete(z, `/n${i * 5 + 1}`));
      await commit((z) => txns.create(z, `/fresh${i}`, 'new', 302 + i));
    }
    await commit((z) => txns.create(z, `/e`, 'ephemeral', 400, { ephemeralOwner: 0x77n }));
    const written = await snapshotting;
    assert.equal(written.zxid, snapshotZxid);
    assert.equal(
      written.lateAclRefs,
      1,
      'the node created with a new ACL during the walk made the writer rewrite',
    );
    assert.deepEqual(
      (await readdir(persistence.snapshotDirectory)).filter((n) => n.startsWith('tmp.')),
      [],
    );

    const snapshotOnly = await loadNewestSnapshot(persistence.snapshotDirectory, () => new MemoryTree());
    assert.deepEqual(
      snapshotOnly?.target.aclOf('/z/late'),
      SECRET_ACL,
      'the snapshot alone resolves the late ACL',
    );

    await persistence.close();
    const recovered = await recover({ dataDir }, () => new MemoryTree());
    assert.equal(recovered.snapshot?.zxid, snapshotZxid);
    assert.equal(recovered.lastZxid, zxid);
    assert.equal(recovered.target.describe(), tree.describe());
  });

  it('a full disk fails persist; after resume() the data dir holds exactly the durable txns', async () => {
    const fileSystem = new FaultFileSystem();
    const tree = MemoryTree.initial();
    const persistence = await Persistence.open({ dataDir, fileSystem, preAllocBytes: 1024 });
    try {
      await persistence.snapshot(tree);
      const commit = async (txn: Txn) => {
        await persistence.persist(txn);
        tree.applyTxn(txn);
      };
      await commit(txns.create(1n, '/kept', 'durable', 1));
      fileSystem.fault = { op: 'write', code: 'ENOSPC', file: /log\./ };
      await assert.rejects(commit(txns.create(2n, '/lost', 'never acknowledged', 2)), TxnLogFailedError);
      await assert.rejects(commit(txns.create(3n, '/lost2', 'refused while failed', 2)), TxnLogFailedError);
      // Resuming only needs a truncate; with the disk still full the next append fails again.
      await persistence.resume();
      await assert.rejects(commit(txns.create(2n, '/lost', 'still full', 2)), TxnLogFailedError);
      fileSystem.fault = null;
      await persistence.resume();
      await commit(txns.create(2n, '/after', 'space returned', 2));
    } finally {
      await persistence.close();
    }
    const recovered = await recover({ dataDir }, () => new MemoryTree());
    assert.equal(recovered.target.describe(), tree.describe());
    assert.equal(recovered.target.node('/lost'), undefined);
  });

  it('takes a background snapshot after a randomised snapCount and rolls the log', async () => {
    const tree = MemoryTree.initial();
    const persistence = await Persistence.open({
      dataDir,
      snapCount: 10,
      random: () => 0,
      preAllocBytes: 4096,
      snapshotSource: () => tree,
    });
    try {
      for (let zxid = 1n; zxid <= 14n; zxid++) {
        const txn = txns.create(zxid, `/k${zxid}`, 'x', Number(zxid));
        await persistence.persist(txn);
        tree.applyTxn(txn);
      }
      await persistence.snapshotDone();
    } finally {
      await persistence.close();
    }
    const names = (await readdir(path.join(dataDir, 'version-2'))).sort();
    // random 0: more than snapCount/2 = 5 txns since the roll → the 6th txn rolls; 12th again.
    assert.deepEqual(names, ['log.1', 'log.7', 'log.d', 'snapshot.5', 'snapshot.b']);
  });
});
