// An in-process ZooKeeper server for deterministic tests: the real server core (data tree,
// sessions, watches, ACLs, request preparation) behind a small shell that speaks the wire protocol
// over in-memory sockets instead of TCP, on a VirtualClock. The client's own connection code runs
// unchanged over it (framing, pipelining, pings, read timeouts, reconnects); only the bytes travel
// in memory, and session expiry on both sides follows the clock the test advances.
//
//   const server = new InProcessServer();
//   await using zk = createFramework({ ...server.frameworkOptions(), sessionTimeoutMs: 6000 });
//   server.partition();                 // bytes stop flowing both ways
//   await server.clock.advance(6000);   // SUSPENDED at 4000 ms, LOST at 6000 ms, no sleeping
//
// Not here: the container manager (empty containers and expired TTL nodes stay), four-letter
// words, connection limits, persistence. A multi-member cluster on this transport would plug
// ensemble members in where the one core is now (see docs/testing.md).

import { EventEmitter } from 'node:events';
import type { Clock, HostAddress, Transport, TransportSocket } from '../../src/client/index.js';
import {
  ErrorCode,
  FRAME_BYTES_MAX_DEFAULT,
  FrameSplitter,
  OpCode,
  SESSION_PASSWORD_BYTES,
  Xid,
  decodeRequest,
  encodeFrame,
  isClientRequest,
  operationFor,
  part,
  type Id,
  type JuteType,
  type ZooKeeperClientOptions,
} from '../../src/index.js';
import { ConnectRequest, ConnectResponse, ReplyHeader, WatcherEvent } from '../../src/protocol/records.js';
import type { Reply, RequestContext, Txn, Watcher } from '../core/api.js';
import { ServerCore } from '../core/server-core.js';
import { InMemoryPersister, WritePipeline } from '../net/pipeline.js';
import { VirtualClock } from './virtual-clock.js';

export interface InProcessServerOptions {
  /** The clock everything runs on; a new VirtualClock by default. */
  clock?: VirtualClock;
  /** tickTime; sessions are clamped to [2, 20] ticks unless the bounds below say otherwise. */
  tickTimeMs?: number;
  minSessionTimeoutMs?: number;
  maxSessionTimeoutMs?: number;
  /** TTL nodes allowed (zookeeper.extendedTypesEnabled). */
  extendedTypesEnabled?: boolean;
  superDigest?: string;
}

let serversMade = 0;

export class InProcessServer implements AsyncDisposable {
  readonly clock: VirtualClock;
  /** The address clients use; only this server's transport can reach it. */
  readonly host: HostAddress;
  readonly connectString: string;
  /** Hand this to a client (`transport`) so it reaches this server in memory. */
  readonly transport: Transport;
  /** @internal */ readonly core: ServerCore;
  /** @internal */ readonly pipeline: WritePipeline;
  private readonly connections = new Set<ServerEnd>();
  private readonly owners = new Map<bigint, ServerEnd>();
  private expiryTimer: unknown;
  private cut = false;
  /** Connections asked for during a partition; they open when it heals (SYN retransmits land). */
  private waitingToOpen: ClientEnd[] = [];
  private stopped = false;

  constructor(options: InProcessServerOptions = {}) {
    this.clock = options.clock ?? new VirtualClock();
    const tickTimeMs = options.tickTimeMs ?? 500;
    this.host = { host: `in-process-${++serversMade}`, port: 2181 };
    this.connectString = `${this.host.host}:${this.host.port}`;
    this.core = new ServerCore({
      tickTimeMs,
      minSessionTimeoutMs: options.minSessionTimeoutMs ?? 2 * tickTimeMs,
      maxSessionTimeoutMs: options.maxSessionTimeoutMs ?? 20 * tickTimeMs,
      extendedTypesEnabled: options.extendedTypesEnabled,
      superDigest: options.superDigest,
      startTimeMs: this.clock.nowMs(),
    });
    this.pipeline = new WritePipeline(this.core, new InMemoryPersister(), (error) => {
      throw error; // in memory, persisting cannot fail
    });
    this.transport = { connect: (host) => this.accept(host) };
  }

  /** Options for a ZooKeeperClient on this server: its connect string, clock and transport. */
  clientOptions(): Pick<ZooKeeperClientOptions, 'connectString' | 'clock' | 'transport'> {
    return { connectString: this.connectString, clock: this.clock, transport: this.transport };
  }

  /** Options for createFramework on this server (spread them, add your own). */
  frameworkOptions(): { connectString: string; clock: Clock; client: { transport: Transport } } {
    return { connectString: this.connectString, clock: this.clock, client: { transport: this.transport } };
  }

  /** True while partitioned: no bytes flow either way and new connections never open. */
  get partitioned(): boolean {
    return this.cut;
  }

  /** Cuts the network between this server and every client (connections stay open, silent). */
  partition(): void {
    this.cut = true;
  }

  heal(): void {
    this.cut = false;
    for (const client of this.waitingToOpen.splice(0)) if (!client.destroyed) this.open(client);
  }

  /** Closes every client connection; sessions live on, so clients reconnect and resume them. */
  dropConnections(): void {
    for (const connection of [...this.connections]) connection.close();
  }

  /** Ends a session as expiry would: its ephemerals go and its connection is closed. */
  async expireSession(sessionId: bigint): Promise<void> {
    const txn = this.core.prepareCloseSession(sessionId, this.clock.nowMs());
    await this.submit(txn);
    this.owners.get(sessionId)?.close();
    await this.clock.settle();
  }

  /** Sessions the server holds. */
  sessionIds(): bigint[] {
    return this.core.sessions().map((session) => session.sessionId);
  }

  async close(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.clock.clearTimer(this.expiryTimer);
    for (const connection of [...this.connections]) connection.close();
    await this.pipeline.idle();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  // ----- for the connections -----

  /** @internal */ submit(txn: Txn): Promise<Reply> {
    return new Promise((resolve) => this.pipeline.submit(txn, resolve));
  }

  /** @internal */ claimSession(sessionId: bigint, connection: ServerEnd): void {
    const previous = this.owners.get(sessionId);
    this.owners.set(sessionId, connection);
    if (previous !== undefined && previous !== connection) previous.close();
    this.armExpiry();
  }

  /** @internal */ closed(connection: ServerEnd): void {
    this.connections.delete(connection);
    if (this.owners.get(connection.sessionId) === connection) this.owners.delete(connection.sessionId);
    this.core.dropWatcher(connection);
  }

  /** @internal */ get isPartitioned(): boolean {
    return this.cut;
  }

  private accept(host: HostAddress): TransportSocket {
    const client = new ClientEnd(this);
    if (host.host !== this.host.host || host.port !== this.host.port || this.stopped) {
      queueMicrotask(() => {
        client.emit('error', new Error(`connect ECONNREFUSED ${host.host}:${host.port} (in process)`));
        client.destroy();
      });
      return client;
    }
    // While partitioned the connection does not open: it opens when the partition heals, unless
    // the client's connect timeout gave up on it first.
    if (this.cut) this.waitingToOpen.push(client);
    else this.open(client);
    return client;
  }

  private open(client: ClientEnd): void {
    const server = new ServerEnd(this, client);
    client.peer = server;
    this.connections.add(server);
    queueMicrotask(() => {
      if (!client.destroyed) client.emit('connect');
    });
  }

  /** One timer for the earliest session expiry, as the standalone listener keeps it. */
  private armExpiry(): void {
    this.clock.clearTimer(this.expiryTimer);
    this.expiryTimer = undefined;
    const next = this.core.nextSessionExpiryMs();
    if (next === undefined || this.stopped) return;
    this.expiryTimer = this.clock.setTimer(() => this.expireDue(), Math.max(0, next - this.clock.nowMs()));
  }

  private expireDue(): void {
    this.expiryTimer = undefined;
    const nowMs = this.clock.nowMs();
    for (const sessionId of this.core.expiredSessions(nowMs)) {
      const txn = this.core.prepareCloseSession(sessionId, nowMs);
      void this.submit(txn).then(() => this.owners.get(sessionId)?.close());
    }
    this.armExpiry();
  }
}

/** The client's end of an in-memory connection: what ZooKeeperClient reads and writes. */
class ClientEnd extends EventEmitter implements TransportSocket {
  peer: ServerEnd | undefined;
  destroyed = false;

  constructor(private readonly server: InProcessServer) {
    super();
  }

  write(chunk: Buffer): boolean {
    if (this.destroyed || this.server.isPartitioned) return true; // a partition drops it silently
    const bytes = Buffer.from(chunk);
    queueMicrotask(() => this.peer?.receive(bytes));
    return true;
  }

  /** Bytes from the server. */
  deliver(bytes: Buffer): void {
    if (this.destroyed || this.server.isPartitioned) return;
    queueMicrotask(() => {
      if (!this.destroyed) this.emit('data', bytes);
    });
  }

  cork(): void {}
  uncork(): void {}

  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    const peer = this.peer;
    queueMicrotask(() => {
      peer?.close();
      this.emit('close');
    });
  }

  /** The server closed its end: bytes it sent before still arrive first, then (a turn later) 'close'. */
  hangUp(): void {
    setImmediate(() => {
      if (this.destroyed) return;
      this.destroyed = true;
      this.emit('close');
    });
  }
}

/** The server's end: one client connection to the core, its requests answered in order. */
class ServerEnd implements Watcher {
  sessionId = 0n;
  authIds: readonly Id[] = [{ scheme: 'ip', id: '127.0.0.1' }];
  private readonly splitter = new FrameSplitter(FRAME_BYTES_MAX_DEFAULT);
  private handshaken = false;
  private open = true;
  /** Requests run one after another, so replies (and reads after writes) keep their order. */
  private chain: Promise<void> = Promise.resolve();

  constructor(
    private readonly server: InProcessServer,
    private readonly client: ClientEnd,
  ) {}

  receive(bytes: Buffer): void {
    if (!this.open) return;
    let frames: Buffer[];
    try {
      frames = this.splitter.push(bytes);
    } catch {
      this.close();
      return;
    }
    for (const frame of frames) {
      const first = !this.handshaken;
      this.handshaken = true;
      const handle = () => (first ? this.onConnect(frame) : this.onRequest(frame));
      // A malformed request closes the connection, as a server would.
      this.chain = this.chain.then(handle).catch(() => this.close());
    }
  }

  process(event: WatcherEvent, zxid: bigint): void {
    const header = { xid: Xid.NOTIFICATION, zxid, err: 0 };
    this.send(encodeFrame(part(ReplyHeader, header), part(WatcherEvent, event)));
  }

  close(): void {
    if (!this.open) return;
    this.open = false;
    this.server.closed(this);
    this.client.hangUp();
  }

  private send(frame: Buffer): void {
    if (this.open) this.client.deliver(frame);
  }

  private async onConnect(frame: Buffer): Promise<void> {
    const request = ConnectRequest.decode(frame);
    const { core, clock } = this.server;
    if (request.lastZxidSeen > core.lastProcessedZxid) {
      this.close(); // the client has seen a newer state than ours
      return;
    }
    let response: { timeOut: number; sessionId: bigint; passwd: Buffer };
    if (request.sessionId === 0n) {
      const session = core.createSession(request.timeOut, clock.nowMs());
      await this.server.submit(session.txn);
      response = { timeOut: session.timeoutMs, sessionId: session.sessionId, passwd: session.passwd };
    } else {
      const passwd = request.passwd ?? Buffer.alloc(0);
      const timeoutMs = core.reopenSession(request.sessionId, passwd, request.timeOut, clock.nowMs());
      if (timeoutMs === undefined) {
        const refused = { timeOut: 0, sessionId: 0n, passwd: Buffer.alloc(SESSION_PASSWORD_BYTES) };
        this.send(encodeFrame(part(ConnectResponse, { protocolVersion: 0, ...refused, readOnly: false })));
        this.close();
        return;
      }
      const sessionId = request.sessionId;
      response = { timeOut: timeoutMs, sessionId, passwd: ServerCore.sessionPassword(sessionId) };
    }
    if (!this.open) return;
    this.sessionId = response.sessionId;
    this.server.claimSession(response.sessionId, this);
    this.send(encodeFrame(part(ConnectResponse, { protocolVersion: 0, ...response, readOnly: false })));
  }

  private async onRequest(frame: Buffer): Promise<void> {
    if (!this.open) return;
    const { core, clock } = this.server;
    core.touchSession(this.sessionId, clock.nowMs());
    const { header, body } = decodeRequest(frame);
    const opcode = header.type;
    const ctx: RequestContext = { sessionId: this.sessionId, cxid: header.xid, authIds: this.authIds };
    if (opcode === OpCode.auth) {
      const packet = body as { scheme: string; auth: Buffer | null };
      const result = core.authenticate(packet.scheme, packet.auth, '127.0.0.1');
      const err = result.ok ? 0 : result.err;
      this.send(encodeFrame(part(ReplyHeader, { xid: header.xid, zxid: 0n, err })));
      if (result.ok) this.authIds = [...this.authIds, ...result.ids];
      else this.close();
      return;
    }
    if (opcode === OpCode.ping) {
      this.send(encodeFrame(part(ReplyHeader, { xid: header.xid, zxid: core.lastProcessedZxid, err: 0 })));
      return;
    }
    if (!isClientRequest(opcode)) {
      this.reply(header.xid, opcode, { err: ErrorCode.UNIMPLEMENTED });
      this.close();
      return;
    }
    if (opcode === OpCode.closeSession || ServerCore.isWrite(opcode)) {
      const reply = await this.server.submit(core.prepare(ctx, opcode, body ?? {}, clock.nowMs()));
      this.reply(header.xid, opcode, reply);
      if (opcode === OpCode.closeSession) this.close();
      return;
    }
    this.reply(header.xid, opcode, core.read(ctx, opcode, body, this));
  }

  private reply(xid: number, opcode: number, reply: Reply): void {
    const header = { xid, zxid: this.server.core.lastProcessedZxid, err: reply.err };
    const record = operationFor(opcode)?.response as JuteType<unknown> | null | undefined;
    if (reply.err !== 0 || record === null || record === undefined || reply.response === undefined) {
      this.send(encodeFrame(part(ReplyHeader, header)));
      return;
    }
    this.send(encodeFrame(part(ReplyHeader, header), part(record, reply.response)));
  }
}
