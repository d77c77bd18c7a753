// Issue 12's mixed read/write workload, the ZooKeeper paper's read-percentage curve: several client
// processes (bench/mixed-worker.ts), each with its own session and 64 requests outstanding, issue
// getData and setData on 100-byte znodes in a fixed mix for a fixed time; the figure is the total
// throughput at each read percentage. Ours beside Apache 3.8, standalone (with an A-vs-A side on
// the same server) and as 3-member ensembles with the workers spread over the members.
import { fork, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { trackChild } from './children.js';
import { comparison, type Comparison, type Figure, type RunMode, type Side } from './comparison.js';
import { startBenchEnsemble, type BenchEnsemble, type EnsembleKind } from './ensembles.js';
import { apacheAvailable, startApacheServer, startOurServer, type BenchServer } from './servers.js';
import type { WorkerCommand, WorkerReply } from './mixed-worker.js';

const READ_PERCENTS = {
  quick: [0, 20, 50, 80, 90, 100],
  full: [0, 10, 20, 30, 40, 50, 60, 70, 80, 90, 100],
};
const WORKERS = 4;
const OUTSTANDING_PER_WORKER = 64;
const ZNODES_PER_WORKER = 200;
const DURATION_MS = { quick: 500, full: 1_000 };
const WORKER_REPLY_TIMEOUT_MS = 30_000;

/** A forked worker and a one-request-at-a-time call over its IPC channel. */
interface Worker {
  call(command: WorkerCommand, signal?: AbortSignal): Promise<WorkerReply>;
  stop(): Promise<void>;
}

function forkWorker(): Worker {
  const file = fileURLToPath(new URL('./mixed-worker.ts', import.meta.url));
  const child: ChildProcess = trackChild(
    fork(file, [], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'ignore', 'pipe', 'ipc'] }),
  );
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4_000)));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const call = (command: WorkerCommand, signal?: AbortSignal) =>
    new Promise<WorkerReply>((resolve, reject) => {
      const done = (error?: Error, reply?: WorkerReply) => {
        clearTimeout(timer);
        child.off('message', onMessage);
        child.off('exit', onExit);
        signal?.removeEventListener('abort', onAbort);
        if (error !== undefined) reject(error);
        else if (reply!.type === 'error') reject(new Error(`mixed worker: ${reply!.message}`));
        else resolve(reply!);
      };
      const onMessage = (reply: WorkerReply) => done(undefined, reply);
      const onExit = () => done(new Error(`mixed worker exited:\n${stderr}`));
      const onAbort = () => done(new Error('aborted'));
      const timer = setTimeout(() => done(new Error(`mixed worker: no answer to ${command.type}`)),
        WORKER_REPLY_TIMEOUT_MS);
      child.on('message', onMessage);
      child.once('exit', onExit);
      signal?.addEventListener('abort', onAbort, { once: true });
      child.send(command);
    });
  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    })());
  return { call, stop };
}

/** Where each worker connects: a standalone server, or one ensemble member per worker in turn. */
type Target = { connectStrings: string[] };

interface MixedContext {
  workers: Worker[];
  targets: Target[];
}

function readFigures(percents: readonly number[]): Figure[] {
  return percents.map((p) => ({ key: `${p}% reads`, unit: 'ops/s', higherIsBetter: true }));
}

/** One round on one target: workers connect and create their znodes, then each read share in turn. */
async function curveRound(
  workers: Worker[],
  target: Target,
  { quick, signal }: RunMode,
): Promise<Record<string, number>> {
  const round = randomBytes(4).toString('hex');
  await Promise.all(
    workers.map((w, i) =>
      w.call({
        type: 'connect',
        connectString: target.connectStrings[i % target.connectStrings.length]!,
        parent: `/mixed-${round}-w${i}`,
        znodes: ZNODES_PER_WORKER,
      }, signal),
    ),
  );
  const figures: Record<string, number> = {};
  try {
    for (const readPercent of READ_PERCENTS[quick ? 'quick' : 'full']) {
      const durationMs = DURATION_MS[quick ? 'quick' : 'full'];
      const outstanding = OUTSTANDING_PER_WORKER;
      const command: WorkerCommand = { type: 'run', readPercent, durationMs, outstanding };
      const replies = await Promise.all(workers.map((w) => w.call(command, signal)));
      figures[`${readPercent}% reads`] = replies.reduce(
        (sum, r) => sum + (r.type === 'ran' ? (r.ops * 1000) / r.elapsedMs : 0),
        0,
      );
    }
  } finally {
    await Promise.all(workers.map((w) => w.call({ type: 'disconnect' }).catch(() => undefined)));
  }
  return figures;
}

function curveSide(label: string, targetIndex: number): Side<MixedContext> {
  return {
    label,
    measure: ({ workers, targets }, mode) => curveRound(workers, targets[targetIndex]!, mode),
  };
}

/** Starts the workers and the servers; the disposer stops all of them, also after a failed start. */
async function withWorkers(
  startTargets: (keep: (stop: () => Promise<void>) => void) => Promise<Target[]>,
): Promise<MixedContext & AsyncDisposable> {
  const stops: Array<() => Promise<void>> = [];
  const stopAll = async () => {
    await Promise.all(stops.splice(0).map((stop) => stop().catch(() => undefined)));
  };
  try {
    const workers = Array.from({ length: WORKERS }, forkWorker);
    for (const w of workers) stops.push(() => w.stop());
    const targets = await startTargets((stop) => stops.push(stop));
    return { workers, targets, [Symbol.asyncDispose]: stopAll };
  } catch (error) {
    await stopAll();
    throw error;
  }
}

async function skipReason(): Promise<string | undefined> {
  if (!apacheAvailable()) return 'Apache ZooKeeper (Debian `zookeeper`) or java is not installed';
  return undefined;
}

const COMMON_NOTES = [
  `${WORKERS} worker processes, each our client on its own session with ${OUTSTANDING_PER_WORKER}` +
    ` requests outstanding over its own ${ZNODES_PER_WORKER} znodes of 100 bytes: getData or setData`,
  '  in the given mix, for a fixed time per read percentage (0.5 s quick, 1 s full); the figure is',
  '  the sum of the workers\' completed requests per second. Both servers are durable (fsync before ack).',
  'The workers share the 2 cores with the servers, so the client side caps the read-heavy end.',
];

function standaloneCurve(quick: boolean): Comparison {
  return comparison<MixedContext>({
    name: 'Mixed read/write curve: ours vs Apache 3.8 standalone',
    notes: [
      ...COMMON_NOTES,
      '"our server again" is the same server measured a second time in each round: the A-vs-A band.',
    ],
    figures: readFigures(READ_PERCENTS[quick ? 'quick' : 'full']),
    sides: [curveSide('our server', 0), curveSide('Apache 3.8', 1), curveSide('our server again', 0)],
    firstIsOurs: true,
    rounds: { quick: 2, full: 4 },
    roundTimeLimitMs: { quick: 60_000, full: 90_000 },
    skipReason,
    setup: () =>
      withWorkers(async (keep) => {
        const servers: BenchServer[] = [];
        for (const start of [startOurServer, startApacheServer]) {
          const server = await start();
          keep(() => server.stop());
          servers.push(server);
        }
        return servers.map((s) => ({ connectStrings: [s.connectString] }));
      }),
  });
}

function ensembleCurve(quick: boolean): Comparison {
  const kinds: EnsembleKind[] = ['ours', 'apache'];
  return comparison<MixedContext>({
    name: 'Mixed read/write curve: 3 members of ours vs 3 of Apache 3.8',
    notes: [
      ...COMMON_NOTES,
      'Worker i connects to member i mod 3, so the leader and both followers serve clients, as in the',
      '  ZooKeeper paper\'s figure; reads are answered by the member a worker is on, writes go through',
      '  the leader. Both ensembles run for the whole comparison (the other one idles).',
    ],
    figures: readFigures(READ_PERCENTS[quick ? 'quick' : 'full']),
    sides: [curveSide('our ensemble', 0), curveSide('Apache 3.8 ensemble', 1)],
    firstIsOurs: true,
    rounds: { quick: 2, full: 4 },
    roundTimeLimitMs: { quick: 60_000, full: 90_000 },
    skipReason,
    setup: () =>
      withWorkers(async (keep) => {
        const ensembles: BenchEnsemble[] = [];
        for (const kind of kinds) {
          const ensemble = await startBenchEnsemble(kind);
          keep(() => ensemble.stop());
          ensembles.push(ensemble);
        }
        return ensembles.map((e) => ({ connectStrings: e.members.map((m) => m.connectString) }));
      }),
  });
}

/** The read percentages measured depend on the mode, so the figures do too. */
export function mixedWorkloadComparisons(quick: boolean): Comparison[] {
  return [standaloneCurve(quick), ensembleCurve(quick)];
}
