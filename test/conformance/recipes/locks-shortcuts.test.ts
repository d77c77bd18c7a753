// The mutex's round-trip shortcuts keep the lock exclusive on every server: a release folded into the
// next acquire takes the lock without a listing only when nothing queued meanwhile, and a waiter takes
// it without a listing only when the predecessor it watched was the last one ahead; a deleted
// predecessor that was not the head (an aborted waiter) never grants the lock.
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'mocha';
import { createFramework, installObserver, retryNTimes, type Framework } from '../../../src/index.js';
import { Mutex, type Lease } from '../../../recipes/index.js';
import { eventually } from '../../integration/framework/support/wait.js';
import { serverFactories, type ServerUnderTest } from './servers.js';

/** Counts completed requests by op name, process-wide, from the moment it is made. */
function countRequests(): { counts: Map<string, number>; stop(): void } {
  const counts = new Map<string, number>();
  const stop = installObserver({ request: ({ op }) => void counts.set(op, (counts.get(op) ?? 0) + 1) });
  return { counts, stop };
}

/** Tracks a pending acquire so the test can look at it without awaiting it. */
function track(promise: Promise<Lease>): { lease: Lease | undefined; error: unknown } {
  const box: { lease: Lease | undefined; error: unknown } = { lease: undefined, error: undefined };
  promise.then(
    (lease) => (box.lease = lease),
    (error: unknown) => (box.error = error),
  );
  return box;
}

/** Resolves once `mutex.acquire` has its node in the queue; returns the pending acquire. */
async function queue(mutex: Mutex, signal?: AbortSignal) {
  let queued!: () => void;
  const inQueue = new Promise<void>((resolve) => (queued = resolve));
  const box = track(mutex.acquire({ onQueued: () => queued(), ...(signal ? { signal } : {}) }));
  await inQueue;
  return box;
}

for (const factory of serverFactories) {
  describe(`mutex round-trip shortcuts on ${factory.name}`, function () {
    this.timeout(20_000);
    let server: ServerUnderTest;
    const frameworks: Framework[] = [];
    let pathCounter = 0;

    before(async function () {
      if (!factory.available()) this.skip();
      this.timeout(60_000);
      server = await factory.start();
    });

    afterEach(async () => {
      await Promise.all(frameworks.splice(0).map((f) => f.close()));
    });

    after(async () => {
      await server?.stop();
    });

    async function connect(): Promise<Framework> {
      const fw = createFramework({ connectString: server.connectString, retry: retryNTimes(3, 50) });
      frameworks.push(fw);
      await fw.blockUntilConnected();
      return fw;
    }

    const freshPath = () => `/shortcuts/m-${++pathCounter}`;

    it('release then acquire alone takes the lock in one write and no listing', async () => {
      const mutex = new Mutex(await connect(), freshPath());
      const first = await mutex.acquire();
      await first.release();
      const requests = countRequests();
      try {
        const second = await mutex.acquire();
        assert.equal(second.state, 'held');
        assert.ok(second.fencingToken > first.fencingToken, 'fencing tokens strictly increase');
        assert.equal(requests.counts.get('multi'), 1, 'the release rode in the acquire\'s transaction');
        assert.equal(requests.counts.get('getChildren') ?? 0, 0, 'no listing');
        await second.release({ confirm: true });
      } finally {
        requests.stop();
      }
    });

    it('a folded re-acquire behind a waiter that queued meanwhile does not get the lock', async () => {
      const path = freshPath();
      const holder = new Mutex(await connect(), path);
      const held = await holder.acquire();
      const waiter = await queue(new Mutex(await connect(), path));
      await held.release();
      const again = track(holder.acquire()); // folded: deletes the old node, queues behind the waiter
      await eventually(() => waiter.lease !== undefined);
      assert.equal(again.lease, undefined, 'the re-acquire waits behind the waiter');
      await waiter.lease!.release();
      await eventually(() => again.lease !== undefined);
      assert.ok(again.lease!.fencingToken > waiter.lease!.fencingToken);
      await again.lease!.release({ confirm: true });
    });

    it('a waiter whose predecessor was the head takes the lock when it goes, without a listing', async () => {
      const path = freshPath();
      const requests = countRequests();
      try {
        const held = await new Mutex(await connect(), path).acquire();
        const waiter = await queue(new Mutex(await connect(), path));
        const reads = () => requests.counts.get('getData') ?? 0;
        await eventually(() => reads() >= 2); // the holder watches its node, the waiter the holder
        const listings = requests.counts.get('getChildren') ?? 0;
        await held.release({ confirm: true });
        await eventually(() => waiter.lease !== undefined);
        assert.equal(requests.counts.get('getChildren') ?? 0, listings, 'no listing after the head went');
        await waiter.lease!.release({ confirm: true });
      } finally {
        requests.stop();
      }
    });

    it('an aborted waiter between the holder and us does not grant us the lock', async () => {
      const path = freshPath();
      const requests = countRequests();
      const count = (op: string) => requests.counts.get(op) ?? 0;
      try {
        const held = await new Mutex(await connect(), path).acquire();
        const abort = new AbortController();
        const aborted = await queue(new Mutex(await connect(), path), abort.signal);
        const waiter = await queue(new Mutex(await connect(), path));
        await eventually(() => count('getData') >= 3);
        const [listings, reads] = [count('getChildren'), count('getData')];
        abort.abort(new Error('gave up'));
        await eventually(() => aborted.error !== undefined);
        // Its node's deletion wakes the waiter: it lists again and watches the holder (a getData).
        await eventually(() => count('getChildren') > listings && count('getData') > reads);
        assert.equal(waiter.lease, undefined, 'the holder still holds the lock');
        assert.equal(held.state, 'held');
        await held.release();
        await eventually(() => waiter.lease !== undefined);
        assert.ok(waiter.lease!.fencingToken > held.fencingToken);
        await waiter.lease!.release({ confirm: true });
      } finally {
        requests.stop();
      }
    });
  });
}
