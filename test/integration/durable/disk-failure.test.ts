// Goal: a disk that fails under the transaction log (ENOSPC on a write, EIO on fdatasync) makes the
// server stop as Apache 3.8 does (SyncRequestProcessor's IOException ends the server: "Severe
// unrecoverable error", clients see the connection lost), with the failure clearly logged, the failed
// write never acknowledged, and every acknowledged write served again after a restart. Files that
// cannot be read at start (EIO) refuse the start with an error naming them.

import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { Writable } from 'node:stream';
import { DurableSeams } from '../../../server/durable/index.js';
import { startServer } from '../../../server/standalone.js';
import { create, getChildren, ok } from '../../conformance/ops.js';
import { RawClient } from '../../support/raw-client.js';
import { FaultFileSystem, type Fault } from '../../unit/persistence/fault-fs.js';

/** A pino logger that keeps its lines, so a spec can check what the operator would read. */
function recordingLogger(): { logger: pino.Logger; lines: string[] } {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(...chunk.toString().split('\n').filter((line) => line !== ''));
      done();
    },
  });
  return { logger: pino({ level: 'info' }, sink), lines };
}

async function refusesConnections(port: number): Promise<boolean> {
  return await new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', () => resolve(true));
  });
}

const FAULTS: Array<{ title: string; fault: NonNullable<Fault>; partialWriteBytes?: number }> = [
  { title: 'ENOSPC on a write (disk full)', fault: { op: 'write', code: 'ENOSPC', file: /log\./ } },
  {
    title: 'ENOSPC after a torn write of part of the batch',
    fault: { op: 'write', code: 'ENOSPC', file: /log\./ },
    partialWriteBytes: 7,
  },
  { title: 'EIO on fdatasync', fault: { op: 'datasync', code: 'EIO', file: /log\./ } },
];

describe('durable server on a failing disk', function () {
  this.timeout(30_000);
  let dataDir: string;
  beforeEach(async () => (dataDir = await mkdtemp(path.join(tmpdir(), 'menagerie-disk-failure-'))));
  afterEach(async () => await rm(dataDir, { recursive: true, force: true }));

  for (const { title, fault, partialWriteBytes } of FAULTS) {
    const goal = 'stops, logs why, never acknowledges the failed write, loses no acknowledged one';
    it(`${title}: ${goal}`, async () => {
      const fileSystem = new FaultFileSystem();
      const { logger, lines } = recordingLogger();
      const acknowledged: string[] = [];
      let fatal: unknown;
      let failedWriteReply: unknown;
      {
        await using durable = new DurableSeams({ dataDir, fileSystem, logger, preAllocBytes: 4096 });
        const seams = { recover: durable.recover, persister: durable.persister, logger };
        await using server = await startServer({ ...seams, onFatal: (error) => (fatal = error) });
        const client = await RawClient.connect(server.port, { timeoutMs: 30_000 });
        for (const name of ['a', 'b', 'c']) {
          ok(await create(client, `/${name}`, Buffer.from(name)));
          acknowledged.push(name);
        }
        fileSystem.fault = fault;
        fileSystem.partialWriteBytes = partialWriteBytes ?? 0;
        // The failing write and one pipelined behind it: neither may be acknowledged.
        // (A reply would arrive before the close: the socket delivers in order.)
        void create(client, '/failed', Buffer.from('x')).then((reply) => (failedWriteReply = reply));
        void create(client, '/behind', Buffer.from('y')).then((reply) => (failedWriteReply ??= reply));
        await client.connection.waitClosed(10_000);
        assert.equal(failedWriteReply, undefined, 'no reply to a write the disk did not take');
        assert.match(String((fatal as Error)?.message), new RegExp(fault.code));
        assert.ok(await refusesConnections(server.port), 'the client port is closed');
        client.connection.destroy();
      }
      const logged = lines.join('\n');
      assert.match(logged, /transaction log write failed, \d+ txns not made durable: .*(ENOSPC|EIO)/);
      assert.match(logged, /persisting a transaction failed: stopping the server/);
      // Restart on a healthy disk: every acknowledged write is there, the failed ones are not.
      await using durable = new DurableSeams({ dataDir });
      await using server = await startServer({ recover: durable.recover, persister: durable.persister });
      await using client = await RawClient.connect(server.port);
      const children = ok(await getChildren(client, '/')).children as string[];
      assert.deepEqual(children.filter((c) => c !== 'zookeeper').sort(), acknowledged);
      ok(await create(client, '/after', Buffer.from('z')), 'writes go on after the restart');
    });
  }

  it('unreadable files at start: an error naming them, never a silent empty tree', async () => {
    {
      await using durable = new DurableSeams({ dataDir });
      await using server = await startServer({ recover: durable.recover, persister: durable.persister });
      await using client = await RawClient.connect(server.port);
      ok(await create(client, '/kept'));
    }
    const cases: Array<[RegExp, RegExp]> = [
      [/snapshot\./, /none of the \d+ snapshots verifies: .*snapshot\.0: cannot read: .*EIO/],
      [/log\./, /EIO: injected open failure, .*log\.1/],
    ];
    for (const [file, refusal] of cases) {
      const fileSystem = new FaultFileSystem();
      fileSystem.fault = { op: 'open', code: 'EIO', file };
      const durable = new DurableSeams({ dataDir, fileSystem });
      await assert.rejects(startServer({ recover: durable.recover, persister: durable.persister }), refusal);
      await durable.close();
    }
    await using durable = new DurableSeams({ dataDir });
    await using server = await startServer({ recover: durable.recover, persister: durable.persister });
    await using client = await RawClient.connect(server.port);
    ok(await getChildren(client, '/kept'), 'the data is all there once the files can be read');
  });
});
