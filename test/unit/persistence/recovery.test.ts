// Goal: recovery loads the newest snapshot that verifies, replays the right logs after it, cuts a
// torn tail (tested at every byte offset of the last entry, with EOF, zeros or junk after the cut)
// so it never replays, refuses damage in the middle of a log, falls back from a corrupt snapshot,
// and names the file in every error. Data dirs are built with our writer and a test tree.

import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { recover } from '../../../server/persistence/recovery.js';
import { writeSnapshot } from '../../../server/persistence/snapshot-files.js';
import { encodeLogEntry, encodeLogFileHeader } from '../../../server/persistence/txn-format.js';
import { TxnLog } from '../../../server/persistence/txn-log.js';
import {
  CorruptLogError,
  CorruptSnapshotError,
  PersistenceError,
  UnsupportedFormatError,
  type Txn,
} from '../../../server/persistence/types.js';
import { MemoryTree, txns } from './memory-tree.js';

const history = (): Txn[] => [
  txns.createSession(1n, 0x1000n),
  txns.create(2n, '/app', 'config', 1),
  txns.create(3n, '/app/lock-0000000000', 'me', 1, { ephemeralOwner: 0x1000n }),
  txns.setData(4n, '/app', 'config-2', 1),
  txns.create(5n, '/app/last', 'the torn one', 2),
];

describe('recovery', () => {
  let dataDir: string;
  let versionDir: string;
  beforeEach(async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), 'menagerie-recovery-'));
    versionDir = path.join(dataDir, 'version-2');
    await mkdir(versionDir);
  });
  afterEach(async () => {
    await rm(dataDir, { recursive: true, force: true });
  });

  async function writeLog(entries: Txn[], name = 'log.1'): Promise<{ bytes: Buffer; starts: number[] }> {
    const parts = [encodeLogFileHeader()];
    const starts: number[] = [];
    let offset = parts[0].length;
    for (const txn of entries) {
      const entry = encodeLogEntry(txn);
      starts.push(offset);
      offset += entry.length;
      parts.push(entry);
    }
    const bytes = Buffer.concat(parts);
    await writeFile(path.join(versionDir, name), bytes);
    return { bytes, starts };
  }

  const load = () => recover({ dataDir }, () => new MemoryTree());

  it('replays the log after the snapshot into the tree', async () => {
    await writeSnapshot(MemoryTree.initial(), { directory: versionDir, sync: false });
    await writeFile(path.join(versionDir, 'tmp.snapshot.9'), 'a snapshot a crash interrupted');
    await writeLog(history());
    const recovered = await load();
    assert.equal(recovered.lastZxid, 5n);
    assert.equal(recovered.txnsReplayed, 5);
    assert.equal(recovered.tornTail, undefined);
    const tree = recovered.target;
    assert.equal(tree.node('/app')?.data?.toString(), 'config-2');
    assert.equal(tree.node('/app/lock-0000000000')?.stat.ephemeralOwner, 0x1000n);
    assert.equal(tree.sessionTimeouts.get(0x1000n), 30_000);
    assert.deepEqual(
      (await readdir(versionDir)).sort(),
      ['log.1', 'snapshot.0'],
      'the unfinished snapshot is removed',
    );
  });

  it('cuts a torn tail at every byte offset of the last entry, whatever follows the cut', async () => {
    const { bytes, starts } = await writeLog(history());
    const lastStart = starts.at(-1)!;
    let cases = 0;
    await writeSnapshot(MemoryTree.initial(), { directory: versionDir, sync: false });
    for (let cut = lastStart; cut < bytes.length; cut++) {
      for (const after of ['eof', 'zeros', 'junk'] as const) {
        const tail = after === 'eof' ? Buffer.alloc(0) : Buffer.alloc(4096, after === 'zeros' ? 0 : 0xab);
        await writeFile(path.join(versionDir, 'log.1'), Buffer.concat([bytes.subarray(0, cut), tail]));
        const where = `cut at ${cut}, then ${after}`;
        if (process.env.DEBUG_TORN) console.log(where);
        const recovered = await load();
        assert.equal(recovered.lastZxid, 4n, where);
        assert.equal(recovered.target.node('/app/last'), undefined, where);
        // The checksum's top four bytes are zero, so a cut within them followed by zeros is a clean end.
        const clean = bytes.subarray(lastStart, cut).every((b) => b === 0) && after !== 'junk';
        assert.equal(recovered.tornTail?.offset, clean ? undefined : lastStart, where);
        if (!clean) assert.equal((await stat(path.join(versionDir, 'log.1'))).size, lastStart, where);
        const again = await load();
        assert.equal(again.tornTail, undefined, `${where}: the cut tail stays cut`);
        assert.equal(again.lastZxid, 4n, where);
        cases++;
      }
    }
    assert.ok(cases > 100);
  });

  it('takes a bad checksum in the last entry as a torn tail, in the middle as an error', async () => {
    await writeSnapshot(MemoryTree.initial(), { directory: versionDir, sync: false });
    const { bytes, starts } = await writeLog(history());
    const last = Buffer.from(bytes);
    last[starts[4] + 30] ^= 0xff;
    await writeFile(path.join(versionDir, 'log.1'), last);
    const recovered = await load();
    assert.equal(recovered.lastZxid, 4n);
    assert.match(recovered.tornTail!.reason, /checksum/);

    const middle = Buffer.from(bytes);
    middle[starts[1] + 30] ^= 0xff;
    await writeFile(path.join(versionDir, 'log.1'), middle);
    await assert.rejects(load(), (error: Error) => {
      assert.ok(error instanceof CorruptLogError);
      assert.match(error.message, /log\.1: checksum mismatch in the entry at offset \d+/);
      return true;
    });
  });

  it('sets aside logs after a torn one (they hold only unacknowledged txns)', async () => {
    await writeSnapshot(MemoryTree.initial(), { directory: versionDir, sync: false });
    const { bytes, starts } = await writeLog(history().slice(0, 3));
    await writeFile(path.join(versionDir, 'log.1'), bytes.subarray(0, starts[2] + 10));
    await writeLog(history().slice(3), 'log.4');
    const recovered = await load();
    assert.equal(recovered.lastZxid, 2n);
    assert.deepEqual(recovered.discardedLogs, ['log.4']);
    assert.deepEqual((await readdir(versionDir)).sort(), ['discarded.log.4', 'log.1', 'snapshot.0']);
  });

  it('sets aside a last log holding only its header, so the next append can take its name', async () => {
    await writeSnapshot(MemoryTree.initial(), { directory: versionDir, sync: false });
    await writeLog(history().slice(0, 2), 'log.1');
    await writeFile(
      path.join(versionDir, 'log.3'),
      Buffer.concat([encodeLogFileHeader(), Buffer.alloc(4096)]),
    );
    const recovered = await load();
    assert.equal(recovered.lastZxid, 2n);
    await using log = await TxnLog.open({ directory: versionDir, preAllocBytes: 4096 });
    await log.append(history()[2]);
    assert.deepEqual((await readdir(versionDir)).sort(), ['discarded.log.3', 'log.1', 'log.3', 'snapshot.0']);
    assert.equal((await load()).lastZxid, 3n);
  });

  it('replays from the newest log starting at or before the snapshot, skipping older txns', async () => {
    const tree = MemoryTree.initial();
    for (const txn of history().slice(0, 3)) tree.applyTxn(txn);
    await writeSnapshot(tree, { directory: versionDir, sync: false });
    await writeLog(history().slice(0, 2), 'log.1');
    await writeLog(history().slice(2), 'log.3');
    await writeFile(path.join(versionDir, 'log.0'), 'not even read');
    const recovered = await load();
    assert.equal(recovered.snapshot?.zxid, 3n);
    assert.equal(recovered.txnsReplayed, 2);
    assert.equal(recovered.target.node('/app/last')?.data?.toString(), 'the torn one');
  });

  it('falls back to an older snapshot when the newest fails its checksum or seal', async () => {
    const tree = MemoryTree.initial();
    await writeSnapshot(tree, { directory: versionDir, sync: false });
    for (const txn of history()) tree.applyTxn(txn);
    await writeSnapshot(tree, { directory: versionDir, sync: false });
    await writeLog(history());
    const newest = path.join(versionDir, 'snapshot.5');
    const good = await readFile(newest);
    for (const damage of ['flip', 'cut', 'seal'] as const) {
      const bad = Buffer.from(good);
      if (damage === 'flip') bad[60] ^= 0x20;
      if (damage === 'seal') bad[bad.length - 1] = 0x41;
      await writeFile(newest, damage === 'cut' ? bad.subarray(0, bad.length - 9) : bad);
      const recovered = await load();
      assert.equal(recovered.snapshot?.zxid, 0n, damage);
      assert.deepEqual(recovered.skippedSnapshots, [newest], damage);
      assert.equal(recovered.lastZxid, 5n, `${damage}: the log brings the tree forward again`);
      assert.equal(recovered.target.describe(), tree.describe(), damage);
    }
    await writeFile(newest, Buffer.alloc(good.length));
    assert.equal((await load()).snapshot?.zxid, 0n, 'a snapshot of zeros is damage, not an unknown format');
    await writeFile(path.join(versionDir, 'snapshot.0'), Buffer.from('ZKSN garbage'));
    await assert.rejects(
      load(),
      (error: Error) =>
        error instanceof CorruptSnapshotError && /none of the 2 snapshots/.test(error.message),
    );
  });

  it('refuses a snapshot or log of an unknown format, naming the file', async () => {
    await writeSnapshot(MemoryTree.initial(), { directory: versionDir, sync: false });
    const snapshot = await readFile(path.join(versionDir, 'snapshot.0'));
    snapshot.writeInt32BE(3, 4);
    await writeFile(path.join(versionDir, 'snapshot.0'), snapshot);
    await assert.rejects(
      load(),
      (e: Error) =>
        e instanceof UnsupportedFormatError && /snapshot\.0: unsupported snapshot version 3/.test(e.message),
    );
    await writeSnapshot(MemoryTree.initial(), { directory: versionDir, sync: false });
    const { bytes } = await writeLog(history());
    bytes.writeInt32BE(0x12345678, 0);
    await writeFile(path.join(versionDir, 'log.1'), bytes);
    await assert.rejects(
      load(),
      (e: Error) => e instanceof UnsupportedFormatError && /log\.1: not a transaction log/.test(e.message),
    );
  });

  it('refuses logs without a snapshot unless told to trust an empty snapshot', async () => {
    await writeLog(history());
    await assert.rejects(
      load(),
      (e: Error) => e instanceof PersistenceError && /no snapshot found/.test(e.message),
    );
    const trusted = await recover({ dataDir, trustEmptySnapshot: true }, () => MemoryTree.initial());
    assert.equal(trusted.lastZxid, 5n);
    assert.equal(trusted.snapshot, undefined);
  });

  it('starts empty on an empty data dir, and reads logs from a separate dataLogDir', async () => {
    const empty = await load();
    assert.equal(empty.snapshot, undefined);
    assert.equal(empty.lastZxid, 0n);
    const dataLogDir = path.join(dataDir, 'logs');
    await writeSnapshot(MemoryTree.initial(), { directory: versionDir, sync: false });
    {
      await using log = await TxnLog.open({
        directory: path.join(dataLogDir, 'version-2'),
        preAllocBytes: 4096,
      });
      await Promise.all(history().map((txn) => log.append(txn)));
    }
    const recovered = await recover({ dataDir, dataLogDir }, () => new MemoryTree());
    assert.equal(recovered.lastZxid, 5n);
  });
});
