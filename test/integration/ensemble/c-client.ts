// The official ZooKeeper C client (npm `zookeeper`, a native binding) for the ensemble suites: typed
// just enough for what they call, connected with the hosts tried in the given order.
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
// eslint-disable-next-line @typescript-eslint/no-require-imports
export const ZooKeeperC = require('zookeeper') as {
  new (config: object): CClient;
  constants: Record<string, number>;
};

export interface CClient {
  /** The session id in hex, as the binding reports it. */
  readonly client_id: string;
  create(path: string, data: string | Buffer | null, flags: number): Promise<string>;
  get(path: string, watch: boolean): Promise<[Record<string, unknown>, Buffer]>;
  set(path: string, data: string, version: number): Promise<{ version: number }>;
  close(): void;
  once(event: string, listener: (...args: unknown[]) => void): void;
  on(event: string, listener: (...args: unknown[]) => void): void;
  init(config: object): void;
}

/** Connects and resolves at the first 'connect' (rejects after `connectTimeoutMs`). */
export async function connectCClient(
  connectString: string,
  sessionTimeoutMs: number,
  connectTimeoutMs = 20_000,
): Promise<CClient> {
  const client = new ZooKeeperC({
    connect: connectString,
    timeout: sessionTimeoutMs,
    debug_level: ZooKeeperC.constants.ZOO_LOG_LEVEL_ERROR,
    host_order_deterministic: true,
    data_as_buffer: true,
  });
  client.on('error', () => {});
  let timer: NodeJS.Timeout | undefined;
  const connected = new Promise<void>((resolve, reject) => {
    client.once('connect', () => resolve());
    const fail = () => reject(new Error(`C client not connected to ${connectString}`));
    timer = setTimeout(fail, connectTimeoutMs);
  });
  client.init({});
  try {
    await connected;
  } catch (error) {
    await closeCClient(client);
    throw error;
  } finally {
    clearTimeout(timer);
  }
  return client;
}

/** Closes the session; the binding blocks until a server answers, so call it while one serves. */
export async function closeCClient(client: CClient): Promise<void> {
  const closed = new Promise<void>((resolve) => client.once('close', () => resolve()));
  client.close();
  await closed;
}
