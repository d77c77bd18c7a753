// Issue 12's server figures, ours beside Apache ZooKeeper 3.8, both standalone in their own process
// from the same kind of generated zoo.cfg: create/setData at 1 and 64 outstanding driven by the same
// client (ours, and the C client), start → serving time, and RSS with many znodes. They are
// registered only when server/index.ts exports startServer (branch `server`); before that the report
// lists them as skipped.
import { randomBytes } from 'node:crypto';
import { ZooKeeperClient, op } from '../src/client/index.js';
import { connectClient, type ClientKind } from './clients.js';
import { comparison, type Comparison, type RunMode, type Side } from './comparison.js';
import {
  apacheAvailable,
  residentBytes,
  startApacheServer,
  startOurServer,
  wroteToDataDir,
  type BenchServer,
} from './servers.js';
import { lifecycleFigures, lifecycleRound, ZNODE_BYTES, type ClientOp } from './workload.js';

const WRITE_COUNTS = { quick: { 1: 100, 64: 1000 }, full: { 1: 400, 64: 5000 } };
const WRITE_OPS: readonly ClientOp[] = ['create', 'setData'];
const ZNODES_FOR_RSS = { quick: 20_000, full: 1_000_000 };
const CREATES_PER_MULTI = 100;
const MULTIS_OUTSTANDING = 8;

type StartServer = () => Promise<BenchServer>;
const SERVERS: Array<{ label: string; start: StartServer }> = [
  { label: 'our server', start: () => startOurServer() },
  { label: 'Apache 3.8', start: () => startApacheServer() },
];

/** Why the server comparisons cannot run yet, or undefined once our server is on main. */
async function ourServerMissing(): Promise<string | undefined> {
  try {
    const server = (await import('../server/index.js')) as Record<string, unknown>;
    if (typeof server.startServer === 'function') return undefined;
    return 'server/index.ts exports no startServer yet (it lands from branch `server`)';
  } catch (error) {
    return `server/index.ts does not load: ${error instanceof Error ? error.message : String(error)}`;
  }
}

async function skipReason(): Promise<string | undefined> {
  if (!apacheAvailable()) return 'Apache ZooKeeper (Debian `zookeeper`) or java is not installed';
  return await ourServerMissing();
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

/** Creates `count` znodes of ZNODE_BYTES under a fresh parent, in multis, a few outstanding. */
async function fillTree(connectString: string, count: number, signal: AbortSignal): Promise<void> {
  await using client = new ZooKeeperClient({ connectString, sessionTimeoutMs: 30_000 });
  await client.connect({ signal });
  const data = randomBytes(ZNODE_BYTES);
  const parent = `/rss-${randomBytes(4).toString('hex')}`;
  await client.create(parent);
  let next = 0;
  const worker = async () => {
    while (next < count) {
      signal.throwIfAborted();
      const first = next;
      next = Math.min(count, next + CREATES_PER_MULTI);
      const ops = [];
      for (let i = first; i < next; i++) {
        ops.push(op.create(`${parent}/z${String(i).padStart(8, '0')}`, data));
      }
      await client.multi(ops, { signal });
    }
  };
  await Promise.all(Array.from({ length: MULTIS_OUTSTANDING }, worker));
}

function memoryComparison(): Comparison {
  const side = ({ label, start }: (typeof SERVERS)[number]): Side<unknown> => ({
    label,
    async measure(_: unknown, { quick, signal }: RunMode) {
      const count = ZNODES_FOR_RSS[quick ? 'quick' : 'full'];
      await using server = await start();
      const emptyBytes = await residentBytes(server.pid);
      await fillTree(server.connectString, count, signal);
      const filledBytes = await residentBytes(server.pid);
      return {
        'RSS with the znodes': filledBytes / 2 ** 20,
        'RSS growth per znode': (filledBytes - emptyBytes) / count,
      };
    },
  });
  return comparison<unknown>({
    name: 'Server memory: ours vs Apache 3.8 standalone',
    notes: [
      `${ZNODES_FOR_RSS.full.toLocaleString('en-US')} znodes of ${ZNODE_BYTES} bytes in a full run ` +
        `(${ZNODES_FOR_RSS.quick.toLocaleString('en-US')} quick), created by our client in multis of ` +
        `${CREATES_PER_MULTI}; RSS from /proc after the last create. Apache runs with Debian's default ` +
        'heap (-Xmx1000m), so its RSS cannot pass about 1.1 GiB: near that cap, read its figure as a bound.',
      'Goal (issue 12): memory per znode ≤ Apache’s.',
    ],
    figures: [
      { key: 'RSS with the znodes', unit: 'MiB', higherIsBetter: false },
      { key: 'RSS growth per znode', unit: 'bytes', higherIsBetter: false },
    ],
    sides: SERVERS.map(side),
    firstIsOurs: true,
    rounds: { quick: 1, full: 2 },
    warmup: false,
    roundTimeLimitMs: { quick: 60_000, full: 300_000 },
    skipReason,
  });
}

/** Always listed; each skips itself (visibly) until our server is on main. */
export async function serverComparisons(): Promise<Comparison[]> {
  return [
    writeComparison('ours', 'our client'),
    writeComparison('C client (npm zookeeper)', 'the C client'),
    startComparison(),
    memoryComparison(),
  ];
}
