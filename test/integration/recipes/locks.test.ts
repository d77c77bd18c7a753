// Lock leases through connection trouble and administration, against Apache ZooKeeper 3.8 behind a
// controlled proxy: SUSPENDED makes a lease uncertain, a quick reconnect makes it held again, an
// unreachable server makes it lost (signal aborted) before another client can get the lock; a broken
// lock is lost and guard() refuses; inspect, revocation, re-entrancy, read/write and semaphore rules.
import assert from 'node:assert/strict';
import { it } from 'mocha';
import { retryNTimes, txn, type Framework } from '../../../src/index.js';
import {
  LeaseLostError,
  Mutex,
  ReadWriteLock,
  Semaphore,
  breakLock,
  type Lease,
  type LeaseStateName,
} from '../../../recipes/index.js';
import { ephemeralsUnder } from '../../conformance/recipes/nodes.js';
import type { ControlledProxy } from '../../support/controlled-proxy.js';
import { describeOnRecipeServers } from './discovery-support/servers.js';

function nextState(lease: Lease, state: LeaseStateName): Promise<void> {
  return new Promise((resolve) => {
    if (lease.state === state) return resolve();
    const off = lease.on('state', () => {
      if (lease.state !== state) return;
      off();
      resolve();
    });
  });
}

describeOnRecipeServers('lock leases', '/leases/lock-', ({ fx, path: freshPath }) => {
  // The specs keep their indentation in this block, so specs added on other branches still merge.
  {
    const frameworkOptions = { retry: retryNTimes(3, 50), connectionTimeoutMs: 15_000 };

    function connect(options: { sessionTimeoutMs?: number } = {}): Promise<Framework> {
      return fx.framework({ ...frameworkOptions, sessionTimeoutMs: options.sessionTimeoutMs ?? 4000 });
    }

    async function proxied(sessionTimeoutMs = 4000): Promise<{ fw: Framework; proxy: ControlledProxy }> {
      const client = { connectTimeoutMs: 300, reconnectDelayMaxMs: 50 };
      const { zk, proxy } = await fx.proxied({ ...frameworkOptions, sessionTimeoutMs, client });
      return { fw: zk, proxy };
    }

    it('SUSPENDED makes a lease uncertain, and a reconnect with the same session makes it held', async () => {
      const path = freshPath();
      const { fw, proxy } = await proxied();
      await using lease = await new Mutex(fw, path).acquire();
      const uncertain = nextState(lease, 'uncertain');
      proxy.dropAll();
      await uncertain;
      assert.equal(lease.detail.kind, 'uncertain');
      await nextState(lease, 'held');
      assert.equal(lease.signal.aborted, false);
      const [created] = await lease.guard([txn.create(`${path}-data`, { data: 'x' })]);
      assert.equal(created.op, 'create');
    });

    it('an unreachable server makes the lease lost before anyone else can hold the lock', async () => {
      const path = freshPath();
      const { fw, proxy } = await proxied(1500);
      const lease = await new Mutex(fw, path).acquire();
      const other = new Mutex(await connect(), path);
      let lostAt = 0;
      let otherAt = 0;
      lease.signal.addEventListener('abort', () => (lostAt = performance.now()));
      proxy.blackhole(true);
      await nextState(lease, 'uncertain');
      const next = await other.acquire({ timeoutMs: 15_000 });
      otherAt = performance.now();
      assert.equal(lease.state, 'lost');
      assert.ok(lostAt > 0 && lostAt <= otherAt, 'lost before the other client held the lock');
      assert.ok(lease.signal.reason instanceof LeaseLostError);
      assert.ok(next.fencingToken > lease.fencingToken);
      await assert.rejects(lease.guard([]), LeaseLostError);
      await lease.release(); // a lost lease still releases quietly
      await next.release();
      proxy.blackhole(false);
    });

    it('a waiter whose session is lost re-queues with a new node and still gets the lock', async () => {
      const path = freshPath();
      const holder = await connect();
      const lease = await new Mutex(holder, path).acquire();
      const { fw, proxy } = await proxied(1200);
      const nodes: string[] = [];
      const waiting = new Mutex(fw, path).acquire({ onQueued: (p) => nodes.push(p) });
      while (nodes.length === 0) await new Promise((resolve) => setImmediate(resolve));
      const lost = new Promise<void>((resolve) => {
        const off = fw.onConnectionStateChange((c) => c.state === 'LOST' && (off(), resolve()));
      });
      proxy.blackhole(true);
      await lost;
      proxy.blackhole(false);
      while (nodes.length < 2) await new Promise((resolve) => setTimeout(resolve, 20));
      assert.notEqual(nodes[1], nodes[0]);
      await lease.release();
      const next = await waiting;
      assert.equal(next.nodePath, nodes[1]);
      assert.equal(next.state, 'held');
      assert.deepEqual(await ephemeralsUnder(holder, path), [next.nodePath]);
      await next.release();
    });

    it('closing the framework makes a held lease lost', async () => {
      const fw = await connect();
      const lease = await new Mutex(fw, freshPath()).acquire();
      await fw.close();
      await nextState(lease, 'lost');
      assert.ok(lease.signal.aborted);
      await lease.release();
    });

    it('breakLock deletes the holder: lease lost, guard refuses, the waiter gets the lock', async () => {
      const path = freshPath();
      const [a, b, admin] = [await connect(), await connect(), await connect()];
      const requestedMs = Date.now();
      const lease = await new Mutex(a, path, { owner: 'holder-a' }).acquire();
      const waiting = new Mutex(b, path, { owner: 'waiter-b' }).acquire();
      const inspection = await new Mutex(admin, path).inspect();
      assert.equal(inspection.holders.length, 1);
      const holderData = inspection.holders[0]!.data;
      assert.equal(holderData?.kind === 'menagerie' && holderData.owner, 'holder-a');
      // The node says when the holder queued; the lease says when it got the lock, not earlier.
      const requestedAt = holderData?.kind === 'menagerie' ? holderData.requestedAt : Number.NaN;
      assert.ok(requestedAt >= requestedMs && requestedAt <= lease.acquiredAtMs);
      assert.equal(inspection.holders[0]!.czxid, lease.fencingToken);
      const broken = await breakLock(admin, path);
      assert.equal(broken.length, 1);
      await nextState(lease, 'lost');
      assert.equal(lease.detail.kind === 'lost' && lease.detail.reason, 'node-deleted');
      await assert.rejects(lease.guard([txn.create(`${path}-late`)]), LeaseLostError);
      assert.equal(await admin.exists(`${path}-late`), null);
      const next = await waiting;
      assert.equal(next.state, 'held');
      await next.release();
      await lease.release();
    });

    it('inspect lists the queue in order; requestRevoke reaches the holder', async () => {
      const path = freshPath();
      const [a, b] = [await connect(), await connect()];
      const lease = await new Mutex(a, path, { owner: 'a' }).acquire();
      let queuedPath = '';
      let queued!: () => void;
      const inQueue = new Promise<void>((resolve) => (queued = resolve));
      const mutexB = new Mutex(b, path, { owner: 'b' });
      const waiting = mutexB.acquire({ onQueued: (p) => ((queuedPath = p), queued()) });
      await inQueue;
      const { holders, queue } = await mutexB.inspect();
      assert.equal(holders.length, 1);
      assert.deepEqual(queue.map((q) => `${path}/${q.nodeName}`), [queuedPath]);
      const revoked = new Promise<void>((resolve) => lease.on('revoke', () => resolve()));
      assert.equal((await mutexB.requestRevoke()).length, 1);
      await revoked;
      await lease.release();
      await (await waiting).release();
    });

    it('re-entry through the lease shares the node until the last handle is released', async () => {
      const path = freshPath();
      const fw = await connect();
      const mutex = new Mutex(fw, path);
      const outer = await mutex.acquire();
      const inner = await mutex.acquire({ reentrantFrom: outer });
      assert.equal(inner.nodePath, outer.nodePath);
      assert.equal(inner.fencingToken, outer.fencingToken);
      await inner.release();
      assert.equal((await ephemeralsUnder(fw, path)).length, 1, 'the outer handle still holds');
      await outer.release();
      assert.deepEqual(await ephemeralsUnder(fw, path), []);
    });

    it('read/write lock: readers share, a queued writer blocks later readers, downgrade too', async () => {
      const path = freshPath();
      const [a, b, c] = [await connect(), await connect(), await connect()];
      const read1 = await new ReadWriteLock(a, path).readLock.acquire();
      const read2 = await new ReadWriteLock(b, path).readLock.acquire();
      let writerQueued!: () => void;
      const queued = new Promise<void>((resolve) => (writerQueued = resolve));
      const writing = new ReadWriteLock(c, path).writeLock.acquire({ onQueued: () => writerQueued() });
      await queued;
      assert.equal(await new ReadWriteLock(a, path).readLock.tryAcquire(), undefined, 'writer preference');
      await read1.release();
      await read2.release();
      const write = await writing;
      const rw = new ReadWriteLock(c, path);
      const read = await rw.downgrade(write);
      let otherWriterQueued!: () => void;
      const otherQueued = new Promise<void>((resolve) => (otherWriterQueued = resolve));
      const otherLock = new ReadWriteLock(b, path).writeLock;
      const otherWrite = otherLock.acquire({ onQueued: () => otherWriterQueued() });
      await otherQueued;
      await write.release();
      assert.equal(read.state, 'held');
      const sharedRead = await new ReadWriteLock(a, path).readLock.tryAcquire();
      assert.equal(sharedRead, undefined, 'the queued writer is ahead of new readers');
      await read.release();
      await (await otherWrite).release();
    });

    it('a semaphore admits maxLeases holders and queues the next', async () => {
      const path = freshPath();
      const [a, b, c] = [await connect(), await connect(), await connect()];
      const one = await new Semaphore(a, path, { maxLeases: 2 }).acquire();
      const two = await new Semaphore(b, path, { maxLeases: 2 }).acquire();
      const third = new Semaphore(c, path, { maxLeases: 2 });
      assert.equal(await third.tryAcquire(), undefined);
      const waiting = third.acquire({ timeoutMs: 10_000 });
      await one.release();
      const lease = await waiting;
      assert.equal((await third.leaseNodes()).length, 2);
      await lease.release();
      await two.release();
    });
  }
});
