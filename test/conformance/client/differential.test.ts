// Differential check: the same scripted client session runs against our server and Apache 3.8 at
// once, and every answer the client hands back (results, full Stats, errors, multi layouts, events)
// must be the same once server-specific values (zxids, times, session ids) are made relative.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'mocha';
import {
  Acls,
  KeeperError,
  Perms,
  ZooKeeperClient,
  digestId,
  op,
  type Stat,
} from '../../../src/index.js';
import { Normalizer } from './normalize.js';
import {
  APACHE_SERVER,
  OUR_SERVER,
  type ServerUnderTest,
} from '../../integration/client/support/servers.js';

type Step = readonly [name: string, run: (clients: Clients) => Promise<unknown>];
interface Clients {
  readonly a: ZooKeeperClient;
  readonly b: ZooKeeperClient;
  /** The server's, for steps that open their own sessions. */
  readonly connectString: string;
}

/** Runs every step on one server and records its normalized outcome. */
async function transcript(server: ServerUnderTest, steps: readonly Step[]): Promise<unknown[]> {
  const normalizer = new Normalizer();
  await using a = new ZooKeeperClient({ connectString: server.connectString, sessionTimeoutMs: 10_000 });
  await using b = new ZooKeeperClient({ connectString: server.connectString, sessionTimeoutMs: 10_000 });
  await a.connect();
  await b.connect();
  normalizer.session(a.sessionId);
  normalizer.session(b.sessionId);
  const out: unknown[] = [];
  for (const [name, run] of steps) {
    try {
      out.push([name, normalizer.value(await run({ a, b, connectString: server.connectString }))]);
    } catch (error) {
      if (!(error instanceof KeeperError)) throw error;
      out.push([name, normalizer.value(error)]);
    }
  }
  return out;
}

const ROOT = '/diff';

const STEPS: readonly Step[] = [
  ['root', ({ a }) => a.create(ROOT, 'r')],
  ['create', ({ a }) => a.create(`${ROOT}/p`, 'one')],
  ['create exists', ({ a }) => a.create(`${ROOT}/p`)],
  ['create no parent', ({ a }) => a.create(`${ROOT}/none/child`)],
  ['seq', ({ a }) => a.create(`${ROOT}/p/s-`, 'x', { mode: 'PERSISTENT_SEQUENTIAL' })],
  ['eph seq', ({ b }) => b.create(`${ROOT}/p/e-`, null, { mode: 'EPHEMERAL_SEQUENTIAL' })],
  ['eph', ({ b }) => b.create(`${ROOT}/eph`, 'e', { mode: 'EPHEMERAL' })],
  ['eph child', ({ a }) => a.create(`${ROOT}/eph/c`)],
  ['container', ({ a }) => a.create(`${ROOT}/box`, null, { mode: 'CONTAINER' })],
  ['ttl', ({ a }) => a.create(`${ROOT}/ttl`, null, { mode: 'PERSISTENT_WITH_TTL', ttlMs: 60_000 })],
  ['ttl seq', ({ a }) =>
    a.create(`${ROOT}/ttl-`, null, { mode: 'PERSISTENT_SEQUENTIAL_WITH_TTL', ttlMs: 60_000 })],
  ['get', ({ a }) => a.getData(`${ROOT}/p`)],
  ['set', ({ a }) => a.setData(`${ROOT}/p`, 'two', { version: 0 })],
  ['set bad version', ({ a }) => a.setData(`${ROOT}/p`, 'x', { version: 7 })],
  ['set no node', ({ a }) => a.setData(`${ROOT}/nope`, 'x')],
  ['delete not empty', ({ a }) => a.delete(`${ROOT}/p`)],
  ['delete bad version', ({ a }) => a.delete(`${ROOT}/eph`, { version: 3 })],
  ['children', ({ a }) => a.getChildren(`${ROOT}/p`, { withStat: true })],
  ['children plain', ({ a }) => a.getChildren(ROOT)],
  ['all children number', ({ a }) => a.getAllChildrenNumber(ROOT)],
  // Unordered on Apache (a hash set): compared sorted.
  ['ephemerals', async ({ b }) => (await b.getEphemerals(ROOT)).sort()],
  ['ephemerals other', ({ a }) => a.getEphemerals(ROOT)],
  ['exists', ({ a }) => a.exists(`${ROOT}/eph`)],
  ['exists missing', ({ a }) => a.exists(`${ROOT}/missing`)],
  ['delete seq', async ({ a }) => {
    const [name] = (await a.getChildren(`${ROOT}/p`)).children.filter((c) => c.startsWith('s-'));
    await a.delete(`${ROOT}/p/${name}`);
    return a.exists(`${ROOT}/p`);
  }],
  ['seq after delete', ({ a }) => a.create(`${ROOT}/p/s-`, null, { mode: 'PERSISTENT_SEQUENTIAL' })],
  ['multi ok', ({ a }) =>
    a.multi([
      op.create(`${ROOT}/m`, 'm'),
      op.create(`${ROOT}/m/c`),
      op.setData(`${ROOT}/m`, 'mm', { version: 0 }),
      op.check(`${ROOT}/m`, 1),
      op.delete(`${ROOT}/m/c`),
    ])],
  ['multi fails', ({ a }) =>
    a.multi([op.create(`${ROOT}/m2`), op.check(`${ROOT}/m`, 0), op.delete(`${ROOT}/nope`)])],
  ['multi after failure', ({ a }) => a.exists(`${ROOT}/m2`)],
  ['multiRead', ({ a }) =>
    a.multiRead([op.getData(`${ROOT}/m`), op.getChildren(`${ROOT}/nope`), op.getChildren(`${ROOT}/p`)])],
  ['acl set', ({ a }) =>
    a.setACL(`${ROOT}/m`, [{ perms: Perms.READ, id: { scheme: 'digest', id: digestId('u', 'pw') } }], {
      version: 0,
    })],
  ['acl get', ({ a }) => a.getACL(`${ROOT}/m`)],
  ['acl read denied', ({ b }) => b.getData(`${ROOT}/m`)],
  ['acl exists allowed', ({ b }) => b.exists(`${ROOT}/m`)],
  ['auth', ({ b }) => b.addAuth('digest', 'u:pw')],
  ['acl read allowed', ({ b }) => b.getData(`${ROOT}/m`)],
  ['acl write denied', ({ b }) => b.setData(`${ROOT}/m`, 'z')],
  ['acl bad version', ({ a }) => a.setACL(`${ROOT}/p`, Acls.OPEN_ACL_UNSAFE, { version: 5 })],
  ['acl invalid', ({ a }) => a.setACL(`${ROOT}/p`, [{ perms: Perms.ALL, id: { scheme: 'auth', id: '' } }])],
  ['creator acl', ({ b }) => b.create(`${ROOT}/mine`, null, { acl: Acls.CREATOR_ALL_ACL })],
  ['creator acl get', ({ a }) => a.getACL(`${ROOT}/mine`)],
  // Apache keeps a connection's ids in a hash set: compared sorted.
  ['whoAmI', async ({ b }) =>
    (await b.whoAmI()).map((i) => `${i.authScheme}:${i.user}`).sort()],
  ['sync', ({ a }) => a.sync(ROOT)],
  ['check watches none', ({ a }) => a.checkWatches(`${ROOT}/p`, 'data')],
  ['watch events', async ({ a, b }) => {
    const data = await a.getData(`${ROOT}/p`, { watch: true });
    const child = await a.getChildren(`${ROOT}/p`, { watch: true });
    const made = await a.exists(`${ROOT}/later`, { watch: true });
    await b.setData(`${ROOT}/p`, 'three');
    await b.create(`${ROOT}/p/new`);
    await b.create(`${ROOT}/later`);
    await b.delete(`${ROOT}/later`);
    return [await data.watch, await child.watch, await made.watch];
  }],
  ['close b removes ephemerals', async ({ a, b }) => {
    await b.close();
    return [await a.exists(`${ROOT}/eph`), (await a.getChildren(`${ROOT}/p`, { withStat: true })).stat];
  }],
  ['root stat', ({ a }) => a.exists(ROOT)],
  ['system children', async ({ a }) => a.getChildren('/zookeeper', { withStat: true })],
  ['system quota', ({ a }) => a.getData('/zookeeper/quota')],
  ['system config acl', ({ a }) => a.getACL('/zookeeper/config')],
  ['system config write', ({ a }) => a.setData('/zookeeper/config', 'x')],
  ['system create', ({ a }) => a.create('/zookeeper/mine')],
  ['system delete', ({ a }) => a.delete('/zookeeper')],
  ['root acl', ({ a }) => a.getACL('/')],
  ['remove watches none', ({ a }) => a.removeWatches(`${ROOT}/p`, 'children')],
  ['persistent watch events', async ({ a }) => {
    const watch = await a.addWatch(`${ROOT}/pw`, { mode: 'persistentRecursive' });
    await a.create(`${ROOT}/pw`);
    await a.create(`${ROOT}/pw/c`, 'v');
    await a.setData(`${ROOT}/pw/c`, 'w');
    await a.multi([op.delete(`${ROOT}/pw/c`), op.delete(`${ROOT}/pw`)]);
    const seen: unknown[] = [];
    for await (const event of watch) {
      seen.push(event);
      if (seen.length === 5) break;
    }
    return seen;
  }],
  ['large data', async ({ a }) => {
    const big = Buffer.alloc(1_000_000, 7);
    const created = await a.create(`${ROOT}/big`, big);
    const read = await a.getData(`${ROOT}/big`);
    return [created.stat.dataLength, read.data?.equals(big), (await a.getChildren(ROOT)).children.length];
  }],
  ['config', ({ a }) => a.getConfig()],
  ['reconfig refused', ({ a }) => a.reconfig({ joining: 'server.2=127.0.0.1:2888:3888;2182' })],
  ['negotiated timeouts', async ({ connectString }) => {
    const negotiated: number[] = [];
    for (const sessionTimeoutMs of [1, 3999, 4000, 40_000, 41_000, 10_000_000]) {
      await using c = new ZooKeeperClient({ connectString, sessionTimeoutMs, connectTimeoutMs: 5000 });
      await c.connect({ timeoutMs: 10_000 });
      negotiated.push(c.negotiatedTimeoutMs);
    }
    return negotiated;
  }],
  ['delete with stale child watch', async ({ a }) => {
    await a.create(`${ROOT}/cw`);
    const { watch } = await a.getChildren(`${ROOT}/cw`, { watch: true });
    const data = await a.getData(`${ROOT}/cw`, { watch: true });
    await a.delete(`${ROOT}/cw`);
    return [await watch, await data.watch];
  }],
];

/** Steps whose answers differ on purpose (as in test/conformance's knownDivergence), with why. */
const KNOWN_DIVERGENCES = new Map<string, string>([]);

describe('client answers, our server vs Apache ZooKeeper 3.8 (differential)', function () {
  let ours: ServerUnderTest | undefined;
  let apache: ServerUnderTest | undefined;

  before(async function () {
    if (!APACHE_SERVER.available()) {
      console.log('    (Apache ZooKeeper is not installed: nothing to compare against)');
      this.skip();
    }
    this.timeout(90_000);
    const started = await Promise.allSettled([OUR_SERVER.start({}), APACHE_SERVER.start({})]);
    [ours, apache] = started.map((s) => (s.status === 'fulfilled' ? s.value : undefined));
    for (const s of started) if (s.status === 'rejected') throw s.reason;
  });

  after(async function () {
    this.timeout(30_000);
    await Promise.all([ours?.stop(), apache?.stop()]);
  });

  it('gives the same answers, step by step', async () => {
    const [mine, theirs] = await Promise.all([transcript(ours!, STEPS), transcript(apache!, STEPS)]);
    assert.equal(mine.length, theirs.length);
    for (let i = 0; i < theirs.length; i++) {
      const reason = KNOWN_DIVERGENCES.get(STEPS[i][0]);
      if (reason !== undefined && process.env.RUN_KNOWN_DIVERGENCES !== '1') {
        console.log(`    (known divergence, step "${STEPS[i][0]}" not compared: ${reason})`);
        continue;
      }
      if (process.env.DIFF_DEBUG === '1') console.log(JSON.stringify(theirs[i])); // to read the script
      assert.deepEqual(mine[i], theirs[i], `step ${i}`);
    }
  });
});
