// Goal: shared count/value compare-and-set and change events (also across a reconnect and with
// real Curator's SharedCount), and the atomic long's no-lost-update guarantee, its results and its
// promoted-lock fallback; run against every server in RECIPE_SERVERS.
import assert from 'node:assert/strict';
import { it } from 'mocha';
import { BadVersionError, type Framework } from '../../../src/index.js';
import {
  DistributedAtomicLong,
  Mutex,
  startSharedCount,
  startSharedValue,
} from '../../../recipes/index.js';
import { ephemeralsUnder } from '../../conformance/recipes/nodes.js';
import { eventually } from '../framework/support/wait.js';
import { startCurator } from '../../support/curator.js';
import {
  describeOnRecipeServers,
  nextState,
  describeWithCurator,
  take,
} from './discovery-support/servers.js';

describeOnRecipeServers('counters', '/counters/c', (suite) => {
  const { fx, path } = suite;

  it('shared count: seed, compare-and-set by version, change events for others', async () => {
    const a = fx.defer(await startSharedCount(await fx.framework(), path(), 10));
    const b = fx.defer(await startSharedCount(await fx.framework(), path(), 99));
    assert.deepEqual(b.current, { value: 10, version: 0 }, 'the first seed wins');
    const changes = b.changes();
    assert.equal(await a.trySet(9, a.current), true);
    assert.deepEqual(await take(changes, 1), [{ value: 9, version: 1 }]);
    assert.equal(await b.trySet(8, 0), false, 'a stale version fails');
    assert.deepEqual(b.current, { value: 9, version: 1 }, 'and refreshes');
    const aChanges = a.changes();
    await b.set(-5);
    assert.deepEqual(await take(aChanges, 1), [{ value: -5, version: 2 }]);
    await changes.return?.();
    await aChanges.return?.();
    const direct = await fx.client();
    assert.deepEqual([...(await direct.getData(path())).data ?? []], [0xff, 0xff, 0xff, 0xfb], '4-byte int');
  });

  it('shared value: a change made while disconnected is reported after the reconnect', async () => {
    const { zk, proxy } = await fx.proxied();
    const value = fx.defer(await startSharedValue(zk, path(), Buffer.from('v0')));
    const direct = await fx.client();
    const changes = value.changes();
    const suspended = nextState(zk, 'SUSPENDED');
    proxy.blackhole(true);
    proxy.dropAll();
    await suspended;
    await direct.setData(path(), 'v1');
    proxy.blackhole(false);
    const [change] = await take(changes, 1);
    assert.equal(change!.value.toString(), 'v1');
    assert.equal(value.current.version, 1);
    await changes.return?.();
  });

  it('atomic long: concurrent increments lose nothing and report distinct post values', async () => {
    const counters = await Promise.all(
      [1, 2, 3].map(async () => {
        return new DistributedAtomicLong(await fx.framework(), path(), { attemptsMax: 1000 });
      }),
    );
    const results = await Promise.all(
      counters.flatMap((counter) => Array.from({ length: 8 }, () => counter.increment())),
    );
    assert.ok(results.every((r) => r.succeeded && r.postValue === r.preValue + 1n));
    assert.deepEqual(
      results.map((r) => Number(r.postValue)).sort((x, y) => x - y),
      Array.from({ length: 24 }, (_, i) => i + 1),
    );
    assert.equal((await counters[0]!.get()).postValue, 24n);
    const first = counters[0]!;
    const refused = await first.compareAndSet(0n, 5n);
    assert.deepEqual(refused, { succeeded: false, preValue: 24n, postValue: 24n });
    assert.deepEqual(await first.compareAndSet(24n, 5n), { succeeded: true, preValue: 24n, postValue: 5n });
  });

  it('atomic long: fails without writing after its attempts, or retries under the lock', async () => {
    const zk = await fx.framework();
    // A view whose first setData always loses the race.
    let losses = 1;
    const flaky = Object.create(zk, {
      setData: {
        value: (...args: Parameters<Framework['setData']>) =>
          losses-- > 0 ? Promise.reject(new BadVersionError()) : zk.setData(...args),
      },
    }) as Framework;
    await new DistributedAtomicLong(zk, path()).trySet(7n);
    const lone = new DistributedAtomicLong(flaky, path(), { attemptsMax: 1 });
    assert.deepEqual(await lone.add(1n), { succeeded: false, preValue: 7n, postValue: 7n });
    assert.equal((await lone.get()).postValue, 7n, 'nothing written');
    losses = 1;
    const lockPath = `${path()}-lock`;
    const promoted = new DistributedAtomicLong(flaky, path(), { attemptsMax: 1, promotedLock: { lockPath } });
    assert.deepEqual(await promoted.add(1n), { succeeded: true, preValue: 7n, postValue: 8n });
    // Our Mutex took the lock path (Curator's layout): one contender node made, and deleted again
    // once the release's delete has gone out (it leaves at the end of the turn).
    const childChanges = async () => (await zk.getChildren(lockPath, { withStat: true })).stat?.cversion;
    await eventually(async () => (await childChanges()) === 2, 5_000).catch(() => undefined);
    assert.equal(await childChanges(), 2);
    assert.deepEqual(await ephemeralsUnder(zk, lockPath), []);
  });

  it('atomic long: a promoted lock not acquired in time reports not succeeded, as Curator', async () => {
    const [zk, other] = [await fx.framework(), await fx.framework()];
    const lockPath = `${path()}-lock`;
    await using _held = await new Mutex(other, lockPath).acquire();
    const alwaysLoses = Object.create(zk, {
      setData: { value: () => Promise.reject(new BadVersionError()) },
    }) as Framework;
    const counter = new DistributedAtomicLong(alwaysLoses, path(), {
      attemptsMax: 1,
      promotedLock: new Mutex(zk, lockPath),
      lockTimeoutMs: 100,
    });
    await new DistributedAtomicLong(zk, counter.path).trySet(3n);
    assert.deepEqual(await counter.increment(), { succeeded: false, preValue: 3n, postValue: 3n });
  });
});

describeWithCurator('counters with real Curator 5.4', (suite) => {
  const { fx } = suite;

  it('SharedCount and DistributedAtomicLong are shared with Curator both ways', async () => {
    await using curator = await startCurator(suite.server.connectString);
    const zk = await fx.framework();
    const count = fx.defer(await startSharedCount(zk, '/interop/count', 1));
    const changes = count.changes();
    await curator.countSet('/interop/count', 42);
    assert.equal((await take(changes, 1))[0]!.value, 42);
    await count.set(43);
    assert.equal((await curator.countGet('/interop/count')).count, 43);
    await changes.return?.();
    const counter = new DistributedAtomicLong(zk, '/interop/long');
    await counter.add(5n);
    const javaAdd = await curator.atomicAdd('/interop/long', 2n);
    assert.deepEqual(javaAdd, { succeeded: true, preValue: 5n, postValue: 7n });
    assert.deepEqual(await counter.increment(), { succeeded: true, preValue: 7n, postValue: 8n });
  });
});
