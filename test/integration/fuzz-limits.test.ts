// Each network limit of the standalone server at and just past its value: frame bytes
// (jute.maxbuffer), frames pipelined before the session exists, outstanding requests per connection,
// and the consistency check of the limits given to startServer. (Connections per IP and the write
// queue cut are tested at and past their limits in server-shell.test.ts.)
import assert from 'node:assert/strict';
import { describe, it } from 'mocha';
import { OpCode, Xid, encodeFrame, part, records } from '../../src/protocol/index.js';
import { RequestHeader } from '../../src/protocol/records.js';
import { startServer } from '../../server/index.js';
import { FRAMES_BEFORE_SESSION_MAX } from '../../server/net/limits.js';
import { RawClient, RawConnection } from '../support/raw-client.js';
import { connectFrame } from '../fuzz/inputs.js';

const ACL = [{ perms: 31, id: { scheme: 'world', id: 'anyone' } }];

/** A create frame whose body (after the length prefix) is exactly `bodyBytes` long. */
function createFrameOfBodyBytes(bodyBytes: number, path: string): Buffer {
  const empty = encodeFrame(part(RequestHeader, { xid: 1, type: OpCode.create }),
    part(records.CreateRequest, { path, data: Buffer.alloc(0), acl: ACL, flags: 0 }));
  const dataBytes = bodyBytes - (empty.length - 4);
  return encodeFrame(part(RequestHeader, { xid: 1, type: OpCode.create }),
    part(records.CreateRequest, { path, data: Buffer.alloc(dataBytes, 1), acl: ACL, flags: 0 }));
}

const PING = encodeFrame(part(RequestHeader, { xid: Xid.PING, type: OpCode.ping }));

describe('limits at and past their values', function () {
  this.timeout(30_000);

  it('frame bytes: a frame of exactly jute.maxbuffer is served, one byte more closes', async () => {
    await using server = await startServer({ frameBytesMax: 4096 });
    await using client = await RawClient.connect(server.port);
    const atLimit = createFrameOfBodyBytes(4096, '/at');
    assert.equal(atLimit.length, 4 + 4096);
    const reply = client.expect(1, records.CreateResponse);
    client.connection.write(atLimit);
    assert.equal((await reply).header.err, 0);
    await using past = await RawClient.connect(server.port);
    past.connection.write(createFrameOfBodyBytes(4097, '/past'));
    await past.connection.waitClosed();
    await using again = await RawClient.connect(server.port);
    assert.equal((await again.request(OpCode.exists, { path: '/past', watch: false })).header.err, -101);
  });

  it(`frames before the session: ${FRAMES_BEFORE_SESSION_MAX} are served, one more closes`, async () => {
    await using server = await startServer();
    const countPings = async (pings: number) => {
      await using connection = await RawConnection.open(server.port);
      connection.write(Buffer.concat([connectFrame(), ...Array.from({ length: pings }, () => PING)]));
      let replies = 0;
      for (;;) {
        const frame = await connection.nextFrame();
        if (frame === undefined) return { replies, closed: true };
        if (frame.length >= 4 && frame.readInt32BE(0) === Xid.PING && ++replies === pings) {
          return { replies, closed: false };
        }
      }
    };
    const atLimit = await countPings(FRAMES_BEFORE_SESSION_MAX);
    assert.deepEqual(atLimit, { replies: FRAMES_BEFORE_SESSION_MAX, closed: false });
    assert.deepEqual(await countPings(FRAMES_BEFORE_SESSION_MAX + 1), { replies: 0, closed: true });
  });

  it('outstanding requests per connection: at and far past it, all are answered in order', async () => {
    await using server = await startServer({ connectionLimits: { outstandingRequestsMax: 8 } });
    await using client = await RawClient.connect(server.port);
    for (const count of [8, 500]) {
      const exists = () => client.request(OpCode.exists, { path: '/', watch: false });
      const replies = Array.from({ length: count }, exists);
      const headers = (await Promise.all(replies)).map((reply) => reply.header.err);
      assert.deepEqual(headers, Array(count).fill(0));
    }
    assert.deepEqual(client.protocolErrors, []);
  });

  it('refuses inconsistent connection limits at start, before binding', async () => {
    const bad = { writeQueueBytesPause: 1000, writeQueueBytesMax: 1000 };
    const message = /reading must pause before the write queue is cut/;
    await assert.rejects(startServer({ connectionLimits: bad }), message);
    await assert.rejects(startServer({ connectionLimits: { outstandingRequestsMax: 1 } }), /at least 2/);
  });
});
