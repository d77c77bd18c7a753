// A TCP proxy in front of a server, so a test can cut a client's connection (drop) or make the
// server silent (blackhole: accept, forward nothing) without touching the server itself.
import net from 'node:net';

export interface TcpProxy extends AsyncDisposable {
  readonly port: number;
  readonly connectString: string;
  /** Connections open through the proxy now. */
  readonly connections: number;
  /** Destroys every connection through the proxy, as a network failure would. */
  dropAll(): void;
  /** While on, bytes are swallowed in both directions; existing and new connections go silent. */
  blackhole(on: boolean): void;
  close(): Promise<void>;
}

export async function startProxy(targetPort: number, targetHost = '127.0.0.1'): Promise<TcpProxy> {
  const pairs = new Set<[net.Socket, net.Socket]>();
  let silent = false;
  const server = net.createServer((client) => {
    const upstream = net.connect(targetPort, targetHost);
    const pair: [net.Socket, net.Socket] = [client, upstream];
    pairs.add(pair);
    const end = () => {
      pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    client.on('data', (chunk) => {
      if (!silent) upstream.write(chunk);
    });
    upstream.on('data', (chunk) => {
      if (!silent) client.write(chunk);
    });
    client.on('error', end);
    upstream.on('error', end);
    client.on('close', end);
    upstream.on('close', end);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  let closed: Promise<void> | undefined;
  const dropAll = () => {
    for (const [client, upstream] of pairs) {
      client.destroy();
      upstream.destroy();
    }
    pairs.clear();
  };
  const close = () => {
    closed ??= new Promise<void>((resolve) => {
      dropAll();
      server.close(() => resolve());
    });
    return closed;
  };
  return {
    port,
    connectString: `127.0.0.1:${port}`,
    get connections() {
      return pairs.size;
    },
    dropAll,
    blackhole: (on) => {
      silent = on;
    },
    close,
    [Symbol.asyncDispose]: close,
  };
}
