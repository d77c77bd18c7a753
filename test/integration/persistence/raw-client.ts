// A minimal raw-socket ZooKeeper session for persistence interchange tests, built on our codec
// (the project's client lives on another branch): connect, send requests in order, read replies.

import net from 'node:net';
import { FrameSplitter } from '../../../src/protocol/framing.js';
import type { JuteType } from '../../../src/protocol/jute.js';
import { encodeFrame, part, readReplyHeader } from '../../../src/protocol/messages.js';
import * as R from '../../../src/protocol/records.js';

export interface Reply<T> {
  readonly err: number;
  readonly zxid: bigint;
  readonly body?: T;
}

export class RawSession implements AsyncDisposable {
  private readonly splitter = new FrameSplitter(16 * 1024 * 1024);
  private readonly waiting: Array<{
    decode: JuteType<any> | null;
    resolve: (reply: Reply<any>) => void;
    reject: (e: Error) => void;
  }> = [];
  private xid = 1;
  sessionId = 0n;

  private constructor(private readonly socket: net.Socket) {}

  static async connect(port: number, timeoutMs = 30_000): Promise<RawSession> {
    const socket = net.connect(port, '127.0.0.1');
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    const session = new RawSession(socket);
    const connected = new Promise<R.ConnectResponse>((resolve, reject) => {
      socket.once('error', reject);
      const onData = (chunk: Buffer) => {
        const frames = session.splitter.push(chunk);
        if (frames.length === 0) return;
        socket.off('data', onData);
        socket.on('data', (more: Buffer) => session.onFrames(session.splitter.push(more)));
        resolve(R.ConnectResponse.decode(frames[0]));
        session.onFrames(frames.slice(1));
      };
      socket.on('data', onData);
    });
    socket.write(
      encodeFrame(
        part(R.ConnectRequest, {
          protocolVersion: 0,
          lastZxidSeen: 0n,
          timeOut: timeoutMs,
          sessionId: 0n,
          passwd: Buffer.alloc(16),
        }),
      ),
    );
    session.sessionId = (await connected).sessionId;
    socket.on('close', () => {
      for (const waiter of session.waiting.splice(0)) waiter.reject(new Error('connection closed'));
    });
    return session;
  }

  private onFrames(frames: Buffer[]): void {
    for (const frame of frames) {
      const { header, reader } = readReplyHeader(frame);
      if (header.xid === -1) continue; // a watch notification
      const waiter = this.waiting.shift();
      if (!waiter) continue;
      const body =
        header.err === 0 && waiter.decode && reader.remaining > 0 ? waiter.decode.read(reader) : undefined;
      waiter.resolve({ err: header.err, zxid: header.zxid, body });
    }
  }

  /** Sends one request and resolves with its reply (replies come in request order). */
  request<Q, A>(
    type: number,
    requestType: JuteType<Q> | null,
    value: Q,
    responseType: JuteType<A> | null,
  ): Promise<Reply<A>> {
    const xid = type === 100 ? -4 : this.xid++;
    const frame = requestType
      ? encodeFrame(part(R.RequestHeader, { xid, type }), part(requestType, value))
      : encodeFrame(part(R.RequestHeader, { xid, type }));
    return new Promise((resolve, reject) => {
      this.waiting.push({ decode: responseType, resolve, reject });
      this.socket.write(frame);
    });
  }

  async getData(path: string): Promise<Reply<R.GetDataResponse>> {
    return this.request(4, R.GetDataRequest, { path, watch: false }, R.GetDataResponse);
  }

  async getACL(path: string): Promise<Reply<R.GetACLResponse>> {
    return this.request(6, R.GetACLRequest, { path }, R.GetACLResponse);
  }

  async getChildren(path: string): Promise<Reply<R.GetChildrenResponse>> {
    return this.request(8, R.GetChildrenRequest, { path, watch: false }, R.GetChildrenResponse);
  }

  /** Ends the connection without closing the session, as a crashed client would. */
  destroy(): void {
    this.socket.destroy();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    if (this.socket.destroyed) return;
    const closed = new Promise<void>((resolve) => this.socket.once('close', () => resolve()));
    this.socket.destroy();
    await closed;
  }
}
