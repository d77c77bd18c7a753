// Our locks and leader latch share paths with the real Curator 5.4 on Apache ZooKeeper 3.8: Curator's
// InterProcessMutex and our Mutex exclude each other (a shared counter read and written under the
// lock loses no update), and Curator's LeaderLatch and ours elect exactly one leader.
import assert from 'node:assert/strict';
import { describe, it } from 'mocha';
import { createFramework, retryNTimes, type Framework } from '../../../src/index.js';
import { LeaderLatch, Mutex, ReadWriteLock, Semaphore, runAsLeader } from '../../../recipes/index.js';
import { apacheAvailable, startApache, type ApacheServer } from '../../support/apache.js';
import { curatorAvailable, startCurator, type CuratorHarness } from '../../support/curator.js';

describe('locks and leader latch with real Curator 5.4 on Apache 3.8', function () {
  this.timeout(60_000);
  let server: ApacheServer;
  let curator: CuratorHarness;
  let fw: Framework;

  before(async function () {
    if (!apacheAvailable() || !curatorAvailable()) this.skip();
    server = await startApache();
    curator = await startCurator(server.connectString);
    fw = createFramework({ connectString: server.connectString, retry: retryNTimes(3, 50) });
    await fw.blockUntilConnected();
  });

  after(async () => {
    await fw?.close();
    await curator?.close();
    await server?.stop();
  });

  it('Curator InterProcessMutex and our Mutex exclude each other: no lost counter update', async () => {
    const path = '/interop-locks/mutex';
    const counter = '/interop-locks/counter';
    await fw.create(counter, { data: '0', createParents: true });
    const cycles = 12;
    const read = async () => Number((await fw.getData(counter)).data?.toString());
    const ours = (async () => {
      const mutex = new Mutex(fw, path, { owner: 'node' });
      for (let i = 0; i < cycles; i++) {
        await using lease = await mutex.acquire({ timeoutMs: 30_000 });
        const value = await read();
        await fw.sync('/'); // widen the window a lost update would need
        await lease.guard([]);
        await fw.setData(counter, String(value + 1));
      }
    })();
    const theirs = (async () => {
      for (let i = 0; i < cycles; i++) {
        const { acquired } = await curator.mutexAcquire('java', path, { waitMs: 30_000, timeoutMs: 40_000 });
        assert.ok(acquired);
        const value = Number((await curator.get(counter)).data.toString());
        await curator.set(counter, Buffer.from(String(value + 1)));
        await curator.mutexRelease('java');
      }
    })();
    await Promise.all([ours, theirs]);
    assert.equal(await read(), 2 * cycles);
  });

  it('while we hold the mutex Curator cannot, and while Curator holds it we cannot', async () => {
    const path = '/interop-locks/exclusive';
    const mutex = new Mutex(fw, path);
    const lease = await mutex.acquire();
    const blocked = await curator.mutexAcquire('java2', path, { waitMs: 300 });
    assert.equal(blocked.acquired, false);
    await lease.release();
    const held = await curator.mutexAcquire('java2', path, { waitMs: 5_000 });
    assert.equal(held.acquired, true);
    assert.equal(await mutex.tryAcquire(), undefined);
    const { holders } = await mutex.inspect();
    assert.equal(`${path}/${holders[0]!.nodeName}`, held.lockPath);
    await curator.mutexRelease('java2');
    const after = await mutex.tryAcquire();
    assert.ok(after);
    await after.release();
  });

  it("revocation both ways: Curator's Revoker reaches us, our requestRevoke reaches Curator", async () => {
    const path = '/interop-locks/revoke';
    const mutex = new Mutex(fw, path);
    const lease = await mutex.acquire();
    const asked = new Promise<void>((resolve) => lease.on('revoke', () => resolve()));
    await curator.revoke(lease.nodePath);
    await asked;
    await lease.release(); // cooperative: we chose to let go
    const java = await curator.mutexAcquire('java-revocable', path, { waitMs: 5_000, revocable: true });
    assert.equal(java.acquired, true);
    assert.equal((await mutex.requestRevoke()).length, 1);
    const event = await curator.nextEvent((e) => e.event === 'revoke' && e.handle === 'java-revocable');
    assert.equal(event.handle, 'java-revocable');
    await curator.mutexRelease('java-revocable');
  });

  it('Curator InterProcessSemaphoreV2 and our Semaphore share maxLeases', async () => {
    const path = '/interop-locks/semaphore';
    const ours = new Semaphore(fw, path, { maxLeases: 2 });
    const first = await ours.acquire();
    const java = await curator.semaphoreAcquire('java-sem', path, 2, { waitMs: 5_000 });
    assert.equal(java.acquired, true, 'Curator takes the second lease');
    assert.equal(await ours.tryAcquire(), undefined, 'no third lease for us');
    const javaBlocked = await curator.semaphoreAcquire('java-sem-2', path, 2, { waitMs: 300 });
    assert.equal(javaBlocked.acquired, false, 'no third lease for Curator');
    await curator.semaphoreRelease('java-sem');
    const second = await ours.acquire({ timeoutMs: 5_000 });
    assert.equal((await ours.leaseNodes()).length, 2);
    await first.release();
    await second.release();
  });

  it('Curator InterProcessReadWriteLock and ours: readers share, writers exclude both ways', async () => {
    const path = '/interop-locks/rw';
    const rw = new ReadWriteLock(fw, path);
    const read = await rw.readLock.acquire();
    const javaRead = await curator.rwAcquire('java-rw', path, 'read', { waitMs: 5_000 });
    assert.equal(javaRead.acquired, true, 'readers share across libraries');
    await curator.rwRelease('java-rw', 'read');
    const javaWrite = curator.rwAcquire('java-rw', path, 'write', { waitMs: 10_000, timeoutMs: 15_000 });
    await read.release();
    assert.equal((await javaWrite).acquired, true);
    assert.equal(await rw.readLock.tryAcquire(), undefined);
    assert.equal(await rw.writeLock.tryAcquire(), undefined);
    await curator.rwRelease('java-rw', 'write');
    const write = await rw.writeLock.acquire({ timeoutMs: 5_000 });
    const javaBlocked = await curator.rwAcquire('java-rw-2', path, 'read', { waitMs: 300 });
    assert.equal(javaBlocked.acquired, false, 'our writer excludes Curator readers');
    await write.release();
  });

  it('Curator LeaderLatch and ours on one path: exactly one leader, then the other', async () => {
    const path = '/interop-locks/latch';
    await curator.latchStart('java-latch', path, 'java');
    await curator.nextLeadership('java-latch', true);
    await using latch = new LeaderLatch(fw, path, { id: 'node' });
    latch.start();
    await new Promise<void>((resolve, reject) => {
      const check = async () => {
        try {
          if ((await latch.participants()).length === 2) resolve();
          else setTimeout(() => void check(), 20);
        } catch (error) {
          reject(error);
        }
      };
      void check();
    });
    assert.equal(latch.hasLeadership, false);
    const javaView = await curator.latchState('java-latch');
    assert.equal(javaView.hasLeadership, true);
    assert.deepEqual(
      javaView.participants.map((p) => p.id),
      (await latch.participants()).map((p) => p.id),
    );
    await curator.latchClose('java-latch');
    const term = await latch.whenLeader();
    assert.equal(latch.hasLeadership, true);
    assert.equal((await latch.leader())?.id, 'node');
    assert.ok(term.term > 0n);
    // And the other way round: Curator waits behind our leader.
    await curator.latchStart('java-latch-2', path, 'java2');
    const state = await curator.latchState('java-latch-2');
    assert.equal(state.hasLeadership, false);
    assert.equal(state.leaderId, 'node');
    await latch.close();
    await curator.nextLeadership('java-latch-2', true);
    await curator.latchClose('java-latch-2');
  });

  it('Curator LeaderSelector and our runAsLeader on one path: one term at a time', async () => {
    const path = '/interop-locks/selector';
    await curator.selectorStart('java-sel', path, 'java');
    await curator.nextSelectorTerm('java-sel', true);
    let javaLeading = true;
    let overlaps = 0;
    let ourTerms = 0;
    let ourTermStarted!: () => void;
    const started = new Promise<void>((resolve) => (ourTermStarted = resolve));
    const selector = runAsLeader(fw, path, async (signal) => {
      if (javaLeading) overlaps++;
      ourTerms++;
      ourTermStarted();
      await new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
    }, { id: 'node' });
    try {
      while ((await selector.participants()).length < 2) await new Promise((r) => setTimeout(r, 20));
      assert.equal(ourTerms, 0, 'we wait while Curator leads');
      assert.equal((await selector.leader())?.id, 'java');
      javaLeading = false;
      await curator.selectorRelease('java-sel');
      await curator.nextSelectorTerm('java-sel', false);
      await started;
      assert.equal(selector.hasLeadership, true);
    } finally {
      await selector.close();
    }
    await curator.nextSelectorTerm('java-sel', true);
    assert.equal(overlaps, 0);
    await curator.selectorClose('java-sel');
  });
});
