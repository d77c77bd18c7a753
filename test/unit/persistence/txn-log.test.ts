// Goal: the log writer's promises: group commit (many appends, few syncs), every append resolved only
// after a sync that covers its bytes, preallocation in steps, rolls, forceSync=no, and failures (disk
// full, I/O error on write or sync) failing the txns they touch, leaving no entry of a failed txn on
// disk, and refusing appends until resume(). Faults come from an injected file system.

import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { readLogFile } from '../../../server/persistence/recovery.js';
import { encodeLogEntry } from '../../../server/persistence/txn-format.js';
import { paddedFileSize, TxnLog } from '../../../server/persistence/txn-log.js';
import { TxnLogFailedError, type Txn } from '../../../server/persistence/types.js';
import { FaultFileSystem } from './fault-fs.js';
import { txns } from './memory-tree.js';

const setData = (zxid: number): Txn =>
  txns.setData(BigInt(zxid), '/counter', `value-${String(zxid).padStart(6, '0')}`, zxid);
const entryBytes = encodeLogEntry(setData(1)).length;

async function zxidsIn(directory: string): Promise<bigint[]> {
  const zxids: bigint[] = [];
  for (const name of (await readdir(directory)).filter((n) => n.startsWith('log.')).sort()) {
    await readLogFile(path.join(directory, name), (txn) => zxids.push(txn.header.zxid));
  }
  return zxids.sort((a, b) => (a < b ? -1 : 1));
}

describe('transaction log writer', () => {
  let directory: string;
  beforeEach(async () => {
    directory = await mkdtemp(path.join(tmpdir(), 'menagerie-txnlog-'));
  });
  afterEach(async () => {
    await rm(directory, { recursive: true, force: true });
  });

  it('pads files as Apache FilePadding does', () => {
    const mb64 = 64 * 1024 * 1024;
    assert.equal(paddedFileSize(16, 0, mb64), mb64);
    assert.equal(paddedFileSize(1000, mb64, mb64), mb64);
    assert.equal(paddedFileSize(mb64 - 100, mb64, mb64), 2 * mb64);
    assert.equal(paddedFileSize(3 * mb64 + 5, mb64, mb64), 4 * mb64);
    assert.equal(paddedFileSize(100, 0, 0), 0);
  });

  it('batches: many appends take few syncs; each resolves only after a sync covering it', async () => {
    const fileSystem = new FaultFileSystem();
    await using log = await TxnLog.open({ directory, fileSystem, preAllocBytes: 64 * 1024 });
    const resolvedAt: Array<{ zxid: number; coveredEnd: number }> = [];
    const appends = [];
    for (let zxid = 1; zxid <= 300; zxid++) {
      appends.push(
        log.append(setData(zxid)).then(() => {
          const last = fileSystem.syncedEnds.at(-1);
          resolvedAt.push({ zxid, coveredEnd: last?.end ?? 0 });
        }),
      );
    }
    await Promise.all(appends);
    assert.ok(
      fileSystem.datasyncs >= 1 && fileSystem.datasyncs <= 5,
      `${fileSystem.datasyncs} syncs for 300 appends`,
    );
    assert.equal(log.stats.txns, 300);
    for (const { zxid, coveredEnd } of resolvedAt) {
      assert.ok(coveredEnd >= 16 + zxid * entryBytes, `txn ${zxid} resolved before a sync covered its bytes`);
    }
    assert.deepEqual(
      resolvedAt.map((r) => r.zxid),
      [...Array(300).keys()].map((i) => i + 1),
      'resolved in order',
    );
    assert.equal((await stat(path.join(directory, 'log.1'))).size, 64 * 1024, 'preallocated');
    assert.equal((await zxidsIn(directory)).length, 300);
  });

  it('one sync covers everything that arrived while the previous sync ran', async () => {
    const fileSystem = new FaultFileSystem();
    await using log = await TxnLog.open({ directory, fileSystem });
    const first = log.append(setData(1));
    // A turn later the first batch is being synced (or is synced): these go into the next batch.
    await new Promise((resolve) => setImmediate(resolve));
    const rest = [2, 3, 4, 5].map((zxid) => log.append(setData(zxid)));
    await Promise.all([first, ...rest]);
    assert.equal(fileSystem.datasyncs, 2);
    // Sequential appends each wait for their own sync.
    for (let zxid = 6; zxid <= 8; zxid++) await log.append(setData(zxid));
    assert.equal(fileSystem.datasyncs, 5);
    // Appends made in one turn (requests from one socket read) share one sync.
    await Promise.all([9, 10, 11, 12].map((zxid) => log.append(setData(zxid))));
    assert.equal(fileSystem.datasyncs, 6);
  });

  it('rolls to a new file named by its first zxid', async () => {
    await using log = await TxnLog.open({ directory, preAllocBytes: 4096 });
    await Promise.all([1, 2, 3].map((zxid) => log.append(setData(zxid))));
    const beforeRoll = log.append(setData(4));
    log.roll();
    const afterRoll = log.append(setData(5));
    await Promise.all([beforeRoll, afterRoll]);
    assert.deepEqual((await readdir(directory)).sort(), ['log.1', 'log.5']);
    assert.deepEqual(await zxidsIn(directory), [1n, 2n, 3n, 4n, 5n]);
  });

  it('forceSync=no skips the sync and says so', async () => {
    const fileSystem = new FaultFileSystem();
    const warnings: string[] = [];
    await using log = await TxnLog.open({
      directory,
      fileSystem,
      forceSync: false,
      logger: { info() {}, warn: (m) => warnings.push(m), error() {} },
    });
    await Promise.all([1, 2, 3].map((zxid) => log.append(setData(zxid))));
    assert.equal(fileSystem.datasyncs, 0);
    assert.match(warnings.join('\n'), /forceSync=no/);
  });

  for (const fault of [
    { op: 'write', code: 'ENOSPC' },
    { op: 'datasync', code: 'EIO' },
    { op: 'truncate', code: 'ENOSPC' },
  ] as const) {
    const title =
      `a failed ${fault.op} (${fault.code}) fails its txns, leaves none on disk, ` +
      'refuses appends until resumed';
    it(title, async () => {
      const fileSystem = new FaultFileSystem();
      fileSystem.partialWriteBytes = 7;
      // Steps smaller than 4 KiB make every write extend the file, so the truncate fault always fires.
      const log = await TxnLog.open({ directory, fileSystem, preAllocBytes: 1024 });
      try {
        for (let zxid = 1; zxid <= 3; zxid++) await log.append(setData(zxid));
        fileSystem.fault = fault;
        const failing = [];
        for (let zxid = 4; zxid <= 80; zxid++) failing.push(log.append(setData(zxid)));
        const results = await Promise.allSettled(failing);
        for (const r of results)
          assert.ok(
            r.status === 'rejected' && r.reason instanceof TxnLogFailedError,
            String((r as PromiseRejectedResult).reason ?? r.status),
          );
        assert.ok(log.failed);
        await assert.rejects(log.append(setData(81)), TxnLogFailedError);
        assert.deepEqual(await zxidsIn(directory), [1n, 2n, 3n], 'no entry of a failed txn can replay');
        fileSystem.fault = null;
        await log.resume();
        await log.append(setData(81));
        assert.deepEqual(await zxidsIn(directory), [1n, 2n, 3n, 81n]);
      } finally {
        await log.close();
      }
    });
  }

  it('rejects appends after close', async () => {
    const log = await TxnLog.open({ directory });
    await log.close();
    await log.close();
    await assert.rejects(log.append(setData(1)), /closed/);
  });
});
