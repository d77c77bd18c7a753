// Bad input against both servers: each gets what Apache gives (an error reply, or the connection
// closed) and the server keeps serving other clients. Checked: garbage bytes, a frame over
// jute.maxbuffer, a header shorter than 8 bytes, a truncated body (MarshallingError, connection kept),
// a request before the ConnectRequest, unknown opcodes (Unimplemented, then closed), trailing bytes.
import assert from 'node:assert/strict';
import { it } from 'mocha';
import { OpCode, encodeFrame, part, records } from '../../src/protocol/index.js';
import { RequestHeader } from '../../src/protocol/records.js';
import type { RawClient } from '../support/raw-client.js';
import { describeBothServers, type ServerUnderTest } from '../support/servers.js';
import { OPEN_ACL, create, exists, ok } from './ops.js';

function frame(body: Buffer): Buffer {
  const length = Buffer.alloc(4);
  length.writeInt32BE(body.length);
  return Buffer.concat([length, body]);
}

function header(xid: number, type: number): Buffer {
  return RequestHeader.encode({ xid, type });
}

async function stillServes(target: ServerUnderTest): Promise<void> {
  await using client = await target.connect();
  ok(await exists(client, '/zookeeper'));
}

/** Writes a hand-made request and waits for its reply in order. */
async function rawRequest(client: RawClient, bytes: Buffer, xid: number) {
  const reply = client.expect(xid, null);
  client.connection.write(frame(bytes));
  return await reply;
}

describeBothServers('bad input', { config: { 'jute.maxbuffer': 65536 } }, (target) => {
  it('closes on garbage bytes as the first frame and keeps serving', async () => {
    await using connection = await target().open();
    connection.write(Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n'));
    await connection.waitClosed();
    await stillServes(target());
  });

  it('closes on a frame longer than jute.maxbuffer, before or after the handshake', async () => {
    await using connection = await target().open();
    const big = Buffer.alloc(4);
    big.writeInt32BE(10_000_000);
    connection.write(big);
    await connection.waitClosed();
    await using client = await target().connect();
    const body = Buffer.concat([header(1, OpCode.getData), Buffer.alloc(70_000)]);
    client.connection.write(frame(body));
    await client.connection.waitClosed();
    await stillServes(target());
  });

  it('closes on a request before the ConnectRequest, without a reply', async () => {
    await using connection = await target().open();
    connection.write(frame(header(-2, OpCode.ping)));
    await connection.waitClosed();
    assert.equal(connection.received().length, 0);
  });

  it('closes on a request header shorter than 8 bytes', async () => {
    await using client = await target().connect();
    client.connection.write(frame(Buffer.from([0, 0, 0, 5, 0, 0])));
    await client.connection.waitClosed();
  });

  it('answers a truncated body with MarshallingError and keeps the connection', async () => {
    await using client = await target().connect();
    const xid = client.allocateXid();
    // The path's length says 10 bytes; 3 follow.
    const shortPath = Buffer.concat([Buffer.from([0, 0, 0, 10]), Buffer.from('/ab')]);
    const truncated = Buffer.concat([header(xid, OpCode.getData), shortPath]);
    const reply = await rawRequest(client, truncated, xid);
    assert.equal(reply.header.err, -5);
    assert.equal(reply.frame.length, 16);
    const writeXid = client.allocateXid();
    const pathOnly = Buffer.concat([Buffer.from([0, 0, 0, 2]), Buffer.from('/w')]);
    const truncatedWrite = Buffer.concat([header(writeXid, OpCode.setData), pathOnly]);
    assert.equal((await rawRequest(client, truncatedWrite, writeXid)).header.err, -5);
    ok(await exists(client, '/zookeeper'), 'the connection still works');
  });

  it('ignores trailing bytes after a complete request', async () => {
    await using client = await target().connect();
    const xid = client.allocateXid();
    const body = Buffer.concat([
      header(xid, OpCode.exists),
      records.ExistsRequest.encode({ path: '/zookeeper', watch: false }),
      Buffer.from('junk'),
    ]);
    assert.equal((await rawRequest(client, body, xid)).header.err, 0);
  });

  const unknownOpcodes = [['10 (old getMaxChildren)', 10], ['42', 42], ['createSession (-10)', -10]] as const;
  for (const [name, opcode] of unknownOpcodes) {
    it(`answers opcode ${name} with Unimplemented and closes`, async () => {
      await using client = await target().connect();
      const xid = client.allocateXid();
      const reply = await rawRequest(client, header(xid, opcode), xid);
      if (target().kind === 'apache' && opcode === -10) return; // Apache answers a stray ConnectResponse.
      assert.equal(reply.header.err, -6);
      assert.equal(reply.header.xid, xid);
      await client.connection.waitClosed();
    });
  }

  it('answers a client-sent deleteContainer with BadArguments, as Apache 3.8 does', async () => {
    await using client = await target().connect();
    const root = target().path();
    ok(await create(client, root));
    // Apache 3.8 reads the path from the whole buffer, request header included: never a valid path.
    const send = async (body: Buffer) => {
      const xid = client.allocateXid();
      return (await rawRequest(client, Buffer.concat([header(xid, 20), body]), xid)).header;
    };
    const rawPath = (path: string) => Buffer.from(path);
    assert.equal((await send(records.DeleteTxn.encode({ path: root }))).err, -8);
    assert.equal((await send(rawPath(root))).err, -8);
    const box = { path: `${root}/box`, data: null, acl: OPEN_ACL, flags: 4 };
    ok(await client.request(OpCode.createContainer, box));
    assert.equal((await send(rawPath(`${root}/box`))).err, -8);
    ok(await exists(client, `${root}/box`), 'the container is still there');
  });

  it('ignores what follows a closeSession', async () => {
    await using client = await target().connect();
    const root = target().path();
    const closeXid = client.allocateXid();
    const createXid = client.allocateXid();
    const createBody = {
      path: root,
      data: null,
      acl: [{ perms: 31, id: { scheme: 'world', id: 'anyone' } }],
      flags: 0,
    };
    const closed = client.expect(closeXid, null);
    client.connection.write(
      Buffer.concat([
        encodeFrame(part(RequestHeader, { xid: closeXid, type: OpCode.closeSession })),
        encodeFrame(
          part(RequestHeader, { xid: createXid, type: OpCode.create }),
          part(records.CreateRequest, createBody),
        ),
      ]),
    );
    assert.equal((await closed).header.err, 0);
    await client.connection.waitClosed();
    await using other = await target().connect();
    assert.equal((await exists(other, root)).header.err, -101);
  });

  it('serves other clients while one pipelines many requests', async () => {
    await using busy = await target().connect();
    const root = target().path();
    ok(await create(busy, root));
    const pending = [];
    for (let i = 0; i < 2000; i++) pending.push(exists(busy, root));
    await stillServes(target());
    const replies = await Promise.all(pending);
    assert.ok(replies.every((r) => r.header.err === 0));
    assert.deepEqual(busy.protocolErrors, []);
  });
});
