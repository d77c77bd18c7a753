// Several semaphore leases taken at once (Curator's acquire(qty)), on both servers: all or nothing,
// waits while too few are free, times out or aborts leaving no node, and a qty over maxLeases is refused.
import assert from 'node:assert/strict';
import { it } from 'mocha';
import { InvalidArgumentError } from '../../../src/index.js';
import { LockTimeoutError, Semaphore } from '../../../recipes/index.js';
import { ephemeralsUnder } from '../../conformance/recipes/nodes.js';
import { eventually } from '../framework/support/wait.js';
import { describeOnRecipeServers } from './discovery-support/servers.js';

describeOnRecipeServers('semaphore acquireMany', '/semaphores/many', (suite) => {
  it('takes qty leases together and waits until that many are free', async () => {
    const path = suite.path();
    const [a, b, c] = [await suite.fx.framework(), await suite.fx.framework(), await suite.fx.framework()];
    const pool = (fw: typeof a) => new Semaphore(fw, path, { maxLeases: 3 });
    const two = await pool(a).acquireMany(2);
    assert.equal(two.leases.length, 2);
    assert.equal(two.state, 'held');
    assert.ok(two.fencingTokens[0]! !== two.fencingTokens[1]!);
    assert.equal(await pool(b).tryAcquireMany(2), undefined, 'only one lease is free');
    let queued!: () => void;
    const inQueue = new Promise<void>((resolve) => (queued = resolve));
    const waiting = pool(b).acquireMany(2, { onQueued: () => queued() });
    await inQueue;
    const one = await pool(c).tryAcquire();
    assert.equal(one, undefined, 'the waiting acquirer holds the internal mutex: FIFO, no barging');
    await two.release();
    const next = await waiting;
    assert.equal(next.leases.length, 2);
    assert.equal((await pool(c).leaseNodes()).length, 2);
    await next.release({ confirm: true });
    assert.deepEqual(await ephemeralsUnder(c, path), []);
  });

  it('a timed-out or aborted acquireMany takes nothing and leaves no node', async () => {
    const path = suite.path();
    const [a, b] = [await suite.fx.framework(), await suite.fx.framework()];
    await using held = await new Semaphore(a, path, { maxLeases: 2 }).acquire();
    const pool = new Semaphore(b, path, { maxLeases: 2 });
    await assert.rejects(pool.acquireMany(2, { timeoutMs: 200 }), LockTimeoutError);
    const controller = new AbortController();
    const aborted = pool.acquireMany(2, { signal: controller.signal });
    await eventually(async () => (await pool.leaseNodes()).length === 3); // ours wait beside the one held
    controller.abort(new Error('gave up'));
    await assert.rejects(aborted, /gave up/);
    const left = await ephemeralsUnder(b, path);
    assert.deepEqual(left, [held.nodePath], 'only the holder of the one lease is left');
  });

  it('refuses a qty it could never grant', async () => {
    const fw = await suite.fx.framework();
    const pool = new Semaphore(fw, suite.path(), { maxLeases: 2 });
    await assert.rejects(pool.acquireMany(3), InvalidArgumentError);
    await assert.rejects(pool.acquireMany(0), InvalidArgumentError);
  });
});
