// The getting-started page's program: start the bundled server in this process, connect, take a lock.
//
//   node --import tsx examples/getting-started.ts
import { createFramework, exponentialBackoff } from '../src/index.js';
import { Mutex } from '../recipes/index.js';
import { startServer } from '../server/index.js';

await using server = await startServer(); // a free loopback port, in memory
await using zk = createFramework({
  connectString: server.connectString, // or '127.0.0.1:2181' for a server you started
  retry: exponentialBackoff({ baseSleepMs: 100, maxRetries: 5 }),
});
await zk.blockUntilConnected();

const mutex = new Mutex(zk, '/locks/first-lock');
{
  await using lease = await mutex.acquire({ timeoutMs: 5_000 });
  console.log(`I hold ${lease.lockPath}; fencing token ${lease.fencingToken}`);
  // ... the work that must not run twice at once; stop if lease.signal aborts ...
} // leaving the block releases the lock
console.log('released');
