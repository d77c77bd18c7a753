// Issue 8's recipe figures: mutex acquire + release cycles per second uncontended, and the hand-off
// latency among 4 contenders, for Curator 5.4's InterProcessMutex (Java) and kazoo's Lock (Python),
// and our Mutex (recipes/locks) as the first side, all against one Apache ZooKeeper 3.8 standalone
// server in the same run, so the table shows ours/Curator and ours/kazoo ratios.
import { randomBytes } from 'node:crypto';
import { createFramework } from '../src/index.js';
import { Mutex } from '../recipes/index.js';
import { comparison, type Comparison, type Figure, type RunMode, type Side } from './comparison.js';
import { curatorAvailable, startBenchCurator, type CuratorHarness } from './curator.js';
import { kazooAvailable, startKazoo, type KazooLockBench } from './kazoo.js';
import { mutexCycles, mutexHandoff, type AcquireLock } from './mutex-workload.js';
import { apacheAvailable, startApacheServer, type BenchServer } from './servers.js';

const CONTENDERS = 4;
const COUNTS = { quick: { cycles: 100, acquisitions: 100 }, full: { cycles: 500, acquisitions: 400 } };

export const MUTEX_FIGURES: Figure[] = [
  { key: 'uncontended acquire+release', unit: 'cycles/s', higherIsBetter: true },
  { key: `hand-off p50, ${CONTENDERS} contenders`, unit: 'ms', higherIsBetter: false },
  { key: `hand-off p99, ${CONTENDERS} contenders`, unit: 'ms', higherIsBetter: false },
];

/** Shared by every side: one server, and the baselines' long-lived processes (JIT warm, connected). */
export interface MutexContext {
  server: BenchServer;
  curator: CuratorHarness;
  kazoo: KazooLockBench;
}

export function mutexFigures(
  cycles: { cycles: number; elapsedMs: number },
  handoff: { handoffP50Ms: number; handoffP99Ms: number },
): Record<string, number> {
  return {
    [MUTEX_FIGURES[0]!.key]: (cycles.cycles * 1000) / cycles.elapsedMs,
    [MUTEX_FIGURES[1]!.key]: handoff.handoffP50Ms,
    [MUTEX_FIGURES[2]!.key]: handoff.handoffP99Ms,
  };
}

/** A fresh lock path per round, so no round sees another's leftover contenders. */
export function lockPath(side: string): string {
  return `/bench-locks/${side}-${randomBytes(6).toString('hex')}`;
}

const curatorSide: Side<MutexContext> = {
  label: 'Curator InterProcessMutex',
  async measure({ server, curator }, { quick }: RunMode) {
    const counts = COUNTS[quick ? 'quick' : 'full'];
    const cycles = await curator.mutexCycles(lockPath('curator'), counts.cycles, { timeoutMs: 120_000 });
    const handoff = await curator.mutexHandoff(
      server.connectString,
      lockPath('curator'),
      CONTENDERS,
      counts.acquisitions,
    );
    return mutexFigures(cycles, handoff);
  },
};

const kazooSide: Side<MutexContext> = {
  label: 'kazoo Lock',
  async measure({ kazoo }, { quick }: RunMode) {
    const counts = COUNTS[quick ? 'quick' : 'full'];
    const cycles = await kazoo.cycles(lockPath('kazoo'), counts.cycles);
    const handoff = await kazoo.handoff(lockPath('kazoo'), CONTENDERS, counts.acquisitions);
    return mutexFigures(cycles, handoff);
  },
};

/** One session's handle on a lock path, for a mutex written in TypeScript. */
export interface MutexContender {
  acquire: AcquireLock;
  close(): Promise<void>;
}

/**
 * A side for a TypeScript mutex, measured as the harnesses measure theirs: `open` gives a contender
 * on its own session; one does the uncontended cycles, CONTENDERS others the hand-off.
 */
export function typeScriptMutexSide(
  label: string,
  open: (connectString: string, path: string) => Promise<MutexContender>,
): Side<MutexContext> {
  return {
    label,
    async measure({ server }, { quick, signal }: RunMode) {
      const counts = COUNTS[quick ? 'quick' : 'full'];
      const opened: MutexContender[] = [];
      try {
        const single = await open(server.connectString, lockPath(label));
        opened.push(single);
        const cycles = await mutexCycles(single.acquire, counts.cycles, signal);
        const handoffPath = lockPath(label);
        for (let i = 0; i < CONTENDERS; i++) opened.push(await open(server.connectString, handoffPath));
        const acquires = opened.slice(1).map((c) => c.acquire);
        const handoff = await mutexHandoff(acquires, counts.acquisitions, signal);
        return mutexFigures(cycles, handoff);
      } finally {
        await Promise.all(opened.map((c) => c.close().catch(() => undefined)));
      }
    },
  };
}

/** Our Mutex (recipes/locks) on a framework of its own per contender, with its default options. */
const ourSide: Side<MutexContext> = typeScriptMutexSide('ours', async (connectString, path) => {
  const framework = createFramework({ connectString });
  await framework.blockUntilConnected();
  const mutex = new Mutex(framework, path);
  return { acquire: (signal) => mutex.acquire({ signal }), close: () => framework.close() };
});

async function setup(): Promise<MutexContext & AsyncDisposable> {
  const server = await startApacheServer();
  const stops: Array<() => Promise<void>> = [() => server.stop()];
  const stopAll = async () => {
    for (const stop of stops.reverse()) await stop().catch(() => undefined);
  };
  try {
    const curator = await startBenchCurator(server.connectString);
    stops.push(() => curator.close());
    const kazoo = await startKazoo(server.connectString);
    stops.push(() => kazoo.close());
    return { server, curator, kazoo, [Symbol.asyncDispose]: stopAll };
  } catch (error) {
    await stopAll();
    throw error;
  }
}

export function recipeComparisons(): Comparison[] {
  return [
    comparison<MutexContext>({
      name: 'Mutex: ours vs Curator InterProcessMutex and kazoo Lock (Apache 3.8 standalone)',
      notes: [
        'Uncontended: one client acquires and releases one lock path in a loop, timed inside its',
        `  own process. Hand-off: ${CONTENDERS} clients (own sessions, one process) take one lock in`,
        '  turn; time from a holder starting its release to the next holder returning from acquire.',
        'Curator runs in a JVM with default JIT (warmed by an unrecorded first round); kazoo under',
        '  Debian python3. Goal (issue 8): ours ≥ 2× their cycles/s, hand-off p50 ≤ 0.5× theirs.',
        'Ours per uncontended cycle: one write (the release\'s delete and the next create in one',
        '  multi) with the new node\'s stat read right behind it: one round trip; Curator and kazoo:',
        '  two writes and three round trips (create, getChildren, delete).',
      ],
      figures: MUTEX_FIGURES,
      sides: [ourSide, curatorSide, kazooSide],
      firstIsOurs: true,
      async skipReason() {
        if (!apacheAvailable()) return 'Apache ZooKeeper (Debian `zookeeper`) or java is not installed';
        if (!curatorAvailable()) return 'Curator jars or javac are not installed';
        if (!kazooAvailable()) return '/usr/bin/python3 cannot import kazoo (Debian python3-kazoo)';
        return undefined;
      },
      setup,
    }),
  ];
}
