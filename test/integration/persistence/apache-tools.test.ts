// Goal: Apache 3.8's own offline tools read the files our server writes: TxnLogToolkit dumps every txn
// of our log (every txn type we log, no CRC error) with the zxids and types our dump-log prints, and
// SnapshotFormatter reads our snapshot with its nodes and last zxid.

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { OpCode } from '../../../src/protocol/index.js';
import { DurableSeams } from '../../../server/durable/index.js';
import { dumpLog } from '../../../server/durable/tools.js';
import { startServer } from '../../../server/standalone.js';
import { create, ok, remove, setData, OPEN_ACL } from '../../conformance/ops.js';
import { APACHE_JAR, apacheAvailable } from '../../support/apache.js';
import { RawClient } from '../../support/raw-client.js';

const run = promisify(execFile);
const JARS = [APACHE_JAR, '/usr/share/java/zookeeper-jute.jar', '/usr/share/java/slf4j-simple.jar'];

async function apacheTool(mainClass: string, ...args: string[]): Promise<string> {
  const java = ['-XX:TieredStopAtLevel=1', '-cp', JARS.join(':'), mainClass, ...args];
  const { stdout } = await run('/usr/bin/java', java, { maxBuffer: 16 * 1024 * 1024 });
  return stdout;
}

/** Every txn type our server logs: sessions, each create kind, setData, setACL, delete, multi, close. */
async function writeEveryTxnType(dataDir: string): Promise<void> {
  await using durable = new DurableSeams({ dataDir });
  const options = { recover: durable.recover, persister: durable.persister, extendedTypesEnabled: true };
  await using server = await startServer(options);
  const client = await RawClient.connect(server.port);
  ok(await create(client, '/app', Buffer.from('config')));
  ok(await create(client, '/app/seq-', null, 2));
  ok(await create(client, '/app/eph', Buffer.from('me'), 1));
  ok(await client.request(OpCode.createContainer, { path: '/box', data: null, acl: OPEN_ACL, flags: 4 }));
  const ttl = { path: '/ttl', data: null, acl: OPEN_ACL, flags: 5, ttl: 60_000n };
  ok(await client.request(OpCode.createTTL, ttl));
  ok(await setData(client, '/app', Buffer.from('v2')));
  ok(await client.request(OpCode.setACL, { path: '/app', acl: OPEN_ACL, version: -1 }));
  const ops = [
    { type: OpCode.create, request: { path: '/m1', data: null, acl: OPEN_ACL, flags: 0 } },
    { type: OpCode.setData, request: { path: '/m1', data: Buffer.from('x'), version: 0 } },
  ];
  ok(await client.request(OpCode.multi, { ops }));
  const failing = [{ type: OpCode.delete, request: { path: '/nope', version: -1 } }];
  ok(await client.request(OpCode.multi, { ops: failing }), 'a failed multi is logged too');
  ok(await remove(client, '/m1'));
  await client.close();
}

describe("Apache 3.8's offline tools on our files", function () {
  this.timeout(60_000);
  let dataDir: string;
  before(async function () {
    if (!apacheAvailable()) {
      console.log('    (Apache ZooKeeper is not installed: skipping)');
      this.skip();
    }
    dataDir = await mkdtemp(path.join(tmpdir(), 'menagerie-apache-tools-'));
    await writeEveryTxnType(dataDir);
  });
  after(async () => {
    if (dataDir !== undefined) await rm(dataDir, { recursive: true, force: true });
  });

  it('TxnLogToolkit dumps every txn of our log, as our dump-log lists them', async () => {
    const log = path.join(dataDir, 'version-2', 'log.1');
    const apache = await apacheTool('org.apache.zookeeper.server.persistence.TxnLogToolkit', '-d', log);
    assert.doesNotMatch(apache, /CRC ERROR/);
    const ours = (await dumpLog(log)).filter((line) => / zxid 0x/.test(line));
    assert.match(apache, new RegExp(`EOF reached after ${ours.length} txns\\.`));
    // zxid and type of each txn, in order, from both dumps.
    // (Apache spells one type createTtl.)
    const entry = (m: RegExpExecArray | RegExpMatchArray) => `${BigInt(m[1]!)} ${m[2]!.toLowerCase()}`;
    const theirs = [...apache.matchAll(/ zxid (0x[0-9a-f]+) (\w+)/g)].map(entry);
    const mine = ours.map((line) => entry(/ zxid (0x[0-9a-f]+) (\w+)/.exec(line)!));
    assert.deepEqual(theirs, mine);
    const types = ['createSession', 'create', 'createContainer', 'createTTL', 'setData', 'setACL', 'multi',
      'delete', 'closeSession'];
    for (const type of types) {
      assert.ok(theirs.some((e) => e.endsWith(` ${type.toLowerCase()}`)), `Apache read a ${type} txn`);
    }
  });

  it('SnapshotFormatter reads our newest snapshot: every node kind and the last zxid', async () => {
    // A restart writes a clean snapshot holding everything above. (Without extendedTypesEnabled the
    // TTL node would read as an ephemeral of a dead session and go, as it does on Apache.)
    {
      await using durable = new DurableSeams({ dataDir });
      const seams = { recover: durable.recover, persister: durable.persister };
      await using server = await startServer({ ...seams, extendedTypesEnabled: true });
      void server;
    }
    const names = (await readdir(path.join(dataDir, 'version-2'))).filter((n) => n.startsWith('snapshot.'));
    const newest = names.sort((a, b) => Number(BigInt(`0x${b.slice(9)}`) - BigInt(`0x${a.slice(9)}`)))[0]!;
    const file = path.join(dataDir, 'version-2', newest);
    const apache = await apacheTool('org.apache.zookeeper.server.SnapshotFormatter', file);
    for (const node of ['/app', '/app/seq-0000000000', '/box', '/ttl']) {
      assert.match(apache, new RegExp(`^${node}$`, 'm'), node);
    }
    assert.match(apache, new RegExp(`^Last zxid: 0x${newest.slice(9)}$`, 'm'));
  });
});
