// Goal: the tree cache (and its node and children variants) loads, then follows creates, changes and
// deletes in both watch modes, and after a reconnect or a session loss emits exactly what changed
// while it was away; run against every server in RECIPE_SERVERS.
import assert from 'node:assert/strict';
import { describe, it } from 'mocha';
import {
  NoAuthError,
  Perms,
  UnimplementedError,
  ZooKeeperClient,
  type Framework,
} from '../../../src/index.js';
import {
  startChildrenCache,
  startNodeCache,
  startTreeCache,
  type TreeCache,
  type TreeCacheEvent,
} from '../../../recipes/index.js';
import { Fixtures, nextState, RECIPE_SERVERS, take, type RecipeServer } from './discovery-support/servers.js';

function describeEvent(event: TreeCacheEvent): string {
  if (event.type === 'initialized') return 'initialized';
  const data = event.type === 'deleted' ? '' : ` ${Buffer.from(event.node.data).toString()}`;
  return `${event.type} ${event.path}${data}`;
}

async function next(_cache: TreeCache, iterator: AsyncIterator<TreeCacheEvent>, count: number) {
  return (await take(iterator, count)).map(describeEvent);
}

for (const factory of RECIPE_SERVERS) {
  for (const watchMode of ['persistentRecursive', 'oneShot'] as const) {
    describe(`tree cache (${watchMode}) on ${factory.name}`, function () {
      this.timeout(30_000);
      let server: RecipeServer;
      const fx = new Fixtures(() => server);
      let n = 0;
      const root = () => `/cache-${watchMode}/t${n}`;

      before(async function () {
        if (!factory.available()) this.skip();
        this.timeout(60_000);
        server = await factory.start();
      });
      beforeEach(() => void n++);
      afterEach(() => fx.closeAll());
      after(() => server?.stop());

      it('loads the tree, then reports creates, changes and deletes in order', async () => {
        const zk = await fx.framework();
        const direct = await fx.client();
        await zk.create(`${root()}/a`, { data: 'a0', createParents: true });
        const cache = fx.defer(await startTreeCache(zk, root(), { watchMode }));
        assert.equal(cache.watchMode, watchMode);
        const events = cache.events();
        const initial = [`created ${root()} `, `created ${root()}/a a0`, 'initialized'];
        assert.deepEqual(await next(cache, events, 3), initial);
        await direct.create(`${root()}/a/b`, 'b0');
        assert.deepEqual(await next(cache, events, 1), [`created ${root()}/a/b b0`]);
        await direct.setData(`${root()}/a/b`, 'b1');
        assert.deepEqual(await next(cache, events, 1), [`changed ${root()}/a/b b1`]);
        await direct.delete(`${root()}/a/b`);
        assert.deepEqual(await next(cache, events, 1), [`deleted ${root()}/a/b`]);
        await direct.delete(`${root()}/a`);
        await direct.delete(root());
        assert.deepEqual(await next(cache, events, 2), [`deleted ${root()}/a`, `deleted ${root()}`]);
        await direct.create(root(), 'back');
        assert.deepEqual(await next(cache, events, 1), [`created ${root()} back`]);
        assert.deepEqual([...cache.snapshot.keys()], [root()]);
        await events.return?.();
      });

      it('start fails (and leaves nothing running) when the tree cannot be read', async () => {
        const zk = await fx.framework();
        const unreadable = [{ perms: Perms.ALL & ~Perms.READ, id: { scheme: 'world', id: 'anyone' } }];
        await zk.create(root(), { acl: unreadable, createParents: true });
        await assert.rejects(startTreeCache(zk, root(), { watchMode }), NoAuthError);
      });

      it('names paths inside the framework\'s namespace', async () => {
        const zk = await fx.framework({ namespace: `ns-${watchMode}` });
        const direct = await fx.client();
        const cache = fx.defer(await startTreeCache(zk, root(), { watchMode }));
        const events = cache.events({ replay: false });
        await zk.create(`${root()}/a`, { data: 'a', createParents: true });
        assert.deepEqual(await next(cache, events, 2), [`created ${root()} `, `created ${root()}/a a`]);
        await direct.setData(`/ns-${watchMode}${root()}/a`, 'b');
        assert.deepEqual(await next(cache, events, 1), [`changed ${root()}/a b`]);
        await events.return?.();
      });

      it('node and children caches stop at their depth', async () => {
        const zk = await fx.framework();
        const direct = await fx.client();
        await zk.create(`${root()}/c/deep`, { createParents: true });
        const node = fx.defer(await startNodeCache(zk, root(), { watchMode }));
        const children = fx.defer(await startChildrenCache(zk, root(), { watchMode }));
        assert.deepEqual([...node.snapshot.keys()], [root()]);
        assert.deepEqual([...children.snapshot.keys()].sort(), [root(), `${root()}/c`]);
        const events = children.events({ replay: false });
        await direct.create(`${root()}/c/deep2`, null);
        await direct.create(`${root()}/d`, 'd');
        assert.deepEqual(await next(children, events, 1), [`created ${root()}/d d`], 'nothing from depth 2');
        assert.deepEqual(children.children(root()), ['c', 'd']);
        await events.return?.();
      });

      it('after a reconnect on the same session, reports what changed while disconnected', async () => {
        const { zk, proxy } = await fx.proxied();
        const direct = await fx.client();
        await direct.create(root(), null).catch(() => undefined);
        await zk.create(`${root()}/keep`, { data: 'k', createParents: true });
        await zk.create(`${root()}/gone`, { data: 'g' });
        await zk.create(`${root()}/edit`, { data: 'e0' });
        const cache = fx.defer(await startTreeCache(zk, root(), { watchMode }));
        const events = cache.events({ replay: false });
        const suspended = nextState(zk, 'SUSPENDED');
        proxy.blackhole(true);
        proxy.dropAll();
        await suspended;
        await direct.delete(`${root()}/gone`);
        await direct.setData(`${root()}/edit`, 'e1');
        await direct.create(`${root()}/new`, 'n');
        proxy.blackhole(false);
        const seen = (await next(cache, events, 3)).sort();
        const expected = [`changed ${root()}/edit e1`, `created ${root()}/new n`, `deleted ${root()}/gone`];
        assert.deepEqual(seen, expected);
        assert.deepEqual(cache.children(root()), ['edit', 'keep', 'new']);
        await events.return?.();
      });

      it('after a session loss, rebuilds on the new session with events for what changed', async () => {
        const { zk, proxy } = await fx.proxied();
        const direct = await fx.client();
        await zk.create(`${root()}/x`, { data: 'x0', createParents: true });
        const cache = fx.defer(await startTreeCache(zk, root(), { watchMode }));
        const events = cache.events({ replay: false });
        const back = nextState(zk, ['LOST', 'RECONNECTED']);
        const { sessionId, sessionPassword } = zk.client;
        proxy.blackhole(true);
        proxy.dropAll();
        const { connectString } = server;
        const intruder = new ZooKeeperClient({ connectString, sessionId, sessionPassword });
        await intruder.connect();
        await intruder.close();
        await direct.setData(`${root()}/x`, 'x1');
        await direct.create(`${root()}/y`, 'y');
        proxy.blackhole(false);
        await back;
        const expected = [`changed ${root()}/x x1`, `created ${root()}/y y`];
        assert.deepEqual((await next(cache, events, 2)).sort(), expected);
        // The watch works on the new session.
        await direct.setData(`${root()}/y`, 'y1');
        assert.deepEqual(await next(cache, events, 1), [`changed ${root()}/y y1`]);
        await events.return?.();
      });
    });
  }
}

describe('tree cache watch mode selection', function () {
  this.timeout(30_000);
  let server: RecipeServer;
  const fx = new Fixtures(() => server);

  before(async function () {
    const factory = RECIPE_SERVERS[0]!;
    if (!factory.available()) this.skip();
    this.timeout(60_000);
    server = await factory.start();
  });
  afterEach(() => fx.closeAll());
  after(() => server?.stop());

  it('auto mode falls back to one-shot watches when the server lacks persistent watches', async () => {
    const zk = await fx.framework();
    const direct = await fx.client();
    // A framework as a pre-3.6 server would make it look: addWatch answers Unimplemented.
    const scoped = zk.withWatcherRemoval();
    const unimplemented = () => Promise.reject(new UnimplementedError());
    const oldScope = Object.create(scoped, { addWatch: { value: unimplemented } }) as typeof scoped;
    const oldServer = Object.create(zk, { withWatcherRemoval: { value: () => oldScope } }) as Framework;
    await zk.create('/auto/a', { data: 'a0', createParents: true });
    const cache = fx.defer(await startTreeCache(oldServer, '/auto'));
    assert.equal(cache.watchMode, 'oneShot');
    const events = cache.events({ replay: false });
    await direct.setData('/auto/a', 'a1');
    assert.deepEqual(await next(cache, events, 1), ['changed /auto/a a1']);
    await events.return?.();
    const strict = startTreeCache(oldServer, '/auto', { watchMode: 'persistentRecursive' });
    await assert.rejects(strict, UnimplementedError, 'no fallback when persistent watches are required');
  });
});
