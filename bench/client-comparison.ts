// Issue 5's client figures: our client beside node-zookeeper-client and the C client (npm
// `zookeeper`) against one Apache ZooKeeper 3.8 standalone server, on the znode lifecycle at 1 and 64
// outstanding; and an A-vs-A run of our client against itself, so a reader knows which ratio means
// something on this machine.
import { CLIENT_KINDS, connectClient, type ClientKind } from './clients.js';
import { comparison, type Comparison, type Figure, type RunMode, type Side } from './comparison.js';
import { apacheAvailable, startApacheServer, type BenchServer } from './servers.js';
import {
  CLIENT_OPS,
  OUTSTANDING_LEVELS,
  lifecycleFigures,
  lifecycleRound,
  type ClientOp,
} from './workload.js';

const COUNTS = { quick: { 1: 150, 64: 1500 }, full: { 1: 400, 64: 5000 } };
const NOISE_OPS: readonly ClientOp[] = ['create', 'getData'];

/**
 * This process's CPU time (user + system, every thread: the C client's I/O thread too) per request
 * over a whole round. Less disturbed by the other tenants of a shared machine than throughput; the
 * server runs in its own process and is not counted (but the kernel's loopback work partly is).
 */
const CPU_FIGURE: Figure = {
  key: 'client CPU per request (whole round)',
  unit: 'µs',
  higherIsBetter: false,
};

/** Requests a lifecycle round sends: unmeasured ops are skipped, except create and delete. */
function requestsPerRound(counts: Record<number, number>, ops: readonly ClientOp[] | undefined): number {
  const always: readonly ClientOp[] = ['create', 'delete'];
  const sent = CLIENT_OPS.filter((op) => ops === undefined || ops.includes(op) || always.includes(op));
  return OUTSTANDING_LEVELS.reduce((sum, level) => sum + counts[level]! * sent.length, 0);
}

interface Context {
  server: BenchServer;
}

async function setup(): Promise<Context & AsyncDisposable> {
  const server = await startApacheServer();
  return { server, [Symbol.asyncDispose]: () => server.stop() };
}

async function skipReason(): Promise<string | undefined> {
  return apacheAvailable() ? undefined : 'Apache ZooKeeper (Debian `zookeeper`) or java is not installed';
}

function clientSide(kind: ClientKind, label: string, ops?: readonly ClientOp[]): Side<Context> {
  return {
    label,
    async measure({ server }: Context, { quick, signal }: RunMode) {
      const client = await connectClient(kind, server.connectString);
      try {
        const counts = COUNTS[quick ? 'quick' : 'full'];
        const startCpu = process.cpuUsage();
        const figures = await lifecycleRound(client, counts, signal, ops);
        const cpu = process.cpuUsage(startCpu);
        const requests = requestsPerRound(counts, ops);
        return { ...figures, [CPU_FIGURE.key]: (cpu.user + cpu.system) / requests };
      } finally {
        await client.close();
      }
    },
  };
}

export function clientComparisons(): Comparison[] {
  const labels: Record<ClientKind, string> = {
    ours: 'ours',
    'node-zookeeper-client': 'node-zookeeper-client',
    'C client (npm zookeeper)': 'C client',
  };
  return [
    comparison<Context>({
      name: 'A-vs-A noise: our client against itself (Apache 3.8 standalone)',
      figures: [...lifecycleFigures(NOISE_OPS), CPU_FIGURE],
      sides: [clientSide('ours', 'ours', NOISE_OPS), clientSide('ours', 'ours again', NOISE_OPS)],
      firstIsOurs: true,
      skipReason,
      setup,
    }),
    comparison<Context>({
      name: 'Clients: ours vs node-zookeeper-client vs the C client (Apache 3.8 standalone)',
      notes: [
        'One Apache 3.8 standalone server (durable, forceSync default) serves every side; each round',
        '  connects a fresh client and takes fresh 100-byte znodes through create, setData, getData,',
        '  exists, delete, at 1 and then 64 requests outstanding (a closed loop).',
        'The C client is driven through its callback API (a_create, ...), node-zookeeper-client through',
        '  its callbacks; ours through its promises. Each adapter wraps one promise per request.',
        'Floor at 1 outstanding: a loopback round trip, plus a preallocated fdatasync for writes.',
        'Goal (issue 5): ×64 throughput ≥ 1.2× the better of the other two; ×1 p50 ≤ the C client.',
        'Client CPU per request: process.cpuUsage() over the whole round (both levels, every op,',
        '  every thread of this process) divided by the requests sent; the server is not counted.',
      ],
      figures: [...lifecycleFigures(), CPU_FIGURE],
      sides: CLIENT_KINDS.map((kind) => clientSide(kind, labels[kind])),
      firstIsOurs: true,
      skipReason,
      setup,
    }),
  ];
}
