// A minimal promise-based ZooKeeper driver for byte-level conformance tests, built on src/protocol:
// connect (with or without the readOnly byte), send any request and get the reply header and decoded
// body, collect notifications, and raw socket access for malformed-input tests. Not a product client:
// no reconnects, no retries, no path checks.

import net from 'node:net';
import {
  FrameSplitter,
  OpCode,
  Xid,
  encodeFrame,
  operationFor,
  part,
  records,
  type FramePart,
  type JuteType,
} from '../../src/protocol/index.js';
import {
  ConnectRequest,
  ConnectResponse,
  ReplyHeader,
  RequestHeader,
  WatcherEvent,
} from '../../src/protocol/records.js';
import { JuteReader } from '../../src/protocol/jute.js';

const DEFAULT_TIMEOUT_MS = 10_000;

/** A socket that yields whole frames (or raw bytes), and tells when the peer closed. */
export class RawConnection implements AsyncDisposable {
  private readonly splitter = new FrameSplitter(64 * 1024 * 1024);
  private readonly frames: Buffer[] = [];
  private readonly waiters: Array<() => void> = [];
  private rawBytes: Buffer[] = [];
  private isClosed = false;
  readonly closed: Promise<void>;
  /** Called for each frame instead of queueing it, once set. */
  onFrame: ((frame: Buffer) => void) | undefined;

  private constructor(readonly socket: net.Socket) {
    this.closed = new Promise((resolve) => {
      socket.on('close', () => {
        this.isClosed = true;
        this.wake();
        resolve();
      });
    });
    socket.on('error', () => {});
    socket.on('data', (chunk: Buffer) => {
      this.rawBytes.push(chunk);
      let frames: Buffer[] = [];
      try {
        frames = this.splitter.push(chunk);
      } catch {
        // Not framed data (a four-letter-word answer): only rawBytes matter then.
      }
      for (const frame of frames) {
        if (this.onFrame) this.onFrame(frame);
        else this.frames.push(frame);
      }
      this.wake();
    });
  }

  static async open(port: number, host = '127.0.0.1'): Promise<RawConnection> {
    const socket = net.connect(port, host);
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', () => resolve());
      socket.once('error', reject);
    });
    socket.setNoDelay(true);
    return new RawConnection(socket);
  }

  get isOpen(): boolean {
    return !this.isClosed;
  }

  write(bytes: Buffer | string): void {
    this.socket.write(bytes);
  }

  /** Every byte received so far, concatenated. */
  received(): Buffer {
    return Buffer.concat(this.rawBytes);
  }

  /** The next frame, or undefined if the peer closed first. Rejects after `timeoutMs`. */
  async nextFrame(timeoutMs = DEFAULT_TIMEOUT_MS): Promise<Buffer | undefined> {
    await this.until(() => this.frames.length > 0 || this.isClosed, timeoutMs, 'a frame');
    return this.frames.shift();
  }

  /** Resolves once the peer closed the connection; rejects after `timeoutMs`. */
  async waitClosed(timeoutMs = DEFAULT_TIMEOUT_MS): Promise<void> {
    await this.until(() => this.isClosed, timeoutMs, 'the server to close the connection');
  }

  async until(condition: () => boolean, timeoutMs: number, what: string): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!condition()) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for ${what}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  wake(): void {
    for (const wake of this.waiters.splice(0)) wake();
  }

  destroy(): void {
    this.socket.destroy();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    this.socket.destroy();
    await this.closed;
  }
}

export interface ConnectOptions {
  host?: string;
  timeoutMs?: number;
  sessionId?: bigint;
  passwd?: Buffer;
  lastZxidSeen?: bigint;
  /** undefined: leave the readOnly byte out (an old client); true/false: send it. */
  readOnly?: boolean;
}

export interface Reply<T = any> {
  header: records.ReplyHeader;
  /** The decoded response record, when err is 0 and the op has one. */
  body: T | undefined;
  /** The reply frame (without its length prefix). */
  frame: Buffer;
}

export interface Notification {
  zxid: bigint;
  event: records.WatcherEvent;
}

interface Pending {
  xid: number;
  response: JuteType<any> | null;
  resolve: (reply: Reply) => void;
}

/** A connected session. */
export class RawClient implements AsyncDisposable {
  readonly notifications: Notification[] = [];
  /** Replies that matched no request in order (a conformance failure). */
  readonly protocolErrors: string[] = [];
  private nextXid = 1;
  private readonly pending: Pending[] = [];
  private readonly authWaiters: Array<(reply: Reply) => void> = [];
  private readonly pingWaiters: Array<(reply: Reply) => void> = [];
  /** Frames in arrival order: ['reply', xid] or ['event', path] — to check event-before-reply order. */
  readonly arrivals: Array<{ kind: 'reply' | 'event'; xid: number; path?: string }> = [];

  private constructor(
    readonly connection: RawConnection,
    readonly response: records.ConnectResponse,
    /** The ConnectResponse frame as received (its length tells whether readOnly was echoed). */
    readonly responseFrame: Buffer,
  ) {
    connection.onFrame = (frame) => this.dispatch(frame);
  }

  get sessionId(): bigint {
    return this.response.sessionId;
  }

  get passwd(): Buffer {
    return this.response.passwd ?? Buffer.alloc(0);
  }

  get timeoutMs(): number {
    return this.response.timeOut;
  }

  /** Opens a connection and completes the handshake (rejects if the server closes without a reply). */
  static async connect(port: number, options: ConnectOptions = {}): Promise<RawClient> {
    const connection = await RawConnection.open(port, options.host);
    const request: records.ConnectRequest = {
      protocolVersion: 0,
      lastZxidSeen: options.lastZxidSeen ?? 0n,
      timeOut: options.timeoutMs ?? 30_000,
      sessionId: options.sessionId ?? 0n,
      passwd: options.passwd ?? Buffer.alloc(16),
    };
    if (options.readOnly !== undefined) request.readOnly = options.readOnly;
    connection.write(encodeFrame(part(ConnectRequest, request)));
    const frame = await connection.nextFrame();
    if (frame === undefined) throw new Error('the server closed the connection without a ConnectResponse');
    return new RawClient(connection, ConnectResponse.decode(frame), frame);
  }

  /** Sends a request by opcode; the body is encoded with the opcode table's request record. */
  request<T = any>(opcode: number, body: unknown = {}, options: { xid?: number } = {}): Promise<Reply<T>> {
    const spec = operationFor(opcode);
    if (!spec || spec.request === null) throw new Error(`no request record for opcode ${opcode}`);
    return this.requestWith<T>(opcode, { type: spec.request, value: body }, spec.response, options.xid);
  }

  /** Sends a request with an explicit body part (or none) and response record. */
  requestWith<T = any>(
    opcode: number,
    body: FramePart | undefined,
    response: JuteType<any> | null,
    xid = this.nextXid++,
  ): Promise<Reply<T>> {
    const parts = [part(RequestHeader, { xid, type: opcode })];
    if (body) parts.push(body);
    const promise = this.expect<T>(xid, response);
    this.connection.write(encodeFrame(...parts));
    return promise;
  }

  /** Waits for a reply to `xid` (for requests written by hand with `connection.write`). */
  expect<T = any>(xid: number, response: JuteType<any> | null): Promise<Reply<T>> {
    return new Promise<Reply<T>>((resolve) => {
      if (xid === Xid.AUTH) this.authWaiters.push(resolve);
      else if (xid === Xid.PING) this.pingWaiters.push(resolve);
      else this.pending.push({ xid, response, resolve });
    });
  }

  allocateXid(): number {
    return this.nextXid++;
  }

  async ping(): Promise<Reply> {
    return await this.requestWith(OpCode.ping, undefined, null, Xid.PING);
  }

  async addAuth(scheme: string, auth: string | Buffer): Promise<Reply> {
    const packet = { type: 0, scheme, auth: typeof auth === 'string' ? Buffer.from(auth) : auth };
    return await this.requestWith(OpCode.auth, part(records.AuthPacket, packet), null, Xid.AUTH);
  }

  /** Waits until `count` notifications arrived (in total); rejects after `timeoutMs`. */
  async waitForNotifications(count: number, timeoutMs = DEFAULT_TIMEOUT_MS): Promise<Notification[]> {
    const enough = () => this.notifications.length >= count;
    await this.connection.until(enough, timeoutMs, `${count} notification(s)`);
    return this.notifications.slice(0, count);
  }

  /** closeSession, then waits for the server to close the socket. */
  async close(): Promise<void> {
    if (!this.connection.isOpen) return;
    await this.requestWith(OpCode.closeSession, undefined, null);
    await this.connection.waitClosed();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    if (this.connection.isOpen) {
      await Promise.race([this.close(), this.connection.closed]).catch(() => {});
    }
    await this.connection[Symbol.asyncDispose]();
  }

  private dispatch(frame: Buffer): void {
    const reader = new JuteReader(frame);
    const header = ReplyHeader.read(reader);
    if (header.xid === Xid.NOTIFICATION) {
      const event = WatcherEvent.read(reader);
      this.notifications.push({ zxid: header.zxid, event });
      this.arrivals.push({ kind: 'event', xid: -1, path: event.path });
      this.connection.wake();
      return;
    }
    this.arrivals.push({ kind: 'reply', xid: header.xid });
    if (header.xid === Xid.AUTH) {
      this.authWaiters.shift()?.({ header, body: undefined, frame });
      return;
    }
    if (header.xid === Xid.PING) {
      this.pingWaiters.shift()?.({ header, body: undefined, frame });
      return;
    }
    const pending = this.pending.shift();
    if (pending === undefined || pending.xid !== header.xid) {
      // Recorded, not thrown: a test asserts on `protocolErrors` and the connection is cut.
      this.protocolErrors.push(`reply xid ${header.xid} out of order (expected ${pending?.xid})`);
      this.connection.destroy();
      return;
    }
    const hasBody = header.err === 0 && pending.response !== null && reader.remaining > 0;
    const body = hasBody ? pending.response!.read(reader) : undefined;
    pending.resolve({ header, body, frame });
  }
}
