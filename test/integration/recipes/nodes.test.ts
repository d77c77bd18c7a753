// Goal: managed nodes stay present as promised (persistent node through deletion and session loss,
// TTL node touched, group membership both ways with real Curator's GroupMember) and go on close;
// run against every server in RECIPE_SERVERS.
import assert from 'node:assert/strict';
import { describe, it } from 'mocha';
import {
  joinGroup,
  startPersistentNode,
  startPersistentTtlNode,
} from '../../../recipes/index.js';
import { apacheAvailable, startApache } from '../../support/apache.js';
import { startCurator } from '../../support/curator.js';
import {
  describeOnRecipeServers,
  eventually,
  expireSession,
  Fixtures,
  nextState,
  describeWithCurator,
  type RecipeServer,
} from './discovery-support/servers.js';

describeOnRecipeServers('managed nodes', '/nodes/n', (suite) => {
  const { fx, path } = suite;

  it('a persistent node is re-created when deleted, updated in place, and deleted on close', async () => {
    const zk = await fx.framework();
    const direct = await fx.client();
    const node = await startPersistentNode(zk, `${path()}/me`, { data: 'a' });
    assert.equal((await direct.exists(`${path()}/me`))?.ephemeralOwner, zk.sessionId);
    await direct.delete(`${path()}/me`);
    await eventually(async () => (await direct.exists(`${path()}/me`)) !== null);
    const czxid = (await direct.exists(`${path()}/me`))!.czxid;
    await node.setData('b');
    const read = await direct.getData(`${path()}/me`);
    assert.equal(read.data?.toString(), 'b');
    assert.equal(read.stat.czxid, czxid, 'updated in place');
    await node.close();
    await node.close();
    assert.equal(await direct.exists(`${path()}/me`), null);
  });

  it('an ephemeral persistent node comes back on the new session after a session loss', async () => {
    const { zk, proxy } = await fx.proxied();
    const direct = await fx.client();
    fx.defer(await startPersistentNode(zk, `${path()}/me`, { data: 'a' }));
    const back = nextState(zk, ['LOST', 'RECONNECTED']);
    await expireSession(zk, proxy, suite.server.connectString);
    await back;
    await eventually(async () => (await direct.exists(`${path()}/me`))?.ephemeralOwner === zk.sessionId);
    assert.equal((await direct.getData(`${path()}/me`)).data?.toString(), 'a');
  });

  it('a TTL node is a container with data and a touched TTL child, both gone on close', async () => {
    const zk = await fx.framework();
    const direct = await fx.client();
    const node = await startPersistentTtlNode(zk, path(), { ttlMs: 200, data: 'lease' });
    assert.equal((await direct.getData(path())).data?.toString(), 'lease');
    const touched = (await direct.exists(`${path()}/touch`))!.mzxid;
    await eventually(async () => (await direct.exists(`${path()}/touch`))!.mzxid > touched);
    await node.close();
    assert.equal(await direct.exists(path()), null);
  });

  it('group members see each other and their payloads, and a leaver goes', async () => {
    const a = fx.defer(await joinGroup(await fx.framework(), path(), 'a', 'pa'));
    const b = await joinGroup(await fx.framework(), path(), 'b', 'pb');
    await eventually(() => a.currentMembers().size === 2);
    assert.deepEqual(Object.fromEntries([...a.currentMembers()].map(([id, p]) => [id, p.toString()])), {
      a: 'pa',
      b: 'pb',
    });
    await b.setPayload('pb2');
    await eventually(() => a.currentMembers().get('b')?.toString() === 'pb2');
    await b.close();
    await eventually(() => a.currentMembers().size === 1);
    assert.deepEqual([...a.currentMembers().keys()], ['a']);
  });
});

describeWithCurator('group membership with real Curator 5.4 GroupMember', (suite) => {
  const { fx } = suite;

  it('Curator\'s member and ours see each other', async () => {
    await using curator = await startCurator(suite.server.connectString);
    const ours = fx.defer(await joinGroup(await fx.framework(), '/interop/group', 'node-1', 'from node'));
    await curator.groupJoin('g', '/interop/group', 'java-1', 'from java');
    await eventually(() => ours.currentMembers().get('java-1')?.toString() === 'from java');
    await eventually(async () => (await curator.groupMembers('g'))['node-1'] === 'from node');
    await curator.groupLeave('g');
    await eventually(() => !ours.currentMembers().has('java-1'));
  });
});

describe('TTL node expiry on Apache ZooKeeper 3.8 (fast container checks)', function () {
  this.timeout(60_000);
  let server: RecipeServer;
  const fx = new Fixtures(() => server);

  before(async function () {
    if (!apacheAvailable()) this.skip();
    // The server looks for expired TTL and empty container nodes every 100 ms instead of every minute.
    const systemProperties = { 'znode.container.checkIntervalMs': '100' };
    server = await startApache({ config: { tickTime: 200 }, systemProperties });
  });
  afterEach(() => fx.closeAll());
  after(() => server?.stop());

  it('a TTL node whose owner stops touching it (a crash) expires: child, then container', async () => {
    const owner = await fx.framework();
    const direct = await fx.client();
    await startPersistentTtlNode(owner, '/ttl/job', { ttlMs: 300, data: 'lease' });
    // While touched it outlives its TTL several times over.
    const start = Date.now();
    await eventually(() => Date.now() - start > 1_000);
    assert.equal((await direct.getData('/ttl/job')).data?.toString(), 'lease');
    await owner.close(); // the owner goes away without closing the node
    await eventually(async () => (await direct.exists('/ttl/job')) === null);
  });
});
