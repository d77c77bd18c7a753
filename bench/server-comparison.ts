// Issue 12's server figures, ours beside Apache ZooKeeper 3.8, both standalone in their own process
// from the same kind of generated zoo.cfg: create/setData at 1 and 64 outstanding driven by the same
// client (ours, and the C client), and start → serving time. RSS with 1 M znodes and recovery are in
// memory-comparison.ts.
import { connectClient, type ClientKind } from './clients.js';
import { comparison, type Comparison, type RunMode, type Side } from './comparison.js';
import {
  apacheAvailable,
  startApacheServer,
  startOurServer,
  wroteToDataDir,
  type BenchServer,
} from './servers.js';
import { lifecycleFigures, lifecycleRound, ZNODE_BYTES, type ClientOp } from './workload.js';

const WRITE_COUNTS = { quick: { 1: 100, 64: 1000 }, full: { 1: 400, 64: 5000 } };
const WRITE_OPS: readonly ClientOp[] = ['create', 'setData'];

type StartServer = () => Promise<BenchServer>;
const SERVERS: Array<{ label: string; start: StartServer }> = [
  { label: 'our server', start: () => startOurServer() },
  { label: 'Apache 3.8', start: () => startApacheServer() },
];

async function skipReason(): Promise<string | undefined> {
  if (!apacheAvailable()) return 'Apache ZooKeeper (Debian `zookeeper`) or java is not installed';
  return undefined;
}

interface WriteContext {
  servers: BenchServer[];
}

async function startBoth(): Promise<WriteContext & AsyncDisposable> {
  const servers: BenchServer[] = [];
  const stopAll = async () => {
    await Promise.all(servers.map((s) => s.stop().catch(() => undefined)));
  };
  try {
    for (const { start } of SERVERS) servers.push(await start());
  } catch (error) {
    await stopAll();
    throw error;
  }
  return { servers, [Symbol.asyncDispose]: stopAll };
}

function writeComparison(kind: ClientKind, clientLabel: string): Comparison {
  const side = (index: number): Side<WriteContext> => ({
    label: SERVERS[index]!.label,
    async measure({ servers }, { quick, signal, note }: RunMode) {
      const server = servers[index]!;
      const client = await connectClient(kind, server.connectString);
      try {
        return await lifecycleRound(client, WRITE_COUNTS[quick ? 'quick' : 'full'], signal, WRITE_OPS);
      } finally {
        await client.close();
        // A server that keeps its writes in memory only is not comparable with Apache's durable ones.
        if (!(await wroteToDataDir(server))) {
          const label = SERVERS[index]!.label;
          note(`**${label} wrote nothing under its dataDir: not durable, so the ratios flatter it.**`);
        }
      }
    },
  });
  return comparison<WriteContext>({
    name: `Server writes: ours vs Apache 3.8 standalone, both driven by ${clientLabel}`,
    notes: [
      'Each server in its own process with a fresh dataDir; fresh 100-byte znodes per round.',
      'Goal (issue 12): ×1 within 1.2× the floor and ≥ 1.3× Apache; ×64 ≥ 1.5× Apache.',
    ],
    figures: lifecycleFigures(WRITE_OPS),
    sides: [side(0), side(1)],
    firstIsOurs: true,
    skipReason,
    setup: startBoth,
  });
}

function startComparison(): Comparison {
  const side = ({ label, start }: (typeof SERVERS)[number]): Side<unknown> => ({
    label,
    async measure() {
      const server = await start();
      await server.stop();
      return { 'start → serving': server.startToServingMs };
    },
  });
  return comparison<unknown>({
    name: 'Server start → serving: ours vs Apache 3.8 standalone',
    notes: [
      'From spawning the process (empty dataDir) to the first `srvr` answer showing a Mode, polled',
      '  every 5 ms. Ours runs TypeScript through tsx, whose loader is part of the time.',
      'Goal (issue 12): ≤ 0.2× Apache.',
    ],
    figures: [{ key: 'start → serving', unit: 'ms', higherIsBetter: false }],
    sides: SERVERS.map(side),
    firstIsOurs: true,
    rounds: { quick: 4, full: 8 },
    skipReason,
  });
}

/** Memory with 1 M znodes and recovery live in memory-comparison.ts. */
export async function serverComparisons(): Promise<Comparison[]> {
  return [
    writeComparison('ours', 'our client'),
    writeComparison('C client (npm zookeeper)', 'the C client'),
    startComparison(),
  ];
}
