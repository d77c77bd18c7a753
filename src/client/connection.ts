// One TCP connection to one server: the handshake, framing, pipelined requests matched to replies
// by xid in order, pings when idle and the read timeout. Writes are coalesced: everything queued
// while the current callback and the promise jobs it started run goes out in one corked write, as
// soon as they are done (process.nextTick), not after the loop's other I/O callbacks. A connection
// never reconnects; when anything goes wrong it closes itself with a typed error, fails what it had
// in flight, and says so once.

import {
  DecodeError,
  FrameSplitter,
  FrameTooLargeError,
  OpCode,
  TimeoutError,
  Xid,
  encodeFrame,
  part,
  readReplyHeader,
  type JuteType,
  type OversizeFrame,
  type ReplyHeader,
} from '../protocol/index.js';
import { ConnectRequest, ConnectResponse, RequestHeader, WatcherEvent } from '../protocol/records.js';
import type { Clock } from './clock.js';
import type { HostAddress } from './connect-string.js';
import type { Transport, TransportSocket } from './transport.js';
import { ProtocolViolationError, ReplyTooLargeError, connectionLoss } from './errors.js';

/** A request as the connection sees it: a frame, the record its reply carries, and two outcomes. */
export interface WireRequest {
  /** The whole frame, length prefix included; the connection writes the xid at offset 4. */
  readonly frame: Buffer;
  /** The reply body's record when err == 0, or null for a header-only reply. */
  readonly response: JuteType<unknown> | null;
  /** The reply, in wire order and synchronously, before anything later on the wire is read. */
  complete(header: ReplyHeader, body: unknown): void;
  /** The connection closed first; `sent` says whether the request reached the socket. */
  fail(error: Error, sent: boolean): void;
  /**
   * The reply came, in order, but its body cannot be read (over frameBytesMax): only this request
   * fails, with `error`; the connection carries on.
   */
  unreadable(error: Error): void;
}

export interface ConnectionHandlers {
  /** A watch notification (xid -1), in wire order. */
  onNotification(event: WatcherEvent): void;
  /** The zxid of a normal reply, to remember the latest the client saw. */
  onZxid(zxid: bigint): void;
  /** The established connection closed; called once, after in-flight requests were failed. */
  onClose(error: Error): void;
}

export interface ConnectionOptions {
  readonly host: HostAddress;
  readonly connectRequest: ConnectRequest;
  /** TCP connect plus handshake must finish within this. */
  readonly connectTimeoutMs: number;
  readonly frameBytesMax: number;
  /** Requests written and not yet answered; the client keeps the rest waiting. */
  readonly outstandingMax: number;
  /**
   * The oldest unanswered request may wait this long; then the connection is closed as broken
   * (a server that answers pings but not requests). 0 disables it.
   */
  readonly requestTimeoutMs: number;
  readonly clock: Clock;
  readonly transport: Transport;
}

type AuthCallback = (error: Error | undefined, code: number) => void;

/** ReplyHeader's size: xid (4), zxid (8), err (4); what an oversize reply is judged by. */
const REPLY_HEADER_BYTES = 16;
/**
 * How far past frameBytesMax a reply may declare itself and still be skipped (failing only its
 * own request) instead of closing the connection; skipping costs bandwidth, never memory.
 */
const OVERSIZE_SKIP_FACTOR = 64;

/** Java's MAX_SEND_PING_INTERVAL: ping at least this often when nothing else is sent. */
const PING_INTERVAL_MAX_MS = 10_000;

const PING_FRAME = encodeFrame(part(RequestHeader, { xid: Xid.PING, type: OpCode.ping }));

interface InFlight {
  readonly xid: number;
  readonly sentAtMs: number;
  readonly request: WireRequest;
}

export class Connection {
  private readonly splitter: FrameSplitter;
  private readonly inFlight: InFlight[] = [];
  private inFlightHead = 0;
  private readonly authCallbacks: AuthCallback[] = [];
  private outgoing: Buffer[] = [];
  private flushScheduled = false;
  private readonly flushBound = () => this.flush();
  private timer: unknown;
  private timerAtMs = Infinity;
  private nextXid = 1;
  private closedError: Error | undefined;
  private established = false;
  private lastSendMs: number;
  /** When the last byte arrived from the server (on the client's clock). */
  lastReceivedMs: number;
  private readonly clock: Clock;
  private readTimeoutMs = 0;
  private pingIntervalMs = 0;
  negotiatedTimeoutMs = 0;

  private constructor(
    private readonly socket: TransportSocket,
    readonly options: ConnectionOptions,
    private readonly handlers: ConnectionHandlers,
  ) {
    this.clock = options.clock;
    this.lastSendMs = this.lastReceivedMs = options.clock.nowMs();
    this.splitter = new FrameSplitter(options.frameBytesMax, {
      oversizeSkipBytesMax: Math.min(0x7fffffff, options.frameBytesMax * OVERSIZE_SKIP_FACTOR),
      oversizeHeadBytes: REPLY_HEADER_BYTES,
    });
  }

  /**
   * Opens a connection and completes the handshake. Rejects (and leaves nothing open) when the
   * server refuses, closes, sends a malformed answer, or the connect timeout passes.
   */
  static open(
    options: ConnectionOptions,
    handlers: ConnectionHandlers,
  ): { connection: Connection; handshake: Promise<ConnectResponse>; cancel(error: Error): void } {
    const socket = options.transport.connect(options.host);
    const connection = new Connection(socket, options, handlers);
    const handshake = connection.handshake();
    return { connection, handshake, cancel: (error) => connection.close(error) };
  }

  get isClosed(): boolean {
    return this.closedError !== undefined;
  }

  /** Requests written and waiting for their reply. */
  get outstanding(): number {
    return this.inFlight.length - this.inFlightHead;
  }

  get hasCapacity(): boolean {
    return this.established && !this.isClosed && this.outstanding < this.options.outstandingMax;
  }

  /** Queues a request for this turn's write; its reply must come back in order. */
  send(request: WireRequest): void {
    if (this.closedError !== undefined) {
      request.fail(this.closedError, false);
      return;
    }
    const xid = this.nextXid;
    this.nextXid = xid >= 0x7ffffff0 ? 1 : xid + 1;
    request.frame.writeInt32BE(xid, 4);
    const sentAtMs = this.clock.nowMs();
    this.inFlight.push({ xid, sentAtMs, request });
    // The timer may be set for a later ping; a lone request must not wait past its own deadline.
    const deadline = sentAtMs + this.options.requestTimeoutMs;
    if (this.options.requestTimeoutMs > 0 && this.outstanding === 1 && deadline < this.timerAtMs)
      this.rearm();
    this.enqueue(request.frame);
  }

  /** Sends an AuthPacket frame (xid -4); its answer comes on the auth channel, not in xid order. */
  sendAuth(frame: Buffer, callback: AuthCallback): void {
    if (this.closedError !== undefined) {
      callback(this.closedError, 0);
      return;
    }
    this.authCallbacks.push(callback);
    this.enqueue(frame);
  }

  /** Closes the connection (idempotent); everything in flight fails with `error`. */
  close(error: Error): void {
    if (this.closedError !== undefined) return;
    this.closedError = error;
    if (this.timer !== undefined) this.clock.clearTimer(this.timer);
    this.timer = undefined;
    this.outgoing = [];
    this.socket.destroy();
    const inFlight = this.inFlight.splice(0).slice(this.inFlightHead);
    this.inFlightHead = 0;
    for (const entry of inFlight) entry.request.fail(error, true);
    for (const callback of this.authCallbacks.splice(0)) callback(error, 0);
    if (this.established) this.handlers.onClose(error);
  }

  private handshake(): Promise<ConnectResponse> {
    return new Promise<ConnectResponse>((resolve, reject) => {
      const socket = this.socket;
      let settled = false;
      const fail = (error: Error) => {
        this.close(error);
        if (!settled) {
          settled = true;
          reject(error);
        }
      };
      const { host, connectTimeoutMs } = this.options;
      const timeout = this.clock.setTimer(
        () => fail(new TimeoutError(`no handshake with ${describeHost(host)} within ${connectTimeoutMs} ms`)),
        connectTimeoutMs,
      );
      const onHandshake = (response: ConnectResponse) => {
        this.clock.clearTimer(timeout);
        settled = true;
        this.established = true;
        this.startTimers(response.timeOut);
        resolve(response);
      };
      socket.on('connect', () => {
        this.lastSendMs = this.clock.nowMs();
        socket.write(encodeFrame(part(ConnectRequest, this.options.connectRequest)));
      });
      socket.on('data', (chunk: Buffer) => {
        this.lastReceivedMs = this.clock.nowMs();
        try {
          this.onData(chunk, onHandshake);
        } catch (error) {
          // Only our own bugs get here; they must not escape into the event loop.
          fail(error instanceof Error ? error : new Error(String(error)));
        }
      });
      socket.on('error', (error) => {
        this.clock.clearTimer(timeout);
        fail(connectionLoss(false, { cause: error }));
      });
      socket.on('close', () => {
        this.clock.clearTimer(timeout);
        fail(
          connectionLoss(false, {
            cause: new Error(`${describeHost(this.options.host)} closed the connection`),
          }),
        );
      });
    });
  }

  private onData(chunk: Buffer, onHandshake: (response: ConnectResponse) => void): void {
    let frames: Array<Buffer | OversizeFrame>;
    try {
      frames = this.splitter.pushItems(chunk);
    } catch (error) {
      this.close(connectionLoss(false, { cause: error }));
      return;
    }
    for (const frame of frames) {
      if (this.closedError !== undefined) return;
      if (!Buffer.isBuffer(frame)) {
        this.onOversizeReply(frame);
        continue;
      }
      if (!this.established) {
        let response: ConnectResponse;
        try {
          response = ConnectResponse.decode(frame);
        } catch (error) {
          this.close(connectionLoss(false, { cause: error }));
          return;
        }
        onHandshake(response);
        continue;
      }
      this.onReply(frame);
    }
  }

  private onReply(frame: Buffer): void {
    let header: ReplyHeader;
    let reader;
    try {
      ({ header, reader } = readReplyHeader(frame));
    } catch (error) {
      this.close(connectionLoss(false, { cause: error }));
      return;
    }
    switch (header.xid) {
      case Xid.PING:
        return;
      case Xid.AUTH: {
        const callback = this.authCallbacks.shift();
        if (callback === undefined) {
          this.close(
            connectionLoss(false, {
              cause: new ProtocolViolationError('auth reply without an auth request'),
            }),
          );
          return;
        }
        callback(undefined, header.err);
        return;
      }
      case Xid.NOTIFICATION: {
        let event: WatcherEvent;
        try {
          event = WatcherEvent.read(reader);
        } catch (error) {
          this.close(connectionLoss(false, { cause: error }));
          return;
        }
        this.handlers.onNotification(event);
        return;
      }
    }
    const head = this.inFlight[this.inFlightHead];
    if (head === undefined || head.xid !== header.xid) {
      const expected = head === undefined ? 'no request outstanding' : `expected xid ${head.xid}`;
      this.close(
        connectionLoss(false, {
          cause: new ProtocolViolationError(`reply xid ${header.xid} out of order: ${expected}`),
        }),
      );
      return;
    }
    let body: unknown = undefined;
    if (header.err === 0 && head.request.response !== null) {
      try {
        body = head.request.response.read(reader);
      } catch (error) {
        const cause = error instanceof DecodeError ? error : new DecodeError(String(error));
        this.close(connectionLoss(false, { cause }));
        return;
      }
    }
    this.shiftInFlight();
    if (header.zxid > 0n) this.handlers.onZxid(header.zxid);
    head.request.complete(header, body);
  }

  /**
   * A reply over frameBytesMax. When its header shows it answers the request at the head of the
   * line, only that request fails (its bytes are skipped); anything else (the handshake, a
   * notification, a reply out of order) closes the connection, with the reason as its cause.
   */
  private onOversizeReply(frame: OversizeFrame): void {
    const tooLarge = new FrameTooLargeError(frame.frameBytes, this.options.frameBytesMax);
    if (!this.established || frame.head.length < REPLY_HEADER_BYTES) {
      this.close(connectionLoss(false, { cause: tooLarge }));
      return;
    }
    const header: ReplyHeader = {
      xid: frame.head.readInt32BE(0),
      zxid: frame.head.readBigInt64BE(4),
      err: frame.head.readInt32BE(12),
    };
    const head = this.inFlight[this.inFlightHead];
    if (header.xid < 0 || head === undefined || head.xid !== header.xid) {
      this.close(connectionLoss(false, { cause: tooLarge }));
      return;
    }
    this.shiftInFlight();
    if (header.zxid > 0n) this.handlers.onZxid(header.zxid);
    // An error reply needs no body: it is reported as the server meant it.
    if (header.err !== 0) head.request.complete(header, undefined);
    else head.request.unreadable(new ReplyTooLargeError(frame.frameBytes, this.options.frameBytesMax));
  }

  private shiftInFlight(): void {
    this.inFlight[this.inFlightHead++] = undefined as unknown as InFlight;
    if (this.inFlightHead > 1024 && this.inFlightHead * 2 > this.inFlight.length) {
      this.inFlight.splice(0, this.inFlightHead);
      this.inFlightHead = 0;
    }
  }

  private enqueue(frame: Buffer): void {
    this.outgoing.push(frame);
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    // A tick queued from a promise job runs once the whole promise queue is empty: every request
    // those jobs issue (a closed loop answering a chunk of replies) shares the write.
    process.nextTick(this.flushBound);
  }

  private flush(): void {
    this.flushScheduled = false;
    if (this.closedError !== undefined || this.outgoing.length === 0) return;
    const frames = this.outgoing;
    this.outgoing = [];
    this.lastSendMs = this.clock.nowMs();
    if (frames.length === 1) {
      this.socket.write(frames[0]);
      return;
    }
    this.socket.cork();
    for (const frame of frames) this.socket.write(frame);
    this.socket.uncork();
  }

  /** Java's timing: read timeout at 2/3 of the session timeout, a ping after half of that idle. */
  private startTimers(negotiatedTimeoutMs: number): void {
    this.negotiatedTimeoutMs = negotiatedTimeoutMs;
    if (negotiatedTimeoutMs <= 0) return;
    this.readTimeoutMs = Math.max(1, Math.floor((negotiatedTimeoutMs * 2) / 3));
    // Java also pings after 10 s without sending anything, whatever the timeout.
    this.pingIntervalMs = Math.max(1, Math.min(Math.floor(this.readTimeoutMs / 2), PING_INTERVAL_MAX_MS));
    this.armTimer();
  }

  private rearm(): void {
    if (this.timer === undefined) return; // not established yet, or closed
    this.clock.clearTimer(this.timer);
    this.armTimer();
  }

  private armTimer(): void {
    if (this.closedError !== undefined) return;
    const now = this.clock.nowMs();
    let next = Math.min(this.lastSendMs + this.pingIntervalMs, this.lastReceivedMs + this.readTimeoutMs);
    const oldest = this.inFlight[this.inFlightHead];
    if (oldest !== undefined && this.options.requestTimeoutMs > 0) {
      next = Math.min(next, oldest.sentAtMs + this.options.requestTimeoutMs);
    }
    this.timerAtMs = next;
    this.timer = this.clock.setTimer(() => this.onTimer(), Math.max(1, Math.ceil(next - now)));
  }

  private onTimer(): void {
    this.timer = undefined;
    const now = this.clock.nowMs();
    if (now - this.lastReceivedMs >= this.readTimeoutMs) {
      const silentMs = Math.round(now - this.lastReceivedMs);
      this.close(
        connectionLoss(false, {
          cause: new TimeoutError(`nothing heard from the server for ${silentMs} ms`),
        }),
      );
      return;
    }
    const oldest = this.inFlight[this.inFlightHead];
    const limitMs = this.options.requestTimeoutMs;
    if (oldest !== undefined && limitMs > 0 && now - oldest.sentAtMs >= limitMs) {
      const cause = new TimeoutError(`no reply to request xid ${oldest.xid} within ${limitMs} ms`);
      this.close(connectionLoss(false, { cause }));
      return;
    }
    if (now - this.lastSendMs >= this.pingIntervalMs) {
      this.outgoing.push(PING_FRAME);
      this.flush();
    }
    this.armTimer();
  }
}

export function describeHost(host: HostAddress): string {
  return host.host.includes(':') ? `[${host.host}]:${host.port}` : `${host.host}:${host.port}`;
}
