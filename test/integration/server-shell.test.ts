// The standalone server's shell, in process: startServer on port 0 and its handle, the session expiry
// and container timers, maxClientCnxns per IP, many connections at once, a client that never reads
// its replies (bounded, cut off, others still served), resumed sessions, and the TestingServer kit.
import assert from 'node:assert/strict';
import net from 'node:net';
import { describe, it } from 'mocha';
import { OpCode, encodeFrame, part, records } from '../../src/protocol/index.js';
import { RequestHeader } from '../../src/protocol/records.js';
import { startServer } from '../../server/index.js';
import { TestingServer } from '../../server/testing/index.js';
import { fourLetterWord } from '../support/ports.js';
import { RawClient, RawConnection } from '../support/raw-client.js';
import { OPEN_ACL, create, exists, ok, setData } from '../conformance/ops.js';

async function until(condition: () => Promise<boolean>, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('standalone server shell', () => {
  it('binds port 0, reports it, and stops idempotently with await using', async () => {
    let port: number;
    {
      await using server = await startServer();
      port = server.port;
      assert.ok(port > 0);
      assert.equal(server.connectString, `127.0.0.1:${port}`);
      assert.equal(server.config.clientPort, port);
      assert.equal(server.config.tickTimeMs, 3000);
      await using client = await RawClient.connect(port);
      ok(await exists(client, '/zookeeper'));
      await server.stop();
      await client.connection.waitClosed();
    }
    await assert.rejects(RawConnection.open(port), /ECONNREFUSED/);
  });

  it('runs the recovery seam before the port is bound', async () => {
    let zxidAtRecovery: bigint | undefined;
    await using server = await startServer({
      recover: (core) => {
        zxidAtRecovery = core.lastProcessedZxid;
      },
    });
    assert.equal(zxidAtRecovery, 0n, 'recover saw the fresh core');
    assert.ok(server.port > 0);
  });

  it('rejects when the client port is taken, leaving nothing running', async () => {
    await using first = await startServer();
    await assert.rejects(startServer({ clientPort: first.port }), /EADDRINUSE/);
  });

  it('expires a silent session by its timeout: ephemerals go, its connection is closed', async () => {
    await using server = await startServer({ tickTimeMs: 50 });
    await using owner = await RawClient.connect(server.port, { timeoutMs: 100 });
    await using observer = await RawClient.connect(server.port, { timeoutMs: 1000 });
    assert.equal(owner.timeoutMs, 100);
    ok(await create(owner, '/eph', null, 1));
    await owner.connection.waitClosed(5000);
    await until(async () => (await exists(observer, '/eph')).header.err === -101, 'the ephemeral to go');
    const resume = { sessionId: owner.sessionId, passwd: owner.passwd };
    const resumed = await RawClient.connect(server.port, resume);
    assert.equal(resumed.response.timeOut, 0, 'an expired session is refused');
    await resumed.connection.waitClosed();
  });

  it('keeps a session alive while it pings', async () => {
    await using server = await startServer({ tickTimeMs: 50 });
    await using client = await RawClient.connect(server.port, { timeoutMs: 200 });
    ok(await create(client, '/alive', null, 1));
    const stopAt = Date.now() + 800;
    while (Date.now() < stopAt) {
      await client.ping();
      await new Promise((resolve) => setTimeout(resolve, 40));
    }
    ok(await exists(client, '/alive'));
  });

  it('deletes emptied containers and expired TTL nodes on the container timer', async () => {
    await using server = await startServer({ extendedTypesEnabled: true, containerCheckIntervalMs: 50 });
    await using client = await RawClient.connect(server.port);
    ok(await client.request(OpCode.createContainer, { path: '/box', data: null, acl: OPEN_ACL, flags: 4 }));
    ok(await client.request(OpCode.createContainer, { path: '/never', data: null, acl: OPEN_ACL, flags: 4 }));
    ok(await create(client, '/box/child'));
    ok(await client.request(OpCode.delete, { path: '/box/child', version: -1 }));
    const ttlNode = { path: '/ttl', data: null, acl: OPEN_ACL, flags: 5, ttl: 100n };
    ok(await client.request(OpCode.createTTL, ttlNode));
    await until(async () => (await exists(client, '/box')).header.err === -101, 'the container to go');
    await until(async () => (await exists(client, '/ttl')).header.err === -101, 'the TTL node to go');
    ok(await exists(client, '/never'), 'a never-used container stays');
  });

  it('refuses connections over maxClientCnxns from one IP, and counts them free again', async () => {
    await using server = await startServer({ maxClientConnectionsPerIp: 3 });
    const clients = [];
    for (let i = 0; i < 3; i++) clients.push(await RawClient.connect(server.port));
    const refused = await RawConnection.open(server.port);
    await refused.waitClosed();
    assert.equal(refused.received().length, 0);
    await clients[0].close();
    await until(async () => server.connectionCount === 2, 'the closed connection to be counted out');
    await using again = await RawClient.connect(server.port);
    ok(await exists(again, '/'));
    for (const client of clients.slice(1)) await client.close();
  });

  it('holds a connection flood from one IP to maxClientCnxns (default 60)', async function () {
    this.timeout(30_000);
    await using server = await startServer();
    const sockets = await Promise.all(Array.from({ length: 300 }, () => RawConnection.open(server.port)));
    await until(async () => sockets.filter((socket) => socket.isOpen).length === 60, '240 refusals');
    assert.equal(server.connectionCount, 60);
    for (const socket of sockets) socket.destroy();
    await until(async () => server.connectionCount === 0, 'the flood to be gone');
    await using client = await RawClient.connect(server.port);
    ok(await exists(client, '/zookeeper'));
  });

  it('serves 500 connections at once and still answers', async function () {
    this.timeout(30_000);
    await using server = await startServer({ maxClientConnectionsPerIp: 0 });
    const clients = await Promise.all(Array.from({ length: 500 }, () => RawClient.connect(server.port)));
    assert.equal(server.connectionCount, 500);
    const replies = await Promise.all(clients.map((client) => exists(client, '/zookeeper')));
    assert.ok(replies.every((reply) => reply.header.err === 0));
    assert.match(await fourLetterWord(server.port, 'srvr'), /Connections: 50[01]\n/);
    await Promise.all(clients.map((client) => client[Symbol.asyncDispose]()));
  });

  it('stops reading a client that never reads its replies, and others are still served', async function () {
    this.timeout(30_000);
    await using server = await startServer({ fourLetterWordsEnabled: '*' });
    await using writer = await RawClient.connect(server.port);
    ok(await create(writer, '/big', Buffer.alloc(512 * 1024, 1)));
    // A raw socket that connects, then floods getData requests and never reads a byte.
    const stalled = net.connect(server.port, '127.0.0.1');
    stalled.on('error', () => {});
    await new Promise<void>((resolve) => stalled.once('connect', () => resolve()));
    stalled.pause();
    const connect = { protocolVersion: 0, lastZxidSeen: 0n, timeOut: 30_000, sessionId: 0n, passwd: null };
    stalled.write(encodeFrame(part(records.ConnectRequest, connect)));
    const request = (xid: number) =>
      encodeFrame(
        part(RequestHeader, { xid, type: OpCode.getData }),
        part(records.GetDataRequest, { path: '/big', watch: false }),
      );
    let xid = 1;
    // Write until our own socket buffers fill: the server has stopped reading us.
    while (stalled.write(request(xid++)) && xid < 20_000) {
      if (xid % 200 === 0) await new Promise((resolve) => setImmediate(resolve));
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
    const srvr = await fourLetterWord(server.port, 'srvr');
    const outstanding = Number(/Outstanding: (\d+)/.exec(srvr)![1]);
    assert.ok(outstanding <= 1000, `outstanding requests stay bounded (${outstanding})`);
    ok(await exists(writer, '/big'), 'another client is still served');
    stalled.destroy();
    await until(async () => server.connectionCount === 1, 'the stalled connection to be gone');
  });

  it('throttles every connection past globalOutstandingLimit and resumes them all', async () => {
    await using server = await startServer({ globalOutstandingLimit: 20 });
    const clients = await Promise.all([1, 2, 3].map(() => RawClient.connect(server.port)));
    ok(await create(clients[0], '/t'));
    const replies = await Promise.all(
      clients.flatMap((client) => Array.from({ length: 300 }, () => exists(client, '/t'))),
    );
    assert.equal(replies.length, 900);
    assert.ok(replies.every((reply) => reply.header.err === 0));
    assert.match(await fourLetterWord(server.port, 'srvr'), /Outstanding: 0\n/);
    for (const client of clients) await client.close();
  });

  it('bounds the bytes of queued requests per connection and still completes them all', async () => {
    await using server = await startServer({ connectionLimits: { outstandingRequestBytesMax: 256 * 1024 } });
    await using client = await RawClient.connect(server.port);
    ok(await create(client, '/bytes'));
    const count = 30;
    const payload = (i: number) => Buffer.alloc(100 * 1024, i);
    const writes = Array.from({ length: count }, (_, i) => setData(client, '/bytes', payload(i)));
    const versions = (await Promise.all(writes)).map((reply) => reply.body!.stat.version);
    assert.deepEqual(versions, Array.from({ length: count }, (_, i) => i + 1));
  });

  it('reads a four-letter word sent one byte at a time', async () => {
    await using server = await startServer({ fourLetterWordsEnabled: ['ruok'] });
    await using connection = await RawConnection.open(server.port);
    for (const letter of 'ruok') {
      connection.write(letter);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    await connection.waitClosed();
    assert.equal(connection.received().toString(), 'imok');
  });

  it('cuts a client that never reads while watch events pile up for it', async function () {
    this.timeout(30_000);
    const connectionLimits = { writeQueueBytesPause: 64 * 1024, writeQueueBytesMax: 1024 * 1024 };
    await using server = await startServer({ connectionLimits });
    // A raw socket that sets a recursive watch on / and never reads a byte.
    const stalled = net.connect(server.port, '127.0.0.1');
    stalled.on('error', () => {});
    await new Promise<void>((resolve) => stalled.once('connect', () => resolve()));
    stalled.pause();
    const connect = { protocolVersion: 0, lastZxidSeen: 0n, timeOut: 30_000, sessionId: 0n, passwd: null };
    stalled.write(encodeFrame(part(records.ConnectRequest, connect)));
    stalled.write(
      encodeFrame(
        part(RequestHeader, { xid: 1, type: OpCode.addWatch }),
        part(records.AddWatchRequest, { path: '/', mode: 1 }),
      ),
    );
    await using writer = await RawClient.connect(server.port);
    await until(async () => server.connectionCount === 2, 'both sessions');
    const longName = 'x'.repeat(2000);
    let creates = 0;
    // Each create sends the stalled client a ~2 KB event; kernel buffers take a few MB, then ours fill.
    while (server.connectionCount > 1 && creates < 20_000) {
      const batch = Array.from({ length: 100 }, () => create(writer, `/${longName}${creates++}`, null));
      assert.ok((await Promise.all(batch)).every((reply) => reply.header.err === 0));
    }
    assert.equal(server.connectionCount, 1, `the stalled client was cut (after ${creates} creates)`);
    ok(await exists(writer, '/zookeeper'), 'the writer is still served');
    stalled.destroy();
  });

  it('closes the old connection when a session resumes elsewhere, and keeps its watches apart', async () => {
    await using server = await startServer();
    await using first = await RawClient.connect(server.port);
    const resume = { sessionId: first.sessionId, passwd: first.passwd };
    await using second = await RawClient.connect(server.port, resume);
    await first.connection.waitClosed();
    ok(await exists(second, '/zookeeper'));
    assert.equal(server.connectionCount, 1);
  });
});

describe('TestingServer', () => {
  it('expires sessions and drops connections on request', async () => {
    await using server = await TestingServer.start();
    await using owner = await RawClient.connect(server.port);
    await using observer = await RawClient.connect(server.port);
    ok(await create(owner, '/e', null, 1));
    await server.expireSession(owner.sessionId);
    await owner.connection.waitClosed();
    assert.equal((await exists(observer, '/e')).header.err, -101);
    server.dropConnections();
    await observer.connection.waitClosed();
    const resume = { sessionId: observer.sessionId, passwd: observer.passwd };
    await using back = await RawClient.connect(server.port, resume);
    assert.equal(back.sessionId, observer.sessionId, 'a dropped connection does not end the session');
  });
});
