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

export type ConnectionLostListener =
  (peerId: number, channel: PeerChannel, direction: 'inbound' | 'outbound') => void;

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
  /** Listen on every address instead of the host of `server.N` (Apache's quorumListenOnAllIPs). */
  readonly listenOnAllIps?: boolean;
  /**
   * Refuse a caller whose own idea of its ports differs from ours (a wrong myid, a stale config).
   * Default true; turn it off where peers reach each other through port mappings (NAT, proxies).
   */
  readonly checkPeerPorts?: boolean;
  /**
   * Called when an established connection with a peer ends: `inbound` when the peer's connection to
   * us closed, `outbound` when ours to it did. A killed process closes both at once, long before a
   * protocol timeout notices (Apache's learner leaves FOLLOWING on that read error); the member may
   * act on it. Failed dials and refused callers are not reported.
   */
  readonly onConnectionLost?: ConnectionLostListener;
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

/** A message ready for a socket: its length prefix and its parts (a snapshot is not copied). */
interface OutboundFrame {
  readonly parts: readonly Buffer[];
  readonly bytes: number;
}

function outboundFrame(parts: readonly Buffer[]): OutboundFrame {
  const length = parts.reduce((sum, part) => sum + part.length, 0);
  return { parts: [lengthPrefix(length), ...parts], bytes: FRAME_LENGTH_BYTES + length };
}

function lengthPrefix(length: number): Buffer {
  const prefix = Buffer.allocUnsafe(FRAME_LENGTH_BYTES);
  prefix.writeInt32BE(length, 0);
  return prefix;
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
  /** Failed attempts since the last connection that completed its handshake. */
  private failures = 0;
  /** The backoff before the next dial, or the deadline of the current dial. */
  private timer: NodeJS.Timeout | undefined;
  private closedSocket: Promise<void> = Promise.resolve();
  /** Writes of this event loop turn are being gathered (see flush). */
  private corked = false;

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
    if (this.state === 'closed' || frame.bytes > limits.queueBytesMax) {
      this.counters.dropped++;
      return;
    }
    this.queue.push(frame);
    this.queueBytes += frame.bytes;
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
    this.queueBytes -= frame.bytes;
    return frame;
  }

  private dial(): void {
    const { limits, wire, log } = this.transport;
    this.state = 'connecting';
    const socket = new net.Socket();
    this.socket = socket;
    this.closedSocket = new Promise((resolve) => socket.once('close', () => resolve()));
    let failure: string | undefined;
    const fail = (reason: string) => {
      failure ??= reason;
      socket.destroy();
    };
    socket.on('error', (error) => {
      failure ??= error.message;
    });
    socket.once('close', () => this.closed(socket, failure));
    // A hard deadline, not an idle timeout: a callee that answers a byte at a time cannot stall us.
    this.timer = setTimeout(() => fail('no answer to our hello in time'),
      limits.connectTimeoutMs + limits.handshakeTimeoutMs);
    const splitter = new FrameSplitter(PEER_HELLO_BYTES_MAX);
    socket.once('connect', () => {
      socket.setKeepAlive(true, KEEPALIVE_DELAY_MS);
      const hello = outboundFrame([wire.encodeHello(this.transport.helloTo(this))]);
      for (const part of hello.parts) socket.write(part);
    });
    socket.on('data', (chunk) => {
      try {
        for (const frame of splitter.push(chunk)) {
          if (this.state !== 'connecting') throw new DecodeError('unexpected bytes after the handshake');
          const reply = wire.decodeHelloReply(frame);
          if (reply.accepted) {
            this.opened(socket);
            continue;
          }
          // A refusal is a configuration problem that persists: say it once per streak of failures.
          const fields = { peer: this.peer.id, channel: this.channel, reason: reply.reason };
          if (this.failures === 0) log.warn(fields, 'peer refused our connection');
          else log.debug(fields, 'peer refused our connection');
          return fail(`refused: ${reply.reason}`);
        }
      } catch (error) {
        log.warn({ peer: this.peer.id, channel: this.channel, err: String(error) },
          'bad answer from peer; closing the connection');
        fail(String(error));
      }
    });
    socket.on('drain', () => this.flush());
    socket.connect({ host: this.peer.host, port: this.port, noDelay: true });
  }

  private get port(): number {
    return this.channel === 'election' ? this.peer.electionPort : this.peer.quorumPort;
  }

  private opened(socket: net.Socket): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.state = 'open';
    this.failures = 0;
    this.counters.connects++;
    this.transport.log.debug({ peer: this.peer.id, channel: this.channel }, 'connected to peer');
    this.flush();
  }

  private closed(socket: net.Socket, failure: string | undefined): void {
    if (this.socket !== socket) return;
    this.socket = undefined;
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.state === 'closed') return;
    const wasOpen = this.state === 'open';
    if (wasOpen) this.transport.connectionLost(this.peer.id, this.channel, 'outbound');
    this.failures++;
    const fields = { peer: this.peer.id, channel: this.channel, reason: failure ?? 'closed by peer' };
    // A peer that is down fails every attempt; say so once per streak, not at every backoff.
    if (wasOpen || this.failures === 1) this.transport.log.info(fields, 'connection to peer lost');
    else this.transport.log.debug(fields, 'connection to peer failed');
    this.state = 'backoff';
    this.timer = setTimeout(() => {
      this.timer = undefined;
      if (this.state !== 'backoff') return;
      // Lazy: redial only for something to send; an idle link dials on the next send.
      if (this.queue.length > 0) this.dial();
      else this.state = 'idle';
    }, this.backoffMs());
  }

  /** The peer just called us, so it is up: a redial need not wait for the rest of the backoff. */
  peerIsBack(): void {
    if (this.state !== 'backoff') return;
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.queue.length > 0) this.dial();
    else this.state = 'idle';
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
    if (this.queue.length > 0 && !this.corked) {
      // What one step of the peer sends (a proposal to each follower, commits, acks) leaves in one
      // system call: hold the writes of this turn and let them go together at the end of it.
      this.corked = true;
      socket.cork();
      process.nextTick(() => {
        this.corked = false;
        socket.uncork();
      });
    }
    while (this.queue.length > 0 && socket.writableLength < socketBufferBytesMax) {
      for (const part of this.shift().parts) socket.write(part);
      this.counters.sent++;
    }
  }

  async close(): Promise<void> {
    this.state = 'closed';
    clearTimeout(this.timer);
    this.timer = undefined;
    this.counters.dropped += this.queue.length;
    this.queue.length = 0;
    this.queueBytes = 0;
    this.socket?.destroy();
    await this.closedSocket;
  }
}

/** TCP keepalive on peer connections, so a peer that vanished without a word is noticed eventually. */
const KEEPALIVE_DELAY_MS = 10_000;

/** A peer's ensemble network: see the file comment. */
export class TcpPeerTransport implements PeerTransport {
  readonly myId: number;
  readonly limits: TcpPeerTransportLimits;
  readonly wire: PeerWire;
  readonly log: Logger;
  private readonly cluster: string;
  private readonly listenOnAllIps: boolean;
  private readonly checkPeerPorts: boolean;
  private readonly onConnectionLost: ConnectionLostListener | undefined;
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
  private readonly complaints: ThrottledWarnings;
  private onMessage: ((from: number, message: PeerMessage) => void) | undefined;
  /** The member's listener (PeerTransport.start): quorum-port connections that ended. */
  private onLinkLost: ((peer: number) => void) | undefined;
  private closing: Promise<void> | undefined;
  private starting: Promise<void> | undefined;
  /** Accepted connections closed before or at the handshake (strangers, garbage, misconfigured peers). */
  refusedConnections = 0;

  constructor(options: TcpPeerTransportOptions) {
    this.myId = options.myId;
    this.cluster = options.cluster ?? 'menagerie';
    this.listenOnAllIps = options.listenOnAllIps ?? false;
    this.checkPeerPorts = options.checkPeerPorts ?? true;
    this.onConnectionLost = options.onConnectionLost;
    const wireOnly: { -readonly [K in keyof PeerWireLimits]?: number } = {};
    for (const key of Object.keys(peerWireDefaults) as Array<keyof PeerWireLimits>) {
      const value = options.limits?.[key];
      if (value !== undefined) wireOnly[key] = value;
    }
    this.limits = { ...tcpPeerTransportDefaults(wireOnly), ...options.limits };
    checkLimits(this.limits);
    this.wire = peerWire(this.limits);
    this.log = options.logger.child({ component: 'peer-transport', myId: options.myId });
    this.complaints = new ThrottledWarnings(this.log);
    this.me = this.adoptPeers(options.peers);
  }

  async start(
    onMessage: (from: number, message: PeerMessage) => void,
    onLinkLost?: (peer: number) => void,
  ): Promise<void> {
    if (this.closing !== undefined) throw new ClosedError('the peer transport is closed');
    if (this.onMessage !== undefined) throw new InvalidArgumentError('the peer transport is already started');
    this.onMessage = onMessage;
    this.onLinkLost = onLinkLost;
    // No host: Node listens on every address, IPv6 and IPv4 where it can, IPv4 only where it cannot.
    const host = this.listenOnAllIps ? undefined : this.me.host;
    // A close that comes while we bind waits for the binding, so no listener outlives it.
    this.starting = (async () => {
      await this.listen('election', host, this.me.electionPort);
      await this.listen('quorum', host, this.me.quorumPort);
    })();
    try {
      await this.starting;
    } catch (error) {
      await this.close();
      throw error;
    }
    if (this.closing !== undefined) throw new ClosedError('the peer transport was closed while starting');
    const { electionPort, quorumPort } = this.me;
    this.log.info({ host: host ?? '*', electionPort, quorumPort }, 'listening for peers');
  }

  /**
   * Queues `message` for peer `to` on the port its type belongs to; never throws. A snapshot is sent
   * from the caller's buffer, not a copy: do not change it afterwards.
   */
  send(to: number, message: PeerMessage): void {
    const counters = this.counters.get(to);
    if (counters === undefined || !this.peers.has(to) || to === this.myId) {
      this.complaints.warn({ to }, 'message to an unknown peer (or to ourselves) dropped');
      return;
    }
    const channel: PeerChannel = message.type === 'notification' ? 'election' : 'quorum';
    let parts: Buffer[];
    try {
      parts = this.wire.encodeParts(message);
    } catch (error) {
      counters.dropped++;
      this.complaints.warn({ to, err: String(error) }, 'message to peer cannot be encoded; dropped');
      return;
    }
    this.link(to, channel).enqueue(outboundFrame(parts));
  }

  /**
   * Replaces the list of members (a reconfiguration). Connections to removed or moved peers close;
   * their queued messages are dropped. This peer's own address cannot change while running.
   */
  setPeers(peers: readonly PeerAddress[]): void {
    const before = new Map(this.peers);
    this.adoptPeers(peers, this.me);
    for (const [key, link] of this.links) {
      const now = this.peers.get(link.peer.id);
      if (now !== undefined && samePlace(now, before.get(link.peer.id)!)) continue;
      this.links.delete(key);
      void link.close();
    }
    for (const [key, socket] of this.inbound) {
      if (!this.peers.has(Number(key.split('/')[0]))) socket.destroy();
    }
  }

  /** A copy of each peer's counters, with the messages now waiting for it. */
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

  /** Tells the owner (onConnectionLost) that an established connection ended; its failure is logged. */
  connectionLost(peerId: number, channel: PeerChannel, direction: 'inbound' | 'outbound'): void {
    try {
      this.onConnectionLost?.(peerId, channel, direction);
      if (channel === 'quorum') this.onLinkLost?.(peerId);
    } catch (error) {
      this.log.error({ peer: peerId, err: error instanceof Error ? error.stack : String(error) },
        'connection-lost handler threw');
    }
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

  /** Checks and takes a member list (in which this peer is still at `current`); returns our address. */
  private adoptPeers(peers: readonly PeerAddress[], current?: PeerAddress): PeerAddress {
    const byId = new Map<number, PeerAddress>();
    for (const peer of peers) {
      const problem = addressProblem(peer);
      if (problem !== undefined) throw new InvalidArgumentError(`server.${peer.id}: ${problem}`);
      if (byId.has(peer.id)) throw new InvalidArgumentError(`server.${peer.id} is listed twice`);
      byId.set(peer.id, { ...peer });
    }
    const me = byId.get(this.myId);
    if (me === undefined) throw new InvalidArgumentError(`myid ${this.myId} is not among the servers`);
    if (current !== undefined && !samePlace(me, current)) {
      throw new InvalidArgumentError(`server ${this.myId} cannot change its address while running`);
    }
    this.peers.clear();
    for (const [id, peer] of byId) {
      this.peers.set(id, peer);
      if (!this.counters.has(id)) this.counters.set(id, { sent: 0, received: 0, dropped: 0, connects: 0 });
    }
    return me;
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

  private async listen(channel: PeerChannel, host: string | undefined, port: number): Promise<void> {
    const server = net.createServer({ noDelay: true }, (socket) => this.accept(channel, socket));
    this.servers.push(server);
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ host, port }, () => {
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
    if (this.closing !== undefined) return void socket.destroy();
    if (this.pending >= this.limits.pendingConnectionsMax) {
      this.refusedConnections++;
      this.complaints.warn({ channel, remote }, 'too many connections wait for their handshake; closing one');
      return void socket.destroy();
    }
    this.pending++;
    // A hard deadline for the hello, so a caller dripping bytes cannot hold a pending slot.
    const deadline = setTimeout(() => {
      this.refusedConnections++;
      this.complaints.warn({ channel, remote }, 'peer connection sent no handshake in time; closing it');
      socket.destroy();
    }, this.limits.handshakeTimeoutMs);
    let from: number | undefined;
    socket.once('close', () => {
      clearTimeout(deadline);
      if (from === undefined) this.pending--;
    });
    let splitter = new FrameSplitter(PEER_HELLO_BYTES_MAX);
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
          clearTimeout(deadline);
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
        if (from === undefined) this.refusedConnections++;
        this.complaints.warn({ channel, remote, peer: from, err: String(error) },
          'bad bytes from peer connection; closing it');
        socket.destroy();
      }
    });
  }

  /** Checks a hello and answers it; returns the caller's id once accepted. */
  private introduce(channel: PeerChannel, socket: net.Socket, frame: Buffer): number | undefined {
    const hello = this.wire.decodeHello(frame);
    const refusal = this.refusalOf(channel, hello);
    if (refusal !== undefined) {
      this.refusedConnections++;
      const remote = `${socket.remoteAddress}:${socket.remotePort}`;
      this.complaints.warn({ channel, remote, claimedId: hello.senderId, reason: refusal },
        'refused a peer connection');
      // The deadline still runs: a caller that never closes its side is cut off by it.
      socket.end(framed(this.wire.encodeHelloReply({ accepted: false, reason: refusal })));
      return undefined;
    }
    socket.write(framed(this.wire.encodeHelloReply({ accepted: true, reason: '' })));
    socket.setKeepAlive(true, KEEPALIVE_DELAY_MS);
    const key = `${hello.senderId}/${channel}`;
    // A newer connection from the same peer means the old one is dead (the peer restarted or redialed).
    this.inbound.get(key)?.destroy();
    this.inbound.set(key, socket);
    socket.once('close', () => {
      if (this.inbound.get(key) !== socket) return;
      this.inbound.delete(key);
      if (this.closing === undefined) this.connectionLost(hello.senderId, channel, 'inbound');
    });
    this.log.debug({ channel, peer: hello.senderId }, 'peer connected');
    for (const other of ['election', 'quorum'] as const) {
      this.links.get(`${hello.senderId}/${other}`)?.peerIsBack();
    }
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
    if (!this.checkPeerPorts) return undefined;
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
    const counters = this.counters.get(from);
    // A peer removed by a reconfiguration while its message was in flight.
    if (counters === undefined) return;
    counters.received++;
    try {
      this.onMessage?.(from, message);
    } catch (error) {
      // The member's handler failing is a bug there, not bad input; keep the connection and say so.
      this.log.error({ peer: from, err: error instanceof Error ? error.stack : String(error) },
        'peer message handler threw');
    }
  }

  private async closeEverything(): Promise<void> {
    await this.starting?.catch(() => {});
    const servers = this.servers.map((server) => new Promise<void>((resolve) => {
      server.close(() => resolve());
    }));
    const links = [...this.links.values()].map((link) => link.close());
    for (const socket of this.accepted.keys()) socket.destroy();
    await Promise.all([...servers, ...links, ...this.accepted.values()]);
    // A server's 'close' comes a turn before its handle is released; let that turn pass too.
    await new Promise((resolve) => setImmediate(resolve));
    this.complaints.close();
    const dropped = [...this.counters.values()].reduce((sum, c) => sum + c.dropped, 0);
    this.log.debug({ dropped }, 'peer transport closed');
  }
}

function framed(payload: Buffer): Buffer {
  return Buffer.concat([lengthPrefix(payload.length), payload]);
}

function addressProblem(peer: PeerAddress): string | undefined {
  if (!Number.isSafeInteger(peer.id)) return `the id ${peer.id} is not an integer`;
  if (typeof peer.host !== 'string' || peer.host.length === 0) return 'the host is empty';
  for (const port of [peer.quorumPort, peer.electionPort]) {
    if (!Number.isInteger(port) || port < 1 || port > 65535) return `the port ${port} is not a TCP port`;
  }
  return undefined;
}

function samePlace(a: PeerAddress, b: PeerAddress): boolean {
  return a.host === b.host && a.quorumPort === b.quorumPort && a.electionPort === b.electionPort;
}

/**
 * Warnings about what remotes do (garbage, strangers), at most a burst per window, so a flood of bad
 * connections cannot flood the log; what was held back is counted in one line.
 */
class ThrottledWarnings {
  private windowStartMs = 0;
  private inWindow = 0;
  private suppressed = 0;

  constructor(
    private readonly log: Logger,
    private readonly burst = 20,
    private readonly windowMs = 10_000,
  ) {}

  warn(fields: object, message: string): void {
    const nowMs = Date.now();
    if (nowMs - this.windowStartMs >= this.windowMs) {
      this.close();
      this.windowStartMs = nowMs;
      this.inWindow = 0;
    }
    if (this.inWindow++ < this.burst) this.log.warn(fields, message);
    else this.suppressed++;
  }

  /** Reports what was held back. */
  close(): void {
    if (this.suppressed === 0) return;
    this.log.warn({ suppressed: this.suppressed }, 'more warnings about peer connections were suppressed');
    this.suppressed = 0;
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
