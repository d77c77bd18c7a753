// Goal: the barrier and the double barrier hold and release members as Curator's do, pass only on a
// state seen in a listing (the GH-1290 bypass), honour signal and timeout, and leave no nodes behind;
// run against every server in RECIPE_SERVERS.
import assert from 'node:assert/strict';
import { it } from 'mocha';
import { NoNodeError, TimeoutError, type Framework } from '../../../src/index.js';
import { Barrier, DoubleBarrier } from '../../../recipes/index.js';
import { startCurator } from '../../support/curator.js';
import { fourLetterWord } from '../../support/ports.js';
import {
  describeOnRecipeServers,
  nextState,
  describeWithCurator,
} from './discovery-support/servers.js';

/** A promise's state, observed without waiting for it. */
function track<T>(promise: Promise<T>): { settled: () => boolean; promise: Promise<T> } {
  let settled = false;
  void promise.then(
    () => (settled = true),
    () => (settled = true),
  );
  return { settled: () => settled, promise };
}

async function childrenOrNone(zk: Framework, path: string): Promise<string[]> {
  try {
    return (await zk.getChildren(path)).children.sort();
  } catch (error) {
    if (error instanceof NoNodeError) return [];
    throw error;
  }
}

describeOnRecipeServers('barriers', '/barriers/b', (suite) => {
  const { fx, path } = suite;

  it('a barrier holds waiters until removed; an unset barrier does not hold', async () => {
    const setter = await fx.framework();
    const waiterZk = await fx.framework();
    const barrier = new Barrier(setter, path());
    await new Barrier(waiterZk, path()).wait();
    await barrier.set();
    await barrier.set(); // twice is fine
    assert.equal(await barrier.isSet(), true);
    const waiting = track(new Barrier(waiterZk, path()).wait());
    await waiterZk.sync('/');
    assert.equal(waiting.settled(), false);
    await barrier.remove();
    await waiting.promise;
    assert.equal(await barrier.isSet(), false);
  });

  it('a barrier wait times out or aborts, removing its watch', async () => {
    const zk = await fx.framework();
    const barrier = new Barrier(zk, path());
    await barrier.set();
    await assert.rejects(barrier.wait({ timeoutMs: 50 }), TimeoutError);
    const controller = new AbortController();
    const waiting = barrier.wait({ signal: controller.signal });
    await zk.sync('/');
    assert.ok((await fourLetterWord(suite.server.port, 'wchp')).includes(path()), 'the waiter watches the node');
    controller.abort(new Error('stop'));
    await assert.rejects(waiting, /stop/);
    // The watches went with the waiters: the server holds none on the barrier node.
    const watches = await fourLetterWord(suite.server.port, 'wchp');
    assert.ok(!watches.includes(path()), `no watch left on ${path()}:\n${watches}`);
    await barrier.remove();
  });

  it('a double barrier lets 3 members in together and out together, leaving no member nodes', async () => {
    const zks = [await fx.framework(), await fx.framework(), await fx.framework()];
    const members = zks.map((zk) => new DoubleBarrier(zk, path(), 3));
    const first = track(members[0]!.enter());
    const second = track(members[1]!.enter());
    await zks[0]!.sync('/');
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.equal(first.settled() || second.settled(), false, 'nobody passes with 2 of 3');
    await members[2]!.enter();
    await Promise.all([first.promise, second.promise]);
    const expected = [...members.map((m) => m.memberNode), 'ready'].sort();
    assert.deepEqual(await childrenOrNone(zks[0]!, path()), expected);
    const leaving = members.slice(0, 2).map((m) => track(m.leave()));
    await zks[0]!.sync('/');
    assert.equal(leaving.some((l) => l.settled()), false, 'leave waits for the member still in');
    await members[2]!.leave();
    await Promise.all(leaving.map((l) => l.promise));
    assert.deepEqual(await childrenOrNone(zks[0]!, path()), []);
  });

  it('a double barrier member that times out removes its node', async () => {
    const zk = await fx.framework();
    const member = new DoubleBarrier(zk, path(), 2);
    await assert.rejects(member.enter({ timeoutMs: 100 }), TimeoutError);
    assert.deepEqual(await childrenOrNone(zk, path()), []);
  });

  it('a connection blip (a SyncConnected wake-up) does not let a member through (GH-1290)', async () => {
    const { zk, proxy } = await fx.proxied();
    const other = await fx.framework();
    const waiting = new DoubleBarrier(zk, path(), 2);
    const entering = track(waiting.enter());
    await eventuallyChildren(other, path(), 1);
    const reconnected = nextState(zk, ['SUSPENDED', 'RECONNECTED']);
    proxy.dropAll();
    await reconnected;
    await zk.getChildren(path()); // a round trip after the reconnect: any wake-up has been handled
    assert.equal(entering.settled(), false, 'still waiting with 1 of 2 members');
    const second = new DoubleBarrier(other, path(), 2);
    await second.enter();
    await entering.promise;
    await Promise.all([waiting.leave(), second.leave()]);
    assert.deepEqual(await childrenOrNone(other, path()), []);
  });
});

async function eventuallyChildren(zk: Framework, path: string, count: number): Promise<void> {
  for (let i = 0; i < 400; i++) {
    if ((await childrenOrNone(zk, path)).length >= count) return;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`${path} never had ${count} children`);
}

describeWithCurator('double barrier with real Curator 5.4 DistributedDoubleBarrier', (suite) => {
  const { fx } = suite;

  it('a Curator member and ours enter together and leave together, leaving no nodes', async () => {
    await using curator = await startCurator(suite.server.connectString);
    const zk = await fx.framework();
    const ours = new DoubleBarrier(zk, '/interop/barrier', 2);
    const javaEnter = curator.barrierEnter('b', '/interop/barrier', 2, { waitMs: 10_000 });
    await ours.enter({ timeoutMs: 10_000 });
    assert.deepEqual(await javaEnter, { entered: true });
    const ourLeave = ours.leave({ timeoutMs: 10_000 });
    assert.deepEqual(await curator.barrierLeave('b', { waitMs: 10_000 }), { left: true });
    await ourLeave;
    assert.deepEqual(await childrenOrNone(zk, '/interop/barrier'), []);
  });
});
