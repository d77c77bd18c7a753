// The client workload shared by the client and server comparisons: a closed loop keeping N requests
// outstanding, over the znode lifecycle create → setData → getData → exists → delete on 100-byte
// znodes, giving throughput and p50/p99 latency per operation and outstanding level.
import { randomBytes } from 'node:crypto';
import type { BenchClient } from './clients.js';
import type { Figure, Floor } from './comparison.js';
import { summarize } from './stats.js';

export const CLIENT_OPS = ['create', 'setData', 'getData', 'exists', 'delete'] as const;
export type ClientOp = (typeof CLIENT_OPS)[number];
const WRITE_OPS: ReadonlySet<ClientOp> = new Set(['create', 'setData', 'delete']);
export const OUTSTANDING_LEVELS = [1, 64] as const;
export const ZNODE_BYTES = 100;

export interface OpFigures {
  opsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
}

/** Runs `count` requests with `outstanding` in flight at a time; stops early (failing) on abort. */
export async function closedLoop(
  count: number,
  outstanding: number,
  issue: (index: number) => Promise<void>,
  signal: AbortSignal,
): Promise<OpFigures> {
  const samples = new Array<number>(count);
  let next = 0;
  const worker = async () => {
    while (next < count) {
      signal.throwIfAborted();
      const index = next++;
      const start = performance.now();
      await issue(index);
      samples[index] = performance.now() - start;
    }
  };
  const startMs = performance.now();
  await Promise.all(Array.from({ length: Math.min(outstanding, count) }, worker));
  const elapsedMs = performance.now() - startMs;
  const summary = summarize(samples);
  return { opsPerSecond: (count * 1000) / elapsedMs, p50Ms: summary.p50Ms, p99Ms: summary.p99Ms };
}

/** Figure keys: `create ×64 ops/s`, `create ×64 p50`, ... */
export function figureKey(op: ClientOp, outstanding: number, what: 'throughput' | 'p50' | 'p99'): string {
  return `${op} ×${outstanding} ${what}`;
}

/** The floor at 1 outstanding: a loopback round trip, plus a preallocated fdatasync for writes. */
function oneOutstandingFloorMs(op: ClientOp, floor: Floor): number {
  const write = WRITE_OPS.has(op) ? floor.fdatasyncPreallocated.p50Ms : 0;
  return floor.loopbackRoundTrip.p50Ms + write;
}

export function lifecycleFigures(
  ops: readonly ClientOp[] = CLIENT_OPS,
  levels: readonly number[] = OUTSTANDING_LEVELS,
): Figure[] {
  return levels.flatMap((outstanding) =>
    ops.flatMap((op): Figure[] => {
      const floorMs = (floor: Floor) => oneOutstandingFloorMs(op, floor);
      const one = outstanding === 1;
      return [
        {
          key: figureKey(op, outstanding, 'throughput'),
          unit: 'ops/s',
          higherIsBetter: true,
          ...(one ? { floor: (f: Floor) => 1000 / floorMs(f) } : {}),
        },
        {
          key: figureKey(op, outstanding, 'p50'),
          unit: 'ms',
          higherIsBetter: false,
          ...(one ? { floor: floorMs } : {}),
        },
        { key: figureKey(op, outstanding, 'p99'), unit: 'ms', higherIsBetter: false },
      ];
    }),
  );
}

/**
 * One round: for each outstanding level, `counts[level]` fresh znodes under a fresh parent go through
 * the lifecycle in order (each op timed on its own); the parent is removed at the end.
 */
export async function lifecycleRound(
  client: BenchClient,
  counts: Readonly<Record<number, number>>,
  signal: AbortSignal,
  ops: readonly ClientOp[] = CLIENT_OPS,
  levels: readonly number[] = OUTSTANDING_LEVELS,
): Promise<Record<string, number>> {
  const data = randomBytes(ZNODE_BYTES);
  const parent = `/bench-${randomBytes(6).toString('hex')}`;
  await client.create(parent, Buffer.alloc(0));
  const figures: Record<string, number> = {};
  try {
    for (const outstanding of levels) {
      const count = counts[outstanding]!;
      const paths = Array.from({ length: count }, (_, i) => `${parent}/n${outstanding}-${i}`);
      for (const op of CLIENT_OPS) {
        const issue = (i: number) => runOp(client, op, paths[i]!, data);
        // Ops not measured still run (untimed) so the next measured op finds the znodes it needs.
        if (!ops.includes(op)) {
          if (op === 'create' || op === 'delete') await closedLoop(count, 64, issue, signal);
          continue;
        }
        const result = await closedLoop(count, outstanding, issue, signal);
        figures[figureKey(op, outstanding, 'throughput')] = result.opsPerSecond;
        figures[figureKey(op, outstanding, 'p50')] = result.p50Ms;
        figures[figureKey(op, outstanding, 'p99')] = result.p99Ms;
      }
    }
  } finally {
    await client.delete(parent).catch(() => undefined);
  }
  return figures;
}

function runOp(client: BenchClient, op: ClientOp, path: string, data: Buffer): Promise<void> {
  switch (op) {
    case 'create':
      return client.create(path, data);
    case 'setData':
      return client.setData(path, data);
    case 'getData':
      return client.getData(path);
    case 'exists':
      return client.exists(path);
    case 'delete':
      return client.delete(path);
  }
}
