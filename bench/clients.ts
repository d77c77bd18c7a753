// The three Node ZooKeeper clients behind one small promise interface for the benchmarks: ours,
// node-zookeeper-client (pure JS, callbacks) and the C client (npm `zookeeper`, its callback a_* API,
// its fastest path). Each adapter adds only a promise around the callback, the same for every client.
import { createRequire } from 'node:module';
import { ZooKeeperClient } from '../src/client/index.js';

const require = createRequire(import.meta.url);
const SESSION_TIMEOUT_MS = 10_000;
const CONNECT_TIMEOUT_MS = 10_000;

export interface BenchClient {
  create(path: string, data: Buffer): Promise<void>;
  setData(path: string, data: Buffer): Promise<void>;
  getData(path: string): Promise<void>;
  exists(path: string): Promise<void>;
  delete(path: string): Promise<void>;
  close(): Promise<void>;
}

export const CLIENT_KINDS = ['ours', 'node-zookeeper-client', 'C client (npm zookeeper)'] as const;
export type ClientKind = (typeof CLIENT_KINDS)[number];

export async function connectClient(kind: ClientKind, connectString: string): Promise<BenchClient> {
  switch (kind) {
    case 'ours':
      return await connectOurs(connectString);
    case 'node-zookeeper-client':
      return await connectNodeZookeeperClient(connectString);
    case 'C client (npm zookeeper)':
      return await connectCClient(connectString);
  }
}

async function connectOurs(connectString: string): Promise<BenchClient> {
  const client = new ZooKeeperClient({ connectString, sessionTimeoutMs: SESSION_TIMEOUT_MS });
  try {
    await client.connect({ timeoutMs: CONNECT_TIMEOUT_MS });
  } catch (error) {
    await client.close();
    throw error;
  }
  return {
    create: async (path, data) => void (await client.create(path, data)),
    setData: async (path, data) => void (await client.setData(path, data)),
    getData: async (path) => void (await client.getData(path)),
    exists: async (path) => void (await client.exists(path)),
    delete: (path) => client.delete(path),
    close: () => client.close(),
  };
}

type Callback = (error: Error | null) => void;
interface NodeZkClient {
  connect(): void;
  close(): void;
  once(event: string, listener: () => void): void;
  create(path: string, data: Buffer, mode: number, cb: Callback): void;
  setData(path: string, data: Buffer, version: number, cb: Callback): void;
  getData(path: string, cb: Callback): void;
  exists(path: string, cb: Callback): void;
  remove(path: string, version: number, cb: Callback): void;
}

function settle(resolve: () => void, reject: (e: Error) => void): Callback {
  return (error) => (error ? reject(error) : resolve());
}

async function connectNodeZookeeperClient(connectString: string): Promise<BenchClient> {
  const zk = require('node-zookeeper-client') as {
    createClient(c: string, o: object): NodeZkClient;
    CreateMode: { PERSISTENT: number };
  };
  const client = zk.createClient(connectString, { sessionTimeout: SESSION_TIMEOUT_MS, retries: 0 });
  await withTimeout('node-zookeeper-client connect', (resolve) => {
    client.once('connected', resolve);
    client.connect();
  }).catch((error: unknown) => {
    client.close();
    throw error;
  });
  const call = (start: (cb: Callback) => void) =>
    new Promise<void>((resolve, reject) => start(settle(resolve, reject)));
  return {
    create: (path, data) => call((cb) => client.create(path, data, zk.CreateMode.PERSISTENT, cb)),
    setData: (path, data) => call((cb) => client.setData(path, data, -1, cb)),
    getData: (path) => call((cb) => client.getData(path, cb)),
    exists: (path) => call((cb) => client.exists(path, cb)),
    delete: (path) => call((cb) => client.remove(path, -1, cb)),
    close: () =>
      withTimeout('node-zookeeper-client close', (resolve) => {
        client.once('disconnected', resolve);
        client.close();
      }).catch(() => undefined),
  };
}

type RcCallback = (rc: number, error: string) => void;
interface CZooKeeper {
  on(event: string, listener: () => void): void;
  once(event: string, listener: () => void): void;
  init(config: object): void;
  close(): void;
  a_create(path: string, data: Buffer, flags: number, cb: RcCallback): void;
  a_set(path: string, data: Buffer, version: number, cb: RcCallback): void;
  a_get(path: string, watch: boolean, cb: RcCallback): void;
  a_exists(path: string, watch: boolean, cb: RcCallback): void;
  a_delete_(path: string, version: number, cb: RcCallback): void;
}

async function connectCClient(connectString: string): Promise<BenchClient> {
  const ZooKeeper = require('zookeeper') as {
    new (config: object): CZooKeeper;
    constants: { ZOO_LOG_LEVEL_ERROR: number; ZOK: number };
  };
  const client = new ZooKeeper({
    connect: connectString,
    timeout: SESSION_TIMEOUT_MS,
    // Its WARN level prints to stdout, into the report; errors still show.
    debug_level: ZooKeeper.constants.ZOO_LOG_LEVEL_ERROR,
    host_order_deterministic: false,
    data_as_buffer: true,
  });
  await withTimeout('C client connect', (resolve) => {
    client.once('connect', resolve);
    client.init({});
  }).catch((error: unknown) => {
    client.close();
    throw error;
  });
  const ok = ZooKeeper.constants.ZOK;
  const call = (start: (cb: RcCallback) => void) =>
    new Promise<void>((resolve, reject) =>
      start((rc, error) => (rc === ok ? resolve() : reject(new Error(`C client: ${rc} ${error}`)))),
    );
  return {
    create: (path, data) => call((cb) => client.a_create(path, data, 0, cb)),
    setData: (path, data) => call((cb) => client.a_set(path, data, -1, cb)),
    getData: (path) => call((cb) => client.a_get(path, false, cb)),
    exists: (path) => call((cb) => client.a_exists(path, false, cb)),
    delete: (path) => call((cb) => client.a_delete_(path, -1, cb)),
    close: () =>
      withTimeout('C client close', (resolve) => {
        client.once('close', resolve);
        client.close();
      }).catch(() => undefined),
  };
}

/** Runs `start` and waits for it to call resolve, for at most the connect timeout. */
function withTimeout(what: string, start: (resolve: () => void) => void): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const fail = () => reject(new Error(`${what}: no answer in ${CONNECT_TIMEOUT_MS} ms`));
    const timer = setTimeout(fail, CONNECT_TIMEOUT_MS);
    start(() => {
      clearTimeout(timer);
      resolve();
    });
  });
}
