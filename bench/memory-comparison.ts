// Issue 12's memory and recovery figures, ours beside Apache ZooKeeper 3.8, both standalone in their
// own process with the same kind of generated zoo.cfg: RSS with 1 million znodes of 100 bytes (bytes
// per znode, from /proc before and after the creates), then the server is killed (SIGKILL) and
// started again on that dataDir, and the time from spawn to serving is its recovery time. The
// recovered tree is checked (its znode count) so a server that serves before it has loaded counts
// as a failure, not as a fast start.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { promisify } from 'node:util';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ZooKeeperClient, op } from '../src/client/index.js';
import { comparison, type Comparison, type RunMode, type Side } from './comparison.js';
import {
  apacheAvailable, residentBytes, startApacheServer, startOurServer, type BenchServer, type DataDirOptions,
} from './servers.js';
import { ZNODE_BYTES } from './workload.js';

const ZNODES = { quick: 20_000, full: 1_000_000 };
const CREATES_PER_MULTI = 100;
const MULTIS_OUTSTANDING = 8;
const SESSION_TIMEOUT_MS = 30_000;
const PARENT = '/memory';
const RECOVERY_TIMEOUT_MS = 240_000;

type StartServer = (options: DataDirOptions) => Promise<BenchServer>;
const SERVERS: Array<{ label: string; start: StartServer; prefix: string }> = [
  { label: 'our server', start: (options) => startOurServer({}, options), prefix: 'bench-memory-ours-' },
  { label: 'Apache 3.8', start: (options) => startApacheServer({}, options), prefix: 'bench-memory-apache-' },
];

async function connected(connectString: string, signal: AbortSignal): Promise<ZooKeeperClient> {
  const client = new ZooKeeperClient({ connectString, sessionTimeoutMs: SESSION_TIMEOUT_MS });
  try {
    await client.connect({ timeoutMs: 20_000, signal });
  } catch (error) {
    await client.close();
    throw error;
  }
  return client;
}

/** Creates `count` znodes of ZNODE_BYTES under PARENT by our client, in multis, a few outstanding. */
async function fillTree(connectString: string, count: number, signal: AbortSignal): Promise<void> {
  await using client = await connected(connectString, signal);
  const data = randomBytes(ZNODE_BYTES);
  await client.create(PARENT);
  let next = 0;
  const worker = async () => {
    while (next < count) {
      signal.throwIfAborted();
      const first = next;
      next = Math.min(count, next + CREATES_PER_MULTI);
      const ops = [];
      for (let i = first; i < next; i++) {
        ops.push(op.create(`${PARENT}/z${String(i).padStart(8, '0')}`, data));
      }
      await client.multi(ops, { signal });
    }
  };
  await Promise.all(Array.from({ length: MULTIS_OUTSTANDING }, worker));
}

const JCMD = '/usr/bin/jcmd';

/** A JVM's heap in use after a full GC (jcmd GC.run, then GC.heap_info), or undefined without jcmd. */
async function javaLiveHeapBytes(pid: number): Promise<number | undefined> {
  if (!existsSync(JCMD)) return undefined;
  const run = promisify(execFile);
  await run(JCMD, [String(pid), 'GC.run'], { timeout: 60_000 });
  const { stdout } = await run(JCMD, [String(pid), 'GC.heap_info'], { timeout: 60_000 });
  const used = /heap\s+total \d+K, used (\d+)K/.exec(stdout);
  return used === null ? undefined : Number(used[1]) * 1024;
}

async function childCount(connectString: string, signal: AbortSignal): Promise<number> {
  await using client = await connected(connectString, signal);
  return (await client.exists(PARENT))?.numChildren ?? 0;
}

const FIGURES = {
  rss: 'RSS with the znodes',
  perZnode: 'RSS growth per znode',
  recovery: 'restart on that dataDir → serving',
  fill: 'creates in multis of 100',
};

function side({ label, start, prefix }: (typeof SERVERS)[number]): Side<unknown> {
  return {
    label,
    async measure(_: unknown, { quick, signal, note }: RunMode) {
      const count = ZNODES[quick ? 'quick' : 'full'];
      const dataDir = await mkdtemp(path.join(tmpdir(), prefix));
      try {
        const figures: Record<string, number> = {};
        {
          await using server = await start({ reuseDataDir: dataDir });
          const emptyBytes = await residentBytes(server.pid);
          const fillStartMs = performance.now();
          await fillTree(server.connectString, count, signal);
          figures[FIGURES.fill] = (count * 1000) / (performance.now() - fillStartMs);
          const filledBytes = await residentBytes(server.pid);
          figures[FIGURES.rss] = filledBytes / 2 ** 20;
          figures[FIGURES.perZnode] = (filledBytes - emptyBytes) / count;
          // A JVM's RSS is the heap it grew to; what the tree needs is the live heap after a full GC.
          if (label.startsWith('Apache')) {
            const liveBytes = await javaLiveHeapBytes(server.pid).catch(() => undefined);
            if (liveBytes !== undefined) {
              note(`${label}'s Java heap in use after a full GC (jcmd GC.run) with the znodes: ` +
                `${Math.round(liveBytes / 2 ** 20)} MiB, ${Math.round(liveBytes / count)} bytes per znode.`);
            }
          }
        }
        const servingTimeoutMs = RECOVERY_TIMEOUT_MS;
        const restarting = start({ reuseDataDir: dataDir, servingTimeoutMs });
        await using restarted = await restarting.catch((error: unknown) => {
          throw new Error(`${label} restarting on ${count} znodes: ${String(error)}`);
        });
        figures[FIGURES.recovery] = restarted.startToServingMs;
        const recovered = await childCount(restarted.connectString, signal);
        if (recovered !== count) {
          note(`**${label} served after a restart with ${recovered} of ${count} znodes: not recovered.**`);
        }
        return figures;
      } finally {
        await rm(dataDir, { recursive: true, force: true });
      }
    },
  };
}

export function memoryComparisons(): Comparison[] {
  return [
    comparison<unknown>({
      name: 'Server memory and recovery: ours vs Apache 3.8 standalone',
      notes: [
        `${ZNODES.full.toLocaleString('en-US')} znodes of ${ZNODE_BYTES} bytes in a full run ` +
          `(${ZNODES.quick.toLocaleString('en-US')} quick) under one parent, created by our client in ` +
          `multis of ${CREATES_PER_MULTI} (${MULTIS_OUTSTANDING} outstanding) on both; RSS from /proc ` +
          'just before and after the creates.',
        'Apache runs with Debian\'s default heap (-Xmx1000m): a JVM keeps what its heap grew to, so',
        '  its RSS is the heap it needed plus garbage not yet collected, capped near 1.1 GiB.',
        'Recovery: the server is killed (SIGKILL) and started on the same dataDir; the time runs from',
        '  spawn to the first `srvr` answer with a Mode (polled every 5 ms); the recovered znode count',
        '  is checked afterwards. Ours runs TypeScript through tsx, whose loader is part of the time.',
        'Goals (issue 12): memory per znode ≤ Apache\'s; start → serving ≤ 0.2× Apache.',
      ],
      figures: [
        { key: FIGURES.rss, unit: 'MiB', higherIsBetter: false },
        { key: FIGURES.perZnode, unit: 'bytes', higherIsBetter: false },
        { key: FIGURES.recovery, unit: 'ms', higherIsBetter: false },
        { key: FIGURES.fill, unit: 'znodes/s', higherIsBetter: true },
      ],
      sides: SERVERS.map(side),
      firstIsOurs: true,
      // A full round fills and recovers a million znodes per side (minutes): one round.
      rounds: { quick: 2, full: 1 },
      warmup: false,
      roundTimeLimitMs: { quick: 60_000, full: 480_000 },
      async skipReason() {
        if (!apacheAvailable()) return 'Apache ZooKeeper (Debian `zookeeper`) or java is not installed';
        return undefined;
      },
    }),
  ];
}
