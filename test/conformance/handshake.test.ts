// The connection handshake and session lifecycle on the wire, checked byte for byte against Apache:
// the readOnly byte echoed only when sent, a 16-byte password, timeout clamping, Apache's refusals,
// resuming a session on a new connection, pings, and closeSession.
import assert from 'node:assert/strict';
import { it } from 'mocha';
import { ConnectRequest } from '../../src/protocol/records.js';
import { encodeFrame, part } from '../../src/protocol/index.js';
import { describeBothServers } from '../support/servers.js';
import { RawClient } from '../support/raw-client.js';
import { OPEN_ACL, create, exists, ok } from './ops.js';

const NEW_SESSION = {
  protocolVersion: 0,
  lastZxidSeen: 0n,
  timeOut: 10_000,
  sessionId: 0n,
  passwd: Buffer.alloc(16),
};

describeBothServers('handshake and sessions', { config: { tickTime: 2000 } }, (target) => {
  it('echoes the readOnly byte only when the client sent one; always 16 password bytes', async () => {
    await using old = await target().connect();
    await using modern = await target().connect({ readOnly: false });
    assert.equal(old.responseFrame.length, 36);
    assert.equal(old.response.readOnly, undefined);
    assert.equal(modern.responseFrame.length, 37);
    assert.equal(modern.response.readOnly, false);
    assert.equal(old.passwd.length, 16);
    assert.equal(old.response.protocolVersion, 0);
    assert.notEqual(old.sessionId, 0n);
    assert.notEqual(old.sessionId, modern.sessionId);
    assert.equal(old.sessionId >> 56n, 1n, 'the top byte of a standalone session id is the server id 1');
  });

  it('answers a client asking for read-only with readOnly false from a read-write server', async () => {
    await using client = await target().connect({ readOnly: true });
    assert.equal(client.responseFrame.length, 37);
    assert.equal(client.response.readOnly, false);
    assert.notEqual(client.sessionId, 0n);
  });

  it('clamps the requested timeout into [2, 20] ticks', async () => {
    await using low = await target().connect({ timeoutMs: 10 });
    await using high = await target().connect({ timeoutMs: 10_000_000 });
    await using mid = await target().connect({ timeoutMs: 10_000 });
    assert.equal(low.timeoutMs, 4000);
    assert.equal(high.timeoutMs, 40000);
    assert.equal(mid.timeoutMs, 10000);
  });

  it('refuses a wrong password with timeout 0, session 0 and 16 zero bytes, then closes', async () => {
    await using first = await target().connect({ readOnly: false });
    const wrong = Buffer.from(first.passwd);
    wrong[0] ^= 0xff;
    const options = { sessionId: first.sessionId, passwd: wrong, readOnly: false };
    const refused = await RawClient.connect(target().port, options);
    assert.equal(refused.response.timeOut, 0);
    assert.equal(refused.response.sessionId, 0n);
    assert.deepEqual(refused.passwd, Buffer.alloc(16));
    assert.equal(refused.responseFrame.length, 37);
    await refused.connection.waitClosed();
  });

  it('refuses an unknown session the same way (no readOnly byte when none was sent)', async () => {
    const options = { sessionId: 0x1234n, passwd: Buffer.alloc(16, 1) };
    const refused = await RawClient.connect(target().port, options);
    assert.equal(refused.responseFrame.length, 36);
    assert.equal(refused.response.timeOut, 0);
    assert.equal(refused.response.sessionId, 0n);
    await refused.connection.waitClosed();
  });

  it('closes without a reply when the client has seen a newer zxid', async () => {
    await using connection = await target().open();
    const request = { ...NEW_SESSION, lastZxidSeen: 1n << 40n };
    connection.write(encodeFrame(part(ConnectRequest, request)));
    await connection.waitClosed();
    assert.equal(connection.received().length, 0);
  });

  it('resumes a session on a new connection with id and password; the old one is closed', async () => {
    const root = target().path();
    await using first = await target().connect({ readOnly: false });
    ok(await create(first, root, null, 1), 'create ephemeral');
    const resume = { sessionId: first.sessionId, passwd: first.passwd, readOnly: false };
    await using second = await target().connect(resume);
    assert.equal(second.sessionId, first.sessionId);
    assert.deepEqual(second.passwd, first.passwd);
    await first.connection.waitClosed();
    const stat = ok(await exists(second, root)).stat;
    assert.equal(stat.ephemeralOwner, first.sessionId, 'the ephemeral survived the connection change');
  });

  it('keeps the session when the connection drops, and ends it with closeSession', async () => {
    const root = target().path();
    const first = await target().connect();
    ok(await create(first, root, null, 1));
    first.connection.destroy();
    await first.connection.closed;
    await using second = await target().connect({ sessionId: first.sessionId, passwd: first.passwd });
    assert.equal(second.sessionId, first.sessionId);
    await using observer = await target().connect();
    assert.equal((await exists(observer, root)).header.err, 0);
    await second.close();
    assert.equal((await exists(observer, root)).header.err, -101, 'closeSession deleted the ephemeral');
  });

  it('answers a ping with xid -2 and the last zxid', async () => {
    await using client = await target().connect();
    const created = await create(client, target().path());
    const pong = await client.ping();
    assert.equal(pong.header.xid, -2);
    assert.equal(pong.header.err, 0);
    assert.ok(pong.header.zxid >= created.header.zxid);
    assert.equal(pong.frame.length, 16);
  });

  it('processes requests pipelined behind the ConnectRequest, in order', async () => {
    await using connection = await target().open();
    const root = target().path();
    const request = NEW_SESSION;
    const { OpCode, records } = await import('../../src/protocol/index.js');
    const { RequestHeader } = await import('../../src/protocol/records.js');
    const createBody = { path: root, data: Buffer.from('x'), acl: OPEN_ACL, flags: 0 };
    connection.write(
      Buffer.concat([
        encodeFrame(part(ConnectRequest, request)),
        encodeFrame(
          part(RequestHeader, { xid: 1, type: OpCode.create }),
          part(records.CreateRequest, createBody),
        ),
        encodeFrame(
          part(RequestHeader, { xid: 2, type: OpCode.exists }),
          part(records.ExistsRequest, { path: root, watch: false }),
        ),
      ]),
    );
    const connectFrame = await connection.nextFrame();
    assert.ok(connectFrame && connectFrame.length === 36);
    const first = await connection.nextFrame();
    const second = await connection.nextFrame();
    assert.equal(first!.readInt32BE(0), 1);
    assert.equal(first!.readInt32BE(12), 0);
    assert.equal(second!.readInt32BE(0), 2);
    assert.equal(second!.readInt32BE(12), 0, 'exists saw the pipelined create');
  });
});
