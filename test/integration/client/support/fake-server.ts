// A scripted ZooKeeper server for misbehaviour tests: it does the handshake, then answers each
// request through the connection's `behaviour` (good answers, or broken ones on purpose).
import net from 'node:net';
import {
  FrameSplitter,
  decodeRequest,
  encodeFrame,
  part,
  records,
  type DecodedRequest,
} from '../../../../src/protocol/index.js';

export type Behaviour =
  | 'good'
  | 'outOfOrder'
  | 'malformed'
  | 'oversize'
  | 'silent'
  | 'garbageHandshake'
  /** Answers pings, never getData. */
  | 'mute'
  /** Hangs up on closeSession without answering it (a session taken back by its client). */
  | 'dropClose'
  /** Answers the connection's first getData with these raw bytes (a fuzz case), later ones well. */
  | { readonly raw: Buffer }
  /** Holds getData replies until this many arrived, then answers them all in order. */
  | { readonly holdUntil: number }
  /**
   * Answers the connection's first getData with a reply of this many bytes (header, then padding),
   * sent in small pieces; with `xid`, under that xid (-1: as a notification) instead of its own.
   */
  | { readonly bigReplyBytes: number; readonly xid?: number };

export interface FakeServer extends AsyncDisposable {
  readonly port: number;
  readonly connectString: string;
  /** Connections accepted so far. */
  readonly accepted: number;
  /** Every ConnectRequest received, in order. */
  readonly connectRequests: records.ConnectRequest[];
  /** Pings received so far. */
  readonly pings: number;
  close(): Promise<void>;
}

const ZERO_STAT = {
  czxid: 1n,
  mzxid: 1n,
  ctime: 0n,
  mtime: 0n,
  version: 0,
  cversion: 0,
  aversion: 0,
  ephemeralOwner: 0n,
  dataLength: 2,
  numChildren: 0,
  pzxid: 1n,
};

/** `behaviourFor(n)` picks how the n-th connection (from 0) behaves. */
export async function startFakeServer(behaviourFor: (connection: number) => Behaviour): Promise<FakeServer> {
  const sockets = new Set<net.Socket>();
  let accepted = 0;
  let pings = 0;
  const connectRequests: records.ConnectRequest[] = [];
  const server = net.createServer((socket) => {
    const behaviour = behaviourFor(accepted++);
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    const splitter = new FrameSplitter();
    let handshaken = false;
    let rawUsed = false;
    const held: DecodedRequest[] = [];
    let zxid = 10n;
    socket.on('data', (chunk) => {
      for (const frame of splitter.push(chunk)) {
        if (!handshaken) {
          handshaken = true;
          const request = records.ConnectRequest.decode(frame);
          connectRequests.push(request);
          if (behaviour === 'garbageHandshake') {
            socket.write(Buffer.from([0, 0, 0, 3, 1, 2, 3]));
            continue;
          }
          socket.write(
            encodeFrame(
              part(records.ConnectResponse, {
                protocolVersion: 0,
                timeOut: request.timeOut,
                sessionId: request.sessionId === 0n ? 0x42n : request.sessionId,
                passwd: Buffer.alloc(16, 7),
                readOnly: false,
              }),
            ),
          );
          continue;
        }
        if (behaviour === 'silent') continue;
        if (frame.readInt32BE(4) === 11) pings++;
        const request = decodeRequest(frame);
        if (typeof behaviour === 'object' && 'holdUntil' in behaviour && request.header.type === 4) {
          held.push(request);
          if (held.length === behaviour.holdUntil)
            for (const r of held.splice(0)) answer(socket, r, 'good', ++zxid);
          continue;
        }
        answer(socket, request, rawUsed ? 'good' : behaviour, ++zxid);
        if (request.header.type === 4) rawUsed = true;
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  let closing: Promise<void> | undefined;
  const close = () => {
    closing ??= new Promise<void>((resolve) => {
      for (const socket of sockets) socket.destroy();
      server.close(() => resolve());
    });
    return closing;
  };
  return {
    port,
    connectString: `127.0.0.1:${port}`,
    get accepted() {
      return accepted;
    },
    connectRequests,
    get pings() {
      return pings;
    },
    close,
    [Symbol.asyncDispose]: close,
  };
}

function answer(socket: net.Socket, request: DecodedRequest, behaviour: Behaviour, zxid: bigint): void {
  const { xid, type } = request.header;
  const header = (x: number) => part(records.ReplyHeader, { xid: x, zxid, err: 0 });
  if (type === 11) {
    socket.write(encodeFrame(part(records.ReplyHeader, { xid: -2, zxid, err: 0 })));
    return;
  }
  if (type === -11) {
    // Closes as a server does: the reply, then the connection (or, dropping, no reply at all).
    if (behaviour === 'dropClose') socket.destroy();
    else socket.end(encodeFrame(header(xid)));
    return;
  }
  if (type === 9) {
    socket.write(encodeFrame(header(xid), part(records.SyncResponse, { path: '/' })));
    return;
  }
  if (type !== 4) {
    socket.write(encodeFrame(header(xid)));
    return;
  }
  if (typeof behaviour === 'object') {
    if ('raw' in behaviour) socket.write(behaviour.raw);
    if ('bigReplyBytes' in behaviour) {
      writeBigReply(socket, behaviour.xid ?? xid, zxid, behaviour.bigReplyBytes);
    }
    return;
  }
  switch (behaviour) {
    case 'mute':
      return;
    case 'outOfOrder':
      socket.write(
        encodeFrame(
          header(xid + 1),
          part(records.GetDataResponse, { data: Buffer.from('ok'), stat: ZERO_STAT }),
        ),
      );
      return;
    case 'malformed':
      // A data length that runs past the end of the frame.
      socket.write(encodeFrame(header(xid), part(records.ErrorResponse, { err: 1000 })));
      return;
    case 'oversize': {
      const prefix = Buffer.alloc(4);
      prefix.writeInt32BE(0x7fffffff, 0);
      socket.write(prefix);
      return;
    }
    default:
      socket.write(
        encodeFrame(header(xid), part(records.GetDataResponse, { data: Buffer.from('ok'), stat: ZERO_STAT })),
      );
  }
}

/** A reply frame of `bytes` bytes under a real header, written in pieces that split the header. */
function writeBigReply(socket: net.Socket, xid: number, zxid: bigint, bytes: number): void {
  const frame = Buffer.alloc(4 + bytes, 0x61);
  frame.writeInt32BE(bytes, 0);
  frame.writeInt32BE(xid, 4);
  frame.writeBigInt64BE(zxid, 8);
  frame.writeInt32BE(0, 16);
  for (let at = 0, piece = 7; at < frame.length; at += piece, piece = Math.min(piece * 3, 4096)) {
    socket.write(frame.subarray(at, at + piece));
  }
}
