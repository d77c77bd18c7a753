// Lock around a job: three workers (three sessions, as three processes would be) share one Mutex;
// each runs its job only while it holds the lock and tags its writes with the lease's fencing token.
//
//   node --import tsx examples/lock-job.ts [host:port]
import { Mutex } from '../recipes/index.js';
import { ensemble } from './support.js';

await using zk = await ensemble();

async function worker(name: string): Promise<bigint> {
  const fw = await zk.connect();
  const mutex = new Mutex(fw, '/examples/locks/nightly-report', { owner: name });
  await using lease = await mutex.acquire({ timeoutMs: 10_000 });
  // The token grows with every new holder: a storage layer that remembers the highest token it has
  // seen can refuse writes from a holder that lost the lock during a long pause.
  console.log(`${name} holds the lock, fencing token ${lease.fencingToken}`);
  await new Promise((resolve) => setTimeout(resolve, 50));
  if (lease.signal.aborted) throw new Error(`${name} lost the lock mid-job`);
  console.log(`${name} done`);
  return lease.fencingToken;
}

const tokens = await Promise.all(['worker-1', 'worker-2', 'worker-3'].map(worker));
const distinct = new Set(tokens.map(String)).size;
console.log(`all ${tokens.length} jobs ran one at a time, ${distinct} distinct fencing tokens`);
