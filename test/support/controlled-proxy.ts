// A TCP proxy between a client and a server that a test controls: drop every connection, make the
// server unreachable (bytes swallowed both ways), hold replies back and release them later, or let
// one request of a given opcode through and lose its reply, so the write happens but the client
// never hears of it.
import net from 'node:net';

export interface ControlledProxy extends AsyncDisposable {
  readonly port: number;
  readonly connectString: string;
  /** Destroys every connection through the proxy, as a network failure would. */
  dropAll(): void;
  /** While on, bytes are swallowed both ways: the server is unreachable but sockets stay open. */
  blackhole(on: boolean): void;
  /** While on, server-to-client bytes are held; turning it off delivers them in order. */
  holdReplies(on: boolean): void;
  /**
   * The next request with `opcode` reaches the server; its reply is swallowed and then every
   * connection is dropped. Resolves once that happened.
   */
  loseReplyTo(opcode: number): Promise<void>;
  close(): Promise<void>;
}

interface Pair {
  readonly client: net.Socket;
  readonly upstream: net.Socket;
}

export async function startControlledProxy(
  targetPort: number,
  targetHost = '127.0.0.1',
): Promise<ControlledProxy> {
  const pairs = new Set<Pair>();
  let silent = false;
  let holding = false;
  const held: Array<{ pair: Pair; chunk: Buffer }> = [];
  let lose: { opcode: number; armedPair?: Pair; done(): void } | undefined;

  const dropAll = () => {
    for (const { client, upstream } of pairs) {
      client.destroy();
      upstream.destroy();
    }
    pairs.clear();
  };

  const server = net.createServer((client) => {
    const upstream = net.connect(targetPort, targetHost);
    const pair: Pair = { client, upstream };
    pairs.add(pair);
    const end = () => {
      pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    client.on('data', (chunk: Buffer) => {
      if (silent) return;
      const arming = lose !== undefined && lose.armedPair === undefined && carriesOpcode(chunk, lose.opcode);
      if (arming) lose!.armedPair = pair;
      upstream.write(chunk);
    });
    upstream.on('data', (chunk: Buffer) => {
      if (silent) return;
      if (lose?.armedPair === pair) {
        const { done } = lose;
        lose = undefined;
        dropAll();
        done();
        return;
      }
      if (holding) held.push({ pair, chunk });
      else client.write(chunk);
    });
    for (const socket of [client, upstream]) {
      socket.on('error', end);
      socket.on('close', end);
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  let closing: Promise<void> | undefined;
  const close = () => {
    closing ??= new Promise<void>((resolve) => {
      dropAll();
      server.close(() => resolve());
    });
    return closing;
  };
  return {
    port,
    connectString: `127.0.0.1:${port}`,
    dropAll,
    blackhole: (on) => {
      silent = on;
    },
    holdReplies: (on) => {
      holding = on;
      if (on) return;
      for (const { pair, chunk } of held.splice(0)) if (pairs.has(pair)) pair.client.write(chunk);
    },
    loseReplyTo: (opcode) => new Promise<void>((resolve) => (lose = { opcode, done: resolve })),
    close,
    [Symbol.asyncDispose]: close,
  };
}

/** True when a client chunk holds a request frame (length, xid, type) of `opcode`. */
function carriesOpcode(chunk: Buffer, opcode: number): boolean {
  for (let offset = 0; offset + 12 <= chunk.length; ) {
    const length = chunk.readInt32BE(offset);
    if (chunk.readInt32BE(offset + 8) === opcode) return true;
    if (length <= 0) return false;
    offset += 4 + length;
  }
  return false;
}
