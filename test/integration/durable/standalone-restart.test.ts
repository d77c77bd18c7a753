// Goal: the standalone server is durable end to end. In process (DurableSeams on startServer) and as
// `zk-server start-foreground zoo.cfg` killed with SIGKILL under a pipelined write load, a restart on
// the same dataDir serves every acknowledged write; a session resumes on the restarted server with its
// ephemerals, and a session that does not come back expires on schedule, taking its ephemerals.

import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { EventType } from '../../../src/protocol/index.js';
import { DurableSeams } from '../../../server/durable/index.js';
import { startServer } from '../../../server/standalone.js';
import { create, exists, getData, ok } from '../../conformance/ops.js';
import { freePort } from '../../support/ports.js';
import { RawClient } from '../../support/raw-client.js';

const EPHEMERAL = 1;

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

  it('zk-server killed with SIGKILL mid-load keeps every acknowledged write', async () => {
    const port = await freePort();
    const configFile = path.join(dataDir, 'zoo.cfg');
    const lines = [`tickTime=500`, `dataDir=${dataDir}`, `clientPort=${port}`, 'clientPortAddress=127.0.0.1'];
    await writeFile(configFile, `${lines.join('\n')}\nsnapCount=50\n`);
    const first = await startProcess(configFile);
    children.push(first.child);
    const acknowledged: string[] = [];
    let ephemeralOwner: bigint;
    {
      // A session that will not come back: its ephemeral must go one timeout after the restart.
      const doomed = await RawClient.connect(port, { timeoutMs: 1000 });
      ephemeralOwner = doomed.sessionId;
      ok(await create(doomed, '/doomed', null, EPHEMERAL), 'create ephemeral');
      doomed.connection.destroy();
      const writer = await RawClient.connect(port, { timeoutMs: 30_000 });
      ok(await create(writer, '/load', null), 'create /load');
      const total = 400;
      let killed: Promise<void> | undefined;
      const writes = Array.from({ length: total }, (_, i) =>
        create(writer, `/load/n-${i}`, Buffer.from(`value ${i}`)).then((reply) => {
          if (reply.header.err !== 0) return;
          acknowledged.push(`/load/n-${i}`);
          if (acknowledged.length === total / 4) killed = kill(first.child);
        }),
      );
      // Writes after the kill never get a reply; wait for the kill, not for them.
      await Promise.race([Promise.all(writes), writer.connection.closed]);
      await killed;
      writer.connection.destroy();
    }
    assert.ok(acknowledged.length >= 100, `acknowledged ${acknowledged.length}`);

    const second = await startProcess(configFile);
    children.push(second.child);
    await using reader = await RawClient.connect(port, { timeoutMs: 30_000 });
    for (const written of acknowledged) {
      const reply = await getData(reader, written);
      assert.equal(reply.header.err, 0, `${written} was acknowledged before the kill`);
      assert.equal(reply.body!.data!.toString(), `value ${written.slice('/load/n-'.length)}`);
    }
    // The doomed session was restored and expires on schedule: a watch sees its ephemeral go.
    const doomed = ok(await exists(reader, '/doomed', true));
    assert.equal(doomed.stat.ephemeralOwner, ephemeralOwner);
    const [deleted] = await reader.waitForNotifications(1, 15_000);
    assert.deepEqual([deleted.event.type, deleted.event.path], [EventType.NODE_DELETED, '/doomed']);
    assert.match(second.output(), /recovered zxid 0x[0-9a-f]+ from .*snapshot/);
  });
});
