// Barrier and double barrier timeouts on both kinds of time (test/support/clock-kits.ts): on virtual
// time a wait times out exactly at its deadline and a wake-up lands at the instant of the change; on
// real time against Apache the same spec holds as bounds. A timed-out member leaves no node behind.
import assert from 'node:assert/strict';
import { it } from 'mocha';
import { TimeoutError } from '../../../../src/index.js';
import { Barrier, DoubleBarrier } from '../../../../recipes/index.js';
import { describeOnClocks } from '../../../support/clock-kits.js';

const SESSION_TIMEOUT_MS = 3000;

describeOnClocks('barriers on the clock', (kit) => {
  it('a barrier wait times out at its deadline, and another is let through when it comes down', async () => {
    const k = kit();
    const setter = await k.connect({ sessionTimeoutMs: SESSION_TIMEOUT_MS });
    const waiter = await k.connect({ sessionTimeoutMs: SESSION_TIMEOUT_MS });
    await new Barrier(setter, '/barriers/b', { clock: k.clock }).set();
    const barrier = new Barrier(waiter, '/barriers/b', { clock: k.clock });
    const startMs = k.clock.nowMs();
    const timingOut = k.track(barrier.wait({ timeoutMs: 800 }));
    const passing = k.track(barrier.wait({ timeoutMs: 5000 }));
    await k.settled(timingOut);
    assert.ok(timingOut.error instanceof TimeoutError, String(timingOut.error));
    k.assertElapsed(timingOut.atMs! - startMs, 800, 'the barrier wait timed out');
    assert.equal(passing.settled, false, 'the longer wait still waits');
    await k.advance(200);
    const removedMs = k.clock.nowMs();
    await new Barrier(setter, '/barriers/b', { clock: k.clock }).remove();
    await k.settled(passing);
    assert.equal(passing.error, undefined);
    k.assertElapsed(passing.atMs! - removedMs, 0, 'the wait passed as the barrier came down');
  });

  it('double barrier: enter times out at its deadline and takes our member node away', async () => {
    const k = kit();
    const first = await k.connect({ sessionTimeoutMs: SESSION_TIMEOUT_MS });
    const second = await k.connect({ sessionTimeoutMs: SESSION_TIMEOUT_MS });
    const startMs = k.clock.nowMs();
    const entering = [first, second].map((zk) =>
      k.track(new DoubleBarrier(zk, '/barriers/d', 3, { clock: k.clock }).enter({ timeoutMs: 1000 })),
    );
    for (const attempt of entering) {
      await k.settled(attempt);
      assert.ok(attempt.error instanceof TimeoutError, String(attempt.error));
      k.assertElapsed(attempt.atMs! - startMs, 1000, 'enter timed out');
    }
    const { children } = await first.getChildren('/barriers/d');
    assert.deepEqual(children, [], 'a member that timed out leaves no node');
  });

  it('double barrier: leave times out at its deadline while a member stays, then completes', async () => {
    const k = kit();
    const a = await k.connect({ sessionTimeoutMs: SESSION_TIMEOUT_MS });
    const b = await k.connect({ sessionTimeoutMs: SESSION_TIMEOUT_MS });
    const memberA = new DoubleBarrier(a, '/barriers/l', 2, { clock: k.clock });
    const memberB = new DoubleBarrier(b, '/barriers/l', 2, { clock: k.clock });
    await Promise.all([memberA.enter({ timeoutMs: 5000 }), memberB.enter({ timeoutMs: 5000 })]);
    const startMs = k.clock.nowMs();
    const leavingA = k.track(memberA.leave({ timeoutMs: 700 }));
    await k.settled(leavingA);
    assert.ok(leavingA.error instanceof TimeoutError, String(leavingA.error));
    k.assertElapsed(leavingA.atMs! - startMs, 700, 'leave timed out while B stayed');
    const leftMs = k.clock.nowMs();
    const leavingB = k.track(memberB.leave({ timeoutMs: 5000 }));
    await k.settled(leavingB);
    assert.equal(leavingB.error, undefined, 'B leaves: A is already out');
    k.assertElapsed(leavingB.atMs! - leftMs, 0, 'B left without waiting');
    assert.deepEqual((await a.getChildren('/barriers/l')).children, []);
  });
});
