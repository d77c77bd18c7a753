// One client process of the nemesis: until its end time, reads (sync + getData) and compare-and-sets
// (setData with the version it last read) a few znodes through our client, one operation at a time,
// and prints its history as JSON lines (invoke time, completion time, outcome) when done. Times are
// performance.timeOrigin + performance.now(), a clock every process on the machine shares.
// Argument: a JSON RegisterWorkerConfig.
import { performance } from 'node:perf_hooks';
import { BadVersionError, KeeperError, ZooKeeperClient, isIndeterminate } from '../../src/index.js';
import { Prng } from '../simulation/prng.js';
import type { HistoryOp, Outcome, RegisterOp } from './linearizability.js';
import { awaitStart } from './start-signal.js';

export interface RegisterWorkerConfig {
  client: string;
  connectString: string;
  keys: string[];
  seed: number;
  sessionTimeoutMs: number;
  opTimeoutMs: number;
}

/** A history line as JSON carries it (Infinity is not JSON). */
export type HistoryLine = Omit<HistoryOp, 'completedAt'> & { completedAt: number | null; error?: string };

const now = () => performance.timeOrigin + performance.now();

function outcomeOfWriteError(error: unknown): Outcome {
  if (error instanceof BadVersionError) return 'fail';
  if (isIndeterminate(error)) return 'unknown';
  // A ConnectionLoss marked determinate was never sent; other server errors were refusals.
  if (error instanceof KeeperError) return 'unapplied';
  return 'unknown'; // we stopped waiting (timeout): it may still happen
}

async function main(config: RegisterWorkerConfig, endAtMs: number): Promise<void> {
  const random = new Prng(config.seed);
  const lines: HistoryLine[] = [];
  const lastVersion = new Map<string, number>(config.keys.map((k) => [k, 0]));
  let client: ZooKeeperClient | undefined;
  let n = 0;
  while (now() < endAtMs) {
    if (client === undefined || client.state.type === 'expired' || client.state.type === 'closed') {
      await client?.close();
      client = new ZooKeeperClient({
        connectString: config.connectString,
        sessionTimeoutMs: config.sessionTimeoutMs,
        reconnectDelayMaxMs: 200,
      });
      try {
        await client.connect({ timeoutMs: config.opTimeoutMs });
      } catch {
        await client.close();
        client = undefined;
        continue; // no member answered in time: try again (the loop is bounded by the end time)
      }
    }
    const key = config.keys[Math.floor(random.float() * config.keys.length)]!;
    const signal = AbortSignal.timeout(config.opTimeoutMs);
    const invokedAt = now();
    if (random.float() < 0.5) {
      try {
        await client.sync(key, { signal });
        const { data, stat } = await client.getData(key, { signal });
        lastVersion.set(key, stat.version);
        const op: RegisterOp = { kind: 'read', value: String(data), version: stat.version };
        lines.push({ client: config.client, key, op, outcome: 'ok', invokedAt, completedAt: now() });
      } catch (error) {
        const op: RegisterOp = { kind: 'read', value: '', version: -1 };
        lines.push({ client: config.client, key, op, outcome: 'unapplied', invokedAt, completedAt: now(),
          error: String(error) });
      }
      continue;
    }
    // Only CAS, no blind writes: a blind write whose outcome is unknown fits anywhere in the history,
    // and a few of them make the checker's search exponential; a CAS fits only at its version.
    const value = `${config.client}-${n++}`;
    const expectedVersion = lastVersion.get(key)!;
    const op: RegisterOp = { kind: 'cas', expectedVersion, value };
    try {
      const stat = await client.setData(key, value, { version: expectedVersion, signal });
      lastVersion.set(key, stat.version);
      lines.push({ client: config.client, key, op, outcome: 'ok', invokedAt, completedAt: now() });
    } catch (error) {
      const outcome = outcomeOfWriteError(error);
      const completedAt = outcome === 'unknown' ? null : now();
      lines.push({ client: config.client, key, op, outcome, invokedAt, completedAt, error: String(error) });
    }
  }
  await client?.close();
  process.stdout.write(lines.map((line) => JSON.stringify(line)).join('\n') + '\n');
}

await main(JSON.parse(process.argv[2]!) as RegisterWorkerConfig, await awaitStart());
