// Goal: ConnectRequests a member holds while electing are answered as soon as it enters read-only
// mode (readonlymode.enabled): a client that allows read-only gets its session on the same socket,
// one that does not is refused at once (it looks for a read-write member), neither waits out the hold.
import assert from 'node:assert/strict';
import net from 'node:net';
import { Writable } from 'node:stream';
import { describe, it } from 'mocha';
import { pino } from 'pino';
import { FrameSplitter } from '../../../../src/protocol/framing.js';
import { encodeFrame, part } from '../../../../src/protocol/messages.js';
import { ConnectRequest, ConnectResponse } from '../../../../src/protocol/records.js';
import { startEnsemble } from '../../../../server/ensemble/server.js';

const HELD_LINE = 'holding ConnectRequest until this server serves';

/** A logger that resolves `held` once `count` ConnectRequests have been held. */
function holdLog(count: number): { logger: pino.Logger; held: Promise<void> } {
  let seen!: () => void;
  let holds = 0;
  const held = new Promise<void>((resolve) => (seen = resolve));
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      if (chunk.toString().includes(HELD_LINE) && ++holds === count) seen();
      done();
    },
  });
  return { logger: pino({ level: 'info' }, sink), held };
}

type Answer = ConnectResponse | 'closed';

async function connectRaw(
  port: number,
  readOnly: boolean,
): Promise<{ answer: Promise<Answer>; socket: net.Socket }> {
  const socket = net.connect(port, '127.0.0.1');
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  const splitter = new FrameSplitter(1024 * 1024);
  const answer = new Promise<Answer>((resolve) => {
    socket.on('data', (chunk: Buffer) => {
      const [frame] = splitter.push(chunk);
      if (frame !== undefined) resolve(ConnectResponse.decode(frame));
    });
    socket.on('error', () => {});
    socket.on('close', () => resolve('closed'));
  });
  const request = { protocolVersion: 0, lastZxidSeen: 0n, timeOut: 10_000, sessionId: 0n, readOnly };
  socket.write(encodeFrame(part(ConnectRequest, { ...request, passwd: Buffer.alloc(16) })));
  return { answer, socket };
}

describe('ensemble in process: held ConnectRequests and read-only mode', function () {
  this.timeout(20_000);

  it('answers held ConnectRequests when the member turns read-only, before the hold runs out', async () => {
    const { logger, held } = holdLog(2);
    // tickTime 600 ms: a hold of min(2 ticks, 1 s) = 1 s, longer than the 300 ms before read-only.
    await using ensemble = await startEnsemble({
      size: 3,
      tickTimeMs: 600,
      syncLimitTicks: 2,
      logger,
      serverOptions: { readOnlyModeEnabled: true },
      readOnlyAfterMs: 300,
    });
    const leader = await ensemble.settled();
    const lone = [...ensemble.members.values()].find((m) => m !== leader)!;
    for (const id of [...ensemble.members.keys()]) if (id !== lone.myId) await ensemble.stopMember(id);
    while (lone.member.state !== 'LOOKING') await lone.member.roleChanged();
    const readOnly = await connectRaw(lone.port, true);
    const readWrite = await connectRaw(lone.port, false);
    try {
      await held;
      assert.equal(lone.mode, 'not serving', 'both were held while electing');
      const response = await readOnly.answer;
      assert.notEqual(response, 'closed', 'the read-only client was refused');
      if (response === 'closed') return;
      assert.equal(lone.mode, 'read-only');
      assert.equal(response.readOnly, true);
      assert.notEqual(response.sessionId, 0n);
      assert.equal(await readWrite.answer, 'closed');
      assert.equal(lone.mode, 'read-only', 'refused in read-only mode, not after the hold');
    } finally {
      readOnly.socket.destroy();
      readWrite.socket.destroy();
    }
  });
});
