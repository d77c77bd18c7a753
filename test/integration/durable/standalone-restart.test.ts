// Goal: the standalone server is durable end to end. In process (DurableSeams on startServer) and as
// `zk-server start-foreground zoo.cfg` killed with SIGKILL under a pipelined multi load (rounds:
// DURABLE_KILL_ROUNDS, default 3, count printed), a restart on the same dataDir serves every
// acknowledged write and no multi half-applied; a session resumes on the restarted server with its
// ephemerals, and a session that does not come back expires, taking its ephemerals.

import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { EventType, OpCode } from '../../../src/protocol/index.js';
import { DurableSeams } from '../../../server/durable/index.js';
import { startServer } from '../../../server/standalone.js';
import { create, exists, getData, ok, OPEN_ACL } from '../../conformance/ops.js';
import { freePort } from '../../support/ports.js';
import { RawClient } from '../../support/raw-client.js';

const EPHEMERAL = 1;
/** SIGKILL rounds under load; DURABLE_KILL_ROUNDS=200 for the long run (about 2 s a round). */
const rounds = Number(process.env.DURABLE_KILL_ROUNDS ?? 3);

/** `zk-server start-foreground` on a zoo.cfg, resolved once it serves. */
async function startProcess(configFile: string): Promise<{ child: ChildProcess; output: () => string }> {
  const args = ['--import', 'tsx', 'server/cli.ts', 'start-foreground', configFile];
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  await new Promise<void>((resolve, reject) => {
    const onData = () => {
      if (!output.includes('serving clients')) return;
      child.stdout!.off('data', onData);
      child.off('exit', onExit);
      resolve();
    };
    const onExit = () => reject(new Error(`zk-server exited early:\n${output}`));
    child.stdout!.on('data', onData);
    child.once('exit', onExit);
  });
  return { child, output: () => output };
}

async function kill(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGKILL');
  await exited;
}

describe('durable standalone server: restart on the same dataDir', function () {
  this.timeout(60_000);
  let dataDir: string;
  const children: ChildProcess[] = [];
  beforeEach(async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), 'menagerie-durable-server-'));
  });
  afterEach(async () => {
    for (const child of children.splice(0)) await kill(child);
    await rm(dataDir, { recursive: true, force: true });
  });

  it('in process: writes, a stop and a start later, are all served; the session resumes', async () => {
    let sessionId: bigint;
    let passwd: Buffer;
    {
      await using durable = new DurableSeams({ dataDir });
      await using server = await startServer({ recover: durable.recover, persister: durable.persister });
      const client = await RawClient.connect(server.port, { timeoutMs: 30_000 });
      sessionId = client.sessionId;
      passwd = client.passwd;
      ok(await create(client, '/app', Buffer.from('config')), 'create /app');
      ok(await create(client, '/app/member', Buffer.from('me'), EPHEMERAL), 'create ephemeral');
      client.connection.destroy(); // the client vanishes; its session stays
      await server.stop();
    }
    await using durable = new DurableSeams({ dataDir });
    await using server = await startServer({ recover: durable.recover, persister: durable.persister });
    assert.equal(durable.recovery?.sessions, 1);
    await using client = await RawClient.connect(server.port, { sessionId, passwd, timeoutMs: 30_000 });
    assert.equal(client.sessionId, sessionId, 'the session resumed on the restarted server');
    assert.equal(ok(await getData(client, '/app')).data!.toString(), 'config');
    const member = ok(await exists(client, '/app/member'));
    assert.equal(member.stat.ephemeralOwner, sessionId);
  });

  it(`zk-server SIGKILLed mid-load keeps every acknowledged write (${rounds} rounds)`, async function () {
    this.timeout(30_000 + rounds * 10_000);
    const port = await freePort();
    const configFile = path.join(dataDir, 'zoo.cfg');
    const lines = [`tickTime=500`, `dataDir=${dataDir}`, `clientPort=${port}`, 'clientPortAddress=127.0.0.1',
      'admin.enableServer=false'];
    // Autopurge (at each start) keeps a long run from filling the disk with snapshots.
    lines.push('snapCount=50', 'autopurge.purgeInterval=1', 'autopurge.snapRetainCount=3');
    await writeFile(configFile, `${lines.join('\n')}\n`);
    let server = await startProcess(configFile);
    children.push(server.child);
    // A session that will not come back: its ephemeral must go one timeout after a restart.
    const doomed = await RawClient.connect(port, { timeoutMs: 1000 });
    const ephemeralOwner = doomed.sessionId;
    ok(await create(doomed, '/doomed', null, EPHEMERAL), 'create ephemeral');
    doomed.connection.destroy();
    const acknowledged: number[] = [];
    let attempted = 0;
    for (let round = 0; round < rounds; round++) {
      const writer = await RawClient.connect(port, { timeoutMs: 30_000 });
      if (round === 0) ok(await create(writer, '/load', null), 'create /load');
      // Each write is a multi creating a pair: after any crash both or neither must exist.
      const perRound = 200;
      const killAfter = 20 + Math.floor(Math.random() * 100);
      let acks = 0;
      let killed: Promise<void> | undefined;
      const writes = Array.from({ length: perRound }, () => {
        const i = attempted++;
        const pair = (name: string) => ({
          type: OpCode.create,
          request: { path: `/load/${name}-${i}`, data: Buffer.from(`value ${i}`), acl: OPEN_ACL, flags: 0 },
        });
        return writer.request(OpCode.multi, { ops: [pair('a'), pair('b')] }).then((reply) => {
          if (reply.header.err !== 0) return;
          acknowledged.push(i);
          if (++acks === killAfter) killed = kill(server.child);
        });
      });
      // Writes after the kill never get a reply; wait for the kill, not for them.
      await Promise.race([Promise.all(writes), writer.connection.closed]);
      await killed;
      writer.connection.destroy();
      server = await startProcess(configFile);
      children.push(server.child);
    }
    await using reader = await RawClient.connect(port, { timeoutMs: 30_000 });
    const listed = ok(await reader.request(OpCode.getChildren, { path: '/load', watch: false }));
    const present = new Set<string>(listed.children);
    for (const i of acknowledged) {
      assert.ok(present.has(`a-${i}`) && present.has(`b-${i}`), `write ${i} was acknowledged before a kill`);
    }
    for (let i = 0; i < attempted; i++) {
      assert.equal(present.has(`a-${i}`), present.has(`b-${i}`), `multi ${i} is all or nothing`);
    }
    const reply = await getData(reader, `/load/a-${acknowledged[acknowledged.length - 1]}`);
    assert.equal(reply.body!.data!.toString(), `value ${acknowledged[acknowledged.length - 1]}`);
    // Each round writes several snapshots; autopurge (running after each start) keeps three.
    const names = await readdir(path.join(dataDir, 'version-2'));
    const snapshots = names.filter((name) => name.startsWith('snapshot.'));
    assert.ok(snapshots.length <= 10, `autopurge kept ${snapshots}`);
    console.log(`      (${rounds} SIGKILL rounds, ${acknowledged.length} acknowledged writes, all present)`);
    // The doomed session was restored at each start and expires on schedule: a watch sees it go.
    const doomedNode = await exists(reader, '/doomed', true);
    if (doomedNode.header.err === 0) {
      assert.equal(doomedNode.body!.stat.ephemeralOwner, ephemeralOwner);
      const [deleted] = await reader.waitForNotifications(1, 15_000);
      assert.deepEqual([deleted.event.type, deleted.event.path], [EventType.NODE_DELETED, '/doomed']);
    }
    assert.match(server.output(), /recovered zxid 0x[0-9a-f]+ from .*snapshot/);
  });

  it('zk-server refuses a data dir with a foreign log, naming the file, before binding', async () => {
    const port = await freePort();
    const configFile = path.join(dataDir, 'zoo.cfg');
    await writeFile(configFile, `dataDir=${dataDir}\nclientPort=${port}\nclientPortAddress=127.0.0.1\nadmin.enableServer=false\n`);
    {
      await using durable = new DurableSeams({ dataDir });
      await using server = await startServer({ recover: durable.recover, persister: durable.persister });
      await using client = await RawClient.connect(server.port);
      ok(await create(client, '/x', null), 'create /x');
    }
    const logFile = path.join(dataDir, 'version-2', 'log.1');
    const bytes = await readFile(logFile);
    bytes.writeBigInt64BE(42n, 8); // the dbid of the file header
    await writeFile(logFile, bytes);
    const args = ['--import', 'tsx', 'server/cli.ts', 'start-foreground', configFile];
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(child);
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    const code = await new Promise((resolve) => child.once('exit', resolve));
    assert.equal(code, 1);
    assert.match(stderr, /cannot recover from .*: .*log\.1: unexpected dbid 42/);
    await assert.rejects(RawClient.connect(port), /ECONNREFUSED/);
  });
});
