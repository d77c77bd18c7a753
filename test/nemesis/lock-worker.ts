// One lock contender of the nemesis: until its end time, takes the mutex recipe, reads a shared
// counter and writes counter + 1 through lease.guard (the write commits only while our lock node
// exists), and prints one JSON line per increment: fencing token, when the lease was acquired, when
// the guarded write was invoked and answered, the value written, the write's mzxid, and its outcome.
// Argument: a JSON LockWorkerConfig.
import { performance } from 'node:perf_hooks';
import { createFramework, retryNTimes, txn } from '../../src/index.js';
import { LeaseLostError, Mutex } from '../../recipes/index.js';
import { awaitStart } from './start-signal.js';

export interface LockWorkerConfig {
  client: string;
  connectString: string;
  lockPath: string;
  counterPath: string;
  sessionTimeoutMs: number;
}

export interface IncrementRecord {
  client: string;
  token: string;
  acquiredAt: number;
  guardInvokedAt: number;
  guardCompletedAt: number;
  valueWritten: number;
  /** The commit's zxid, for ok writes. */
  mzxid: string | null;
  outcome: 'ok' | 'fail' | 'unknown';
  error?: string;
}

const now = () => performance.timeOrigin + performance.now();

async function main(config: LockWorkerConfig, endAtMs: number): Promise<void> {
  const fw = createFramework({
    connectString: config.connectString,
    sessionTimeoutMs: config.sessionTimeoutMs,
    retry: retryNTimes(3, 100),
  });
  const mutex = new Mutex(fw, config.lockPath, { owner: config.client });
  const records: IncrementRecord[] = [];
  let acquireFailures = 0;
  while (now() < endAtMs) {
    try {
      await using lease = await mutex.acquire({ timeoutMs: Math.max(1, endAtMs - now()) });
      const acquiredAt = now();
      const token = String(lease.fencingToken);
      const value = Number(String((await fw.getData(config.counterPath)).data));
      if (lease.state !== 'held') continue;
      const guardInvokedAt = now();
      const base = { client: config.client, token, acquiredAt, guardInvokedAt, valueWritten: value + 1 };
      try {
        const [result] = await lease.guard([txn.setData(config.counterPath, String(value + 1))]);
        records.push({ ...base, guardCompletedAt: now(), mzxid: String(result.stat.mzxid), outcome: 'ok' });
      } catch (error) {
        // The framework retries a guard whose reply was lost, and the retry may find the lease gone
        // although the first attempt committed: only a refusal before anything was sent is a failure.
        const refusedAtOnce = error instanceof LeaseLostError && error.cause === undefined;
        const outcome = refusedAtOnce ? 'fail' : 'unknown';
        records.push({ ...base, guardCompletedAt: now(), mzxid: null, outcome, error: String(error) });
      }
    } catch {
      acquireFailures++; // the deadline, or connection trouble while taking or releasing the lock
    }
  }
  await fw.close();
  process.stdout.write(records.map((r) => JSON.stringify(r)).join('\n') + '\n');
  process.stdout.write(JSON.stringify({ acquireFailures }) + '\n');
}

await main(JSON.parse(process.argv[2]!) as LockWorkerConfig, await awaitStart());
