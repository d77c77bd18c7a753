// The lease shell on a virtual clock and a scripted framework: SUSPENDED makes it uncertain with a
// deadline from the last server response, the deadline makes it lost (signal aborted), a reconnect
// with the same session verifies the node and makes it held again, a new session makes it lost; and
// the lock shells refuse bad arguments.
import assert from 'node:assert/strict';
import { describe, it } from 'mocha';
import type { ConnectionStateChange, Framework, Stat } from '../../../../src/index.js';
import { HeldLease } from '../../../../recipes/locks/lease.js';
import { Lease, Mutex, MultiLock, Semaphore } from '../../../../recipes/index.js';
import { VirtualClock } from '../../../../server/testing/index.js';

const SESSION = 0x10n;
const TIMEOUT_MS = 3000;

/** Just what a HeldLease uses of a framework, scripted by the test. */
function scriptedFramework(owner: { current: bigint | undefined }) {
  const listeners = new Set<(c: ConnectionStateChange) => void>();
  let sessionId = SESSION;
  const fw = {
    get sessionId() {
      return sessionId;
    },
    connectionState: 'CONNECTED',
    client: { negotiatedTimeoutMs: TIMEOUT_MS },
    onConnectionStateChange(listener: (c: ConnectionStateChange) => void) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    closed: () => new Promise(() => {}),
    withWatcherRemoval() {
      return {
        getData: () => new Promise(() => {}),
        removeWatches: async () => {},
      };
    },
    exists: async (): Promise<Partial<Stat> | null> =>
      owner.current === undefined ? null : { ephemeralOwner: owner.current },
    delete: async () => {},
  };
  const publish = (state: ConnectionStateChange['state'], atMs: number, newSession?: bigint) => {
    if (newSession !== undefined) sessionId = newSession;
    for (const l of listeners) l({ state, previous: undefined, sessionId, atMs });
  };
  return { fw: fw as unknown as Framework, publish };
}

const nodeName = '_c_x-lock-0000000001';
const node = { path: `/l/${nodeName}`, nodeName, sessionId: SESSION, czxid: 7n };
const flush = () => new Promise((resolve) => setImmediate(resolve));

describe('lease shell on a virtual clock', () => {
  it('SUSPENDED → uncertain with a deadline from the last response; the deadline → lost', async () => {
    const clock = new VirtualClock(1000);
    const { fw, publish } = scriptedFramework({ current: SESSION });
    const lease = new Lease(new HeldLease(fw, node, { clock }), '/l');
    publish('SUSPENDED', 5000);
    assert.equal(lease.state, 'uncertain');
    // Last response assumed one read timeout (2/3) before SUSPENDED; 10 % margin off the timeout.
    const deadline = 5000 - 2000 + 2700;
    assert.deepEqual(lease.detail, { kind: 'uncertain', deadlineMs: deadline });
    await clock.advance(deadline - 1 - clock.nowMs());
    assert.equal(lease.state, 'uncertain');
    await clock.advance(1);
    assert.equal(lease.state, 'lost');
    assert.ok(lease.signal.aborted);
  });

  it('a reconnect with the same session and our node makes it held again', async () => {
    const clock = new VirtualClock(1000);
    const { fw, publish } = scriptedFramework({ current: SESSION });
    const lease = new Lease(new HeldLease(fw, node, { clock }), '/l');
    const states: string[] = [];
    lease.on('state', (s) => states.push(s.kind));
    publish('SUSPENDED', 5000);
    publish('RECONNECTED', 5100);
    await flush();
    assert.deepEqual(states, ['uncertain', 'held']);
    assert.equal(clock.pendingTimers, 0, 'the deadline timer is gone');
    assert.equal(lease.signal.aborted, false);
  });

  it('a reconnect that finds our node gone or owned by another session makes it lost', async () => {
    const clock = new VirtualClock(1000);
    const owner = { current: undefined as bigint | undefined };
    const { fw, publish } = scriptedFramework(owner);
    const lease = new Lease(new HeldLease(fw, node, { clock }), '/l');
    publish('SUSPENDED', 5000);
    publish('RECONNECTED', 5100);
    await flush();
    assert.deepEqual(lease.detail, { kind: 'lost', reason: 'node-deleted' });
    const stranger = scriptedFramework({ current: 0x99n });
    const other = new Lease(new HeldLease(stranger.fw, node, { clock }), '/l');
    stranger.publish('SUSPENDED', 5000);
    stranger.publish('RECONNECTED', 5100);
    await flush();
    assert.deepEqual(other.detail, { kind: 'lost', reason: 'not-owner' });
  });

  it('a new session (RECONNECTED after LOST) makes it lost; onSuspended lose loses at SUSPENDED', () => {
    const clock = new VirtualClock(1000);
    const a = scriptedFramework({ current: SESSION });
    const lease = new Lease(new HeldLease(a.fw, node, { clock }), '/l');
    a.publish('RECONNECTED', 2000, 0x11n);
    assert.deepEqual(lease.detail, { kind: 'lost', reason: 'session-expired' });
    const b = scriptedFramework({ current: SESSION });
    const resigning = new Lease(new HeldLease(b.fw, node, { clock, onSuspended: 'lose' }), '/l');
    b.publish('SUSPENDED', 2000);
    assert.deepEqual(resigning.detail, { kind: 'lost', reason: 'suspended' });
  });

  it('release is idempotent and final; handles of a re-entered lease release the node once', async () => {
    const clock = new VirtualClock(1000);
    let deletes = 0;
    const { fw } = scriptedFramework({ current: SESSION });
    (fw as unknown as { delete: () => Promise<void> }).delete = async () => void deletes++;
    const held = new HeldLease(fw, node, { clock });
    const outer = new Lease(held, '/l');
    const inner = new Lease(held, '/l');
    await inner.release();
    await inner.release();
    assert.equal(deletes, 0);
    assert.equal(outer.state, 'held');
    await outer.release();
    assert.equal(deletes, 1);
    assert.equal(outer.state, 'released');
  });
});

describe('lock shells refuse bad arguments', () => {
  const fw = {} as Framework;
  it('bad paths, limits and timeouts', async () => {
    assert.throws(() => new Mutex(fw, 'no-slash'), /bad lock path/);
    assert.throws(() => new Mutex(fw, '/'), /bad lock path/);
    assert.throws(() => new Semaphore(fw, '/s', { maxLeases: 0 }), /maxLeases/);
    assert.throws(() => new MultiLock(fw, ['/a', '/a/b']), /must not nest/);
    await assert.rejects(new Mutex(fw, '/m').acquire({ timeoutMs: -1 }), /timeoutMs/);
  });
});
