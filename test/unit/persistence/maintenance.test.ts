// Goal: the maintenance pieces behave as Apache's: purge keeps the N newest snapshots and the logs
// they need, epoch files are decimal text written atomically, snapCount is randomised within
// (snapCount/2, snapCount], gzip snapshots are read, and the dumps describe logs (torn ones too).

import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { dumpLog, formatTxn } from '../../../server/persistence/dump.js';
import {
  ACCEPTED_EPOCH_FILE,
  parseEpoch,
  readEpochFile,
  writeEpochFile,
} from '../../../server/persistence/epoch-files.js';
import { planPurge, purge } from '../../../server/persistence/purge.js';
import { recover } from '../../../server/persistence/recovery.js';
import { loadNewestSnapshot, writeSnapshot } from '../../../server/persistence/snapshot-files.js';
import { SnapshotSchedule } from '../../../server/persistence/snapshot-schedule.js';
import { encodeLogEntry, encodeLogFileHeader } from '../../../server/persistence/txn-format.js';
import { MemoryTree, txns } from './memory-tree.js';

describe('persistence maintenance', () => {
  let dataDir: string;
  let versionDir: string;
  beforeEach(async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), 'menagerie-maintenance-'));
    versionDir = path.join(dataDir, 'version-2');
    await mkdir(versionDir);
  });
  afterEach(async () => {
    await rm(dataDir, { recursive: true, force: true });
  });

  it('plans a purge as PurgeTxnLog: N newest snapshots, the logs from the oldest kept one on', () => {
    const snapshots = ['snapshot.10', 'snapshot.20', 'snapshot.30', 'snapshot.40', 'snapshot.50'];
    const logs = ['log.1', 'log.15', 'log.25', 'log.35', 'log.45'];
    const plan = planPurge([...snapshots, 'zoo.cfg', 'tmp.snapshot.60'], logs, 3);
    assert.deepEqual(plan.keptSnapshots, ['snapshot.50', 'snapshot.40', 'snapshot.30']);
    assert.deepEqual(plan.deletedSnapshots, ['snapshot.20', 'snapshot.10']);
    assert.deepEqual(plan.keptLogs, ['log.25', 'log.35', 'log.45']);
    assert.deepEqual(plan.deletedLogs, ['log.1', 'log.15']);
    assert.throws(() => planPurge(snapshots, logs, 2), /at least 3/);
    assert.deepEqual(planPurge([], logs, 3).deletedLogs, []);
  });

  it('purges files and the data dir still recovers', async () => {
    const tree = MemoryTree.initial();
    let log = [encodeLogFileHeader()];
    for (let zxid = 1n; zxid <= 12n; zxid++) {
      const txn = txns.create(zxid, `/n${zxid}`, 'x', Number(zxid));
      tree.applyTxn(txn);
      log.push(encodeLogEntry(txn));
      if (zxid % 3n === 0n) {
        await writeFile(path.join(versionDir, `log.${(zxid - 2n).toString(16)}`), Buffer.concat(log));
        log = [encodeLogFileHeader()];
        await writeSnapshot(tree, { directory: versionDir, sync: false });
      }
    }
    const plan = await purge(dataDir, dataDir, 3);
    assert.deepEqual(plan.deletedSnapshots, ['snapshot.3']);
    assert.deepEqual(
      (await readdir(versionDir)).sort(),
      ['log.a', 'log.7', 'log.4', 'snapshot.6', 'snapshot.9', 'snapshot.c'].sort(),
    );
    const recovered = await recover({ dataDir }, () => new MemoryTree());
    assert.equal(recovered.target.describe(), tree.describe());
  });

  it('reads and writes epoch files as decimal text, atomically', async () => {
    assert.equal(await readEpochFile(versionDir, ACCEPTED_EPOCH_FILE), undefined);
    await writeEpochFile(versionDir, ACCEPTED_EPOCH_FILE, 42n);
    assert.equal(await readFile(path.join(versionDir, ACCEPTED_EPOCH_FILE), 'utf8'), '42');
    assert.equal(await readEpochFile(versionDir, ACCEPTED_EPOCH_FILE), 42n);
    assert.deepEqual((await readdir(versionDir)).sort(), [ACCEPTED_EPOCH_FILE]);
    assert.equal(parseEpoch('7\n', 'f'), 7n);
    assert.throws(() => parseEpoch('seven', '/d/currentEpoch'), /\/d\/currentEpoch: found "seven"/);
  });

  it('randomises snapCount as Apache: more than snapCount/2 + r txns, r in [0, snapCount/2)', () => {
    const low = new SnapshotSchedule({ snapCount: 100_000, random: () => 0 });
    assert.equal(low.due(50_000, 0), false);
    assert.equal(low.due(50_001, 0), true);
    const high = new SnapshotSchedule({ snapCount: 100_000, random: () => 0.99999999 });
    assert.equal(high.due(99_999, 0), false);
    assert.equal(high.due(100_000, 0), true);
    const bySize = new SnapshotSchedule({ snapCount: 100, snapSizeBytes: 1000, random: () => 0 });
    assert.equal(bySize.due(1, 501), true);
  });

  it('reads a gzip snapshot as SnapStream does', async () => {
    const tree = MemoryTree.initial();
    tree.applyTxn(txns.create(1n, '/zipped', 'yes', 1));
    const written = await writeSnapshot(tree, { directory: versionDir, sync: false });
    const plain = await readFile(path.join(versionDir, written.file));
    await rm(path.join(versionDir, written.file));
    await writeFile(path.join(versionDir, `${written.file}.gz`), gzipSync(plain));
    const loaded = await loadNewestSnapshot(versionDir, () => new MemoryTree());
    assert.equal(loaded?.target.node('/zipped')?.data?.toString(), 'yes');
  });

  it('dumps a log line per txn and says where a torn log ends', async () => {
    const entries = [txns.createSession(1n, 0xabcn), txns.create(2n, '/x', 'data', 1)];
    const bytes = Buffer.concat([encodeLogFileHeader(), ...entries.map((t) => encodeLogEntry(t))]);
    await writeFile(path.join(versionDir, 'log.1'), bytes.subarray(0, bytes.length - 3));
    const lines: string[] = [];
    for await (const line of dumpLog(path.join(versionDir, 'log.1'))) lines.push(line);
    assert.equal(lines.length, 3);
    assert.match(lines[1], /session 0xabc cxid 0x1 zxid 0x1 createSession CreateSessionTxn\{timeOut=30000\}/);
    assert.match(lines[2], /torn tail at offset \d+ after 1 txns/);
    assert.match(formatTxn(entries[1]), /zxid 0x2 create CreateTxn\{path="\/x"/);
  });
});
