// Goal: the `zk-server purge | dump-log | dump-snapshot` functions work on a data dir a DurableStore
// wrote: purge keeps the newest N snapshots and the logs they need, the dumps print every txn and
// node, and a missing file is an error naming it; autopurge runs at open when configured.

import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { OpCode, Perms } from '../../../src/protocol/index.js';
import { DurableStore, dumpLog, dumpSnapshot, purge } from '../../../server/durable/index.js';
import { PersistenceError } from '../../../server/persistence/types.js';

const T0 = 1_700_000_000_000;
const OPEN_ACL = [{ perms: Perms.ALL, id: { scheme: 'world', id: 'anyone' } }];

describe('durable: file tools', function () {
  this.timeout(20_000);
  let dataDir: string;
  const open = (extra = {}) =>
    DurableStore.open({
      dataDir,
      core: { tickTimeMs: 2000, minSessionTimeoutMs: 4000, maxSessionTimeoutMs: 40_000, startTimeMs: T0 },
      forceSync: false,
      preAllocBytes: 4096,
      ...extra,
    });

  /** Five start/write/stop cycles (a session and a create each): five snapshots and five logs. */
  async function history(): Promise<void> {
    for (let round = 0; round < 5; round++) {
      await using store = await open();
      const session = store.core.createSession(10_000, T0);
      await store.persister.persist(session.txn);
      store.core.apply(session.txn);
      const txn = store.core.prepare(
        { sessionId: session.sessionId, cxid: 1, authIds: [] },
        OpCode.create,
        { path: `/round-${round}`, data: Buffer.from(`r${round}`), acl: OPEN_ACL, flags: 0 },
        T0,
      );
      await store.persister.persist(txn);
      assert.equal(store.core.apply(txn).err, 0);
    }
  }

  beforeEach(async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), 'menagerie-durable-tools-'));
  });
  afterEach(async () => {
    await rm(dataDir, { recursive: true, force: true });
  });

  it('purge keeps the newest 3 snapshots and the logs needed after the oldest of them', async () => {
    await history();
    const versionDir = path.join(dataDir, 'version-2');
    assert.deepEqual((await readdir(versionDir)).sort(), [
      'log.1', 'log.3', 'log.5', 'log.7', 'log.9',
      'snapshot.0', 'snapshot.2', 'snapshot.4', 'snapshot.6', 'snapshot.8',
    ]);
    const lines = await purge(dataDir, dataDir, 3);
    assert.deepEqual((await readdir(versionDir)).sort(), [
      'log.3', 'log.5', 'log.7', 'log.9', 'snapshot.4', 'snapshot.6', 'snapshot.8',
    ]);
    assert.ok(lines.includes(`Removing file: ${path.join(versionDir, 'snapshot.0')}`), lines.join('\n'));
    assert.match(lines[lines.length - 1], /kept 3 snapshots and 4 logs, deleted 2 snapshots and 1 logs/);
    await assert.rejects(purge(dataDir, dataDir, 2), /at least 3/);
    // What is left still recovers everything.
    await using store = await open();
    const ctx = { sessionId: 0n, cxid: 1, authIds: [] };
    const exists = store.core.read(ctx, OpCode.exists, { path: '/round-0' });
    assert.equal(exists.err, 0);
  });

  it('autopurge runs at open', async () => {
    await history();
    const store = await open({ autopurgeIntervalMs: 3_600_000, autopurgeSnapRetainCount: 3 });
    await store.close();
    const names = await readdir(path.join(dataDir, 'version-2'));
    const snapshots = names.filter((name) => name.startsWith('snapshot.'));
    // The sixth start wrote snapshot.a first, then autopurge kept three.
    assert.deepEqual(snapshots.sort(), ['snapshot.6', 'snapshot.8', 'snapshot.a']);
  });

  it('dump-log and dump-snapshot print every txn and node', async () => {
    await history();
    const versionDir = path.join(dataDir, 'version-2');
    const log = await dumpLog(path.join(versionDir, 'log.5'));
    assert.match(log[0], /transaction log log\.5/);
    assert.match(log.join('\n'), /zxid 0x5 createSession .*\n.*zxid 0x6 create CreateTxn\{path="\/round-2"/);
    assert.match(log[log.length - 1], /end of log .* after 2 txns/);
    const snapshot = await dumpSnapshot(path.join(versionDir, 'snapshot.8'));
    const text = snapshot.join('\n');
    for (let round = 0; round < 4; round++) assert.ok(text.includes(`\n/round-${round}\n`), text);
    assert.match(text, /Digest: zxid 0x8, version 2/);
  });

  it('a missing file is an error naming it', async () => {
    const missing = path.join(dataDir, 'version-2', 'log.99');
    await assert.rejects(dumpLog(missing), (error: Error) => {
      assert.ok(error instanceof PersistenceError);
      assert.equal(error.message, `${missing}: no such file`);
      return true;
    });
    await assert.rejects(dumpSnapshot(path.join(dataDir, 'snapshot.1')), /snapshot\.1/);
  });
});
