// Issue 12's remaining recipe figures, against one Apache ZooKeeper 3.8 standalone server: leader
// latch failover (the leader closes its latch → the next participant leads), ours beside Curator 5.4's
// LeaderLatch; and discovery cache propagation (a registration or unregistration on one session →
// a ServiceCache on another session reports it), ours with an A-vs-A side, since the Curator harness
// has no ServiceCache command yet.
import { randomBytes } from 'node:crypto';
import { createFramework, type Framework } from '../src/index.js';
import {
  LeaderLatch, ServiceDiscovery, type ServiceCache, type ServiceCacheEvent,
} from '../recipes/index.js';
import { comparison, type Comparison, type RunMode, type Side } from './comparison.js';
import { curatorAvailable, startBenchCurator, type CuratorHarness } from './curator.js';
import { apacheAvailable, startApacheServer, type BenchServer } from './servers.js';
import { summarize } from './stats.js';

const FAILOVERS = { quick: 20, full: 60 };
const PROPAGATIONS = { quick: 30, full: 100 };
const NODE_POLL_MS = 1;
const CURATOR_CLIENTS = ['latch-a', 'latch-b'];

interface RecipeContext {
  server: BenchServer;
  curator: CuratorHarness;
}

async function setup(): Promise<RecipeContext & AsyncDisposable> {
  const server = await startApacheServer();
  try {
    const curator = await startBenchCurator(server.connectString);
    for (const client of CURATOR_CLIENTS) await curator.connect(server.connectString, { client });
    const stop = async () => {
      await curator.close().catch(() => undefined);
      await server.stop();
    };
    return { server, curator, [Symbol.asyncDispose]: stop };
  } catch (error) {
    await server.stop();
    throw error;
  }
}

async function connectedFramework(connectString: string): Promise<Framework> {
  const framework = createFramework({ connectString });
  try {
    await framework.blockUntilConnected();
  } catch (error) {
    await framework.close();
    throw error;
  }
  return framework;
}

async function until(check: () => boolean | Promise<boolean>, signal: AbortSignal): Promise<void> {
  while (!(await check())) {
    signal.throwIfAborted();
    await new Promise((resolve) => setTimeout(resolve, NODE_POLL_MS));
  }
}

function failoverFigures(samplesMs: number[]): Record<string, number> {
  const summary = summarize(samplesMs);
  return { 'failover p50': summary.p50Ms, 'failover p99': summary.p99Ms };
}

/**
 * A chain of failovers on one latch path: a latch on one of two sessions leads; the next one joins
 * on the other session and its node is in place; the leader closes (silently), timed until the next
 * reports leading; it then leads the next failover.
 */
function ourLatchSide(label: string): Side<RecipeContext> {
  return { label, measure: ourLatchRound };
}

async function ourLatchRound({ server }: RecipeContext, { quick, signal }: RunMode) {
  const frameworks = [await connectedFramework(server.connectString)];
  try {
    frameworks.push(await connectedFramework(server.connectString));
    const path = `/bench-latch/ours-${randomBytes(6).toString('hex')}`;
    let leader = new LeaderLatch(frameworks[0]!, path, { id: 'p0' });
    leader.start();
    await leader.whenLeader({ signal });
    const samples: number[] = [];
    for (let i = 1; i <= FAILOVERS[quick ? 'quick' : 'full']; i++) {
      const next = new LeaderLatch(frameworks[i % 2]!, path, { id: `p${i}` });
      next.start();
      await until(() => next.ourPath !== undefined, signal);
      const startMs = performance.now();
      const led = next.whenLeader({ signal });
      await leader.close({ mode: 'silent' });
      await led;
      samples.push(performance.now() - startMs);
      leader = next;
    }
    await leader.close();
    return failoverFigures(samples);
  } finally {
    await Promise.all(frameworks.map((f) => f.close().catch(() => undefined)));
  }
}

const curatorLatchSide: Side<RecipeContext> = {
  label: 'Curator LeaderLatch',
  async measure({ curator }, { quick, signal }: RunMode) {
    const path = `/bench-latch/curator-${randomBytes(6).toString('hex')}`;
    const handle = (i: number) => `${path}#${i}`;
    let leader = handle(0);
    await curator.latchStart(leader, path, 'p0', { client: CURATOR_CLIENTS[0] });
    await curator.nextLeadership(leader, true);
    const samples: number[] = [];
    for (let i = 1; i <= FAILOVERS[quick ? 'quick' : 'full']; i++) {
      const next = handle(i);
      await curator.latchStart(next, path, `p${i}`, { client: CURATOR_CLIENTS[i % 2] });
      await until(async () => (await curator.latchState(next)).ourPath !== null, signal);
      const startMs = performance.now();
      const led = curator.nextLeadership(next, true);
      await curator.latchClose(leader, 'silent');
      await led;
      samples.push(performance.now() - startMs);
      leader = next;
    }
    await curator.latchClose(leader);
    return failoverFigures(samples);
  },
};

/** Resolves when `cache` reports an event of `type` for instance `id`. */
function cacheEvent<P>(cache: ServiceCache<P>, type: 'added' | 'removed', id: string): Promise<void> {
  return new Promise((resolve) => {
    const off = cache.onChange((event: ServiceCacheEvent<P>) => {
      if (event.type === type && event.instance.id === id) {
        off();
        resolve();
      }
    });
  });
}

interface ServerContext {
  server: BenchServer;
}

async function setupServer(): Promise<ServerContext & AsyncDisposable> {
  const server = await startApacheServer();
  return { server, [Symbol.asyncDispose]: () => server.stop() };
}

function discoverySide(label: string): Side<ServerContext> {
  return {
    label,
    async measure({ server }, { quick, signal }: RunMode) {
      const frameworks = [await connectedFramework(server.connectString)];
      try {
        frameworks.push(await connectedFramework(server.connectString));
        const basePath = `/bench-discovery/${randomBytes(6).toString('hex')}`;
        const registering = new ServiceDiscovery(frameworks[0]!, { basePath });
        const watching = new ServiceDiscovery(frameworks[1]!, { basePath });
        const cache = await watching.cache('worker', { signal });
        const [added, removed]: [number[], number[]] = [[], []];
        for (let i = 0; i < PROPAGATIONS[quick ? 'quick' : 'full']; i++) {
          signal.throwIfAborted();
          const id = `w${i}`;
          let startMs = performance.now();
          let seen = cacheEvent(cache, 'added', id);
          const instance = { name: 'worker', id, address: '127.0.0.1', port: 8000 + i };
          await registering.register(instance, { signal });
          await seen;
          added.push(performance.now() - startMs);
          startMs = performance.now();
          seen = cacheEvent(cache, 'removed', id);
          await registering.unregister(id);
          await seen;
          removed.push(performance.now() - startMs);
        }
        await watching.close();
        await registering.close();
        const [a, r] = [summarize(added), summarize(removed)];
        return {
          'register → cache added p50': a.p50Ms,
          'register → cache added p99': a.p99Ms,
          'unregister → cache removed p50': r.p50Ms,
          'unregister → cache removed p99': r.p99Ms,
        };
      } finally {
        await Promise.all(frameworks.map((f) => f.close().catch(() => undefined)));
      }
    },
  };
}

async function skipReason(): Promise<string | undefined> {
  if (!apacheAvailable()) return 'Apache ZooKeeper (Debian `zookeeper`) or java is not installed';
  if (!curatorAvailable()) return 'Curator jars or javac are not installed';
  return undefined;
}

export function recipeLatencyComparisons(): Comparison[] {
  return [
    comparison<RecipeContext>({
      name: 'Leader latch failover: ours vs Curator LeaderLatch (Apache 3.8 standalone)',
      notes: [
        'A chain of failovers on one latch path, participants alternating between two sessions: the',
        '  next participant joins and its node exists, then the leader closes its latch (silent); the',
        '  time runs from the close to the next participant reporting leadership (ours: whenLeader;',
        '  Curator: its LeaderLatchListener, seen through the harness\'s stdout, which adds a pipe hop).',
        '"ours again" is our side measured a second time in each round: the A-vs-A band.',
        `${FAILOVERS.full} failovers per round (${FAILOVERS.quick} quick). Goal (issue 12):`,
        '  ≤ 0.75× the baseline.',
      ],
      figures: [
        { key: 'failover p50', unit: 'ms', higherIsBetter: false },
        { key: 'failover p99', unit: 'ms', higherIsBetter: false },
      ],
      sides: [ourLatchSide('ours'), curatorLatchSide, ourLatchSide('ours again')],
      firstIsOurs: true,
      skipReason,
      setup,
    }),
    comparison<ServerContext>({
      name: 'Discovery cache propagation: ours, A-vs-A (Apache 3.8 standalone)',
      notes: [
        'ServiceDiscovery.register (unregister) of an instance on one session, timed until a',
        '  ServiceCache of that service on another session reports it added (removed).',
        `${PROPAGATIONS.full} of each per round (${PROPAGATIONS.quick} quick). No Curator side: the`,
        '  interop harness has no ServiceCache command; "ours again" is the noise band.',
      ],
      figures: [
        { key: 'register → cache added p50', unit: 'ms', higherIsBetter: false },
        { key: 'register → cache added p99', unit: 'ms', higherIsBetter: false },
        { key: 'unregister → cache removed p50', unit: 'ms', higherIsBetter: false },
        { key: 'unregister → cache removed p99', unit: 'ms', higherIsBetter: false },
      ],
      sides: [discoverySide('ours'), discoverySide('ours again')],
      firstIsOurs: true,
      async skipReason() {
        if (!apacheAvailable()) return 'Apache ZooKeeper (Debian `zookeeper`) or java is not installed';
        return undefined;
      },
      setup: setupServer,
    }),
  ];
}
