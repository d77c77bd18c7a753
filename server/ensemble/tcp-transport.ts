// The network between ensemble peers over TCP: each peer listens on its electionPort (notifications)
// and its quorumPort (ZAB packets), dials each other peer lazily for what it sends to it, and keeps
// one sending connection per peer and port, reconnecting with backoff. Frames are a 4-byte length and
// a message of server/quorum/wire.ts; the first frame names the caller and is checked against our
// configuration, so a stranger or a misconfigured peer is refused with a log line on both sides.
// Delivery is best effort (the quorum protocol tolerates loss): queues are bounded, drops are
// counted, and nothing a remote sends can throw out of here.

import net from 'node:net';
import type { Logger } from 'pino';
import {
  ClosedError, DecodeError, FrameSplitter, InvalidArgumentError, FRAME_LENGTH_BYTES,
} from '../../src/protocol/index.js';
import {
  peerMessageBytesMax, peerWire, peerWireDefaults, PEER_HELLO_BYTES_MAX,
  type PeerHello, type PeerMessage, type PeerWire, type PeerWireLimits,
} from '../quorum/index.js';
import type { PeerAddress, PeerTransport } from './seams.js';

/** Which listener a message travels to: election notifications and ZAB packets have their own ports. */
export type PeerChannel = 'election' | 'quorum';

export interface TcpPeerTransportLimits extends PeerWireLimits {
  /** Messages waiting for a connection to one peer on one channel; the oldest is dropped beyond it. */
  readonly queueMessagesMax: number;
  /** Bytes waiting for one peer on one channel (at least one largest message). */
  readonly queueBytesMax: number;
  /** Bytes handed to a socket but not yet written before we hold further messages back in the queue. */
  readonly socketBufferBytesMax: number;
  /** The largest frame on the election port (a notification is about 40 bytes). */
  readonly electionFrameBytesMax: number;
  readonly connectTimeoutMs: number;
  /** How long a caller has to introduce itself, and a callee to answer. */
  readonly handshakeTimeoutMs: number;
  readonly reconnectDelayMsMin: number;
  readonly reconnectDelayMsMax: number;
  /** Accepted connections that have not completed their handshake yet; further ones are closed. */
  readonly pendingConnectionsMax: number;
}

export function tcpPeerTransportDefaults(wire: Partial<PeerWireLimits> = {}): TcpPeerTransportLimits {
  const wireLimits = { ...peerWireDefaults, ...wire };
  return {
    ...wireLimits,
    queueMessagesMax: 4096,
    queueBytesMax: peerMessageBytesMax(wireLimits) + 16 * 1024 * 1024,
    socketBufferBytesMax: 8 * 1024 * 1024,
    electionFrameBytesMax: 4096,
    connectTimeoutMs: 5_000,
    handshakeTimeoutMs: 5_000,
    reconnectDelayMsMin: 20,
    reconnectDelayMsMax: 1_000,
    pendingConnectionsMax: 64,
  };
}

export interface TcpPeerTransportOptions {
  readonly myId: number;
  /** Every member's address, this one's included (it names the host and ports to bind). */
  readonly peers: readonly PeerAddress[];
  readonly logger: Logger;
  /**
   * A value both sides of every connection must agree on, so peers of different ensembles that reach
   * each other by mistake refuse to talk. Default 'menagerie'.
   */
  readonly cluster?: string;
  readonly limits?: Partial<TcpPeerTransportLimits>;
}

/** What went on with one peer, for metrics and tests. */
export interface PeerCounters {
  /** Messages written to a connection (not necessarily received). */
  sent: number;
  /** Messages received and handed on. */
  received: number;
  /** Messages to the peer dropped: a full queue, a failed connection, an oversized message, closing. */
  dropped: number;
  /** Sending connections to the peer that completed their handshake. */
  connects: number;
}

/** A message ready for a socket: its length prefix and its bytes, kept apart to spare a copy. */
interface OutboundFrame {
  readonly prefix: Buffer;
  readonly payload: Buffer;
}

type LinkState = 'idle' | 'connecting' | 'open' | 'backoff' | 'closed';

/**
 * Our sending connection to one peer on one channel: lazily dialed, introduced by a hello, then
 * write-only. Messages queue (bounded) while it connects or backs off after a failure.
 */
class OutboundLink {
  private state: LinkState = 'idle';
  private socket: net.Socket | undefined;
  private readonly queue: OutboundFrame[] = [];
  private queueBytes = 0;
  private failures = 0;
  private timer: NodeJS.Timeout | undefined;
  private closedSocket: Promise<void> = Promise.resolve();

  constructor(
    private readonly transport: TcpPeerTransport,
    readonly peer: PeerAddress,
    readonly channel: PeerChannel,
    private readonly counters: PeerCounters,
  ) {}

  get queued(): number {
    return this.queue.length;
  }

  enqueue(frame: OutboundFrame): void {
    const { limits } = this.transport;
    const bytes = frame.prefix.length + frame.payload.length;
    if (this.state === 'closed' || bytes > limits.queueBytesMax) {
      this.counters.dropped++;
      return;
    }
    this.queue.push(frame);
    this.queueBytes += bytes;
    while (this.queue.length > limits.queueMessagesMax || this.queueBytes > limits.queueBytesMax) {
      // Drop the oldest: a newer notification supersedes it, and ZAB treats the gap as a broken link.
      this.shift();
      this.counters.dropped++;
    }
    if (this.state === 'idle') this.dial();
    else if (this.state === 'open') this.flush();
  }

  private shift(): OutboundFrame {
    const frame = this.queue.shift()!;
    this.queueBytes -= frame.prefix.length + frame.payload.length;
    return frame;
  }

  private dial(): void {
    const { limits, wire } = this.transport;
    this.state = 'connecting';
    const socket = net.connect({ host: this.peer.host, port: this.port, noDelay: true });
    this.socket = socket;
    this.closedSocket = new Promise((resolve) => socket.once('close', () => resolve()));
    socket.setKeepAlive(true, 10_000);
    socket.setTimeout(limits.connectTimeoutMs + limits.handshakeTimeoutMs, () => {
      socket.destroy(new Error('no answer to our hello in time'));
    });
    const splitter = new FrameSplitter(PEER_HELLO_BYTES_MAX);
    let failure: string | undefined;
    socket.once('connect', () => this.writeFrame(socket, wire.encodeHello(this.transport.helloTo(this))));
    socket.on('data', (chunk) => {
      try {
        for (const frame of splitter.push(chunk)) {
          if (this.state !== 'connecting') throw new DecodeError('unexpected bytes after the handshake');
          const reply = wire.decodeHelloReply(frame);
          if (!reply.accepted) {
            failure = `refused: ${reply.reason}`;
            this.transport.log.warn({ peer: this.peer.id, channel: this.channel, reason: reply.reason },
              'peer refused our connection');
            socket.destroy();
            return;
          }
          this.opened(socket);
        }
      } catch (error) {
        failure = String(error);
        this.transport.log.warn({ peer: this.peer.id, channel: this.channel, err: String(error) },
          'bad answer from peer; closing the connection');
        socket.destroy();
      }
    });
    socket.on('drain', () => this.flush());
    socket.on('error', (error) => {
      failure ??= error.message;
    });
    socket.once('close', () => this.closed(socket, failure));
  }

  private get port(): number {
    return this.channel === 'election' ? this.peer.electionPort : this.peer.quorumPort;
  }

  private opened(socket: net.Socket): void {
    this.state = 'open';
    this.failures = 0;
    this.counters.connects++;
    socket.setTimeout(0);
    this.transport.log.debug({ peer: this.peer.id, channel: this.channel }, 'connected to peer');
    this.flush();
  }

  private closed(socket: net.Socket, failure: string | undefined): void {
    if (this.socket !== socket) return;
    this.socket = undefined;
    if (this.state === 'closed') return;
    const wasOpen = this.state === 'open';
    this.failures++;
    const log = this.transport.log;
    const fields = { peer: this.peer.id, channel: this.channel, reason: failure ?? 'closed by peer' };
    // A peer that is down fails every attempt; say so once per streak, not every backoff.
    if (wasOpen || this.failures === 1) log.info(fields, 'connection to peer lost');
    else log.debug(fields, 'connection to peer failed');
    this.state = 'backoff';
    this.timer = setTimeout(() => {
      this.timer = undefined;
      if (this.state !== 'backoff') return;
      if (this.queue.length > 0) this.dial();
      else this.state = 'idle';
    }, this.backoffMs());
  }

  private backoffMs(): number {
    const { reconnectDelayMsMin, reconnectDelayMsMax } = this.transport.limits;
    const ceiling = Math.min(reconnectDelayMsMax, reconnectDelayMsMin * 2 ** Math.min(this.failures - 1, 20));
    // Jitter, so peers that lost each other at once do not redial in lockstep.
    return Math.round(ceiling / 2 + (Math.random() * ceiling) / 2);
  }

  /** Writes queued messages while the socket takes them without buffering too much. */
  private flush(): void {
    const socket = this.socket;
    if (this.state !== 'open' || socket === undefined) return;
    const { socketBufferBytesMax } = this.transport.limits;
    while (this.queue.length > 0 && socket.writableLength < socketBufferBytesMax) {
      const frame = this.shift();
      socket.write(frame.prefix);
      socket.write(frame.payload);
      this.counters.sent++;
    }
  }

  private writeFrame(socket: net.Socket, payload: Buffer): void {
    socket.write(lengthPrefix(payload.length));
    socket.write(payload);
  }

  async close(): Promise<void> {
    this.state = 'closed';
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    this.counters.dropped += this.queue.length;
    this.queue.length = 0;
    this.queueBytes = 0;
    this.socket?.destroy();
    await this.closedSocket;
  }
}

function lengthPrefix(length: number): Buffer {
  const prefix = Buffer.allocUnsafe(FRAME_LENGTH_BYTES);
  prefix.writeInt32BE(length, 0);
  return prefix;
}

/** A peer's ensemble network: see the file comment. */
export class TcpPeerTransport implements PeerTransport {
  readonly myId: number;
  readonly limits: TcpPeerTransportLimits;
  readonly wire: PeerWire;
  readonly log: Logger;
  private readonly cluster: string;
  private readonly me: PeerAddress;
  private readonly peers = new Map<number, PeerAddress>();
  private readonly links = new Map<string, OutboundLink>();
  private readonly counters = new Map<number, PeerCounters>();
  private readonly servers: net.Server[] = [];
  /** Accepted sockets, each with a promise of its end. */
  private readonly accepted = new Map<net.Socket, Promise<void>>();
  /** The authenticated receiving connection of each peer and channel; a newer one replaces it. */
  private readonly inbound = new Map<string, net.Socket>();
  private pending = 0;
  private onMessage: ((from: number, message: PeerMessage) => void) | undefined;
  private closing: Promise<void> | undefined;
  /** Connections refused at the handshake (not tied to a known peer). */
  refusedConnections = 0;

  constructor(options: TcpPeerTransportOptions) {
    this.myId = options.myId;
    this.cluster = options.cluster ?? 'menagerie';
    const wireOnly: { -readonly [K in keyof PeerWireLimits]?: number } = {};
    for (const key of Object.keys(peerWireDefaults) as Array<keyof PeerWireLimits>) {
      const value = options.limits?.[key];
      if (value !== undefined) wireOnly[key] = value;
    }
    this.limits = { ...tcpPeerTransportDefaults(wireOnly), ...options.limits };
    checkLimits(this.limits);
    this.wire = peerWire(this.limits);
    this.log = options.logger.child({ component: 'peer-transport', myId: options.myId });
    for (const peer of options.peers) {
      if (this.peers.has(peer.id)) throw new InvalidArgumentError(`server.${peer.id} is listed twice`);
      this.peers.set(peer.id, peer);
      this.counters.set(peer.id, { sent: 0, received: 0, dropped: 0, connects: 0 });
    }
    const me = this.peers.get(options.myId);
    if (me === undefined) throw new InvalidArgumentError(`myid ${options.myId} is not among the servers`);
    this.me = me;
  }

  async start(onMessage: (from: number, message: PeerMessage) => void): Promise<void> {
    if (this.closing !== undefined) throw new ClosedError('the peer transport is closed');
    if (this.onMessage !== undefined) throw new InvalidArgumentError('the peer transport is already started');
    this.onMessage = onMessage;
    try {
      await this.listen('election', this.me.electionPort);
      await this.listen('quorum', this.me.quorumPort);
    } catch (error) {
      await this.close();
      throw error;
    }
    this.log.info({ host: this.me.host, electionPort: this.me.electionPort, quorumPort: this.me.quorumPort },
      'listening for peers');
  }

  send(to: number, message: PeerMessage): void {
    const counters = this.counters.get(to);
    if (counters === undefined || to === this.myId) {
      this.log.warn({ to }, 'message to an unknown peer (or to ourselves) dropped');
      return;
    }
    const channel: PeerChannel = message.type === 'notification' ? 'election' : 'quorum';
    let payload: Buffer;
    try {
      payload = this.wire.encode(message);
    } catch (error) {
      counters.dropped++;
      this.log.warn({ to, err: String(error) }, 'message to peer cannot be encoded; dropped');
      return;
    }
    this.link(to, channel).enqueue({ prefix: lengthPrefix(payload.length), payload });
  }

  /** A copy of each peer's counters. */
  peerCounters(): Map<number, PeerCounters & { queued: number }> {
    const result = new Map<number, PeerCounters & { queued: number }>();
    for (const [id, counters] of this.counters) {
      let queued = 0;
      for (const channel of ['election', 'quorum'] as const) {
        queued += this.links.get(`${id}/${channel}`)?.queued ?? 0;
      }
      result.set(id, { ...counters, queued });
    }
    return result;
  }

  close(): Promise<void> {
    this.closing ??= this.closeEverything();
    return this.closing;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  /** The hello we send on `link`. */
  helloTo(link: OutboundLink): PeerHello {
    return {
      cluster: this.cluster,
      senderId: this.myId,
      receiverId: link.peer.id,
      channel: link.channel,
      senderQuorumPort: this.me.quorumPort,
      senderElectionPort: this.me.electionPort,
    };
  }

  private link(to: number, channel: PeerChannel): OutboundLink {
    const key = `${to}/${channel}`;
    let link = this.links.get(key);
    if (link === undefined) {
      link = new OutboundLink(this, this.peers.get(to)!, channel, this.counters.get(to)!);
      if (this.closing !== undefined) void link.close();
      this.links.set(key, link);
    }
    return link;
  }

  private async listen(channel: PeerChannel, port: number): Promise<void> {
    const server = net.createServer({ noDelay: true }, (socket) => this.accept(channel, socket));
    this.servers.push(server);
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ host: this.me.host, port }, () => {
        server.off('error', reject);
        resolve();
      });
    });
    server.on('error', (error) => this.log.error({ channel, err: String(error) }, 'peer listener failed'));
  }

  private accept(channel: PeerChannel, socket: net.Socket): void {
    const remote = `${socket.remoteAddress}:${socket.remotePort}`;
    this.accepted.set(socket, new Promise((resolve) => socket.once('close', () => resolve())));
    socket.once('close', () => this.accepted.delete(socket));
    socket.on('error', () => {}); // The close that follows is what we act on.
    if (this.closing !== undefined || this.pending >= this.limits.pendingConnectionsMax) {
      this.log.warn({ channel, remote }, 'too many connections waiting for their handshake; closing one');
      socket.destroy();
      return;
    }
    this.pending++;
    let introduced = false;
    socket.once('close', () => {
      if (!introduced) this.pending--;
    });
    socket.setTimeout(this.limits.handshakeTimeoutMs, () => {
      this.log.warn({ channel, remote }, 'peer connection sent no handshake in time; closing it');
      socket.destroy();
    });
    let splitter = new FrameSplitter(PEER_HELLO_BYTES_MAX);
    let from: number | undefined;
    let refused = false;
    socket.on('data', (chunk) => {
      // A refused caller gets our reason and the end of the stream; what it sends meanwhile is ignored.
      if (refused) return;
      try {
        for (const frame of splitter.push(chunk)) {
          if (from !== undefined) {
            this.deliver(channel, from, frame);
            continue;
          }
          from = this.introduce(channel, socket, frame);
          if (from === undefined) {
            refused = true;
            return;
          }
          introduced = true;
          this.pending--;
          // The caller waits for our answer before sending more, so nothing may follow the hello yet.
          if (splitter.pendingBytes > 0) throw new DecodeError('bytes before our answer to the hello');
          const frameBytesMax = channel === 'election'
            ? this.limits.electionFrameBytesMax
            : peerMessageBytesMax(this.limits);
          splitter = new FrameSplitter(frameBytesMax);
        }
      } catch (error) {
        if (socket.destroyed) return;
        this.refusedConnections += from === undefined ? 1 : 0;
        this.log.warn({ channel, remote, peer: from, err: String(error) },
          'bad bytes from peer connection; closing it');
        socket.destroy();
      }
    });
  }

  /** Checks a hello and answers it; returns the caller's id once accepted. */
  private introduce(channel: PeerChannel, socket: net.Socket, frame: Buffer): number | undefined {
    const hello = this.wire.decodeHello(frame);
    const refusal = this.refusalOf(channel, hello);
    const remote = `${socket.remoteAddress}:${socket.remotePort}`;
    if (refusal !== undefined) {
      this.refusedConnections++;
      this.log.warn({ channel, remote, claimedId: hello.senderId, reason: refusal },
        'refused a peer connection');
      socket.end(this.framed(this.wire.encodeHelloReply({ accepted: false, reason: refusal })));
      return undefined;
    }
    socket.write(this.framed(this.wire.encodeHelloReply({ accepted: true, reason: '' })));
    socket.setTimeout(0);
    socket.setKeepAlive(true, 10_000);
    const key = `${hello.senderId}/${channel}`;
    const previous = this.inbound.get(key);
    // A newer connection from the same peer means the old one is dead (the peer restarted or redialed).
    previous?.destroy();
    this.inbound.set(key, socket);
    socket.once('close', () => {
      if (this.inbound.get(key) === socket) this.inbound.delete(key);
    });
    this.log.debug({ channel, peer: hello.senderId }, 'peer connected');
    return hello.senderId;
  }

  /** Why a hello is refused, or undefined when it is fine. */
  private refusalOf(channel: PeerChannel, hello: PeerHello): string | undefined {
    if (hello.cluster !== this.cluster) {
      return `cluster ${JSON.stringify(hello.cluster)} is not ours (${JSON.stringify(this.cluster)})`;
    }
    if (hello.channel !== channel) return `this is the ${channel} port, not the ${hello.channel} port`;
    if (hello.receiverId !== this.myId) return `this is server ${this.myId}, not server ${hello.receiverId}`;
    const peer = this.peers.get(hello.senderId);
    if (peer === undefined || hello.senderId === this.myId) {
      return `server ${hello.senderId} is not a peer of ours`;
    }
    if (peer.quorumPort !== hello.senderQuorumPort || peer.electionPort !== hello.senderElectionPort) {
      const ours = `${peer.quorumPort}:${peer.electionPort}`;
      const theirs = `${hello.senderQuorumPort}:${hello.senderElectionPort}`;
      return `server ${hello.senderId} has ports ${ours} in our configuration, but says it has ${theirs}`;
    }
    return undefined;
  }

  private deliver(channel: PeerChannel, from: number, frame: Buffer): void {
    const message = this.wire.decode(frame);
    const expected = channel === 'election' ? 'notification' : 'zab';
    if (message.type !== expected) throw new DecodeError(`a ${message.type} message on the ${channel} port`);
    this.counters.get(from)!.received++;
    try {
      this.onMessage?.(from, message);
    } catch (error) {
      // The member's handler failing is a bug there, not bad input; keep the connection and say so.
      this.log.error({ peer: from, err: error instanceof Error ? error.stack : String(error) },
        'peer message handler threw');
    }
  }

  private framed(payload: Buffer): Buffer {
    return Buffer.concat([lengthPrefix(payload.length), payload]);
  }

  private async closeEverything(): Promise<void> {
    const servers = this.servers.map((server) => new Promise<void>((resolve) => {
      server.close(() => resolve());
    }));
    const links = [...this.links.values()].map((link) => link.close());
    for (const socket of this.accepted.keys()) socket.destroy();
    await Promise.all([...servers, ...links, ...this.accepted.values()]);
    const dropped = [...this.counters.values()].reduce((sum, c) => sum + c.dropped, 0);
    this.log.debug({ dropped }, 'peer transport closed');
  }
}

function checkLimits(limits: TcpPeerTransportLimits): void {
  for (const [name, value] of Object.entries(limits)) {
    if (!Number.isSafeInteger(value) || value < 0) {
      throw new InvalidArgumentError(
        `peer transport limit ${name} must be a non-negative integer, not ${value}`,
      );
    }
  }
  if (limits.reconnectDelayMsMin < 1 || limits.reconnectDelayMsMax < limits.reconnectDelayMsMin) {
    throw new InvalidArgumentError('reconnectDelayMsMin must be at least 1 and at most reconnectDelayMsMax');
  }
  if (limits.queueMessagesMax < 1) throw new InvalidArgumentError('queueMessagesMax must be at least 1');
}
