// Goal: zk-server on a damaged or odd data dir behaves exactly as checked here, next to what Apache 3.8
// does with the same files: a log cut mid-record (both serve what came before the cut), garbage after
// the last record (Apache refuses to start; we cut it, a documented divergence), a snapshot newer than
// the end of the log (both serve the snapshot and continue after its zxid, never reusing a zxid), a
// log of a later epoch than the snapshot (both replay it and continue in that epoch), and a dataDir that
// does not exist yet (both create it).

import assert from 'node:assert/strict';
import { cp, mkdtemp, open, readdir, readFile, rm, stat } from 'node:fs/promises';
import { truncate, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DurableSeams } from '../../../server/durable/index.js';
import { readLogFile } from '../../../server/persistence/recovery.js';
import { encodeLogEntry, encodeLogFileHeader } from '../../../server/persistence/txn-format.js';
import type { Txn } from '../../../server/persistence/types.js';
import { startServer } from '../../../server/standalone.js';
import { create, getChildren, ok } from '../../conformance/ops.js';
import { apacheAvailable, startApache } from '../../support/apache.js';
import { RawClient } from '../../support/raw-client.js';
import { startServerProcess } from '../../support/servers.js';

const NODES = ['a', 'b', 'c', 'd'];

/** A data dir our server wrote: a session, then /a../d, one txn each; `restarts` more clean starts. */
async function writeDataDir(dataDir: string, restarts = 0): Promise<void> {
  {
    await using durable = new DurableSeams({ dataDir });
    await using server = await startServer({ recover: durable.recover, persister: durable.persister });
    const client = await RawClient.connect(server.port);
    for (const name of NODES) ok(await create(client, `/${name}`, Buffer.from(name)));
    client.connection.destroy(); // no closeSession: the create of /d is the last record
  }
  for (let i = 0; i < restarts; i++) {
    // Each start writes a clean snapshot at the last zxid, as Apache's does.
    await using durable = new DurableSeams({ dataDir });
    await using server = await startServer({ recover: durable.recover, persister: durable.persister });
    void server;
  }
}

const versionDir = (dataDir: string) => path.join(dataDir, 'version-2');

/** Offsets of each entry of a log file, and where its last entry ends. */
async function entriesOf(file: string): Promise<{ offsets: number[]; txns: Txn[]; end: number }> {
  const offsets: number[] = [];
  const txns: Txn[] = [];
  const end = await readLogFile(file, (txn, offset) => {
    offsets.push(offset);
    txns.push(txn);
  });
  return { offsets, txns, end: end.offset };
}

interface Served {
  children: string[];
  /** zxid of a write made after the start. */
  nextZxid: bigint;
}

async function probe(port: number): Promise<Served> {
  await using client = await RawClient.connect(port);
  const listed = ok(await getChildren(client, '/')).children as string[];
  const children = listed.filter((child) => child !== 'zookeeper');
  const write = await create(client, '/after');
  ok(write);
  return { children: children.sort(), nextZxid: write.header.zxid };
}

/** Our zk-server on `dataDir`: what it serves and what it logged. */
async function serveOurs(dataDir: string): Promise<Served & { output: string }> {
  await using server = await startServerProcess({ dataDir });
  const served = await probe(server.port);
  return { ...served, output: server.output() };
}

/** Apache on a copy of `dataDir` (it must not touch ours): what it serves, or how it refused. */
async function serveApache(dataDir: string): Promise<Served | { refused: string }> {
  const copy = await mkdtemp(path.join(tmpdir(), 'apache-damaged-'));
  try {
    await cp(versionDir(dataDir), versionDir(copy), { recursive: true });
    let server;
    try {
      server = await startApache({ dataDir: copy, keepDataDir: true });
    } catch (error) {
      return { refused: String(error) };
    }
    try {
      return await probe(server.port);
    } finally {
      await server.stop();
    }
  } finally {
    await rm(copy, { recursive: true, force: true });
  }
}

function itOnApache(title: string, body: () => Promise<void>): void {
  it(`Apache 3.8: ${title}`, async function () {
    if (!apacheAvailable()) {
      console.log('    (Apache ZooKeeper is not installed: skipping)');
      this.skip();
    }
    this.timeout(90_000);
    await body();
  });
}

describe('zk-server on a damaged data dir, next to Apache 3.8', function () {
  this.timeout(30_000);
  let dataDir: string;
  beforeEach(async () => (dataDir = await mkdtemp(path.join(tmpdir(), 'menagerie-damaged-'))));
  afterEach(async () => await rm(dataDir, { recursive: true, force: true }));

  describe('a log cut in the middle of its last record (a crash mid-append)', () => {
    let tornAt: number;
    beforeEach(async () => {
      await writeDataDir(dataDir);
      const log = path.join(versionDir(dataDir), 'log.1');
      tornAt = (await entriesOf(log)).offsets.at(-1)!;
      await truncate(log, tornAt + 20);
    });

    it('ours: cuts the torn record, says where, serves everything before it, writes on', async () => {
      const served = await serveOurs(dataDir);
      assert.deepEqual(served.children, ['a', 'b', 'c']);
      const warning = `log\\.1: torn tail at offset ${tornAt} \\(file ends inside an entry\\); cutting`;
      assert.match(served.output, new RegExp(warning));
      const log = path.join(versionDir(dataDir), 'log.1');
      assert.equal((await stat(log)).size, tornAt, 'the torn record is cut off the file');
    });

    itOnApache('serves everything before the cut too, and writes on', async () => {
      const served = await serveApache(dataDir);
      assert.ok('children' in served, `Apache refused: ${'refused' in served ? served.refused : ''}`);
      assert.deepEqual(served.children, ['a', 'b', 'c']);
    });
  });

  describe('garbage after the last record (not zeros: nothing a crash of ours writes)', () => {
    let garbageAt: number;
    beforeEach(async () => {
      await writeDataDir(dataDir);
      const log = path.join(versionDir(dataDir), 'log.1');
      garbageAt = (await entriesOf(log)).end;
      const junk = Buffer.from(Array.from({ length: 64 }, (_, i) => (i * 37 + 11) & 0xff));
      const handle = await open(log, 'r+');
      await handle.write(junk, 0, junk.length, garbageAt);
      await handle.close();
    });

    it('ours: cuts the garbage as a torn tail (naming file and offset), keeps every record', async () => {
      const served = await serveOurs(dataDir);
      assert.deepEqual(served.children, ['a', 'b', 'c', 'd']);
      const warning = `log\\.1: torn tail at offset ${garbageAt} \\(implausible entry length -?\\d+\\)`;
      assert.match(served.output, new RegExp(warning));
    });

    itOnApache('refuses to start: "Unreasonable length" (our known divergence)', async () => {
      const served = await serveApache(dataDir);
      assert.ok('refused' in served, 'Apache started on a log with garbage after its last record');
      assert.match(served.refused, /java\.io\.IOException: Unreasonable length = \d+/);
    });
  });

  describe('a snapshot newer than the end of the log (the log lost its last records)', () => {
    let snapshotZxid: bigint;
    beforeEach(async () => {
      await writeDataDir(dataDir, 1);
      const names = await readdir(versionDir(dataDir));
      const snapshots = names.filter((n) => n.startsWith('snapshot.')).map((n) => BigInt(`0x${n.slice(9)}`));
      snapshotZxid = snapshots.reduce((a, b) => (a > b ? a : b));
      const log = path.join(versionDir(dataDir), 'log.1');
      const { offsets } = await entriesOf(log);
      await truncate(log, offsets.at(-2)!); // /c and /d are only in the snapshot now
    });

    it('ours: serves the snapshot and continues after its zxid (no zxid reused)', async () => {
      const served = await serveOurs(dataDir);
      assert.deepEqual(served.children, ['a', 'b', 'c', 'd']);
      assert.ok(served.nextZxid > snapshotZxid, `zxid 0x${served.nextZxid.toString(16)} reused`);
    });

    itOnApache('does the same', async () => {
      const served = await serveApache(dataDir);
      assert.ok('children' in served, `Apache refused: ${'refused' in served ? served.refused : ''}`);
      assert.deepEqual(served.children, ['a', 'b', 'c', 'd']);
      assert.ok(served.nextZxid > snapshotZxid);
    });
  });

  describe('a log of a later epoch than the snapshot (and a stale currentEpoch file)', () => {
    const epoch = 5n;
    beforeEach(async () => {
      await writeDataDir(dataDir);
      const log = path.join(versionDir(dataDir), 'log.1');
      const { txns } = await entriesOf(log);
      const moved = txns.map((txn) => ({
        ...txn,
        header: { ...txn.header, zxid: (epoch << 32n) | txn.header.zxid },
      }));
      const bytes = Buffer.concat([encodeLogFileHeader(), ...moved.map((txn) => encodeLogEntry(txn))]);
      await writeFile(path.join(versionDir(dataDir), `log.${(epoch << 32n | 1n).toString(16)}`), bytes);
      await unlink(log);
      // A standalone server reads no epoch files (only a quorum peer does), as Apache's.
      await writeFile(path.join(dataDir, 'currentEpoch'), '0');
      await writeFile(path.join(dataDir, 'acceptedEpoch'), '0');
    });

    it('ours: replays it and continues in that epoch', async () => {
      const served = await serveOurs(dataDir);
      assert.deepEqual(served.children, ['a', 'b', 'c', 'd']);
      assert.equal(served.nextZxid >> 32n, epoch);
      assert.equal(await readFile(path.join(dataDir, 'currentEpoch'), 'utf8'), '0', 'left alone');
    });

    itOnApache('does the same', async () => {
      const served = await serveApache(dataDir);
      assert.ok('children' in served, `Apache refused: ${'refused' in served ? served.refused : ''}`);
      assert.deepEqual(served.children, ['a', 'b', 'c', 'd']);
      assert.equal(served.nextZxid >> 32n, epoch);
    });
  });

  describe('a dataDir that does not exist yet', () => {
    it('ours: creates it (and its version-2) and serves an empty tree', async () => {
      const missing = path.join(dataDir, 'not', 'yet');
      const served = await serveOurs(missing);
      assert.deepEqual(served.children, []);
      const names = await readdir(versionDir(missing));
      assert.ok(names.includes('snapshot.0') && names.some((n) => n.startsWith('log.')), names.join());
    });

    itOnApache('creates it too (zookeeper.datadir.autocreate is on by default)', async () => {
      const missing = path.join(dataDir, 'not', 'yet');
      // The fixture keeps its zoo.cfg in a directory of its own; the dataDir line points at `missing`.
      const server = await startApache({ config: { dataDir: missing } });
      try {
        assert.deepEqual((await probe(server.port)).children, []);
      } finally {
        await server.stop();
      }
      assert.ok((await readdir(versionDir(missing))).includes('snapshot.0'));
    });
  });
});
