// The "Use it" block of README.md, type-checked with the rest of the repo (never run: examples/demo.ts
// is the runnable tour). test/unit/docs-snippets.test.ts checks that the README still shows this code.
import { hostname as osHostname } from 'node:os';
import { createFramework, exponentialBackoff } from '../../src/index.js';
import { LeaderLatch, Mutex, ServiceDiscovery } from '../../recipes/index.js';

declare function writeReport(options: { fencingToken: bigint; signal: AbortSignal }): Promise<void>;
const hostname = osHostname();

export async function useIt(): Promise<void> {
  await using zk = createFramework({
    connectString: 'zk1:2181,zk2:2181,zk3:2181',
    retry: exponentialBackoff({ baseSleepMs: 1000, maxRetries: 3 }),
  });
  await zk.blockUntilConnected();

  // A lock around a critical section. The lease is released when the block ends; its fencingToken
  // (the lock node's czxid) increases with every acquisition, and lease.signal aborts if it is lost.
  const mutex = new Mutex(zk, '/locks/nightly-report');
  {
    await using lease = await mutex.acquire({ timeoutMs: 30_000 });
    await writeReport({ fencingToken: lease.fencingToken, signal: lease.signal });
  }

  // One job runner across the fleet.
  await using latch = new LeaderLatch(zk, '/leaders/report', { id: hostname });
  latch.start();
  const term = await latch.whenLeader(); // term.signal aborts when leadership ends

  // Register and discover service instances (Curator's layout and JSON).
  const discovery = new ServiceDiscovery(zk, { basePath: '/services' });
  await discovery.register({ name: 'payments', address: '10.0.0.5', port: 8080 });
  console.log(term);
}
