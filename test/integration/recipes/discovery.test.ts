// Goal: service discovery keeps instances registered through deletion, reconnects and session loss
// without churn, its cache and provider follow changes, and it interoperates both ways with real
// Curator 5.4 ServiceDiscovery; run against every server in RECIPE_SERVERS.
import assert from 'node:assert/strict';
import { describe, it } from 'mocha';
import { ZooKeeperClient } from '../../../src/index.js';
import { ServiceDiscovery, type ServiceCacheEvent } from '../../../recipes/index.js';
import { curatorAvailable, startCurator, type CuratorHarness } from '../../support/curator.js';
import { fourLetterWord } from '../../support/ports.js';
import {
  eventually,
  expireSession,
  Fixtures,
  nextState,
  RECIPE_SERVERS,
  take,
  type RecipeServer,
} from './discovery-support/servers.js';

for (const factory of RECIPE_SERVERS) {
  describe(`service discovery on ${factory.name}`, function () {
    this.timeout(30_000);
    let server: RecipeServer;
    const fx = new Fixtures(() => server);
    let base = 0;
    const basePath = () => `/services${base}`;

    before(async function () {
      if (!factory.available()) this.skip();
      this.timeout(60_000);
      server = await factory.start();
    });
    beforeEach(() => void base++);
    afterEach(() => fx.closeAll());
    after(() => server?.stop());

    it('registers an ephemeral instance in Curator\'s layout, lists it, and unregisters it', async () => {
      const zk = await fx.framework();
      const direct = await fx.client();
      const discovery = fx.defer(new ServiceDiscovery(zk, { basePath: basePath() }));
      const instance = await discovery.register({ name: 'api', id: 'a1', address: '10.0.0.1', port: 80 });
      const node = await direct.getData(`${basePath()}/api/a1`);
      assert.equal(node.stat.ephemeralOwner, zk.sessionId);
      assert.equal(JSON.parse(String(node.data)).port, 80);
      assert.deepEqual(await discovery.names(), ['api']);
      assert.deepEqual(await discovery.instances('api'), [instance]);
      await discovery.unregister('a1');
      assert.equal(await direct.exists(`${basePath()}/api/a1`), null);
      assert.deepEqual(await discovery.instances('api'), []);
    });

    it('updates in place, and re-creates an instance someone deleted', async () => {
      const zk = await fx.framework();
      const direct = await fx.client();
      const discovery = fx.defer(new ServiceDiscovery(zk, { basePath: basePath() }));
      const instance = await discovery.register({ name: 'api', id: 'a1', address: 'h', port: 80 });
      const before = await direct.exists(`${basePath()}/api/a1`);
      await discovery.update({ ...instance, port: 81, status: 'draining' });
      const after = await direct.getData(`${basePath()}/api/a1`);
      assert.equal(after.stat.czxid, before!.czxid, 'same node, data changed in place');
      assert.equal((await discovery.instance('api', 'a1'))?.status, 'draining');
      await direct.delete(`${basePath()}/api/a1`);
      await eventually(async () => (await direct.exists(`${basePath()}/api/a1`)) !== null);
      assert.equal((await discovery.instance('api', 'a1'))?.port, 81, 're-created with the updated data');
    });

    it('keeps the node across a reconnect on the same session (no remove/add for consumers)', async () => {
      const { zk, proxy } = await fx.proxied();
      const observer = await fx.framework();
      const discovery = fx.defer(new ServiceDiscovery(zk, { basePath: basePath() }));
      await discovery.register({ name: 'api', id: 'a1', address: 'h', port: 80 });
      const watcher = fx.defer(new ServiceDiscovery(observer, { basePath: basePath() }));
      const cache = await watcher.cache('api');
      const seen: string[] = [];
      cache.onChange((event) => seen.push(event.type));
      const czxid = (await observer.exists(`${basePath()}/api/a1`))!.czxid;
      const reconnected = nextState(zk, 'RECONNECTED');
      proxy.dropAll();
      await reconnected;
      // A write through the same framework after its re-check: the node was checked by then.
      await zk.sync('/');
      await discovery.update({ ...(await discovery.instance('api', 'a1'))!, port: 82 });
      await eventually(() => cache.instances[0]?.port === 82);
      assert.equal((await observer.exists(`${basePath()}/api/a1`))!.czxid, czxid, 'never re-created');
      assert.deepEqual(seen, ['updated']);
    });

    it('registers again on the new session after the old one expired', async () => {
      const { zk, proxy } = await fx.proxied();
      const direct = await fx.client();
      const discovery = fx.defer(new ServiceDiscovery(zk, { basePath: basePath() }));
      await discovery.register({ name: 'api', id: 'a1', address: 'h', port: 80 });
      const oldSession = zk.sessionId;
      const reconnected = nextState(zk, ['LOST', 'RECONNECTED']);
      await expireSession(zk, proxy, server.connectString);
      await reconnected;
      await eventually(async () => {
        const stat = await direct.exists(`${basePath()}/api/a1`);
        return stat !== null && stat.ephemeralOwner === zk.sessionId;
      });
      assert.notEqual(zk.sessionId, oldSession);
    });

    it('replaces its earlier session\'s node still held by the server (NodeExists trap)', async () => {
      const { zk, proxy } = await fx.proxied({ sessionTimeoutMs: 1000 });
      const direct = await fx.client();
      const discovery = fx.defer(new ServiceDiscovery(zk, { basePath: basePath() }));
      await discovery.register({ name: 'api', id: 'a1', address: 'h', port: 80 });
      const oldSession = zk.sessionId;
      // Cut us off, and keep the old session alive at the server through a second connection, so its
      // node is still there when we come back on a new session (as when expiry has not happened yet).
      const { sessionId, sessionPassword } = zk.client;
      const lost = nextState(zk, 'LOST');
      proxy.blackhole(true);
      proxy.dropAll();
      const { connectString } = server;
      const keeper = new ZooKeeperClient({ connectString, sessionId, sessionPassword });
      await keeper.connect();
      try {
        await lost;
        const back = nextState(zk, 'RECONNECTED');
        proxy.blackhole(false);
        await back;
        const owner = async () => (await direct.exists(`${basePath()}/api/a1`))?.ephemeralOwner;
        await eventually(async () => (await owner()) === zk.sessionId);
        assert.notEqual(zk.sessionId, oldSession);
        assert.equal(keeper.sessionId, oldSession, 'the old session is still alive: we replaced its node');
      } finally {
        await keeper.close();
      }
    });

    it('waits out another live session\'s node with the same id instead of deleting it', async () => {
      const zk = await fx.framework();
      const other = await fx.client();
      await other.create(basePath(), null);
      await other.create(`${basePath()}/api`, null);
      await other.create(`${basePath()}/api/a1`, '{}', { mode: 'EPHEMERAL' });
      const discovery = fx.defer(new ServiceDiscovery(zk, { basePath: basePath() }));
      let registered = false;
      const registering = discovery.register({ name: 'api', id: 'a1', address: 'h', port: 80 }).then(() => {
        registered = true;
      });
      // The registration saw the foreign node and waits on it: it watches the node.
      const watched = async () => (await fourLetterWord(server.port, 'wchp')).includes(`${basePath()}/api/a1`);
      await eventually(watched);
      assert.equal(registered, false);
      assert.equal((await other.exists(`${basePath()}/api/a1`))!.ephemeralOwner, other.sessionId);
      await other.delete(`${basePath()}/api/a1`);
      await registering;
      assert.equal((await other.exists(`${basePath()}/api/a1`))!.ephemeralOwner, zk.sessionId);
    });

    it('a cache gives a snapshot and a change stream; broken nodes are reported, not thrown', async () => {
      const zk = await fx.framework();
      const direct = await fx.client();
      const broken: string[] = [];
      const discovery = fx.defer(
        new ServiceDiscovery<{ v: number }>(zk, {
          basePath: basePath(),
          validatePayload: (p) =>
            p === null || typeof (p as { v?: unknown }).v === 'number' ? undefined : 'no v',
          onBrokenInstance: (b) => broken.push(`${b.id}: ${b.problem}`),
        }),
      );
      await discovery.register({ name: 'api', id: 'a1', address: 'h', port: 80, payload: { v: 1 } });
      const cache = await discovery.cache('api');
      const changes = cache.changes();
      const initial = await take(changes, 2);
      assert.deepEqual(initial.map((e) => e.type), ['added', 'initialized']);
      await discovery.register({ name: 'api', id: 'a2', address: 'h', port: 81, payload: { v: 2 } });
      await direct.create(`${basePath()}/api/junk`, 'not json', { mode: 'EPHEMERAL' });
      await discovery.unregister('a1');
      const later = await take(changes, 3);
      const describe = (e: ServiceCacheEvent<{ v: number }>) =>
        e.type === 'broken'
          ? `broken ${e.id}`
          : e.type === 'initialized'
            ? e.type
            : `${e.type} ${e.instance.id}`;
      assert.deepEqual(later.map(describe), ['added a2', 'broken junk', 'removed a1']);
      assert.deepEqual(cache.instances.map((i) => i.id), ['a2']);
      assert.equal(broken.length, 1);
      assert.match(broken[0]!, /^junk: not JSON/);
      await changes.return?.();
    });

    it('a provider picks round robin among usable instances and hides one reported failing', async () => {
      const zk = await fx.framework();
      const discovery = fx.defer(new ServiceDiscovery(zk, { basePath: basePath() }));
      for (const id of ['a1', 'a2', 'a3']) {
        const status = id === 'a3' ? 'down' : 'up';
        await discovery.register({ name: 'api', id, address: 'h', port: 80, status });
      }
      const downInstancePolicy = { timeoutMs: 60_000, errorThreshold: 2 };
      const provider = await discovery.provider('api', { downInstancePolicy });
      const picks = [1, 2, 3, 4].map(() => provider.getInstance()?.id);
      assert.deepEqual(picks, ['a1', 'a2', 'a1', 'a2']);
      provider.noteError('a1');
      provider.noteError('a1');
      assert.deepEqual([1, 2].map(() => provider.getInstance()?.id), ['a2', 'a2']);
    });
  });
}

describe('service discovery with real Curator 5.4 ServiceDiscovery', function () {
  this.timeout(60_000);
  let server: RecipeServer;
  let curator: CuratorHarness;
  const fx = new Fixtures(() => server);
  const basePath = '/interop-services';

  before(async function () {
    const factory = RECIPE_SERVERS[0]!;
    if (!factory.available() || !curatorAvailable()) this.skip();
    server = await factory.start();
    curator = await startCurator(server.connectString);
  });
  afterEach(() => fx.closeAll());
  after(async () => {
    await curator?.close();
    await server?.stop();
  });

  it('we see Curator\'s instances (list and cache); Curator sees ours, updates and removals', async () => {
    const zk = await fx.framework();
    const discovery = fx.defer(new ServiceDiscovery(zk, { basePath }));
    await curator.register({ basePath, name: 'billing', id: 'java-1', address: '10.0.0.1', port: 8080,
      payload: { team: 'pay' } });
    const javaInstance = await discovery.instance('billing', 'java-1');
    assert.equal(javaInstance?.address, '10.0.0.1');
    assert.deepEqual(javaInstance?.payload, { team: 'pay' });
    assert.equal(javaInstance?.status, 'up');
    const cache = await discovery.cache('billing');
    const changes = cache.changes();
    assert.deepEqual((await take(changes, 2)).map((e) => e.type), ['added', 'initialized']);

    const ours = await discovery.register({ name: 'billing', id: 'node-1', address: '10.0.0.2', port: 9090,
      payload: { team: 'pay' } });
    let viewed = await curator.instances(basePath, 'billing');
    assert.deepEqual(viewed.map((i) => i.id).sort(), ['java-1', 'node-1']);
    const node1 = viewed.find((i) => i.id === 'node-1')!;
    assert.equal(node1.port, 9090);
    assert.equal(node1.enabled, true);
    assert.deepEqual(node1.payload, { team: 'pay' });

    await discovery.update({ ...ours, status: 'down' });
    viewed = await curator.instances(basePath, 'billing');
    assert.equal(viewed.find((i) => i.id === 'node-1')!.enabled, false, 'down reads as disabled in Java');

    await curator.unregister(basePath, 'java-1');
    const later = await take(changes, 1, (e) => e.type === 'removed');
    assert.equal(later[0]!.type === 'removed' && later[0]!.instance.id, 'java-1');
    await discovery.unregister('node-1');
    assert.deepEqual(await curator.instances(basePath, 'billing'), []);
    await changes.return?.();
  });
});
