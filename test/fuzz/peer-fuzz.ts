// Garbage on the peer ports: random bytes, mutated hellos and mutated peer messages after a valid
// hello, sent to a running TcpPeerTransport's election and quorum ports, one connection per case.
// Every few cases a real peer must still get a notification and a ZAB packet through; a case the
// transport neither closes nor finishes within the hang timeout is a hang. In process, mutated peer
// messages must decode or throw DecodeError.

import net from 'node:net';
import { once } from 'node:events';
import { pino } from 'pino';
import { DecodeError } from '../../src/protocol/index.js';
import { TcpPeerTransport } from '../../server/ensemble/tcp-transport.js';
import type { PeerAddress } from '../../server/ensemble/seams.js';
import { peerWire, type PeerMessage } from '../../server/quorum/index.js';
import { freePort } from '../support/ports.js';
import type { Finding } from './in-process.js';
import { Prng, mutateFrame } from './inputs.js';

export interface PeerFuzzCounts {
  cases: number;
  decoded: number;
  decodeErrors: number;
  healthChecks: number;
  findings: Finding[];
}

const wire = peerWire();
const zab = (seq: number, body: Extract<PeerMessage, { type: 'zab' }>['body']): PeerMessage =>
  ({ type: 'zab', link: '3:1', leaderSession: '1:7', seq, body });
const SAMPLES: PeerMessage[] = [
  { type: 'notification', state: 'LOOKING', leader: 3, zxid: 4n, electionEpoch: 2n, peerEpoch: 1n },
  zab(0, { type: 'followerInfo', acceptedEpoch: 1n, observer: false }),
  zab(1, { type: 'ackEpoch', lastZxid: 5n, currentEpoch: 1n }),
  zab(2, { type: 'proposal', txn: { zxid: 0x2_0000_0001n, payload: Buffer.alloc(40, 1) } }),
  zab(3, { type: 'snap', zxid: 9n, snapshot: Buffer.alloc(100, 2) }),
  zab(4, { type: 'pingReply', sessionTouches: Buffer.alloc(12, 3) }),
  zab(5, { type: 'request', requestId: 7, request: Buffer.alloc(30, 4) }),
];
function frame(payload: Buffer): Buffer {
  const out = Buffer.allocUnsafe(4 + payload.length);
  out.writeInt32BE(payload.length, 0);
  payload.copy(out, 4);
  return out;
}

/** One in-process input: a mutated sample message must decode or throw DecodeError. */
export function fuzzPeerWireOnce(rng: Prng, counts: PeerFuzzCounts): void {
  const input = mutateFrame(rng, frame(wire.encode(rng.pick(SAMPLES))), true).subarray(4);
  try {
    wire.decode(input);
    counts.decoded++;
  } catch (error) {
    if (error instanceof DecodeError) counts.decodeErrors++;
    else counts.findings.push({ target: 'peer wire', input: input.toString('hex'), error: String(error) });
  }
}

/** The bytes of one socket case, in writes (the next is sent once the transport answered). */
function buildCase(rng: Prng, peers: PeerAddress[], channel: 'election' | 'quorum'): Buffer[] {
  const hello = frame(wire.encodeHello({
    cluster: 'menagerie', senderId: 3, receiverId: 1, channel,
    senderQuorumPort: peers[2].quorumPort, senderElectionPort: peers[2].electionPort,
  }));
  switch (rng.int(3)) {
    case 0:
      return [rng.bytes(1 + rng.int(200))];
    case 1:
      return [mutateFrame(rng, hello, rng.chance(0.7))];
    default: {
      const messages = Array.from({ length: 1 + rng.int(5) }, () => {
        const valid = frame(wire.encode(rng.pick(SAMPLES)));
        return rng.chance(0.6) ? mutateFrame(rng, valid, rng.chance(0.8)) : valid;
      });
      return [hello, Buffer.concat(messages)];
    }
  }
}

async function runCase(port: number, writes: Buffer[], hangTimeoutMs: number): Promise<string | undefined> {
  const socket = net.connect(port, '127.0.0.1');
  socket.on('error', () => {});
  socket.resume();
  const closed = once(socket, 'close');
  const timer = setTimeout(() => socket.destroy(new Error('hang')), hangTimeoutMs);
  try {
    await Promise.race([once(socket, 'connect'), closed]);
    for (const [index, bytes] of writes.entries()) {
      if (socket.destroyed) break;
      const answered = index < writes.length - 1 ? once(socket, 'data').catch(() => {}) : undefined;
      socket.write(bytes);
      await Promise.race([answered, closed]);
    }
    socket.end();
    await closed;
    return socket.errored?.message === 'hang' ? 'no close within the hang timeout' : undefined;
  } finally {
    clearTimeout(timer);
  }
}

export interface PeerFuzzOptions {
  readonly seed: number;
  readonly casesMax: number;
  readonly deadlineMs: number;
  readonly healthEvery?: number;
  readonly hangTimeoutMs?: number;
}

/** Runs socket cases against peer 1 of a two-member pair, with health checks from peer 2. */
export async function fuzzPeerPorts(options: PeerFuzzOptions): Promise<PeerFuzzCounts> {
  const counts: PeerFuzzCounts = { cases: 0, decoded: 0, decodeErrors: 0, healthChecks: 0, findings: [] };
  const rng = new Prng(options.seed);
  const ports = new Set<number>();
  while (ports.size < 6) ports.add(await freePort());
  const [q1, e1, q2, e2, q3, e3] = ports;
  const peers: PeerAddress[] = [
    { id: 1, host: '127.0.0.1', quorumPort: q1, electionPort: e1 },
    { id: 2, host: '127.0.0.1', quorumPort: q2, electionPort: e2 },
    { id: 3, host: '127.0.0.1', quorumPort: q3, electionPort: e3 },
  ];
  const logger = pino({ level: 'silent' });
  const limits = { handshakeTimeoutMs: 300, reconnectDelayMsMin: 5, reconnectDelayMsMax: 50 };
  const fromTwo: PeerMessage[] = [];
  await using target = new TcpPeerTransport({ myId: 1, peers, logger, limits });
  await target.start((from, message) => {
    if (from === 2) fromTwo.push(message);
  });
  await using healthy = new TcpPeerTransport({ myId: 2, peers, logger, limits });
  await healthy.start(() => {});
  const healthEvery = options.healthEvery ?? 50;
  while (counts.cases < options.casesMax && Date.now() < options.deadlineMs) {
    const channel = rng.chance(0.5) ? 'election' : 'quorum';
    const writes = buildCase(rng, peers, channel);
    const problem = await runCase(channel === 'election' ? e1 : q1, writes, options.hangTimeoutMs ?? 10_000);
    const input = writes.map((w) => w.toString('hex')).join(' ');
    if (problem) counts.findings.push({ target: `peer ${channel} port`, input, error: problem });
    counts.cases++;
    if (counts.cases % healthEvery !== 0) continue;
    // Health: a notification and a ZAB packet from a real peer get through, in order.
    const before = fromTwo.length;
    const giveUpMs = Date.now() + 5_000;
    healthy.send(1, SAMPLES[0]);
    healthy.send(1, SAMPLES[1]);
    while (fromTwo.length < before + 2 && Date.now() < giveUpMs) {
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    if (fromTwo.length < before + 2) {
      const input = `after case ${counts.cases}`;
      counts.findings.push({ target: 'peer health', input, error: 'no delivery' });
    } else {
      counts.healthChecks++;
    }
  }
  return counts;
}
