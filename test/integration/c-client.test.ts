// The official ZooKeeper C client (npm `zookeeper`, native binding) drives our server: connect,
// create every node type, read, set, watch, ACLs and auth, delete, close. It reads the ConnectResponse
// into a fixed 41-byte buffer, so this also checks the handshake layout. The server runs as its own
// process (zk-server start-foreground): the binding's close blocks the event loop until the server
// answers, which a server in this process could not do.
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { after, before, describe, it } from 'mocha';
import { startServerProcess, type ServerProcess } from '../support/servers.js';

const require = createRequire(import.meta.url);
// eslint-disable-next-line @typescript-eslint/no-require-imports
const ZooKeeper = require('zookeeper');

interface CClient {
  create(path: string, data: string | Buffer | null, flags: number, ttl?: number): Promise<string>;
  pathExists(path: string, watch: boolean): Promise<boolean>;
  get(path: string, watch: boolean): Promise<[Record<string, unknown>, Buffer | string]>;
  w_get(path: string, watcher: (type: number, state: number, at: string) => void): Promise<[unknown, Buffer]>;
  get_children(path: string, watch: boolean): Promise<string[]>;
  set(path: string, data: string, version: number): Promise<{ version: number }>;
  delete_(path: string, version: number): Promise<void>;
  add_auth(scheme: string, auth: string, cb: (rc: number) => void): void;
  get_acl(path: string): Promise<[unknown[], unknown]>;
  close(): void;
  once(event: string, listener: (...args: unknown[]) => void): void;
  on(event: string, listener: (...args: unknown[]) => void): void;
  init(config: object): void;
}

/** The binding completes add_auth only at its next ping (a third of the timeout): keep it short. */
async function connect(server: ServerProcess, timeoutMs = 4000): Promise<CClient> {
  const client: CClient = new ZooKeeper({
    connect: server.connectString,
    timeout: timeoutMs,
    debug_level: ZooKeeper.constants.ZOO_LOG_LEVEL_ERROR,
    host_order_deterministic: true,
    data_as_buffer: true,
  });
  client.on('error', () => {});
  const connected = new Promise<void>((resolve) => client.once('connect', () => resolve()));
  client.init({});
  await connected;
  return client;
}

async function closeClient(client: CClient): Promise<void> {
  const closed = new Promise<void>((resolve) => client.once('close', () => resolve()));
  client.close();
  await closed;
}

describe('official C client against our server', function () {
  let server: ServerProcess;
  before(async function () {
    this.timeout(40_000);
    server = await startServerProcess({ extendedTypesEnabled: true });
  });
  after(async () => {
    await server?.stop();
  });

  it('creates, reads, sets, lists and deletes every node type', async () => {
    const client = await connect(server);
    try {
      assert.equal(await client.create('/c', 'root', ZooKeeper.constants.ZOO_PERSISTENT), '/c');
      const seq = await client.create('/c/s-', 'x', ZooKeeper.constants.ZOO_PERSISTENT_SEQUENTIAL);
      assert.equal(seq, '/c/s-0000000000');
      const eph = await client.create('/c/e-', 'x', ZooKeeper.constants.ZOO_EPHEMERAL_SEQUENTIAL);
      assert.equal(eph, '/c/e-0000000001');
      await client.create('/c/box', null, ZooKeeper.constants.ZOO_CONTAINER);
      await client.create('/c/ttl', 'x', ZooKeeper.constants.ZOO_PERSISTENT_WITH_TTL, 60_000);
      const [stat, data] = await client.get('/c', false);
      assert.equal(data.toString(), 'root');
      assert.equal(stat.numChildren, 4);
      const children = await client.get_children('/c', false);
      assert.deepEqual([...children].sort(), ['box', 'e-0000000001', 's-0000000000', 'ttl']);
      const set = await client.set('/c', 'new', 0);
      assert.equal(set.version, 1);
      await assert.rejects(client.set('/c', 'again', 0), /bad version/i);
      await client.delete_('/c/s-0000000000', -1);
      assert.equal(await client.pathExists('/c/s-0000000000', false), false);
      await assert.rejects(client.create('/c', null, 0), /node exists/i);
    } finally {
      await closeClient(client);
    }
  });

  it('delivers a data watch set from another session', async () => {
    const watcher = await connect(server);
    const writer = await connect(server);
    try {
      await writer.create('/w', 'a', ZooKeeper.constants.ZOO_PERSISTENT);
      let fire: (event: [number, number, string]) => void = () => {};
      const fired = new Promise<[number, number, string]>((resolve) => (fire = resolve));
      const [, data] = await watcher.w_get('/w', (type, state, path) => fire([type, state, path]));
      assert.equal(data.toString(), 'a');
      await writer.set('/w', 'b', -1);
      const { ZOO_CHANGED_EVENT, ZOO_CONNECTED_STATE } = ZooKeeper.constants;
      assert.deepEqual(await fired, [ZOO_CHANGED_EVENT, ZOO_CONNECTED_STATE, '/w']);
    } finally {
      await closeClient(watcher);
      await closeClient(writer);
    }
  });

  it('authenticates with digest and is refused by an ACL it does not match', async () => {
    const alice = await connect(server);
    const stranger = await connect(server);
    try {
      await new Promise<void>((resolve, reject) =>
        alice.add_auth('digest', 'alice:secret', (rc) =>
          rc === 0 ? resolve() : reject(new Error(`rc ${rc}`)),
        ),
      );
      // The C binding takes ACLs only through set_acl; create open, then restrict.
      await alice.create('/acl', 'x', ZooKeeper.constants.ZOO_PERSISTENT);
      await new Promise<void>((resolve, reject) => {
        (alice as unknown as { a_set_acl: Function }).a_set_acl(
          '/acl',
          -1,
          [{ perm: ZooKeeper.constants.ZOO_PERM_ALL, scheme: 'auth', auth: '' }],
          (rc: number) => (rc === 0 ? resolve() : reject(new Error(`set_acl rc ${rc}`))),
        );
      });
      await assert.rejects(stranger.get('/acl', false), /not authenticated/i);
      const [, data] = await alice.get('/acl', false);
      assert.equal(data.toString(), 'x');
    } finally {
      await closeClient(alice);
      await closeClient(stranger);
    }
  });

  it('ephemerals of a closed session disappear', async () => {
    const owner = await connect(server);
    const observer = await connect(server);
    try {
      await owner.create('/eph', null, ZooKeeper.constants.ZOO_EPHEMERAL);
      assert.equal(await observer.pathExists('/eph', false), true);
      await closeClient(owner);
      assert.equal(await observer.pathExists('/eph', false), false);
    } finally {
      await closeClient(observer);
    }
  });
});
