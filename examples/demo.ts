// `npm run demo`: menagerie's main jobs on the embedded default, a 3-member ensemble of the bundled
// server in this process (each member on its own loopback port, real TCP between them), in a few
// seconds:
//   1. four workers take turns in a critical section under a distributed mutex, each turn with a
//      fencing token, and a shared counter shows no lost update;
//   2. three candidates run a job under a leader latch; the leader's session is killed and another
//      candidate takes over;
//   3. services register, a client discovers them live, one instance goes away;
//   4. three members meet at a double barrier, work, and leave together;
//   5. the ensemble's leader server is killed: the others elect a new one, the latch's leader keeps
//      its term (its session survives), a lock is taken again, and the killed server rejoins.
// Each step prints as things happen. `npm run demo -- --standalone` runs steps 1-4 on one standalone
// server instead. It cleans up and exits 0 by itself.
import { createFramework, exponentialBackoff, txn, type Framework } from '../src/index.js';
import { DoubleBarrier, LeaderLatch, Mutex, ServiceDiscovery } from '../recipes/index.js';
import { startEnsemble, startServer, type RunningEnsemble } from '../server/index.js';

/** What the steps need of the server side, whichever it is. */
interface Servers {
  readonly connectString: string;
  expireSession(sessionId: bigint): Promise<void>;
}

const started = performance.now();
const elapsed = () => `${((performance.now() - started) / 1000).toFixed(1).padStart(5)}s`;
const say = (who: string, what: string) => console.log(`${elapsed()}  ${who.padEnd(12)} ${what}`);
const heading = (title: string) =>
  console.log(`\n── ${title} ${'─'.repeat(Math.max(0, 70 - title.length))}`);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function connect(connectString: string): Promise<Framework> {
  const zk = createFramework({
    connectString,
    sessionTimeoutMs: 6_000, // outlives a server failover (well under a second here)
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

async function leaderStep(connectString: string, server: Servers): Promise<void> {
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
  say('operator', `kills ${first.c.name}'s session on the server (as if its process had hung)`);
  const others = candidates.filter((c) => c !== first.c);
  const next = Promise.race(others.map(async (c) => ({ c, term: await c.latch.whenLeader() })));
  await server.expireSession(first.c.zk.sessionId);
  const second = await next;
  const tookMs = Math.round(performance.now() - killedAt);
  const nextTerm = second.term.term.toString(16);
  say(second.c.name, `took over in ${tookMs} ms (term 0x${nextTerm}, higher than the last)`);
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
        const count = cache.instances.length;
        say('client', `sees ${change.type} ${change.instance?.id ?? ''} → ${count} instance(s)`);
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

async function serverFailoverStep(ensemble: RunningEnsemble): Promise<void> {
  heading('5. the ensemble loses its leader server: the jobs carry on');
  const [cronA, cronB, worker] = await Promise.all([0, 1, 2].map(() => connect(ensemble.connectString)));
  const suspensions: string[] = [];
  cronA!.onConnectionStateChange(({ state }) => suspensions.push(state));
  const latchA = new LeaderLatch(cronA!, '/demo/leader/hourly-sync', { id: 'cron-a' });
  latchA.start();
  const term = await latchA.whenLeader();
  const latchB = new LeaderLatch(cronB!, '/demo/leader/hourly-sync', { id: 'cron-b' });
  latchB.start();
  say('cron-a', `leads the hourly sync (term 0x${term.term.toString(16)}); cron-b waits`);
  const mutex = new Mutex(worker!, '/demo/locks/ledger');
  let token: bigint;
  {
    await using lease = await mutex.acquire({ timeoutMs: 10_000 });
    token = lease.fencingToken;
    say('worker', `takes the ledger lock (fencing token 0x${token.toString(16)}) and releases it`);
  }
  const old = ensemble.leader()!;
  say('operator', `kills server ${old.myId}, the ensemble's leader: clients wait until a new one serves`);
  const killedAt = performance.now();
  await ensemble.stopMember(old.myId);
  const next = await ensemble.settled({ signal: AbortSignal.timeout(20_000) });
  say('ensemble', `server ${next.myId} elected leader in ${Math.round(performance.now() - killedAt)} ms; ` +
    `${describeModes(ensemble)}`);
  {
    await using lease = await mutex.acquire({ timeoutMs: 20_000 });
    if (lease.fencingToken <= token) throw new Error('the fencing token must grow across the failover');
    say('worker', `takes the ledger lock again (fencing token 0x${lease.fencingToken.toString(16)}, higher)`);
  }
  await cronA!.sync('/'); // answered once cron-a's client has reconnected to a serving member
  const still = await latchA.whenLeader({ signal: AbortSignal.timeout(20_000) });
  if (still.term !== term.term || latchB.hasLeadership) throw new Error('leadership should have carried on');
  const seen = suspensions.length > 0 ? suspensions.join(' → ') : 'no interruption';
  say('cron-a', `still leads, same term 0x${still.term.toString(16)} (connection: ${seen}, same session)`);
  const back = await ensemble.restartMember(old.myId);
  await ensemble.settled({ signal: AbortSignal.timeout(20_000) });
  say(`server ${old.myId}`, `restarts, catches up from the leader and rejoins as ${back.mode}`);
  await latchB.close();
  await latchA.close();
  await Promise.all([cronA, cronB, worker].map((zk) => zk!.close()));
}

function describeModes(ensemble: RunningEnsemble): string {
  return [...ensemble.members.values()].map((m) => `server ${m.myId} ${m.mode}`).join(', ');
}

async function main(): Promise<void> {
  const standalone = process.argv.includes('--standalone');
  console.log('menagerie demo: locks, leader election, discovery and barriers on the embedded ' +
    (standalone ? 'standalone server' : '3-member ensemble'));
  await using server = standalone ? await startServer({ clientPort: 0 }) : undefined;
  await using ensemble = standalone
    ? undefined
    : await startEnsemble({ size: 3, transport: 'tcp', serverOptions: { maxSessionTimeoutMs: 60_000 } });
  let servers: Servers;
  if (ensemble !== undefined) {
    await ensemble.settled({ signal: AbortSignal.timeout(20_000) });
    say('ensemble', `3 bundled ZooKeeper-compatible servers: ${describeModes(ensemble)}`);
    say('ensemble', `clients connect to ${ensemble.connectString}`);
    servers = ensemble;
  } else {
    say('server', `bundled ZooKeeper-compatible server listening on ${server!.connectString}`);
    servers = server!;
  }
  await lockStep(servers.connectString);
  await leaderStep(servers.connectString, servers);
  await discoveryStep(servers.connectString);
  await barrierStep(servers.connectString);
  if (ensemble !== undefined) await serverFailoverStep(ensemble);
  const stopping = standalone ? 'server stops' : 'servers stop';
  console.log(`\nAll steps done in ${elapsed().trim()}. The ${stopping} and the demo exits.`);
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
