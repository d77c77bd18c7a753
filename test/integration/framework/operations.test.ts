// Framework operations against our server and Apache ZooKeeper 3.8: options-object creates and deletes
// (parents, containers, idempotent, protected, children, quietly), ensurePath, typed transactions,
// namespaces that isolate paths, results and watch events, watch scopes that remove only their own
// watches, and aborted calls that leave no node or watch behind.
import assert from 'node:assert/strict';
import { after, before, it } from 'mocha';
import {
  Acls,
  BadVersionError,
  NoAuthError,
  FrameworkClosedError,
  NoNodeError,
  NoWatcherError,
  NodeExistsError,
  ZooKeeperClient,
  createFramework,
  isProtectedName,
  retryNTimes,
  txn,
  type Framework,
  type KeeperError,
  type WatchedEvent,
} from '../../../src/index.js';
import { fourLetterWord } from '../../support/ports.js';
import { describeEachServer, type ServerUnderTest } from '../client/support/servers.js';
import { startControlledProxy } from '../../support/controlled-proxy.js';
import { eventually } from './support/wait.js';

// Containers are reaped quickly, so a test can tell a container from a persistent node.
describeEachServer('framework operations', { containerCheckIntervalMs: 100 }, (target) => {
  let server: ServerUnderTest;
  let direct: ZooKeeperClient;
  let framework: Framework;

  before(async function () {
    server = target();
    direct = new ZooKeeperClient({ connectString: server.connectString });
    await direct.connect();
    framework = createFramework({ connectString: server.connectString, retry: retryNTimes(3, 50) });
    await framework.blockUntilConnected();
  });

  after(async () => {
    await framework?.close();
    await direct?.close();
  });

  it('reports CONNECTED and resolves closed() with undefined after close', async () => {
    const other = createFramework({ connectString: server.connectString });
    const states: string[] = [];
    other.onConnectionStateChange((change) => states.push(change.state));
    const iterated: string[] = [];
    const iterating = (async () => {
      for await (const change of other.connectionStates()) iterated.push(change.state);
    })();
    await other.blockUntilConnected();
    assert.deepEqual(states, ['CONNECTED']);
    assert.equal(other.connectionState, 'CONNECTED');
    await other.close();
    await iterating; // the iterable ends when the framework closes
    assert.deepEqual(iterated, ['CONNECTED']);
    await other.close(); // idempotent
    assert.equal(await other.closed(), undefined);
  });

  it('creates with parents, as containers when asked, and data from the options', async () => {
    const created = await framework.create('/ops/a/b/leaf', { data: 'v', createParents: true });
    assert.equal(created.path, '/ops/a/b/leaf');
    assert.equal((await direct.getData('/ops/a/b/leaf')).data?.toString(), 'v');
    const asContainers = { createParents: true, parentsAsContainers: true } as const;
    await framework.create('/ops/c/leaf', { ...asContainers, mode: 'EPHEMERAL' });
    await framework.delete('/ops/c/leaf');
    // Apache reports no owner for containers, but reaps an empty one: so the parent was a container.
    await eventually(async () => (await direct.exists('/ops/c')) === null);
    assert.notEqual(await direct.exists('/ops/a/b'), null, 'persistent parents stay');
    await assert.rejects(framework.create('/ops/missing/leaf'), NoNodeError);
  });

  it('treats an identical existing node as success when idempotent', async () => {
    await framework.create('/ops/idem', { data: 'same' });
    const again = await framework.create('/ops/idem', { data: 'same', idempotent: true });
    assert.equal(again.path, '/ops/idem');
    await assert.rejects(framework.create('/ops/idem', { data: 'other', idempotent: true }), NodeExistsError);
    await assert.rejects(framework.create('/ops/idem', { data: 'same' }), NodeExistsError);
    // Null data and empty data are different data to ZooKeeper, and so to an idempotent create.
    await framework.create('/ops/idem-null');
    assert.equal((await framework.getData('/ops/idem-null')).data, null);
    await framework.create('/ops/idem-null', { idempotent: true });
    await assert.rejects(framework.create('/ops/idem-null', { data: '', idempotent: true }), NodeExistsError);
  });

  it('names protected nodes _c_<uuid>-name', async () => {
    await framework.ensurePath('/ops/locks');
    const options = { mode: 'EPHEMERAL_SEQUENTIAL', protected: true } as const;
    const { path } = await framework.create('/ops/locks/lock-', options);
    const name = path.slice('/ops/locks/'.length);
    assert.match(name, /^_c_[0-9a-f-]{36}-lock-\d{10}$/);
    assert.ok(isProtectedName(name));
  });

  it('deletes with version, children and quietly', async () => {
    await framework.create('/ops/tree/x/y', { createParents: true });
    await assert.rejects(framework.delete('/ops/tree', { version: 0 }), /NOTEMPTY|node has children/i);
    await framework.delete('/ops/tree', { deleteChildren: true });
    assert.equal(await direct.exists('/ops/tree'), null);
    await assert.rejects(framework.delete('/ops/tree'), NoNodeError);
    await framework.delete('/ops/tree', { quietly: true });
    await framework.create('/ops/v');
    await assert.rejects(framework.delete('/ops/v', { version: 3 }), BadVersionError);
    await framework.delete('/ops/v', { version: 0 });
  });

  it('ensurePath makes every missing node and tolerates existing ones', async () => {
    await framework.ensurePath('/ops/deep/er/path');
    await framework.ensurePath('/ops/deep/er/path');
    assert.notEqual(await direct.exists('/ops/deep/er/path'), null);
  });

  it('reads and writes data, children and existence', async () => {
    await framework.create('/ops/rw', { data: 'one' });
    const stat = await framework.setData('/ops/rw', 'two', { version: 0 });
    assert.equal(stat.version, 1);
    assert.equal((await framework.getData('/ops/rw')).data?.toString(), 'two');
    assert.equal(await framework.exists('/ops/nothing'), null);
    assert.equal((await framework.exists('/ops/rw'))?.version, 1);
    await framework.create('/ops/rw/kid');
    assert.deepEqual((await framework.getChildren('/ops/rw')).children, ['kid']);
    await framework.sync('/ops/rw');
  });

  it('runs a transaction with typed results, and reports the failing op', async () => {
    await framework.create('/ops/tx', { data: 'a' });
    const [created, set, checked, deleted] = await framework.transaction([
      txn.create('/ops/tx/seq-', { mode: 'PERSISTENT_SEQUENTIAL', data: 'x' }),
      txn.setData('/ops/tx', 'b', { version: 0 }),
      txn.check('/ops/tx', 1),
      txn.delete('/ops/tx/seq-0000000000'),
    ]);
    assert.equal(created.path, '/ops/tx/seq-0000000000');
    assert.equal(set.stat.version, 1);
    assert.equal(checked.op, 'check');
    assert.equal(deleted.path, '/ops/tx/seq-0000000000');
    await assert.rejects(
      framework.transaction([txn.create('/ops/tx/ok'), txn.check('/ops/tx', 7)]),
      (error: KeeperError) => error instanceof BadVersionError && error.multiOpIndex === 1,
    );
    assert.equal(await direct.exists('/ops/tx/ok'), null, 'nothing of a failed transaction applied');
  });

  it('isolates namespaces: paths, results, errors, watch events and transactions', async () => {
    const a = framework.usingNamespace('tenant-a');
    const b = framework.usingNamespace('/tenant-b');
    assert.equal(a.namespace, 'tenant-a');
    await a.create('/x', { data: 'in a' });
    await b.create('/x', { data: 'in b' });
    assert.equal((await direct.getData('/tenant-a/x')).data?.toString(), 'in a');
    assert.equal((await direct.getData('/tenant-b/x')).data?.toString(), 'in b');
    assert.deepEqual((await a.getChildren('/')).children, ['x']);
    const { watch } = await a.getData('/x', { watch: true });
    await b.setData('/x', 'b changed');
    await a.setData('/x', 'a changed');
    assert.deepEqual(await watch, { type: 'nodeDataChanged', path: '/x' });
    const [created] = await a.transaction([txn.create('/t-', { mode: 'PERSISTENT_SEQUENTIAL' })]);
    assert.match(created.path, /^\/t-\d{10}$/);
    await assert.rejects(a.getData('/missing'), (error: KeeperError) => error.path === '/missing');
    assert.equal(framework.usingNamespace(null).namespace, '');
  });

  it('removes only the watches a scope set, and the server watch once none is left', async () => {
    await framework.create('/ops/w', { data: '0' });
    const scope = framework.withWatcherRemoval();
    const { watch: scoped } = await scope.getData('/ops/w', { watch: true });
    const others: WatchedEvent[] = [];
    await framework.getData('/ops/w', { watch: (event) => others.push(event) });
    await scope.exists('/ops/w-missing', { watch: true });
    assert.equal(scope.watchCount, 2);
    await scope.removeWatches();
    assert.deepEqual(await scoped, { type: 'dataWatchRemoved', path: '/ops/w' });
    // The exists watch was the only one on its path: gone at the server too.
    await assert.rejects(framework.client.checkWatches('/ops/w-missing', 'data'), NoWatcherError);
    // The other recipe's watch on /ops/w is still there and fires.
    await framework.client.checkWatches('/ops/w', 'data');
    await direct.setData('/ops/w', '1');
    await eventually(() => others.length === 1);
    assert.deepEqual(others, [{ type: 'nodeDataChanged', path: '/ops/w' }]);
  });

  it('delivers persistent-watch events with namespace paths and stops them with the scope', async () => {
    const view = framework.usingNamespace('pw');
    await view.create('/node');
    const scope = view.withWatcherRemoval();
    const watch = await scope.addWatch('/node', { mode: 'persistentRecursive' });
    await direct.create('/pw/node/kid');
    await direct.setData('/pw/node', 'x');
    const seen: WatchedEvent[] = [];
    for await (const event of watch) {
      seen.push(event);
      if (seen.length === 2) break;
    }
    assert.deepEqual(seen, [
      { type: 'nodeCreated', path: '/node/kid' },
      { type: 'nodeDataChanged', path: '/node' },
    ]);
    // Leaving the loop stopped it; wait for that to finish before adding another watch, since on
    // 3.8 the client removes a persistent watch at the server with removeWatches(Any).
    await watch.stop();
    const listened: WatchedEvent[] = [];
    await scope.addWatch('/node', { listener: (event) => listened.push(event) });
    await direct.setData('/pw/node', 'y');
    await eventually(() => listened.length === 1);
    assert.deepEqual(listened, [{ type: 'nodeDataChanged', path: '/node' }]);
    await scope.removeWatches();
    assert.equal(scope.watchCount, 0);
    await direct.setData('/pw/node', 'z');
    await framework.sync('/');
    assert.equal(listened.length, 1, 'no event after the scope removed its watches');
  });

  it('adds its credentials to the session', async () => {
    await using authed = createFramework({
      connectString: server.connectString,
      authorization: [{ scheme: 'digest', auth: 'alice:secret' }],
      defaultAcl: Acls.CREATOR_ALL_ACL,
    });
    await authed.create('/ops/private', { data: 'mine' });
    assert.equal((await authed.getData('/ops/private')).data?.toString(), 'mine');
    await assert.rejects(direct.getData('/ops/private'), NoAuthError);
  });

  it('closes with the reason when the server refuses the credentials', async () => {
    const refused = createFramework({
      connectString: server.connectString,
      authorization: [{ scheme: 'no-such-scheme', auth: 'x' }],
    });
    const reason = await refused.closed();
    assert.equal(reason?.name, 'AuthFailedError');
    await assert.rejects(refused.getData('/'), FrameworkClosedError);
    await refused.close();
  });

  it('checks the signal first and leaves no node behind when a create is aborted in flight', async () => {
    const aborted = new AbortController();
    aborted.abort(new Error('before'));
    await assert.rejects(framework.create('/ops/never', { signal: aborted.signal }), /before/);
    assert.equal(await direct.exists('/ops/never'), null);

    await using proxy = await startControlledProxy(server.port);
    await using viaProxy = createFramework({ connectString: proxy.connectString });
    await viaProxy.blockUntilConnected();
    proxy.holdReplies(true);
    const controller = new AbortController();
    const creating = viaProxy.create('/ops/late', { signal: controller.signal, mode: 'EPHEMERAL' });
    await eventually(async () => (await direct.exists('/ops/late')) !== null);
    controller.abort(new Error('gave up'));
    await assert.rejects(creating, /gave up/);
    proxy.holdReplies(false);
    // The reply arrives after the caller gave up: the framework deletes the node it made.
    await eventually(async () => (await direct.exists('/ops/late')) === null);
    await viaProxy.guaranteedDeletesSettled();
  });

  it('removes a watch the server set after the caller aborted', async () => {
    await framework.create('/ops/aw');
    await using proxy = await startControlledProxy(server.port);
    await using viaProxy = createFramework({ connectString: proxy.connectString });
    await viaProxy.blockUntilConnected();
    proxy.holdReplies(true);
    const controller = new AbortController();
    const reading = viaProxy.getData('/ops/aw', { watch: true, signal: controller.signal });
    // The server holds the watch once it has processed the read.
    await eventually(async () => (await fourLetterWord(server.port, 'wchp')).includes('/ops/aw'));
    controller.abort(new Error('gave up'));
    await assert.rejects(reading, /gave up/);
    proxy.holdReplies(false);
    await eventually(async () =>
      viaProxy.client.checkWatches('/ops/aw', 'data').then(
        () => false,
        (error) => error instanceof NoWatcherError,
      ),
    );
  });
});
