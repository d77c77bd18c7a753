// `npm run demo`: menagerie's main jobs, on the embedded server, in about half a minute.
//   1. four workers take turns in a critical section under a distributed mutex, each turn with a
//      fencing token, and a shared counter shows no lost update;
//   2. three candidates run a job under a leader latch; the leader's session is killed and another
//      candidate takes over;
//   3. services register, a client discovers them live, one instance goes away;
//   4. three members meet at a double barrier, work, and leave together.
// Each step prints as things happen, so there is always something to read. The server is the
// bundled standalone server on a free loopback port (the replicated ensemble is not in this build
// yet). It cleans up and exits 0 by itself.
import { createFramework, exponentialBackoff, txn, type Framework } from '../src/index.js';
import { DoubleBarrier, LeaderLatch, Mutex, ServiceDiscovery } from '../recipes/index.js';
import { startServer } from '../server/index.js';

const started = performance.now();
const elapsed = () => `${((performance.now() - started) / 1000).toFixed(1).padStart(5)}s`;
const say = (who: string, what: string) => console.log(`${elapsed()}  ${who.padEnd(12)} ${what}`);
const heading = (title: string) => console.log(`\n── ${title} ${'─'.repeat(Math.max(0, 70 - title.length))}`);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function connect(connectString: string): Promise<Framework> {
  const zk = createFramework({
    connectString,
    sessionTimeoutMs: 4_000,
    retry: exponentialBackoff({ baseSleepMs: 100, maxRetries: 5 }),
  });
  await zk.blockUntilConnected({ timeoutMs: 10_000 });
  return zk;
}

async function lockStep(connectString: string): Promise<void> {
  heading('1. a distributed mutex with fencing tokens');
  const workers = await Promise.all(['worker-1', 'worker-2', 'worker-3', 'worker-4'].map(async (name) => ({
    name,
    zk: await connect(connectString),
  })));
  const counterPath = '/demo/counter';
  await workers[0].zk.create(counterPath, { data: Buffer.from('0'), createParents: true });
  let lastToken = -1n;
  await Promise.all(
    workers.map(async ({ name, zk }) => {
      const mutex = new Mutex(zk, '/demo/locks/report-job');
      for (let turn = 0; turn < 2; turn++) {
        await using lease = await mutex.acquire({ timeoutMs: 20_000 });
        if (lease.fencingToken <= lastToken) throw new Error('fencing tokens must increase');
        lastToken = lease.fencingToken;
        // Read-modify-write under the lock; guard() commits only while our lock node still exists.
        const { data, stat } = await zk.getData(counterPath);
        const next = Number(String(data)) + 1;
        await sleep(60);
        await lease.guard([txn.setData(counterPath, Buffer.from(String(next)), { version: stat.version })]);
        say(name, `holds the lock (fencing token 0x${lease.fencingToken.toString(16)}), counter → ${next}`);
      }
    }),
  );
  const { data } = await workers[0].zk.getData(counterPath);
  say('check', `counter is ${String(data)} after ${workers.length * 2} guarded increments: no lost update`);
  await Promise.all(workers.map(({ zk }) => zk.close()));
}

async function leaderStep(connectString: string, server: Awaited<ReturnType<typeof startServer>>): Promise<void> {
  heading('2. a leader latch: one job runner, failover when the leader dies');
  const candidates = await Promise.all(['node-a', 'node-b', 'node-c'].map(async (name) => {
    const zk = await connect(connectString);
    const latch = new LeaderLatch(zk, '/demo/leader/nightly-report', { id: name });
    latch.start();
    return { name, zk, latch };
  }));
  const first = await Promise.race(candidates.map(async (c) => ({ c, term: await c.latch.whenLeader() })));
  say(first.c.name, `is the leader (term 0x${first.term.term.toString(16)}); it runs the nightly report`);
  const killedAt = performance.now();
  say('operator', `kills ${first.c.name}'s session on the server`);
  const others = candidates.filter((c) => c !== first.c);
  const next = Promise.race(others.map(async (c) => ({ c, term: await c.latch.whenLeader() })));
  await server.expireSession(first.c.zk.sessionId);
  const second = await next;
  say(second.c.name, `took over in ${Math.round(performance.now() - killedAt)} ms (term 0x${second.term.term.toString(16)}, higher than the last)`);
  for (const c of candidates) {
    await c.latch.close();
    await c.zk.close();
  }
}

async function discoveryStep(connectString: string): Promise<void> {
  heading('3. service discovery: register, discover live, lose an instance');
  const client = await connect(connectString);
  const discovery = new ServiceDiscovery(client, { basePath: '/demo/services' });
  await using cache = await discovery.cache('payments');
  let cleaningUp = false;
  const watching = (async () => {
    for await (const change of cache) {
      if (!cleaningUp && (change.type === 'added' || change.type === 'removed')) {
        say('client', `sees ${change.type} ${change.instance?.id ?? ''} → ${cache.instances.length} instance(s)`);
      }
    }
  })();
  const instances = await Promise.all([8081, 8082, 8083].map(async (port, i) => {
    const zk = await connect(connectString);
    const registry = new ServiceDiscovery(zk, { basePath: '/demo/services' });
    await registry.register({ name: 'payments', id: `payments-${i + 1}`, address: '127.0.0.1', port });
    say(`payments-${i + 1}`, `registered at 127.0.0.1:${port}`);
    return { zk, registry };
  }));
  const provider = await discovery.provider('payments', { strategy: 'round-robin' });
  for (let i = 0; i < 3; i++) {
    const chosen = provider.getInstance();
    say('client', `round robin picks ${chosen?.id} at ${chosen?.address}:${chosen?.port}`);
  }
  say('payments-2', 'crashes (its session closes, its ephemeral node goes)');
  await instances[1].zk.close();
  while (cache.instances.length !== 2) await sleep(20);
  cleaningUp = true;
  await provider.close();
  for (const { registry, zk } of [instances[0], instances[2]]) {
    await registry.close();
    await zk.close();
  }
  await cache.close();
  await watching;
  await discovery.close();
  await client.close();
}

async function barrierStep(connectString: string): Promise<void> {
  heading('4. a double barrier: start together, finish together');
  const members = await Promise.all(['loader', 'indexer', 'mailer'].map(async (name, i) => {
    const zk = await connect(connectString);
    return { name, zk, delayMs: 150 * (i + 1), barrier: new DoubleBarrier(zk, '/demo/barriers/batch', 3) };
  }));
  await Promise.all(members.map(async (m) => {
    await sleep(m.delayMs);
    say(m.name, 'arrives and waits to enter');
    await m.barrier.enter({ timeoutMs: 20_000 });
    say(m.name, 'enters (all three are in)');
    await sleep(m.delayMs * 2);
    say(m.name, 'done, waits for the others to leave');
    await m.barrier.leave({ timeoutMs: 20_000 });
    say(m.name, 'leaves (all three are done)');
  }));
  for (const m of members) await m.zk.close();
}

async function main(): Promise<void> {
  console.log('menagerie demo: locks, leader election, discovery and barriers on the embedded server');
  await using server = await startServer({ clientPort: 0 });
  say('server', `bundled ZooKeeper-compatible server listening on ${server.connectString}`);
  await lockStep(server.connectString);
  await leaderStep(server.connectString, server);
  await discoveryStep(server.connectString);
  await barrierStep(server.connectString);
  console.log(`\nAll steps done in ${elapsed().trim()}. The server stops and the demo exits.`);
}

const watchdog = setTimeout(() => {
  console.error('demo: did not finish within 60 s');
  process.exit(1);
}, 60_000);
watchdog.unref();

main().then(
  () => {
    clearTimeout(watchdog);
  },
  (error: unknown) => {
    console.error('demo failed:', error);
    process.exitCode = 1;
  },
);
