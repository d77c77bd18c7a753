// Every client operation against our server and Apache ZooKeeper 3.8: results, errors as KeeperError
// subclasses, multi success and failure, auth, chroot mapping, and pipelining with order kept.
import assert from 'node:assert/strict';
import { after, before, it } from 'mocha';
import {
  Acls,
  BadVersionError,
  ClosedError,
  InvalidArgumentError,
  NoAuthError,
  NoNodeError,
  NodeExistsError,
  NotEmptyError,
  Perms,
  ZooKeeperClient,
  digestId,
  op,
  type KeeperError,
} from '../../../src/index.js';
import { describeEachServer } from './support/servers.js';
import { waitForState } from './support/wait.js';

describeEachServer('client operations', { tickTimeMs: 2000 }, (target) => {
  const clients: ZooKeeperClient[] = [];
  let server: { readonly connectString: string };
  before(() => {
    server = target();
  });

  after(async function () {
    await Promise.all(clients.map((c) => c.close()));
  });

  async function connect(suffix = '', options: { sessionTimeoutMs?: number } = {}): Promise<ZooKeeperClient> {
    const client = new ZooKeeperClient({
      connectString: server.connectString + suffix,
      sessionTimeoutMs: 6000,
      ...options,
    });
    clients.push(client);
    await client.connect();
    return client;
  }

  it('tells null data from empty data in getData, multiRead and setData', async () => {
    const client = await connect();
    await client.create('/null-data', null);
    await client.create('/empty-data', Buffer.alloc(0));
    assert.equal((await client.getData('/null-data')).data, null);
    assert.deepEqual((await client.getData('/empty-data')).data, Buffer.alloc(0));
    const reads = [op.getData('/null-data'), op.getData('/empty-data')] as const;
    const [nullRead, emptyRead] = await client.multiRead(reads);
    assert.equal(nullRead.op === 'getData' && nullRead.data, null);
    assert.deepEqual(emptyRead.op === 'getData' && emptyRead.data, Buffer.alloc(0));
    await client.setData('/empty-data', null);
    assert.equal((await client.getData('/empty-data')).data, null);
    await client.setData('/null-data', '');
    assert.deepEqual((await client.getData('/null-data')).data, Buffer.alloc(0));
    await client.delete('/null-data');
    await client.delete('/empty-data');
  });

  it('creates, reads, updates and deletes a znode with versions checked', async () => {
    const client = await connect();
    const created = await client.create('/crud', 'one');
    assert.equal(created.path, '/crud');
    assert.equal(created.stat.version, 0);
    assert.equal(created.stat.dataLength, 3);
    const { data, stat } = await client.getData('/crud');
    assert.equal(data?.toString(), 'one');
    const updated = await client.setData('/crud', Buffer.from('two'), { version: stat.version });
    assert.equal(updated.version, 1);
    await assert.rejects(client.setData('/crud', 'three', { version: 0 }), BadVersionError);
    await assert.rejects(client.create('/crud'), NodeExistsError);
    await assert.rejects(
      client.delete('/crud', { version: 0 }),
      (e: KeeperError) => e instanceof BadVersionError && e.path === '/crud',
    );
    await client.delete('/crud', { version: 1 });
    assert.equal(await client.exists('/crud'), null);
    await assert.rejects(client.getData('/crud'), NoNodeError);
  });

  it('supports every create mode, with the new node stat', async () => {
    const client = await connect();
    await client.create('/modes');
    const sequential = await client.create('/modes/seq-', null, { mode: 'PERSISTENT_SEQUENTIAL' });
    assert.match(sequential.path, /^\/modes\/seq-\d{10}$/);
    const ephemeral = await client.create('/modes/eph', null, { mode: 'EPHEMERAL' });
    assert.equal(ephemeral.stat.ephemeralOwner, client.sessionId);
    const ephSeq = await client.create('/modes/eseq-', null, { mode: 'EPHEMERAL_SEQUENTIAL' });
    assert.match(ephSeq.path, /^\/modes\/eseq-\d{10}$/);
    const container = await client.create('/modes/container', null, { mode: 'CONTAINER' });
    assert.equal(container.stat.ephemeralOwner, 0n);
    const ttl = await client.create('/modes/ttl', 'x', { mode: 'PERSISTENT_WITH_TTL', ttlMs: 60_000 });
    assert.equal(ttl.stat.ephemeralOwner, 0n);
    const ttlSeq = await client.create('/modes/ttlseq-', 'x', {
      mode: 'PERSISTENT_SEQUENTIAL_WITH_TTL',
      ttlMs: 60_000,
    });
    assert.match(ttlSeq.path, /^\/modes\/ttlseq-\d{10}$/);
    assert.deepEqual((await client.getEphemerals('/modes')).sort(), [ephSeq.path, '/modes/eph'].sort());
    const { children, stat } = await client.getChildren('/modes', { withStat: true });
    assert.equal(children.length, 6);
    assert.equal(stat?.numChildren, 6);
    assert.equal((await client.getChildren('/modes')).stat, undefined);
    assert.equal(await client.getAllChildrenNumber('/modes'), 6);
    await assert.rejects(
      client.create('/modes/eph/child'),
      (e: KeeperError) => e.codeName === 'NOCHILDRENFOREPHEMERALS',
    );
    await assert.rejects(client.delete('/modes'), NotEmptyError);
  });

  it('refuses bad arguments before sending anything', async () => {
    const client = new ZooKeeperClient({ connectString: server.connectString, frameBytesMax: 1024 });
    clients.push(client);
    // Not connected: only argument checks can answer, so these prove nothing was sent.
    await assert.rejects(client.create('no-slash'), InvalidArgumentError);
    await assert.rejects(client.getData('/a/'), /must not end with/);
    await assert.rejects(client.setData('/a', 'x', { version: -2 }), InvalidArgumentError);
    await assert.rejects(client.create('/a', 'x', { mode: 'PERSISTENT_WITH_TTL' }), /ttlMs/);
    await assert.rejects(client.create('/a', 'x', { ttlMs: 5 }), /only valid/);
    await client.connect();
    await assert.rejects(client.setData('/a', Buffer.alloc(2048)), /frameBytesMax/);
    await assert.rejects(client.create('/a/./b'), InvalidArgumentError);
    assert.equal(await client.exists('/a'), null); // the connection is still fine
  });

  it('reads and writes ACLs and authenticates with digest', async () => {
    const owner = await connect();
    await owner.addAuth('digest', 'alice:secret');
    const whoAmI = await owner.whoAmI();
    assert.ok(whoAmI.some((info) => info.authScheme === 'digest' && info.user === 'alice'));
    await owner.create('/secret', 'x', { acl: Acls.CREATOR_ALL_ACL });
    const { acl, stat } = await owner.getACL('/secret');
    assert.deepEqual(acl, [{ perms: Perms.ALL, id: { scheme: 'digest', id: digestId('alice', 'secret') } }]);
    assert.equal(stat.aversion, 0);
    const other = await connect();
    await assert.rejects(other.getData('/secret'), NoAuthError);
    await other.addAuth('digest', 'alice:secret');
    assert.equal((await other.getData('/secret')).data?.toString(), 'x');
    const newStat = await owner.setACL('/secret', Acls.OPEN_ACL_UNSAFE, { version: 0 });
    assert.equal(newStat.aversion, 1);
    await assert.rejects(owner.setACL('/secret', Acls.OPEN_ACL_UNSAFE, { version: 0 }), BadVersionError);
  });

  it('runs a multi atomically and reports the failing op with every result', async () => {
    const client = await connect();
    const results = await client.multi([
      op.create('/multi'),
      op.create('/multi/a', 'a'),
      op.setData('/multi/a', 'b', { version: 0 }),
      op.check('/multi/a', 1),
      op.delete('/multi/a', { version: 1 }),
    ]);
    assert.deepEqual(
      results.map((r) => r.op),
      ['create', 'create', 'setData', 'check', 'delete'],
    );
    assert.equal(results[0].path, '/multi');
    assert.equal(results[2].stat.version, 1);
    const failure = await client
      .multi([op.create('/multi/x'), op.create('/multi'), op.delete('/multi')])
      .then(
        () => assert.fail('the multi should fail'),
        (e: KeeperError) => e,
      );
    assert.ok(failure instanceof NodeExistsError);
    assert.equal(failure.path, '/multi');
    assert.equal(failure.multiOpIndex, 1);
    assert.deepEqual(
      failure.multiResults?.map((r) => r.code),
      [0, -110, -2],
    );
    assert.equal(await client.exists('/multi/x'), null, 'nothing of a failed multi is applied');
    assert.deepEqual(await client.multi([]), []);
    // Plain creates report no stat inside a multi (as Apache does); containers and TTL nodes do.
    const [plain, container] = await client.multi([
      op.create('/multi/p'),
      op.create('/multi/c', null, { mode: 'CONTAINER' }),
    ]);
    assert.equal(plain.stat, undefined);
    assert.equal(container.stat?.numChildren, 0);
  });

  it('reads several nodes in one multiRead, each op on its own', async () => {
    const client = await connect();
    await client.create('/mr', 'root');
    await client.create('/mr/c1');
    const [data, children, missing] = await client.multiRead([
      op.getData('/mr'),
      op.getChildren('/mr'),
      op.getData('/mr/none'),
    ]);
    assert.equal(data.op === 'getData' && data.data?.toString(), 'root');
    assert.deepEqual(children.op === 'getChildren' && children.children, ['c1']);
    assert.ok(
      missing.op === 'error' && missing.error instanceof NoNodeError && missing.error.path === '/mr/none',
    );
  });

  it('maps paths in and out of a chroot, events included', async () => {
    const root = await connect();
    await root.create('/app');
    await root.create('/app/chroot');
    const client = await connect('/app/chroot');
    const created = await client.create('/node', 'in chroot');
    assert.equal(created.path, '/node');
    assert.equal((await root.getData('/app/chroot/node')).data?.toString(), 'in chroot');
    const seq = await client.create('/s-', null, { mode: 'EPHEMERAL_SEQUENTIAL' });
    assert.match(seq.path, /^\/s-\d{10}$/);
    assert.deepEqual(await client.getEphemerals('/'), [seq.path]);
    assert.deepEqual((await client.getChildren('/')).children.sort(), ['node', seq.path.slice(1)].sort());
    const { watch } = await client.getData('/node', { watch: true });
    await root.setData('/app/chroot/node', 'changed');
    assert.deepEqual(await watch, { type: 'nodeDataChanged', path: '/node' });
    const [result] = await client.multi([op.create('/m')]);
    assert.equal(result.path, '/m');
    await client.sync('/');
  });

  it('keeps a user /zookeeper/config under a chroot apart from the config node, reconnect included', async () => {
    const root = await connect();
    await root.create('/cfg-chroot');
    await root.create('/cfg-chroot/zookeeper');
    await root.create('/cfg-chroot/zookeeper/config', 'user');
    const client = await connect('/cfg-chroot');
    const config = await client.getConfig({ watch: true });
    let configEvents = 0;
    config.watch.then(() => configEvents++, () => undefined);
    const user = await client.getData('/zookeeper/config', { watch: true });
    assert.equal(user.data?.toString(), 'user');
    assert.notEqual(String(config.data), 'user', 'getConfig reads the real config node');
    // The reconnect re-registers the user's watch under the chroot, the config watch outside it.
    client.dropConnection();
    await waitForState(client, 'connected');
    await root.setData('/cfg-chroot/zookeeper/config', 'changed');
    assert.deepEqual(await user.watch, { type: 'nodeDataChanged', path: '/zookeeper/config' });
    await client.sync('/');
    assert.equal(configEvents, 0, 'a change of the user node is no config change');
    assert.deepEqual(await client.getEphemerals('/'), []);
  });

  it('pipelines many requests on one connection and keeps their order', async () => {
    const client = await connect();
    await client.create('/pipe');
    const count = 2000;
    const writes = Array.from({ length: count }, (_, i) =>
      client.create(`/pipe/n-`, String(i), { mode: 'PERSISTENT_SEQUENTIAL' }),
    );
    const created = await Promise.all(writes);
    // Replies come back in request order, so sequence numbers follow submission order.
    const numbers = created.map((c) => Number(c.path.slice(-10)));
    assert.deepEqual(
      numbers,
      numbers.slice().sort((a, b) => a - b),
    );
    const reads = await Promise.all(created.map((c) => client.getData(c.path)));
    reads.forEach((r, i) => assert.equal(r.data?.toString(), String(i)));
    assert.equal(await client.getAllChildrenNumber('/pipe'), count);
  });

  it('keeps requests waiting beyond the outstanding limit and sends them in order', async () => {
    const client = new ZooKeeperClient({ connectString: server.connectString, outstandingRequestsMax: 3 });
    clients.push(client);
    await client.connect();
    await client.create('/limited');
    const created = await Promise.all(
      Array.from({ length: 50 }, () => client.create('/limited/n-', null, { mode: 'PERSISTENT_SEQUENTIAL' })),
    );
    assert.deepEqual(
      created.map((c) => c.path),
      Array.from({ length: 50 }, (_, i) => `/limited/n-${String(i).padStart(10, '0')}`),
    );
  });

  it('aborts a waiting call with the signal reason', async () => {
    const client = await connect();
    const controller = new AbortController();
    controller.abort(new Error('not needed'));
    await assert.rejects(client.getData('/', { signal: controller.signal }), /not needed/);
  });

  it('reads the config and refuses reconfig on a standalone server', async () => {
    const client = await connect();
    const config = await client.getConfig();
    assert.ok(Buffer.isBuffer(config.data));
    await assert.rejects(
      client.reconfig({ leaving: '3' }),
      (e: KeeperError) => typeof e.code === 'number' && e.code < 0,
    );
  });

  it('closes idempotently, removes ephemerals at once, and reports why it closed', async () => {
    const client = await connect();
    const watcher = await connect();
    await client.create('/bye', null, { mode: 'EPHEMERAL' });
    const { watch } = await watcher.exists('/bye', { watch: true });
    const states: string[] = [];
    client.onStateChange((s) => states.push(s.type));
    await Promise.all([client.close(), client.close()]);
    await client.close();
    assert.equal(await client.closed(), undefined);
    assert.deepEqual(states, ['closed']);
    assert.deepEqual(await watch, { type: 'nodeDeleted', path: '/bye' });
    await assert.rejects(client.getData('/'), ClosedError);
  });
});
