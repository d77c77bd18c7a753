// Lock, semaphore, leader latch and promoted-counter timing on both kinds of time
// (test/support/clock-kits.ts): acquire timeouts fire at their deadline and leave no contender; a
// partitioned holder's lease goes uncertain at SUSPENDED (2/3 of the session) and lost at its
// deadline (9/10), and a partitioned leader pauses or resigns on the same schedule; a promoted
// counter gives up at its lock timeout. Exact on virtual time; the same spec as bounds against Apache.
// (Specs where a process's own clock stands still stay virtual-only, in test/unit/recipes/virtual-time.)
import assert from 'node:assert/strict';
import { it } from 'mocha';
import { ErrorCode, KeeperError, type Framework } from '../../../../src/index.js';
import {
  DistributedAtomicLong,
  LeaderLatch,
  LockTimeoutError,
  Mutex,
  Semaphore,
  type AtomicResult,
  type LeadershipChange,
} from '../../../../recipes/index.js';
import { describeOnClocks } from '../../../support/clock-kits.js';

const SESSION_TIMEOUT_MS = 3000;
/** SUSPENDED (and a lease uncertain) at 2/3 of the session without a reply; the lease lost at 9/10. */
const SUSPENDED_AFTER_MS = 2000;
const LEASE_LOST_AFTER_MS = 2700;

/** The framework, except that every versioned setData loses to another writer (BAD_VERSION). */
function alwaysRaced(framework: Framework, raced: { on: boolean }): Framework {
  return new Proxy(framework, {
    get(target, property) {
      if (property === 'setData' && raced.on) {
        return async (path: string) => {
          throw KeeperError.from(ErrorCode.BAD_VERSION, { path });
        };
      }
      const value: unknown = Reflect.get(target, property, target);
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
}

describeOnClocks('lock and leader timing', (kit) => {
  it('Mutex and Semaphore acquires time out at their deadlines, leaving no contender', async () => {
    const k = kit();
    const holder = await k.connect({ sessionTimeoutMs: SESSION_TIMEOUT_MS });
    const waiter = await k.connect({ sessionTimeoutMs: SESSION_TIMEOUT_MS });
    const held = await new Mutex(holder, '/locks/m', { clock: k.clock }).acquire();
    const poolLease = await new Semaphore(holder, '/sem/s', { maxLeases: 1, clock: k.clock }).acquire();
    const startMs = k.clock.nowMs();
    const mutexWait = k.track(new Mutex(waiter, '/locks/m', { clock: k.clock }).acquire({ timeoutMs: 800 }));
    const semaphore = new Semaphore(waiter, '/sem/s', { maxLeases: 1, clock: k.clock });
    const semWait = k.track(semaphore.acquire({ timeoutMs: 1200 }));
    await k.settled(mutexWait);
    assert.ok(mutexWait.error instanceof LockTimeoutError, String(mutexWait.error));
    k.assertElapsed(mutexWait.atMs! - startMs, 800, 'the mutex acquire timed out');
    await k.settled(semWait);
    assert.ok(semWait.error instanceof LockTimeoutError, String(semWait.error));
    k.assertElapsed(semWait.atMs! - startMs, 1200, 'the semaphore acquire timed out');
    assert.equal((await waiter.getChildren('/locks/m')).children.length, 1, 'only the holder is queued');
    await held.release();
    await poolLease.release();
  });

  it('partitioned holder: uncertain at SUSPENDED (2/3), lost at its deadline (9/10), LOST at 1', async () => {
    const k = kit();
    const holder = await k.connect({ sessionTimeoutMs: SESSION_TIMEOUT_MS });
    const lease = await new Mutex(holder, '/locks/p', { clock: k.clock }).acquire();
    const lastHeardMs = k.clock.nowMs(); // the acquire's last reply arrived now
    const leaseStates: Array<{ kind: string; atMs: number }> = [];
    const connectionStates: Array<{ state: string; atMs: number }> = [];
    lease.held.on('state', (state: { kind: string }) => {
      leaseStates.push({ kind: state.kind, atMs: k.clock.nowMs() });
    });
    holder.onConnectionStateChange(({ state }) => connectionStates.push({ state, atMs: k.clock.nowMs() }));
    k.partition(holder);
    await k.until(() => connectionStates.some((change) => change.state === 'LOST'));
    assert.deepEqual(leaseStates.map((state) => state.kind), ['uncertain', 'lost']);
    assert.deepEqual(connectionStates.map((change) => change.state), ['SUSPENDED', 'LOST']);
    k.assertElapsed(leaseStates[0]!.atMs - lastHeardMs, SUSPENDED_AFTER_MS, 'lease uncertain');
    k.assertElapsed(connectionStates[0]!.atMs - lastHeardMs, SUSPENDED_AFTER_MS, 'SUSPENDED');
    k.assertElapsed(leaseStates[1]!.atMs - lastHeardMs, LEASE_LOST_AFTER_MS, 'lease lost');
    k.assertElapsed(connectionStates[1]!.atMs - lastHeardMs, SESSION_TIMEOUT_MS, 'LOST');
    assert.ok(lease.signal.aborted, 'the lease signal aborted at its deadline');
    k.heal(holder);
    await k.until(() => connectionStates.length === 3);
    assert.equal(connectionStates[2]!.state, 'RECONNECTED');
    await lease.release();
  });

  for (const [policy, expected] of [
    ['pause', [['uncertain', SUSPENDED_AFTER_MS], ['not-leader', LEASE_LOST_AFTER_MS]]],
    ['resign', [['not-leader', SUSPENDED_AFTER_MS]]],
  ] as const) {
    const schedule = expected.map(([what, afterMs]) => `${what} at +${afterMs}`).join(', ');
    it(`a partitioned leader with onSuspended '${policy}': ${schedule}`, async () => {
      const k = kit();
      const framework = await k.connect({ sessionTimeoutMs: SESSION_TIMEOUT_MS });
      const latch = k.own(new LeaderLatch(framework, '/leader/p', { clock: k.clock, onSuspended: policy }));
      latch.start();
      const term = await latch.whenLeader();
      const lastHeardMs = k.clock.nowMs();
      const seen: Array<{ what: string; atMs: number }> = [];
      latch.onChange((change: LeadershipChange) => {
        const what = change.isLeader ? 'leader' : change.uncertain === true ? 'uncertain' : 'not-leader';
        seen.push({ what, atMs: k.clock.nowMs() });
      });
      k.partition(framework);
      await k.until(() => seen.at(-1)?.what === 'not-leader');
      assert.deepEqual(seen.map((change) => change.what), expected.map(([what]) => what));
      for (const [index, [what, afterMs]] of expected.entries()) {
        k.assertElapsed(seen[index]!.atMs - lastHeardMs, afterMs, what);
      }
      assert.equal(latch.hasLeadership, false);
      assert.ok(term.signal.aborted);
      k.heal(framework);
    });
  }

  it('a promoted-lock counter operation gives up at its lock timeout, changing nothing', async () => {
    const k = kit();
    const holder = await k.connect({ sessionTimeoutMs: SESSION_TIMEOUT_MS });
    const counterSide = await k.connect({ sessionTimeoutMs: SESSION_TIMEOUT_MS });
    const raced = { on: true };
    const zk = alwaysRaced(counterSide, raced);
    const counter = new DistributedAtomicLong(zk, '/counters/c', {
      attemptsMax: 3,
      promotedLock: { lockPath: '/locks/counter', timeoutMs: 900 },
      clock: k.clock,
    });
    assert.equal(await counter.initialize(5n), true);
    const held = await new Mutex(holder, '/locks/counter', { clock: k.clock }).acquire();
    const startMs = k.clock.nowMs();
    const running = k.track<AtomicResult>(counter.increment());
    await k.settled(running);
    assert.deepEqual(running.value, { succeeded: false, preValue: 5n, postValue: 5n });
    k.assertElapsed(running.atMs! - startMs, 900, 'the promoted lock wait gave up');
    assert.equal((await counter.get()).preValue, 5n, 'nothing changed');
    await held.release();
    raced.on = false;
    assert.deepEqual(await counter.increment(), { succeeded: true, preValue: 5n, postValue: 6n });
  });
});
