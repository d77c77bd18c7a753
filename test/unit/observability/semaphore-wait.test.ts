// A semaphore's lease wait reaches the observer hooks as a lock wait (kind 'lease', on the leases
// directory, as a lease's hold is): timed out, not available (tryAcquire), aborted and acquired, the
// acquired one naming the lease node and its fencing token. Runs on the test kit's virtual clock.
import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'mocha';
import { installObserver, type LockWaitOutcome, type Observer } from '../../../src/index.js';
import { LockTimeoutError, Semaphore } from '../../../recipes/index.js';
import { VirtualClockKit } from '../../../server/testing/index.js';

interface SeenWait {
  path: string;
  kind: string;
  outcome?: LockWaitOutcome;
  node?: { path: string; fencingToken: bigint };
}

describe('semaphore lease wait in the observer hooks', () => {
  let kit: VirtualClockKit | undefined;
  afterEach(async () => {
    await kit?.close();
    kit = undefined;
  });

  it('reports timeout, busy, aborted and acquired lease waits, with the acquired lease node', async () => {
    kit = VirtualClockKit.start();
    const k = kit;
    const holder = await k.connect({ sessionTimeoutMs: 6000 });
    const waiter = await k.connect({ sessionTimeoutMs: 6000 });
    const waits: SeenWait[] = [];
    const observer: Observer = {
      lockWait: (lock) => {
        const seen: SeenWait = { ...lock };
        waits.push(seen);
        return { end: (outcome, node) => Object.assign(seen, { outcome, node }) };
      },
    };
    using _installed = installObserver(observer);
    const pool = (zk: typeof holder) => new Semaphore(zk, '/sem/observed', { maxLeases: 1, clock: k.clock });
    const held = await pool(holder).acquire();
    const leaseWaits = () => waits.filter((wait) => wait.kind === 'lease');
    assert.deepEqual(leaseWaits().map((w) => [w.path, w.outcome]), [['/sem/observed/leases', 'acquired']]);
    assert.deepEqual(leaseWaits()[0]!.node, { path: held.nodePath, fencingToken: held.fencingToken });

    const timingOut = k.track(pool(waiter).acquire({ timeoutMs: 500 }));
    await k.settled(timingOut);
    assert.ok(timingOut.error instanceof LockTimeoutError);
    assert.equal(await pool(waiter).tryAcquire(), undefined);
    const controller = new AbortController();
    const aborting = k.track(pool(waiter).acquire({ signal: controller.signal }));
    await k.advance(100);
    controller.abort(new Error('gave up'));
    await k.settled(aborting);
    await held.release();
    const lease = await pool(waiter).acquire({ timeoutMs: 1000 });
    assert.deepEqual(
      leaseWaits().map((w) => w.outcome),
      ['acquired', 'timeout', 'busy', 'aborted', 'acquired'],
    );
    assert.deepEqual(leaseWaits()[4]!.node, { path: lease.nodePath, fencingToken: lease.fencingToken });
    // The internal mutex's waits are reported as what they are: mutex waits on `<path>/locks`.
    assert.ok(waits.some((w) => w.kind === 'mutex' && w.path === '/sem/observed/locks'));
    await lease.release();
  });
});
