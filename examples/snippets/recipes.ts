// The code shown in docs/recipes/*.md, type-checked with the rest of the repo (never run: the runnable
// programs are the examples one folder up). Each function is one page's usage block.
import { txn, type Framework } from '../../src/index.js';
import {
  Barrier,
  DistributedAtomicLong,
  DistributedQueue,
  DoubleBarrier,
  LeaderLatch,
  Mutex,
  ReadWriteLock,
  Semaphore,
  ServiceDiscovery,
  joinGroup,
  runAsLeader,
  startPersistentNode,
  startSharedCount,
  startTreeCache,
} from '../../recipes/index.js';

declare function writeReport(options: { signal: AbortSignal; fencingToken: bigint }): Promise<void>;

export async function locks(zk: Framework, signal: AbortSignal): Promise<void> {
  const mutex = new Mutex(zk, '/locks/billing', { owner: 'billing-worker-3' });
  await using lease = await mutex.acquire({ signal, timeoutMs: 5_000 });
  lease.on('uncertain', () => console.warn('connection SUSPENDED: finish or pause the critical work'));
  // Commits only while our lock node still exists (ZooKeeper-side fencing).
  await lease.guard([txn.setData('/billing/state', Buffer.from('next'))]);
  // Storage-side fencing: pass the token along; storage refuses tokens lower than one it has seen.
  await writeReport({ signal: lease.signal, fencingToken: lease.fencingToken });

  const rw = new ReadWriteLock(zk, '/locks/catalog');
  await using write = await rw.writeLock.acquire({ timeoutMs: 5_000 });
  await using read = await rw.downgrade(write);
  await write.release();

  const pool = new Semaphore(zk, '/semaphores/db', { maxLeases: 4 });
  await using slot = await pool.acquire({ timeoutMs: 10_000 });
  console.log(read.state, slot.fencingToken);
}

export async function leader(zk: Framework, signal: AbortSignal): Promise<void> {
  await using latch = new LeaderLatch(zk, '/election/reports', { id: 'worker-3' });
  latch.start();
  const term = await latch.whenLeader({ signal });
  await writeReport({ signal: term.signal, fencingToken: term.term });

  await using job = runAsLeader(
    zk,
    '/election/compactor',
    async (jobSignal, fencingToken) => {
      while (!jobSignal.aborted) await writeReport({ signal: jobSignal, fencingToken });
    },
    { id: 'worker-3', onSuspended: 'resign' },
  );
}

export async function discovery(zk: Framework): Promise<void> {
  await using discovery = new ServiceDiscovery(zk, { basePath: '/services' });
  await discovery.register({ name: 'api', port: 8080, payload: { region: 'eu' } });
  const instances = await discovery.instances('api');
  await using provider = await discovery.provider('api', { strategy: 'round-robin' });
  const instance = provider.getInstance();
  if (instance !== undefined) provider.noteError(instance);
  console.log(instances.length);
}

export async function barriers(zk: Framework, signal: AbortSignal): Promise<void> {
  const gate = new Barrier(zk, '/barriers/deploy');
  await gate.set();
  await gate.wait({ signal, timeoutMs: 30_000 }); // elsewhere: resolves once removed
  await gate.remove();

  const together = new DoubleBarrier(zk, '/barriers/job', 3);
  await together.enter({ timeoutMs: 60_000 });
  await together.leave({ signal });
}

export async function caches(zk: Framework, signal: AbortSignal): Promise<void> {
  await using cache = await startTreeCache(zk, '/config');
  console.log(cache.get('/config/db')?.data);
  for await (const event of cache.events({ signal })) {
    console.log(event.type, event.type === 'initialized' ? '' : event.path);
  }
}

export async function counters(zk: Framework): Promise<void> {
  await using count = await startSharedCount(zk, '/counters/slots', 10);
  const { value, version } = count.current;
  if (!(await count.trySet(value - 1, version))) console.log('someone changed it first');

  const requests = new DistributedAtomicLong(zk, '/counters/requests', {
    promotedLock: new Mutex(zk, '/locks/requests'),
  });
  const { succeeded, postValue } = await requests.increment();
  console.log(succeeded, postValue);
}

export async function queues(zk: Framework, signal: AbortSignal): Promise<void> {
  const queue = new DistributedQueue(zk, '/q/mail', { kind: 'priority', lockPath: '/q/mail-locks' });
  await queue.put('hello', { priority: 1 });
  await queue.consume(async (message) => console.log(String(message.items[0])), { signal });
}

export async function nodes(zk: Framework): Promise<void> {
  await using node = await startPersistentNode(zk, '/workers/w1', { mode: 'EPHEMERAL', data: 'x' });
  await node.setData('y');
  await using member = await joinGroup(zk, '/groups/workers', 'w1', 'host-a');
  console.log(member.currentMembers());
}
