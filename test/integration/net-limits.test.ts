// Goal: the write-queue limits of server/net/limits.ts hold together and at their values: a client
// that pipelines big reads and reads its replies late is paused, never cut; the cut leaves room for
// one reply of the largest frame (raised with jute.maxbuffer); inconsistent limits are refused.

import assert from 'node:assert/strict';
import { describe, it } from 'mocha';
import { OpCode } from '../../src/protocol/index.js';
import { FRAME_BYTES_MAX_DEFAULT, FRAME_LENGTH_BYTES } from '../../src/protocol/limits.js';
import { startServer } from '../../server/index.js';
import {
  DEFAULT_CONNECTION_LIMITS,
  checkConnectionLimits,
  connectionLimitsFor,
} from '../../server/net/limits.js';
import { create, ok } from '../conformance/ops.js';
import { fourLetterWord } from '../support/ports.js';
import { RawClient } from '../support/raw-client.js';

const KB = 1024;

/** Polls `cons` until the connection of `sessionId` has received `frames` frames. */
async function untilReceived(port: number, sessionId: bigint, frames: number): Promise<void> {
  const sid = `sid=0x${sessionId.toString(16)},`;
  for (let attempt = 0; attempt < 200; attempt++) {
    const line = (await fourLetterWord(port, 'cons')).split('\n').find((l) => l.includes(sid));
    const received = Number(/recved=(\d+)/.exec(line ?? '')?.[1] ?? -1);
    if (received >= frames) return;
    await new Promise((resolve) => setImmediate(resolve));
  }
  throw new Error(`the server never received ${frames} frames from ${sid} (or cut the connection)`);
}

describe('write-queue limits at and past their values', function () {
  this.timeout(30_000);

  it('pipelined big reads from a client that reads late are all served, none cut', async () => {
    const connectionLimits = { writeQueueBytesPause: 64 * KB, writeQueueBytesMax: 1024 * KB };
    await using server = await startServer({ connectionLimits, fourLetterWordsEnabled: ['cons'] });
    await using writer = await RawClient.connect(server.port);
    ok(await create(writer, '/big', Buffer.alloc(200 * KB, 7)));
    await using reader = await RawClient.connect(server.port);
    // 50 replies of 200 KB: ten times the cut, if the server wrote them all before the client read.
    reader.connection.socket.pause();
    const count = 50;
    const replies = Array.from({ length: count }, () =>
      reader.request(OpCode.getData, { path: '/big', watch: false }),
    );
    await untilReceived(server.port, reader.sessionId, count + 1);
    reader.connection.socket.resume();
    const cut = reader.connection.closed.then(() => 'cut' as const);
    const answered = await Promise.race([Promise.all(replies), cut]);
    assert.notEqual(answered, 'cut', 'the server cut a client that reads its replies');
    if (answered === 'cut') return;
    assert.deepEqual(
      answered.map((reply) => [reply.header.err, reply.body?.data?.length]),
      Array(count).fill([0, 200 * KB]),
    );
    assert.ok(reader.connection.isOpen, 'the slow reader was never cut');
    assert.deepEqual(reader.protocolErrors, []);
  });

  it('checks the relations: each mistake is named, the defaults hold, jute.maxbuffer raises the cut', () => {
    const limits = DEFAULT_CONNECTION_LIMITS;
    assert.throws(() => checkConnectionLimits({ ...limits, outstandingRequestsMax: 1 }), /at least 2/);
    assert.throws(() => checkConnectionLimits({ ...limits, writeQueueBytesPause: 0 }), /positive/);
    assert.throws(() => checkConnectionLimits({ ...limits, outstandingRequestBytesMax: 0 }), /positive/);
    const cutFirst = { ...limits, writeQueueBytesMax: limits.writeQueueBytesPause };
    assert.throws(() => checkConnectionLimits(cutFirst), /reading must pause before the write queue is cut/);
    assert.throws(() => connectionLimitsFor(cutFirst, FRAME_BYTES_MAX_DEFAULT), /must pause before/);
    assert.equal(checkConnectionLimits(limits, FRAME_BYTES_MAX_DEFAULT), limits);
    // At the limit: the cut exactly one largest reply above the pause point is accepted; one byte less not.
    const atLimit = limits.writeQueueBytesMax - limits.writeQueueBytesPause - FRAME_LENGTH_BYTES;
    assert.equal(checkConnectionLimits(limits, atLimit), limits);
    assert.throws(() => checkConnectionLimits(limits, atLimit + 1), /must leave room for one \d+-byte reply/);
    const raised = connectionLimitsFor(limits, atLimit + 1);
    assert.equal(raised.writeQueueBytesMax, limits.writeQueueBytesMax + 1);
    assert.equal(connectionLimitsFor(limits, atLimit), limits, 'consistent limits are kept as they are');
  });
});
