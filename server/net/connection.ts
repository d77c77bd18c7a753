// One client connection: framing, the ConnectRequest handshake, and requests answered strictly in
// request order, as Apache's NIOServerCnxn does.
//
// Order rules (research 1.2, 2.5): replies leave in request order; a read runs only after every
// earlier request of the connection has been answered (so it sees the session's own writes); a write
// is prepared as soon as every earlier request has at least started, so writes pipeline through
// persistence; a watch event is written the moment the core fires it, which is before the reply to any
// later request because a computed reply is always flushed at once.

import type { Socket } from 'node:net';
import type { Logger } from 'pino';
import {
  DecodeError,
  ErrorCode,
  FrameSplitter,
  OpCode,
  Xid,
  decodeRequest,
  encodeFrame,
  isClientRequest,
  opName,
  operationFor,
  part,
  records,
  SESSION_PASSWORD_BYTES,
  type DecodedRequest,
  type Id,
  type JuteType,
} from '../../src/protocol/index.js';
import { ConnectRequest, ConnectResponse, ReplyHeader, WatcherEvent } from '../../src/protocol/records.js';
import type { Reply, RequestContext, Watcher } from '../core/api.js';
import { ServerCore } from '../core/server-core.js';
import type { ServerConfig } from '../config/index.js';
import {
  SESSIONLESS_CONNECTION_TIMEOUT_MS,
  FRAMES_BEFORE_SESSION_MAX,
  type ConnectionLimits,
} from './limits.js';
import type { ClientWrite, RequestGateway } from './pipeline.js';
import { LatencyStats, type ServerStats } from './stats.js';

/** What a connection needs from the server around it. */
export interface ConnectionHost {
  readonly core: ServerCore;
  /** Where writes, sessions and syncs go: the local pipeline, or the ensemble through the leader. */
  readonly gateway: RequestGateway;
  readonly config: ServerConfig;
  readonly log: Logger;
  readonly stats: ServerStats;
  readonly limits: ConnectionLimits;
  /** The connection now holds the session; the host closes any other connection holding it. */
  claimSession(sessionId: bigint, connection: ClientConnection): void;
  /** The connection no longer holds the session (closed); the session itself lives on. */
  releaseSession(sessionId: bigint, connection: ClientConnection): void;
  /** A session was created, resumed or touched: the expiry timer may need to fire sooner. */
  sessionsChanged(): void;
  /** The answer to a four-letter word (`extra` = bytes after the word, for stmk). */
  fourLetterWord(word: string, connection: ClientConnection, extra: Buffer): string;
  /** Requests queued or in flight on a connection changed by `delta` (for the server-wide limit). */
  outstandingChanged(delta: number): void;
  /** Over globalOutstandingLimit: every connection stops reading until half of it is left. */
  readonly throttled: boolean;
  /**
   * This server is not serving but may soon (an ensemble member electing): keep the ConnectRequest.
   * True: held; later exactly one of `retry` (serving again) or `refuse` (the hold ran out) runs.
   */
  holdConnect(connection: ClientConnection, retry: () => void, refuse: () => void): boolean;
  /** Is the word one Apache knows (so the first 4 bytes are a command, not a frame length)? */
  isFourLetterWord(word: string): boolean;
  closed(connection: ClientConnection): void;
}

type State = 'handshake' | 'connecting' | 'open' | 'closing' | 'closed';

/** One request's place in the reply order. */
interface Slot {
  readonly xid: number;
  readonly opcode: number;
  readonly receivedMs: number;
  /** Size of the request frame, counted against outstandingRequestBytesMax while queued. */
  bytes?: number;
  /**
   * Reads run at the head of the queue, once every earlier reply is out. A write starts (prepares and
   * persists) as soon as every earlier slot has started or is a plain read: its txn is applied only
   * after the earlier writes', and the gateway calls each write back the moment its txn is applied,
   * so a plain read waiting behind one of them runs from that callback, before the later txn applies.
   * Group commit then goes on while a read waits its turn, as Apache's pipeline does. An async read
   * (sync) answers later, so nothing starts past it until it has.
   */
  readonly kind: 'read' | 'async-read' | 'write';
  state: 'waiting' | 'started' | 'ready';
  start: (slot: Slot) => void;
  frame?: Buffer;
  /** Close the connection once this reply is written (closeSession, unknown opcode). */
  closeAfter?: boolean;
}

/** Per-connection numbers for `cons`. */
export interface ConnectionStats {
  readonly latency: LatencyStats;
  received: number;
  sent: number;
  lastOp: string;
  lastCxid: number;
  lastZxid: bigint;
  lastResponseMs: number;
  lastLatencyMs: number;
  readonly establishedMs: number;
}

const FOUR_LETTER_PREFIX_BYTES = 4;

export class ClientConnection implements Watcher {
  readonly remoteAddress: string;
  readonly remotePort: number;
  readonly stats: ConnectionStats;
  private state: State = 'handshake';
  private readonly splitter: FrameSplitter;
  /** The first bytes of the connection, until 4 have come (then undefined). */
  private handshakeBytes: Buffer[] | undefined = [];
  private readonly pendingFrames: Buffer[] = [];
  private readonly queue: Slot[] = [];
  private ids: Id[];
  private paused = false;
  /** Bytes of the requests in `queue`, and of the frame being handled now. */
  private queuedBytes = 0;
  /** Replies of this event loop turn are being gathered into one socket write (see send). */
  private corked = false;
  private arrivingFrameBytes = 0;
  private lingerTimer: NodeJS.Timeout | undefined;
  private sessionIdValue = 0n;
  private timeoutMsValue = 0;
  private readOnlyRequested: boolean | undefined;

  constructor(
    private readonly socket: Socket,
    private readonly host: ConnectionHost,
  ) {
    this.remoteAddress = normalizeAddress(socket.remoteAddress ?? '');
    this.remotePort = socket.remotePort ?? 0;
    this.ids = [{ scheme: 'ip', id: this.remoteAddress }];
    this.splitter = new FrameSplitter(host.config.frameBytesMax);
    this.stats = {
      latency: new LatencyStats(),
      received: 0,
      sent: 0,
      lastOp: 'NA',
      lastCxid: -1,
      lastZxid: -1n,
      lastResponseMs: 0,
      lastLatencyMs: 0,
      establishedMs: Date.now(),
    };
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    // Drained: queued reads held back by a full write queue may start, and reading may resume.
    socket.on('drain', () => this.guarded(() => this.advance()));
    socket.on('error', (error) => this.log().debug({ err: error }, 'socket error'));
    socket.on('close', () => this.onClosed());
    // Only a connection without a session is cut for idleness; sessions expire by their own timeout.
    socket.setTimeout(SESSIONLESS_CONNECTION_TIMEOUT_MS, () => {
      if (this.state === 'handshake') this.destroy('no ConnectRequest in time');
    });
  }

  // ----- Watcher -----

  get authIds(): readonly Id[] {
    return this.ids;
  }

  process(event: records.WatcherEvent, zxid: bigint): void {
    if (this.state !== 'open' && this.state !== 'closing') return;
    const header = { xid: Xid.NOTIFICATION, zxid, err: 0 };
    this.send(encodeFrame(part(ReplyHeader, header), part(WatcherEvent, event)));
  }

  // ----- introspection -----

  get sessionId(): bigint {
    return this.sessionIdValue;
  }

  get sessionTimeoutMs(): number {
    return this.timeoutMsValue;
  }

  get outstanding(): number {
    return this.queue.length;
  }

  get isOpen(): boolean {
    return this.state === 'open';
  }

  resetStats(): void {
    this.stats.latency.reset();
    this.stats.received = 0;
    this.stats.sent = 0;
    this.stats.lastOp = 'NA';
    this.stats.lastCxid = -1;
    this.stats.lastZxid = -1n;
    this.stats.lastResponseMs = 0;
    this.stats.lastLatencyMs = 0;
  }

  /** Ends the connection after what was already queued for writing; idempotent. */
  close(reason: string): void {
    if (this.state === 'closed') return;
    this.log().debug({ reason }, 'closing connection');
    this.state = 'closed';
    this.socket.end();
    // A peer that never reads would keep a half-closed socket forever; cut it shortly after.
    this.lingerTimer = setTimeout(() => this.socket.destroy(), 1000);
  }

  /** Cuts the connection at once, dropping unsent bytes. */
  destroy(reason: string): void {
    if (this.state !== 'closed') this.log().debug({ reason }, 'destroying connection');
    this.state = 'closed';
    this.socket.destroy();
  }

  private log(): Logger {
    return this.host.log;
  }

  /** A log line about this connection (its remote address added). */
  private note(level: 'debug' | 'info' | 'warn', message: string, fields: object = {}): void {
    this.host.log[level]({ remote: this.describe(), ...fields }, message);
  }

  private onClosed(): void {
    this.state = 'closed';
    if (this.lingerTimer !== undefined) clearTimeout(this.lingerTimer);
    this.clearSlots();
    this.pendingFrames.length = 0;
    if (this.sessionIdValue !== 0n) this.host.releaseSession(this.sessionIdValue, this);
    this.host.core.dropWatcher(this);
    this.host.closed(this);
  }

  // ----- bytes in -----

  private onData(chunk: Buffer): void {
    if (this.state === 'closed' || this.state === 'closing') return;
    if (this.handshakeBytes !== undefined) {
      const bytes = this.takeFirstBytes(chunk);
      if (bytes === undefined) return;
      chunk = bytes;
    }
    let frames: Buffer[];
    try {
      frames = this.splitter.push(chunk);
    } catch (error) {
      this.note('warn', 'closing connection: bad frame', { reason: (error as Error).message });
      this.destroy('bad frame length');
      return;
    }
    for (const frame of frames) {
      if (!this.acceptsFrames()) return;
      this.guarded(() => this.onFrame(frame));
    }
    this.updateReading();
  }

  /** False once closing: frames behind a closeSession, a bad opcode or a refusal are ignored. */
  private acceptsFrames(): boolean {
    return this.state === 'handshake' || this.state === 'connecting' || this.state === 'open';
  }

  /**
   * Apache reads the first 4 bytes of a connection as a frame length, unless they spell a known
   * four-letter word. Returns the bytes to frame, or undefined when they were consumed here (a command,
   * or fewer than 4 bytes so far).
   */
  private takeFirstBytes(chunk: Buffer): Buffer | undefined {
    this.handshakeBytes!.push(chunk);
    const bytes = Buffer.concat(this.handshakeBytes!);
    if (bytes.length < FOUR_LETTER_PREFIX_BYTES) return undefined;
    this.handshakeBytes = undefined;
    const word = bytes.subarray(0, FOUR_LETTER_PREFIX_BYTES).toString('latin1');
    if (!this.host.isFourLetterWord(word)) return bytes;
    this.answerFourLetterWord(word, bytes.subarray(FOUR_LETTER_PREFIX_BYTES));
    return undefined;
  }

  private answerFourLetterWord(word: string, extra: Buffer): void {
    this.state = 'closing';
    this.host.stats.packetsReceived++;
    this.stats.received++;
    let answer: string;
    try {
      answer = this.host.fourLetterWord(word, this, extra);
    } catch (error) {
      this.log().warn({ err: error, word }, 'four-letter word failed');
      answer = '';
    }
    this.log().info({ remote: this.describe(), word }, 'four-letter word');
    this.socket.end(answer);
    this.state = 'closed';
  }

  /** A bug in handling one frame costs that connection, never the server. */
  private guarded(action: () => void): void {
    try {
      action();
    } catch (error) {
      this.host.log.error({ err: error, remote: this.describe() }, 'failed to handle a frame: closing');
      this.destroy('internal error');
    }
  }

  private onFrame(frame: Buffer): void {
    this.host.stats.packetsReceived++;
    this.stats.received++;
    if (this.state === 'handshake') {
      this.onConnectRequest(frame);
      return;
    }
    if (this.state === 'connecting') {
      if (this.pendingFrames.length >= FRAMES_BEFORE_SESSION_MAX) {
        this.note('warn', 'closing connection: too many frames before its session exists');
        this.destroy('too many frames before the session');
        return;
      }
      this.pendingFrames.push(frame);
      return;
    }
    this.onRequestFrame(frame);
  }

  // ----- the handshake -----

  private onConnectRequest(frame: Buffer): void {
    let request: records.ConnectRequest;
    try {
      request = ConnectRequest.decode(frame);
    } catch (error) {
      this.note('warn', 'closing connection: bad ConnectRequest', { reason: (error as Error).message });
      this.destroy('malformed ConnectRequest');
      return;
    }
    this.startSession(request, true);
  }

  /**
   * Starts or resumes the request's session. A member that is not serving may hold the request
   * briefly (an election ends within milliseconds; the client's reconnect backoff is far longer).
   */
  private startSession(request: records.ConnectRequest, mayHold: boolean): void {
    const core = this.host.core;
    const gateway = this.host.gateway;
    if (gateway.mode === undefined || (gateway.mode === 'read-only' && request.readOnly !== true)) {
      const retry = () => {
        if (this.state === 'connecting') this.guarded(() => this.startSession(request, false));
      };
      const refuse = () => this.refuseNotServing();
      if (mayHold && this.host.holdConnect(this, retry, refuse)) {
        this.state = 'connecting'; // frames sent meanwhile wait (bounded), as for a session being made
        this.note('info', 'holding ConnectRequest until this server serves');
        return;
      }
      this.refuseNotServing();
      return;
    }
    if (request.lastZxidSeen > core.lastProcessedZxid) {
      // The client has seen a newer state than ours: it must try another server (no reply, as Apache).
      this.log().info(
        { remote: this.describe(), clientZxid: request.lastZxidSeen, ourZxid: core.lastProcessedZxid },
        'refusing session: client has seen a newer zxid',
      );
      this.destroy('client zxid ahead of ours');
      return;
    }
    this.readOnlyRequested = request.readOnly;
    this.state = 'connecting';
    const refused = (reason: string) => this.destroy(`session refused: ${reason}`);
    if (request.sessionId === 0n) {
      const requestedMs = Date.now();
      const created = (session: { sessionId: bigint; timeoutMs: number }) => {
        this.host.sessionsChanged();
        const passwd = ServerCore.sessionPassword(session.sessionId);
        this.established(session.sessionId, session.timeoutMs, passwd, 'new');
        // As Apache's `cons`: the createSession is the new connection's last op (SESS, cxid 0).
        if (this.isOpen) this.recordLatency({ opcode: OpCode.createSession, xid: 0, receivedMs: requestedMs });
      };
      gateway.createSession(request.timeOut, created, refused);
      return;
    }
    const { sessionId } = request;
    const resumed = (timeoutMs: number | undefined) => {
      if (this.state !== 'connecting') return;
      if (timeoutMs === undefined) {
        this.refuseSession(sessionId);
        return;
      }
      this.host.sessionsChanged();
      this.established(sessionId, timeoutMs, ServerCore.sessionPassword(sessionId), 'resumed');
    };
    gateway.resumeSession(sessionId, request.passwd ?? Buffer.alloc(0), request.timeOut, resumed, refused);
  }

  /** An ensemble member without a leader: the client tries another server (as Apache closes). */
  private refuseNotServing(): void {
    if (this.state === 'closed') return;
    this.note('info', 'refusing session: this server is not serving requests');
    this.destroy('not serving');
  }

  /** Apache's answer to a wrong password or a gone session: timeout 0, id 0, zero password, close. */
  private refuseSession(sessionId: bigint): void {
    this.note('info', 'refusing session: expired or bad password', { sessionId: sessionId.toString(16) });
    this.sendConnectResponse({ timeOut: 0, sessionId: 0n, passwd: Buffer.alloc(SESSION_PASSWORD_BYTES) });
    this.close('session refused');
  }

  private established(sessionId: bigint, timeoutMs: number, passwd: Buffer, how: 'new' | 'resumed'): void {
    if (this.state !== 'connecting') return;
    this.sessionIdValue = sessionId;
    this.timeoutMsValue = timeoutMs;
    this.state = 'open';
    this.socket.setTimeout(0);
    this.host.claimSession(sessionId, this);
    this.sendConnectResponse({ timeOut: timeoutMs, sessionId, passwd: fixedPassword(passwd) });
    this.note('info', 'session established', { sessionId: sessionId.toString(16), timeoutMs, how });
    const frames = this.pendingFrames.splice(0);
    for (const frame of frames) {
      if (!this.isOpen) break;
      this.guarded(() => this.onRequestFrame(frame));
    }
    this.updateReading();
  }

  private sendConnectResponse(fields: { timeOut: number; sessionId: bigint; passwd: Buffer }): void {
    const response: records.ConnectResponse = { protocolVersion: 0, ...fields };
    // The readOnly byte goes back only if the client sent one (old clients read a shorter reply).
    if (this.readOnlyRequested !== undefined) response.readOnly = this.host.gateway.mode === 'read-only';
    this.send(encodeFrame(part(ConnectResponse, response)));
  }

  // ----- requests -----

  private onRequestFrame(frame: Buffer): void {
    this.arrivingFrameBytes = frame.length;
    const receivedMs = Date.now();
    const core = this.host.core;
    const gateway = this.host.gateway;
    gateway.touchSession(this.sessionIdValue, receivedMs);
    let decoded: DecodedRequest;
    try {
      decoded = decodeRequest(frame);
    } catch (error) {
      this.onUndecodable(frame, error, receivedMs);
      return;
    }
    const { header, body } = decoded;
    const opcode = header.type;
    if (opcode === OpCode.auth) {
      this.onAuth(header.xid, body as records.AuthPacket);
      return;
    }
    const ctx: RequestContext = { sessionId: this.sessionIdValue, cxid: header.xid, authIds: this.ids };
    if (opcode === OpCode.closeSession) {
      this.state = 'closing';
      const write = { ctx, opcode, request: body ?? {}, frame };
      this.enqueueWrite(header.xid, opcode, receivedMs, write, true);
      return;
    }
    if (opcode === OpCode.deleteContainer || (isClientRequest(opcode) && ServerCore.isWrite(opcode))) {
      const request = opcode === OpCode.deleteContainer ? decodeDeleteContainer(frame) : body;
      this.enqueueWrite(header.xid, opcode, receivedMs, { ctx, opcode, request, frame });
      return;
    }
    if (opcode === OpCode.sync && typeof (body as { path?: unknown } | undefined)?.path === 'string') {
      const { path } = body as records.SyncRequest;
      this.enqueueAsyncRead(header.xid, opcode, receivedMs, (done, refused) =>
        gateway.sync(ctx, path, done, refused),
      );
      return;
    }
    if (opcode === OpCode.ping) {
      this.enqueueReply(header.xid, opcode, receivedMs, () => ({ err: 0 }));
      return;
    }
    if (opcode === OpCode.sasl) {
      // No SASL configured: Apache answers with an empty token and carries on.
      this.enqueueReply(header.xid, opcode, receivedMs, () => ({ err: 0, response: { token: null } }));
      return;
    }
    if (!isClientRequest(opcode)) {
      this.note('warn', 'unknown or invalid opcode: answering Unimplemented and closing', { opcode });
      this.enqueueReply(header.xid, opcode, receivedMs, () => ({ err: ErrorCode.UNIMPLEMENTED }), true);
      this.state = 'closing';
      return;
    }
    this.enqueueReply(header.xid, opcode, receivedMs, () => core.read(ctx, opcode, body, this));
  }

  /** A frame too short for its header is closed on; a bad body gets MarshallingError, as Apache. */
  private onUndecodable(frame: Buffer, error: unknown, receivedMs: number): void {
    if (frame.length < 8 || !(error instanceof DecodeError)) {
      this.note('warn', 'closing connection: malformed request', { reason: String(error) });
      this.destroy('malformed request header');
      return;
    }
    const xid = frame.readInt32BE(0);
    const opcode = frame.readInt32BE(4);
    this.note('warn', 'malformed request body', { op: opName(opcode), reason: error.message });
    if (!isClientRequest(opcode) && opcode !== OpCode.deleteContainer) {
      this.enqueueReply(xid, opcode, receivedMs, () => ({ err: ErrorCode.UNIMPLEMENTED }), true);
      this.state = 'closing';
      return;
    }
    this.enqueueReply(xid, opcode, receivedMs, () => ({ err: ErrorCode.MARSHALLING_ERROR }));
  }

  /** addauth is answered at once (xid -4 is outside the reply order); a failure closes the connection. */
  private onAuth(xid: number, packet: records.AuthPacket): void {
    const result = this.host.core.authenticate(packet.scheme, packet.auth, this.remoteAddress);
    const header = { xid, zxid: 0n, err: result.ok ? 0 : result.err };
    this.send(encodeFrame(part(ReplyHeader, header)));
    if (result.ok) {
      for (const id of result.ids) {
        const held = this.ids.some((known) => known.scheme === id.scheme && known.id === id.id);
        if (!held) this.ids = [...this.ids, id];
      }
      return;
    }
    this.host.stats.authFailed++;
    this.log().warn({ remote: this.describe(), scheme: packet.scheme }, 'authentication failed: closing');
    this.state = 'closing';
    this.close('auth failed');
  }

  private enqueueReply(
    xid: number,
    opcode: number,
    receivedMs: number,
    run: () => Reply,
    closeAfter = false,
  ): void {
    this.enqueue({
      xid,
      opcode,
      receivedMs,
      kind: 'read',
      state: 'waiting',
      closeAfter,
      start: (slot) => {
        slot.frame = this.encodeReply(xid, opcode, run());
        slot.state = 'ready';
      },
    });
  }

  private enqueueWrite(
    xid: number,
    opcode: number,
    receivedMs: number,
    write: ClientWrite,
    closeAfter = false,
  ): void {
    this.enqueueAsync(xid, opcode, receivedMs, 'write', closeAfter, (done, refused) =>
      this.host.gateway.write(write, done, refused),
    );
  }

  /** A read answered later (sync): it starts at the head of the queue, like every read. */
  private enqueueAsyncRead(
    xid: number,
    opcode: number,
    receivedMs: number,
    run: (done: (reply: Reply) => void, refused: (reason: string) => void) => void,
  ): void {
    this.enqueueAsync(xid, opcode, receivedMs, 'async-read', false, run);
  }

  private enqueueAsync(
    xid: number,
    opcode: number,
    receivedMs: number,
    kind: Slot['kind'],
    closeAfter: boolean,
    run: (done: (reply: Reply) => void, refused: (reason: string) => void) => void,
  ): void {
    this.enqueue({
      xid,
      opcode,
      receivedMs,
      kind,
      state: 'waiting',
      closeAfter,
      start: (slot) => {
        slot.state = 'started';
        const done = (reply: Reply) => {
          if (slot.state !== 'started') return;
          slot.frame = this.encodeReply(xid, opcode, reply);
          slot.state = 'ready';
          this.advance();
        };
        // Not here, not now (an ensemble member lost its leader): the client retries elsewhere.
        const refused = (reason: string) => this.destroy(`request refused: ${reason}`);
        run(done, refused);
      },
    });
  }

  private enqueue(slot: Slot): void {
    slot.bytes = this.arrivingFrameBytes;
    this.queuedBytes += slot.bytes;
    this.queue.push(slot);
    this.host.outstandingChanged(1);
    this.advance();
  }

  /** Starts what may start, then writes every ready reply at the head of the queue. */
  private advance(): void {
    for (;;) {
      while (this.queue.length > 0 && this.queue[0].state === 'ready') {
        const slot = this.queue.shift()!;
        this.queuedBytes -= slot.bytes ?? 0;
        this.host.outstandingChanged(-1);
        this.send(slot.frame!);
        this.recordLatency(slot);
        if (slot.closeAfter) {
          this.clearSlots();
          this.close(`after ${opName(slot.opcode)}`);
          return;
        }
      }
      const slot = this.nextToStart();
      if (slot === undefined) break;
      slot.start(slot);
    }
    this.updateReading();
  }

  /** The slot that may start now, if any (see Slot.kind for the order this keeps). */
  private nextToStart(): Slot | undefined {
    let laterMayStart = true;
    for (let index = 0; index < this.queue.length; index++) {
      const slot = this.queue[index];
      if (slot.state !== 'waiting') {
        if (slot.kind === 'async-read' && slot.state === 'started') laterMayStart = false;
        continue;
      }
      if (slot.kind === 'write') return laterMayStart ? slot : undefined;
      if (index === 0) {
        // A full socket pauses reads, unless a later write already runs: its txn must not apply first.
        if (!this.writeQueueFull()) return slot;
        return this.queue.some((later) => later.state !== 'waiting') ? slot : undefined;
      }
      if (slot.kind === 'async-read') return undefined;
    }
    return undefined;
  }

  private encodeReply(xid: number, opcode: number, reply: Reply): Buffer {
    const zxid = this.host.core.lastProcessedZxid;
    const header = { xid, zxid, err: reply.err };
    const spec = this.responseRecord(opcode);
    // Errors carry no body; a failed multi replies err 0 with per-op results, so it has one.
    if (reply.err !== 0 || spec === null || reply.response === undefined) {
      return encodeFrame(part(ReplyHeader, header));
    }
    return encodeFrame(part(ReplyHeader, header), { type: spec, value: reply.response });
  }

  private responseRecord(opcode: number): JuteType<any> | null {
    if (opcode === OpCode.sasl) return records.SetSASLResponse;
    return responseRecordOf(opcode);
  }

  private recordLatency(slot: Pick<Slot, 'opcode' | 'xid' | 'receivedMs'>): void {
    const now = Date.now();
    const latency = now - slot.receivedMs;
    this.host.stats.latency.record(latency);
    this.host.stats.onRequestLatency?.(latency, slot.opcode);
    this.stats.latency.record(latency);
    this.stats.lastLatencyMs = latency;
    this.stats.lastResponseMs = now;
    this.stats.lastOp = shortOpName(slot.opcode);
    this.stats.lastCxid = slot.xid;
    this.stats.lastZxid = this.host.core.lastProcessedZxid;
  }

  // ----- bytes out, and back-pressure -----

  private send(frame: Buffer): void {
    if (this.socket.destroyed || this.socket.writableEnded) return;
    this.host.stats.packetsSent++;
    this.stats.sent++;
    if (!this.corked) {
      // Replies made in one turn (a group commit answers many writes at once) leave in one write.
      this.corked = true;
      this.socket.cork();
      process.nextTick(() => {
        this.corked = false;
        this.socket.uncork();
      });
    }
    this.socket.write(frame);
    if (this.socket.writableLength > this.host.limits.writeQueueBytesMax) {
      this.log().warn(
        { remote: this.describe(), unsentBytes: this.socket.writableLength },
        'closing connection: the client does not read its replies',
      );
      this.destroy('write queue over its limit');
    }
  }

  /** A read's reply could be large: none starts while the client has this much unread (until drain). */
  private writeQueueFull(): boolean {
    return this.socket.writableLength > this.host.limits.writeQueueBytesPause;
  }

  private clearSlots(): void {
    this.queuedBytes = 0;
    if (this.queue.length > 0) this.host.outstandingChanged(-this.queue.length);
    this.queue.length = 0;
  }

  /**
   * Pauses reading while too much is outstanding (here or server-wide) or unsent; resumes when all are
   * low again. The host calls it when the server-wide throttle lifts.
   */
  updateReading(): void {
    if (this.socket.destroyed || this.state === 'closed') return;
    const limits = this.host.limits;
    const busy =
      this.host.throttled ||
      this.queue.length >= limits.outstandingRequestsMax ||
      this.queuedBytes > limits.outstandingRequestBytesMax ||
      this.socket.writableLength > limits.writeQueueBytesPause ||
      this.state === 'connecting';
    const calm =
      !this.host.throttled &&
      this.queue.length < limits.outstandingRequestsMax / 2 &&
      this.queuedBytes <= limits.outstandingRequestBytesMax / 2 &&
      this.socket.writableLength <= limits.writeQueueBytesPause / 2 &&
      this.state !== 'connecting';
    if (busy && !this.paused) {
      this.paused = true;
      this.socket.pause();
    } else if (calm && this.paused) {
      this.paused = false;
      this.socket.resume();
    }
  }

  describe(): string {
    return `${this.remoteAddress}:${this.remotePort}`;
  }
}

/** The response record of an opcode (null: header only). */
function responseRecordOf(opcode: number): JuteType<any> | null {
  return operationFor(opcode)?.response ?? null;
}

/**
 * deleteContainer has no request record. Apache 3.8 takes the path from the whole request buffer,
 * request header included (its own ContainerManager passes just the path's bytes), so from a client
 * the "path" always starts with the header and the request fails path validation: BadArguments.
 */
function decodeDeleteContainer(frame: Buffer): { path: string } {
  return { path: frame.toString('utf8') };
}

/** Apache's 4-letter op names in `cons` (lop=CREA, GETD, ...). */
function shortOpName(opcode: number): string {
  const names: Record<number, string> = {
    1: 'CREA', 2: 'DELE', 3: 'EXIS', 4: 'GETD', 5: 'SETD', 6: 'GETA', 7: 'SETA', 8: 'GETC', 9: 'SYNC',
    11: 'PING', 12: 'GETC', 13: 'CHEC', 14: 'MULT', 15: 'CREA', 16: 'RECO', 17: 'CHKW', 18: 'REMW',
    19: 'CCON', 20: 'DCON', 21: 'CTTL', 22: 'MLTR', 100: 'AUTH', 101: 'SETW', 102: 'SASL', 103: 'GETE',
    104: 'GACN', 105: 'STW2', 106: 'ADDW', 107: 'WHAM', [-10]: 'SESS', [-11]: 'CLOS',
  };
  return names[opcode] ?? 'UNKN';
}

/** IPv4 peers on a dual-stack socket appear as ::ffff:a.b.c.d; ip ACLs and logs want a.b.c.d. */
export function normalizeAddress(address: string): string {
  return address.startsWith('::ffff:') && address.includes('.') ? address.slice('::ffff:'.length) : address;
}

/** The password on the wire is always exactly 16 bytes (the C client reads a fixed-size reply). */
function fixedPassword(passwd: Buffer): Buffer {
  if (passwd.length === SESSION_PASSWORD_BYTES) return passwd;
  const fixed = Buffer.alloc(SESSION_PASSWORD_BYTES);
  passwd.copy(fixed, 0, 0, SESSION_PASSWORD_BYTES);
  return fixed;
}
