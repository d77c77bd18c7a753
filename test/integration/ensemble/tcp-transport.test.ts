// The TCP transport between ensemble peers, on loopback: three transports exchange notifications and
// ZAB packets in order, a restarted peer is reconnected to, and garbage on the election and quorum
// ports (random bytes, a huge length prefix, a wrong or stranger's handshake) is logged and cut off
// while the transport keeps working. Closing leaves no handles (the runner checks).
import assert from 'node:assert/strict';
import net from 'node:net';
import { EventEmitter, once } from 'node:events';
import { after, afterEach, describe, it } from 'mocha';
import { pino } from 'pino';
import { freePort } from '../../support/ports.js';
import { fuzzPeerPorts } from '../../fuzz/peer-fuzz.js';
import { TcpPeerTransport, type TcpPeerTransportLimits } from '../../../server/ensemble/tcp-transport.js';
import type { PeerAddress } from '../../../server/ensemble/seams.js';
import { peerWire, type PeerMessage, type ZabBody } from '../../../server/quorum/index.js';

/** Log lines a transport wrote, parsed, with an event per line so tests can wait for one. */
class LogRecorder extends EventEmitter {
  readonly lines: Array<{ level: number; msg: string; [key: string]: unknown }> = [];
  readonly logger = pino({ level: 'debug' }, { write: (line: string) => this.record(line) });

  private record(line: string): void {
    const parsed = JSON.parse(line);
    this.lines.push(parsed);
    this.emit('line', parsed);
  }

  /** Resolves with the first line (past or future) whose message contains `text`. */
  async waitFor(text: string, level = 40): Promise<Record<string, unknown>> {
    const match = (line: { level: number }) => line.level === level && JSON.stringify(line).includes(text);
    const seen = this.lines.find(match);
    if (seen) return seen;
    for (;;) {
      const [line] = await once(this, 'line');
      if (match(line)) return line;
    }
  }
}

/** A running transport with everything it received, in order. */
interface Member {
  readonly transport: TcpPeerTransport;
  readonly received: Array<{ from: number; message: PeerMessage }>;
  readonly log: LogRecorder;
  readonly arrivals: EventEmitter;
}

const fast: Partial<TcpPeerTransportLimits> = { reconnectDelayMsMin: 5, reconnectDelayMsMax: 50 };

/** Addresses on distinct free loopback ports (freePort alone may hand out one port twice). */
async function addresses(count: number): Promise<PeerAddress[]> {
  const ports = new Set<number>();
  while (ports.size < 2 * count) ports.add(await freePort());
  const [...free] = ports;
  return [...Array(count).keys()].map((i) => ({
    id: i + 1, host: '127.0.0.1', quorumPort: free[2 * i], electionPort: free[2 * i + 1],
  }));
}

const running = new Set<TcpPeerTransport>();

async function startMember(
  myId: number,
  peers: PeerAddress[],
  options: { cluster?: string; limits?: Partial<TcpPeerTransportLimits> } = {},
): Promise<Member> {
  const log = new LogRecorder();
  const transport = new TcpPeerTransport({
    myId, peers, logger: log.logger, cluster: options.cluster, limits: { ...fast, ...options.limits },
  });
  running.add(transport);
  const received: Member['received'] = [];
  const arrivals = new EventEmitter();
  await transport.start((from, message) => {
    received.push({ from, message });
    arrivals.emit('message');
  });
  return { transport, received, log, arrivals };
}

/** Resolves once `member` has received `count` messages from `from`. */
async function receivedFrom(member: Member, from: number, count: number): Promise<PeerMessage[]> {
  for (;;) {
    const messages = member.received.filter((r) => r.from === from).map((r) => r.message);
    if (messages.length >= count) return messages;
    await once(member.arrivals, 'message');
  }
}

/** Sends probes from `sender` until `receiver` gets one (the first may be lost while a link settles). */
async function probeUntilReceived(sender: Member, receiver: Member, to: number): Promise<void> {
  const before = receiver.received.length;
  for (let round = 0; receiver.received.length === before; round++) {
    assert.ok(round < 400, 'no probe arrived');
    sender.transport.send(to, notification(-round));
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

function notification(round: number): PeerMessage {
  return {
    type: 'notification', state: 'LOOKING', leader: 1, zxid: 5n, electionEpoch: BigInt(round), peerEpoch: 1n,
  };
}

function zab(seq: number, body: ZabBody = { type: 'ack', zxid: BigInt(seq) }): PeerMessage {
  return { type: 'zab', link: 'l1', leaderSession: 's1', seq, body };
}

const roundsOf = (messages: PeerMessage[]) =>
  messages.map((m) => (m.type === 'notification' ? Number(m.electionEpoch) : -1));
const seqsOf = (messages: PeerMessage[]) => messages.map((m) => (m.type === 'zab' ? m.seq : -1));

/**
 * A raw TCP client that sends each chunk, the next only once the server answered the previous one,
 * and resolves once the server closes the connection.
 */
/**
 * Resolves when the socket has closed. Not `once(socket, 'close')`: that rejects on the ECONNRESET a
 * server's hang-up can raise first, and a hang-up is what these tests expect.
 */
function closedEvent(socket: net.Socket): Promise<void> {
  return new Promise((resolve) => socket.once('close', () => resolve()));
}

async function garbageClient(port: number, chunks: Buffer[]): Promise<void> {
  const socket = net.connect(port, '127.0.0.1');
  socket.on('error', () => {});
  const closed = closedEvent(socket);
  await once(socket, 'connect');
  socket.resume();
  for (const [index, chunk] of chunks.entries()) {
    const answered = index < chunks.length - 1 ? once(socket, 'data') : undefined;
    socket.write(chunk);
    await answered;
  }
  await closed;
}

function framed(payload: Buffer): Buffer {
  const prefix = Buffer.alloc(4);
  prefix.writeInt32BE(payload.length, 0);
  return Buffer.concat([prefix, payload]);
}

describe('TcpPeerTransport', function () {
  this.timeout(20_000);

  afterEach(async () => {
    await Promise.all([...running].map((t) => t.close()));
    running.clear();
  });
  after(async () => {
    await Promise.all([...running].map((t) => t.close()));
  });

  it('carries notifications and ZAB packets between three peers, in order', async () => {
    const peers = await addresses(3);
    const [one, two, three] = await Promise.all(peers.map((p) => startMember(p.id, peers)));
    const count = 50;
    for (let i = 0; i < count; i++) {
      one.transport.send(2, notification(i));
      one.transport.send(3, zab(i));
      two.transport.send(3, notification(i));
      const txn = { zxid: BigInt(i), payload: Buffer.alloc(i) };
      three.transport.send(1, zab(i, { type: 'proposal', txn }));
    }
    assert.deepEqual(roundsOf(await receivedFrom(two, 1, count)), [...Array(count).keys()]);
    const atThree = await receivedFrom(three, 1, count);
    assert.deepEqual(seqsOf(atThree), [...Array(count).keys()]);
    assert.deepEqual(roundsOf(await receivedFrom(three, 2, count)), [...Array(count).keys()]);
    const atOne = await receivedFrom(one, 3, count);
    assert.deepEqual(seqsOf(atOne), [...Array(count).keys()]);
    const last = atOne[count - 1];
    assert.ok(last.type === 'zab' && last.body.type === 'proposal');
    assert.equal(last.body.txn.payload.length, count - 1);

    const counters = one.transport.peerCounters();
    assert.equal(counters.get(2)?.sent, count);
    assert.equal(counters.get(3)?.sent, count);
    assert.equal(counters.get(3)?.received, count);
    assert.equal(counters.get(2)?.connects, 1);
    assert.equal(counters.get(2)?.dropped, 0);
  });

  it('carries a large snapshot', async () => {
    const peers = await addresses(2);
    const [one, two] = await Promise.all(peers.map((p) => startMember(p.id, peers)));
    const snapshot = Buffer.alloc(4 * 1024 * 1024, 7);
    one.transport.send(2, zab(0, { type: 'snap', zxid: 9n, snapshot }));
    const [message] = await receivedFrom(two, 1, 1);
    assert.ok(message.type === 'zab' && message.body.type === 'snap');
    assert.ok(Buffer.from(message.body.snapshot).equals(snapshot));
  });

  it('reconnects to a peer that restarts, and delivers later messages in order', async () => {
    const peers = await addresses(2);
    const one = await startMember(1, peers);
    let two = await startMember(2, peers);
    one.transport.send(2, zab(0));
    await receivedFrom(two, 1, 1);
    await two.transport.close();
    running.delete(two.transport);
    // Sent while the peer is down: queued or dropped, never thrown.
    for (let i = 1; i <= 5; i++) one.transport.send(2, zab(i));
    two = await startMember(2, peers);
    await probeUntilReceived(one, two, 2);
    for (let i = 100; i < 120; i++) {
      one.transport.send(2, notification(i));
      one.transport.send(2, zab(i));
    }
    const numberOf = (m: PeerMessage) => (m.type === 'zab' ? m.seq : Number(m.electionEpoch));
    const late = (messages: PeerMessage[]) => messages.filter((m) => numberOf(m) >= 100);
    let after = await receivedFrom(two, 1, 1);
    while (late(after).length < 40) after = await receivedFrom(two, 1, after.length + 1);
    const rounds = roundsOf(after).filter((r) => r >= 100);
    assert.deepEqual(rounds.slice(0, 20), [...Array(20).keys()].map((i) => 100 + i));
    // The quorum port reconnects too; packets queued while the peer was down may come first.
    const seqs = seqsOf(after).filter((seq) => seq >= 100);
    assert.deepEqual(seqs, [...Array(20).keys()].map((i) => 100 + i));
    assert.ok((one.transport.peerCounters().get(2)?.connects ?? 0) >= 2);
  });

  it('redials at once, not after its backoff, a peer that just called it', async () => {
    const peers = await addresses(2);
    // A backoff far beyond the test's timeout: only the early redial can deliver the message.
    const limits = { reconnectDelayMsMin: 60_000, reconnectDelayMsMax: 60_000 };
    const one = await startMember(1, peers, { limits });
    one.transport.send(2, notification(1));
    await one.log.waitFor('connection to peer lost', 30);
    const two = await startMember(2, peers);
    two.transport.send(1, zab(0));
    assert.deepEqual(roundsOf(await receivedFrom(two, 1, 1)), [1]);
  });

  for (const [what, answer, complaint] of [
    ['answers our hello with garbage', Buffer.from('SSH-2.0-OpenSSH_9.6\r\n'), 'bad answer from peer'],
    ['answers our hello with a huge frame', Buffer.from([0x7f, 0, 0, 0]), 'bad answer from peer'],
    ['never answers our hello', undefined, 'no answer to our hello in time'],
  ] as const) {
    it(`gives up on a callee that ${what}, and retries`, async () => {
      const peers = await addresses(2);
      const sockets: net.Socket[] = [];
      const impostor = net.createServer((socket) => {
        sockets.push(socket);
        socket.on('error', () => {});
        if (answer !== undefined) socket.once('data', () => socket.write(answer));
      });
      await new Promise<void>((resolve) => impostor.listen(peers[1].electionPort, '127.0.0.1', resolve));
      try {
        const limits = { connectTimeoutMs: 50, handshakeTimeoutMs: 50 };
        const one = await startMember(1, peers, { limits });
        one.transport.send(2, notification(1));
        const line = await one.log.waitFor(complaint, answer === undefined ? 30 : 40);
        assert.ok(JSON.stringify(line).includes(complaint));
        // It keeps trying while it has something to send.
        while (sockets.length < 2) await once(impostor, 'connection');
        assert.equal(one.transport.peerCounters().get(2)?.connects, 0);
      } finally {
        for (const socket of sockets) socket.destroy();
        await new Promise((resolve) => impostor.close(resolve));
      }
    });
  }

  it('reports established connections that end, both ways, but not its own close', async () => {
    const peers = await addresses(2);
    const lost: string[] = [];
    const changed = new EventEmitter();
    const logger = pino({ level: 'silent' });
    await using one = new TcpPeerTransport({
      myId: 1, peers, logger, limits: fast,
      onConnectionLost: (peer, channel, direction) => {
        lost.push(`${peer} ${channel} ${direction}`);
        changed.emit('lost');
      },
    });
    await one.start(() => {});
    const two = await startMember(2, peers);
    one.send(2, zab(0));
    two.transport.send(1, zab(0));
    two.transport.send(1, notification(0));
    await receivedFrom(two, 1, 1);
    while (one.peerCounters().get(2)?.received !== 2) await new Promise((r) => setTimeout(r, 5));
    await two.transport.close();
    while (lost.length < 3) await once(changed, 'lost');
    assert.deepEqual(lost.sort(), ['2 election inbound', '2 quorum inbound', '2 quorum outbound']);
    // Established again both ways, then closed by us: nothing more is reported.
    const again = await startMember(2, peers);
    one.send(2, zab(1));
    again.transport.send(1, zab(1));
    await receivedFrom(again, 1, 1);
    while (one.peerCounters().get(2)?.received !== 3) await new Promise((r) => setTimeout(r, 5));
    await one.close();
    assert.equal(lost.length, 3);
  });

  it('drops the oldest queued messages beyond the queue bound, and counts them', async () => {
    const peers = await addresses(2);
    const one = await startMember(1, peers, { limits: { queueMessagesMax: 3 } });
    // Peer 2 is not running: everything queues while the dial fails.
    for (let i = 0; i < 10; i++) one.transport.send(2, notification(i));
    const counters = one.transport.peerCounters().get(2)!;
    assert.equal(counters.dropped, 7);
    assert.equal(counters.queued, 3);
    await one.transport.close();
    assert.equal(one.transport.peerCounters().get(2)?.dropped, 10);
  });

  it('never throws from send: unknown peers, oversized and unencodable messages are dropped', async () => {
    const peers = await addresses(2);
    const one = await startMember(1, peers, { limits: { payloadBytesMax: 8 } });
    one.transport.send(9, notification(0));
    one.transport.send(1, notification(0));
    one.transport.send(2, zab(0, { type: 'request', requestId: 1, request: Buffer.alloc(9) }));
    one.transport.send(2, zab(0.5, { type: 'ping' }));
    assert.equal(one.transport.peerCounters().get(2)?.dropped, 2);
    await one.log.waitFor('unknown peer');
  });

  for (const channel of ['election', 'quorum'] as const) {
    describe(`garbage on the ${channel} port`, () => {
      const wire = peerWire();
      const hello = (peers: PeerAddress[], change: Record<string, unknown> = {}) => framed(wire.encodeHello({
        cluster: 'menagerie', senderId: 2, receiverId: 1, channel,
        senderQuorumPort: peers[1].quorumPort, senderElectionPort: peers[1].electionPort, ...change,
      }));
      const otherChannel = channel === 'quorum' ? 'election' : 'quorum';
      const wrongMessage = wire.encode(channel === 'quorum' ? notification(0) : zab(0));
      const cases: Array<[string, (peers: PeerAddress[]) => Buffer[], string]> = [
        ['random bytes', () => [Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n')], 'bad bytes'],
        ['a huge length prefix', () => [Buffer.from([0x7f, 0xff, 0xff, 0xff, 1, 2])], 'bad bytes'],
        ['a negative length prefix', () => [Buffer.from([0xff, 0xff, 0, 0, 0, 0, 0, 0, 0, 2])], 'bad bytes'],
        ['a frame that is not a hello', () => [framed(Buffer.from([1, 1, 0]))], 'bad bytes'],
        ['a stranger cluster', (p) => [hello(p, { cluster: 'other' })], 'refused'],
        ['an unknown server id', (p) => [hello(p, { senderId: 7 })], 'refused'],
        ['our own id', (p) => [hello(p, { senderId: 1 })], 'refused'],
        ['the wrong receiver', (p) => [hello(p, { receiverId: 3 })], 'refused'],
        ['the wrong ports', (p) => [hello(p, { senderQuorumPort: 1 })], 'refused'],
        ['the other channel', (p) => [hello(p, { channel: otherChannel })], 'refused'],
        ['bytes glued to its hello', (p) => [Buffer.concat([hello(p), framed(wrongMessage)])], 'bad bytes'],
        ['a valid hello, then garbage', (p) => [hello(p), Buffer.from([0, 0, 0, 3, 9, 9, 9])], 'bad bytes'],
        ['a valid hello, then a huge frame', (p) => [hello(p), Buffer.from([0x7f, 0xff, 0xff, 0xff])],
          'bad bytes'],
        ['a valid hello, then a message of the other port', (p) => [hello(p), framed(wrongMessage)],
          'bad bytes'],
      ];
      for (const [what, bytes, complaint] of cases) {
        it(`closes a connection that sends ${what}, logs it, and keeps working`, async () => {
          const peers = await addresses(2);
          const [one, two] = await Promise.all(peers.map((p) => startMember(p.id, peers)));
          const port = channel === 'election' ? peers[0].electionPort : peers[0].quorumPort;
          await garbageClient(port, bytes(peers));
          await one.log.waitFor(complaint);
          two.transport.send(1, notification(1));
          two.transport.send(1, zab(1));
          const messages = await receivedFrom(one, 2, 2);
          assert.equal(messages.length, 2);
        });
      }
    });
  }

  it('closes a caller that sends no hello, or drips it, by the handshake deadline', async () => {
    const peers = await addresses(2);
    const one = await startMember(1, peers, { limits: { handshakeTimeoutMs: 100 } });
    const silent = garbageClient(peers[0].quorumPort, []);
    const socket = net.connect(peers[0].electionPort, '127.0.0.1');
    socket.on('error', () => {});
    // A frame of 100 bytes, a byte at a time: the socket is never idle, but the hello never completes.
    socket.write(Buffer.from([0, 0, 0, 100]));
    const dripping = setInterval(() => socket.write(Buffer.from([1])), 20);
    try {
      await Promise.all([silent, closedEvent(socket)]);
    } finally {
      clearInterval(dripping);
    }
    assert.equal(one.log.lines.filter((l) => l.msg.includes('no handshake in time')).length, 2);
    assert.equal(one.transport.refusedConnections, 2);
  });

  it('closes accepted connections beyond the bound of those waiting for their hello', async () => {
    const peers = await addresses(2);
    const one = await startMember(1, peers, { limits: { pendingConnectionsMax: 2 } });
    const idle = [0, 1].map(() => net.connect(peers[0].quorumPort, '127.0.0.1'));
    await Promise.all(idle.map((socket) => once(socket, 'connect')));
    await garbageClient(peers[0].quorumPort, []);
    await one.log.waitFor('too many connections');
    for (const socket of idle) socket.destroy();
    await Promise.all(idle.map((socket) => closedEvent(socket)));
    // With the slots free again, a real peer gets through.
    const two = await startMember(2, peers);
    two.transport.send(1, zab(0));
    await receivedFrom(one, 2, 1);
  });

  it('bounds what waits for a peer that does not read, counting the drops', async () => {
    const peers = await addresses(2);
    const wire = peerWire();
    // A peer that accepts our hello and then never reads again (like a paused process).
    const sockets: net.Socket[] = [];
    const stalled = net.createServer((socket) => {
      sockets.push(socket);
      socket.once('data', () => {
        socket.write(framed(wire.encodeHelloReply({ accepted: true, reason: '' })));
        socket.pause();
      });
    });
    await new Promise<void>((resolve) => stalled.listen(peers[1].quorumPort, '127.0.0.1', resolve));
    try {
      const limits = { socketBufferBytesMax: 64 * 1024, queueMessagesMax: 10 };
      const one = await startMember(1, peers, { limits });
      const request = Buffer.alloc(100 * 1024);
      one.transport.send(2, zab(0, { type: 'request', requestId: 0, request }));
      while ((one.transport.peerCounters().get(2)?.connects ?? 0) === 0) {
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
      for (let i = 1; i <= 300; i++) {
        one.transport.send(2, zab(i, { type: 'request', requestId: i, request }));
      }
      const counters = one.transport.peerCounters().get(2)!;
      assert.ok(counters.queued <= 10, `queued ${counters.queued}`);
      assert.ok(counters.dropped > 0);
      assert.equal(counters.sent + counters.dropped + counters.queued, 301);
    } finally {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => stalled.close(resolve));
    }
  });

  it('keeps a connection when the message handler throws', async () => {
    const peers = await addresses(2);
    const log = new LogRecorder();
    const received: PeerMessage[] = [];
    const arrived = new EventEmitter();
    await using one = new TcpPeerTransport({ myId: 1, peers, logger: log.logger, limits: fast });
    await one.start((_from, message) => {
      received.push(message);
      arrived.emit('message');
      if (received.length === 1) throw new Error('handler bug');
    });
    const two = await startMember(2, peers);
    two.transport.send(1, notification(1));
    two.transport.send(1, notification(2));
    while (received.length < 2) await once(arrived, 'message');
    assert.deepEqual(roundsOf(received), [1, 2]);
    await log.waitFor('handler threw', 50);
    assert.equal(one.peerCounters().get(2)?.connects, 0);
    assert.equal(two.transport.peerCounters().get(1)?.connects, 1);
  });

  it('follows a reconfiguration: a new peer is accepted, a removed one is cut off', async () => {
    const peers = await addresses(3);
    const [one, two] = await Promise.all([1, 2].map((id) => startMember(id, peers.slice(0, 2))));
    const three = await startMember(3, peers);
    three.transport.send(1, notification(1));
    await one.log.waitFor('not a peer of ours');
    one.transport.setPeers([peers[0], peers[2]]);
    await probeUntilReceived(three, one, 1);
    two.transport.send(1, notification(2));
    await one.log.waitFor('server 2 is not a peer of ours');
    assert.equal(one.received.filter((r) => r.from === 2).length, 0);
    // Messages to the removed peer are dropped, not thrown.
    one.transport.send(2, notification(5));
    assert.throws(() => one.transport.setPeers([{ ...peers[0], quorumPort: 1 }, peers[2]]), /cannot change/);
    assert.throws(() => one.transport.setPeers([peers[2]]), /myid 1/);
  });

  it('leaves no sockets or timers behind once closed', async () => {
    const handles = () => process.getActiveResourcesInfo().filter((r) => r.startsWith('TCP')).length;
    const baseline = handles();
    const peers = await addresses(3);
    const members = await Promise.all(peers.map((p) => startMember(p.id, peers)));
    for (const member of members) {
      for (const peer of peers) if (peer.id !== member.transport.myId) member.transport.send(peer.id, zab(1));
    }
    await Promise.all(members.map((m, i) => receivedFrom(m, peers[(i + 1) % 3].id, 1)));
    assert.ok(handles() > baseline);
    await Promise.all(members.map((m) => m.transport.close()));
    assert.equal(handles(), baseline);
  });

  it('survives a short slice of the peer-port fuzzer, and keeps delivering', async () => {
    const counts = await fuzzPeerPorts({
      seed: 9, casesMax: 300, deadlineMs: Date.now() + 15_000, healthEvery: 50, hangTimeoutMs: 5_000,
    });
    assert.deepEqual(counts.findings, []);
    assert.equal(counts.cases, 300);
    assert.equal(counts.healthChecks, 6);
  });

  it('accepts a peer behind a port mapping when told not to check its ports', async () => {
    const peers = await addresses(2);
    const logger = pino({ level: 'silent' });
    const received: PeerMessage[] = [];
    const arrived = new EventEmitter();
    // Peer 2 believes it listens elsewhere than peer 1 believes (as behind NAT or a proxy).
    const seenByTwo = [peers[0], { ...peers[1], quorumPort: peers[1].quorumPort + 1 }];
    await using one = new TcpPeerTransport({ myId: 1, peers, logger, checkPeerPorts: false, limits: fast });
    await one.start((_from, message) => {
      received.push(message);
      arrived.emit('message');
    });
    await using two = new TcpPeerTransport({ myId: 2, peers: seenByTwo, logger, limits: fast });
    two.send(1, notification(4));
    await once(arrived, 'message');
    assert.deepEqual(roundsOf(received), [4]);
  });

  it('refuses a peer configured for another cluster, with a log line on both sides', async () => {
    const peers = await addresses(2);
    const one = await startMember(1, peers);
    const two = await startMember(2, peers, { cluster: 'elsewhere' });
    two.transport.send(1, notification(1));
    await one.log.waitFor('refused a peer connection');
    await two.log.waitFor('peer refused our connection');
    assert.equal(one.received.length, 0);
  });

  it('closes idempotently, drops later sends, and works with await using', async () => {
    const peers = await addresses(2);
    {
      const logger = pino({ level: 'silent' });
      await using one = new TcpPeerTransport({ myId: 1, peers, logger, limits: fast });
      await one.start(() => {});
      one.send(2, notification(1));
    }
    const two = await startMember(2, peers);
    await Promise.all([two.transport.close(), two.transport.close()]);
    two.transport.send(1, notification(2));
    assert.equal(two.transport.peerCounters().get(1)?.dropped, 1);
    await assert.rejects(two.transport.start(() => {}), /closed/);
  });

  it('closes while it starts without leaving a listener behind', async () => {
    const peers = await addresses(1);
    const transport = new TcpPeerTransport({ myId: 1, peers, logger: pino({ level: 'silent' }) });
    const starting = assert.rejects(transport.start(() => {}), /closed while starting/);
    await transport.close();
    await starting;
    assert.equal(process.getActiveResourcesInfo().filter((r) => r === 'TCPServerWrap').length, 0);
  });

  it('fails to start on a port in use, and releases what it bound', async () => {
    const peers = await addresses(1);
    const blocker = net.createServer();
    await new Promise<void>((resolve) => blocker.listen(peers[0].quorumPort, '127.0.0.1', resolve));
    try {
      const transport = new TcpPeerTransport({ myId: 1, peers, logger: pino({ level: 'silent' }) });
      await assert.rejects(transport.start(() => {}), /EADDRINUSE/);
    } finally {
      await new Promise((resolve) => blocker.close(resolve));
    }
  });

  it('listens on every address when asked (quorumListenOnAllIPs)', async () => {
    const peers = (await addresses(2)).map((p) => (p.id === 1 ? { ...p, host: 'localhost' } : p));
    const logger = pino({ level: 'silent' });
    await using one = new TcpPeerTransport({ myId: 1, peers, logger, listenOnAllIps: true, limits: fast });
    const received: PeerMessage[] = [];
    const arrived = new EventEmitter();
    await one.start((_from, message) => {
      received.push(message);
      arrived.emit('message');
    });
    const two = await startMember(2, peers);
    two.transport.send(1, notification(3));
    await once(arrived, 'message');
    assert.deepEqual(roundsOf(received), [3]);
  });

  it('refuses a configuration without this peer or with an id twice', () => {
    const peer: PeerAddress = { id: 1, host: '127.0.0.1', quorumPort: 1, electionPort: 2 };
    const logger = pino({ level: 'silent' });
    assert.throws(() => new TcpPeerTransport({ myId: 2, peers: [peer], logger }), /myid 2/);
    assert.throws(() => new TcpPeerTransport({ myId: 1, peers: [peer, peer], logger }), /twice/);
    const badPort = { ...peer, quorumPort: 70000 };
    assert.throws(() => new TcpPeerTransport({ myId: 1, peers: [badPort], logger }), /70000 is not a TCP/);
    const limits = { reconnectDelayMsMin: 0 };
    assert.throws(() => new TcpPeerTransport({ myId: 1, peers: [peer], logger, limits }), /DelayMsMin/);
  });
});
