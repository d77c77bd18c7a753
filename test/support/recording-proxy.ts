// A recording TCP proxy on loopback: clients connect to it, it forwards every byte to the target
// server unchanged and records each length-prefixed frame in both directions, per connection.
// Golden-bytes captures (test/golden/capture.ts) put it between real clients and Apache ZooKeeper.
import net from 'node:net';
import { FrameSplitter } from '../../src/protocol/index.js';

/** `request` flows client → server, `reply` server → client (replies, notifications, connect answer). */
export type FrameDirection = 'request' | 'reply';

export interface RecordedFrame {
  /** 1 for the first connection the proxy accepted, 2 for the next, … */
  readonly connection: number;
  /** Position of the frame in its connection, both directions counted together. */
  readonly index: number;
  readonly direction: FrameDirection;
  /** The whole frame as it crossed the wire, length prefix included. */
  readonly bytes: Buffer;
}

export interface RecordingProxy extends AsyncDisposable {
  readonly port: number;
  readonly connectString: string;
  /** Every complete frame so far, in the order the proxy saw them. */
  frames(): RecordedFrame[];
  /** Resolves with the first recorded frame (past or future) that satisfies `predicate`. */
  waitFor(
    predicate: (frame: RecordedFrame) => boolean,
    options?: { signal?: AbortSignal },
  ): Promise<RecordedFrame>;
  /** Cuts every open connection on both sides (a client then reconnects: setWatches, new session). */
  dropConnections(): void;
  close(): Promise<void>;
}

interface Waiter {
  predicate: (frame: RecordedFrame) => boolean;
  resolve: (frame: RecordedFrame) => void;
}

export async function startRecordingProxy(target: { host: string; port: number }): Promise<RecordingProxy> {
  const recorded: RecordedFrame[] = [];
  const waiters = new Set<Waiter>();
  const sockets = new Set<net.Socket>();
  let connections = 0;

  const record = (frame: RecordedFrame) => {
    recorded.push(frame);
    for (const waiter of [...waiters]) {
      if (waiter.predicate(frame)) {
        waiters.delete(waiter);
        waiter.resolve(frame);
      }
    }
  };

  const server = net.createServer((client) => {
    const connection = ++connections;
    let index = 0;
    const upstream = net.connect(target.port, target.host);
    sockets.add(client);
    sockets.add(upstream);
    const pipe = (from: net.Socket, to: net.Socket, direction: FrameDirection) => {
      const splitter = new FrameSplitter();
      from.on('data', (chunk: Buffer) => {
        to.write(chunk);
        try {
          for (const body of splitter.push(chunk)) {
            const prefix = Buffer.alloc(4);
            prefix.writeInt32BE(body.length, 0);
            record({ connection, index: index++, direction, bytes: Buffer.concat([prefix, body]) });
          }
        } catch {
          // Not framed (a four-letter word) or over the limit: forward, but record nothing more.
          from.removeAllListeners('data');
          from.on('data', (rest: Buffer) => to.write(rest));
        }
      });
      from.on('end', () => to.end());
      from.on('error', () => to.destroy());
      from.on('close', () => {
        sockets.delete(from);
        to.destroy();
      });
    };
    pipe(client, upstream, 'request');
    pipe(upstream, client, 'reply');
  });
  server.on('error', () => {});
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;

  let closed: Promise<void> | undefined;
  const close = () => {
    closed ??= new Promise<void>((resolve) => {
      for (const socket of sockets) socket.destroy();
      server.close(() => resolve());
    });
    return closed;
  };

  return {
    port,
    connectString: `127.0.0.1:${port}`,
    frames: () => [...recorded],
    waitFor(predicate, options = {}) {
      const found = recorded.find(predicate);
      if (found) return Promise.resolve(found);
      return new Promise((resolve, reject) => {
        const waiter: Waiter = { predicate, resolve };
        const onAbort = () => {
          waiters.delete(waiter);
          reject(options.signal?.reason ?? new Error('aborted'));
        };
        if (options.signal?.aborted) return onAbort();
        options.signal?.addEventListener('abort', onAbort, { once: true });
        waiter.resolve = (frame) => {
          options.signal?.removeEventListener('abort', onAbort);
          resolve(frame);
        };
        waiters.add(waiter);
      });
    },
    dropConnections() {
      for (const socket of sockets) socket.destroy();
    },
    close,
    [Symbol.asyncDispose]: close,
  };
}
