// A server that misbehaves (out-of-order xid, malformed reply, oversize frame, silence, a garbage
// handshake): the client closes that connection with a typed error, fails what was in flight,
// reconnects and carries on; no promise is left pending and nothing crashes.
import assert from 'node:assert/strict';
import { describe, it } from 'mocha';
import fc from 'fast-check';
import {
  ConnectionLossError,
  DecodeError,
  FrameTooLargeError,
  ProtocolViolationError,
  ReplyTooLargeError,
  TimeoutError,
  ZooKeeperClient,
  encodeFrame,
  part,
  records,
  type KeeperError,
} from '../../../src/index.js';
import { startFakeServer, type Behaviour } from './support/fake-server.js';
import { waitForState } from './support/wait.js';

describe('client against a misbehaving server', function () {
  this.timeout(15_000);

  async function firstFailure(behaviour: Behaviour, sessionTimeoutMs = 3000): Promise<KeeperError> {
    await using server = await startFakeServer((n) => (n === 0 ? behaviour : 'good'));
    await using client = new ZooKeeperClient({ connectString: server.connectString, sessionTimeoutMs });
    await client.connect();
    if (behaviour !== 'silent') await client.sync('/'); // a reply, so a zxid to remember
    const sessionId = client.sessionId;
    const lastZxid = client.lastZxidSeen;
    assert.equal(lastZxid > 0n, behaviour !== 'silent');
    const error = await client.getData('/x').then(
      () => assert.fail('the broken reply must not resolve'),
      (e: KeeperError) => e,
    );
    await waitForState(client, 'connected');
    assert.equal(client.sessionId, sessionId, 'the session is resumed on the next connection');
    assert.equal((await client.getData('/x')).data?.toString(), 'ok');
    assert.equal(server.accepted, 2);
    // The reconnect carries the latest zxid seen, so the client never goes back in time.
    assert.equal(server.connectRequests[1].lastZxidSeen, lastZxid);
    assert.equal(server.connectRequests[1].sessionId, sessionId);
    return error;
  }

  it('drops the connection on an out-of-order xid', async () => {
    const error = await firstFailure('outOfOrder');
    assert.ok(error instanceof ConnectionLossError);
    assert.ok(error.cause instanceof ProtocolViolationError, String(error.cause));
  });

  it('drops the connection on a malformed reply', async () => {
    const error = await firstFailure('malformed');
    assert.ok(error instanceof ConnectionLossError);
    assert.ok(error.cause instanceof DecodeError, String(error.cause));
  });

  it('drops the connection on an oversize frame without allocating it', async () => {
    const error = await firstFailure('oversize');
    assert.ok(error.cause instanceof FrameTooLargeError, String(error.cause));
  });

  it('fails only the request an oversize reply answers; the connection and the rest live on', async () => {
    await using server = await startFakeServer(() => ({ bigReplyBytes: 50_000 }));
    await using client = new ZooKeeperClient({ connectString: server.connectString, frameBytesMax: 4096 });
    const states: string[] = [];
    client.onStateChange((s) => states.push(s.type));
    await client.connect();
    await client.sync('/');
    const zxidBefore = client.lastZxidSeen;
    // Pipelined: a sync before it, the oversize getData, and two requests behind it.
    const [before, big, after, last] = await Promise.allSettled([
      client.sync('/'),
      client.getData('/big'),
      client.getData('/x'),
      client.sync('/'),
    ]);
    assert.equal(before.status, 'fulfilled');
    assert.equal(big.status, 'rejected');
    assert.ok(big.reason instanceof ReplyTooLargeError, String(big.reason));
    assert.ok(big.reason instanceof FrameTooLargeError);
    assert.equal(big.reason.frameBytes, 50_000);
    assert.equal(after.status === 'fulfilled' && after.value.data?.toString(), 'ok');
    assert.equal(last.status, 'fulfilled');
    assert.equal(server.accepted, 1, 'the connection was kept');
    assert.deepEqual(states, ['connected']);
    assert.ok(client.lastZxidSeen > zxidBefore + 2n, 'the skipped reply\'s zxid counts as seen');
  });

  it('closes the connection with the typed cause when an oversize frame answers no request', async () => {
    // An oversize notification cannot be pinned on a request: the connection goes, and the
    // requests it held fail as connection loss whose cause says why; the client reconnects.
    const notification = { bigReplyBytes: 50_000, xid: -1 };
    await using server = await startFakeServer((n) => (n === 0 ? notification : 'good'));
    await using client = new ZooKeeperClient({
      connectString: server.connectString,
      frameBytesMax: 4096,
      reconnectDelayMaxMs: 20,
    });
    await client.connect();
    const sessionId = client.sessionId;
    const error = await client.getData('/x').then(
      () => assert.fail('the connection must close under it'),
      (e: KeeperError) => e,
    );
    assert.ok(error instanceof ConnectionLossError);
    assert.ok(error.cause instanceof FrameTooLargeError, String(error.cause));
    assert.ok(!(error.cause instanceof ReplyTooLargeError));
    await waitForState(client, 'connected');
    assert.equal(client.sessionId, sessionId);
    assert.equal((await client.getData('/x')).data?.toString(), 'ok');
  });

  it('drops a connection that stops answering after the read timeout', async () => {
    const error = await firstFailure('silent', 600);
    assert.ok(error instanceof ConnectionLossError);
    assert.ok(error.cause instanceof TimeoutError, String(error.cause));
  });

  it('retries after a garbage handshake', async () => {
    await using server = await startFakeServer((n) => (n === 0 ? 'garbageHandshake' : 'good'));
    await using client = new ZooKeeperClient({
      connectString: server.connectString,
      reconnectDelayMaxMs: 50,
    });
    await client.connect();
    assert.equal(server.accepted, 2);
  });

  it('gives up connect() after its timeout when nothing answers, and closes cleanly', async () => {
    await using server = await startFakeServer(() => 'good');
    const port = server.port;
    await server.close();
    await using client = new ZooKeeperClient({ connectString: `127.0.0.1:${port}`, reconnectDelayMaxMs: 20 });
    await assert.rejects(client.connect({ timeoutMs: 300 }), TimeoutError);
    await client.close();
    assert.equal(client.state.type, 'closed');
  });

  it('pings an idle connection and stays connected', async () => {
    await using server = await startFakeServer(() => 'good');
    // 900 ms: a ping every 300 ms idle, and a read timeout (600 ms) a loaded machine does not trip.
    await using client = new ZooKeeperClient({ connectString: server.connectString, sessionTimeoutMs: 900 });
    const states: string[] = [];
    client.onStateChange((s) => states.push(s.type));
    await client.connect();
    // At a third of the timeout of idleness a ping goes out; wait for a few.
    while (server.pings < 3) await new Promise((resolve) => setTimeout(resolve, 20));
    assert.deepEqual(states, ['connected']);
    assert.equal(server.accepted, 1);
  });

  it('pipelines: every request is written before any reply comes back', async () => {
    // The server answers nothing until all 100 requests arrived: a client that waited for replies
    // before writing more would never finish.
    await using server = await startFakeServer(() => ({ holdUntil: 100 }));
    await using client = new ZooKeeperClient({ connectString: server.connectString });
    await client.connect();
    const replies = await Promise.all(Array.from({ length: 100 }, () => client.getData('/x')));
    assert.ok(replies.every((r) => r.data?.toString() === 'ok'));
    assert.equal(server.accepted, 1);
  });

  it('replaces a connection whose server answers pings but not requests', async () => {
    await using server = await startFakeServer((n) => (n === 0 ? 'mute' : 'good'));
    await using client = new ZooKeeperClient({ connectString: server.connectString, requestTimeoutMs: 200 });
    await client.connect();
    const error = await client.getData('/x').then(
      () => assert.fail('no reply can arrive'),
      (e: KeeperError) => e,
    );
    assert.ok(error instanceof ConnectionLossError);
    assert.ok(error.cause instanceof TimeoutError, String(error.cause));
    await waitForState(client, 'connected');
    assert.equal((await client.getData('/x')).data?.toString(), 'ok');
  });

  it('survives any reply bytes: the call settles and the client carries on (fuzz)', async function () {
    this.timeout(60_000);
    const frame = (body: Uint8Array) => {
      const prefix = Buffer.alloc(4);
      prefix.writeInt32BE(body.length, 0);
      return Buffer.concat([prefix, body]);
    };
    const header = fc
      .record({
        xid: fc.integer({ min: -5, max: 3 }),
        zxid: fc.bigInt(-1n, 10n),
        err: fc.integer({ min: -130, max: 0 }),
      })
      .map((h) => encodeFrame(part(records.ReplyHeader, h)).subarray(4));
    const reply = fc.oneof(
      fc.uint8Array({ maxLength: 64 }).map((b) => Buffer.from(b)),
      fc.uint8Array({ maxLength: 64 }).map(frame),
      fc.tuple(header, fc.uint8Array({ maxLength: 80 })).map(([h, b]) => frame(Buffer.concat([h, b]))),
    );
    await fc.assert(
      fc.asyncProperty(reply, async (raw) => {
        await using server = await startFakeServer((n) => (n === 0 ? { raw } : 'good'));
        await using client = new ZooKeeperClient({
          connectString: server.connectString,
          sessionTimeoutMs: 600,
          requestTimeoutMs: 150,
          reconnectDelayMaxMs: 20,
        });
        await client.connect();
        // Whatever the bytes, the call settles (a value or a typed error), never hangs or crashes.
        await client.getData('/x').then(
          () => undefined,
          (error: unknown) =>
            assert.ok(error instanceof Error && error.name.endsWith('Error'), String(error)),
        );
        await waitForState(client, 'connected');
        assert.equal((await client.getData('/x')).data?.toString(), 'ok');
      }),
      { numRuns: 40 },
    );
  });
});
