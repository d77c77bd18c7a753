// One contender process for locks-processes.test.ts: takes the mutex again and again until its end
// time, and under each lease adds one to a shared counter through lease.guard (read, then a guarded
// write without a version: only mutual exclusion keeps updates from being lost). Prints one JSON line
// with what it did. Arguments: connectString lockPath counterPath endAtEpochMs.
import { createFramework, retryNTimes, txn } from '../../../src/index.js';
import { Mutex } from '../../../recipes/index.js';

const [connectString, lockPath, counterPath, endAtText] = process.argv.slice(2);
const endAt = Number(endAtText);
const retry = retryNTimes(10, 100);
const fw = createFramework({ connectString: connectString!, sessionTimeoutMs: 8000, retry });
await fw.blockUntilConnected();
const mutex = new Mutex(fw, lockPath!, { owner: `worker-${process.pid}` });
let increments = 0;
let failures = 0;
const tokens: string[] = [];
let lastToken = -1n;
let tokensIncrease = true;
while (Date.now() < endAt) {
  try {
    await using lease = await mutex.acquire({ timeoutMs: Math.max(1, endAt - Date.now()) });
    if (lease.fencingToken <= lastToken) tokensIncrease = false;
    lastToken = lease.fencingToken;
    tokens.push(String(lease.fencingToken));
    const value = Number((await fw.getData(counterPath!)).data?.toString());
    if (lease.state !== 'held') continue;
    await lease.guard([txn.setData(counterPath!, String(value + 1))]);
    increments++;
  } catch {
    failures++; // a timeout at the end, or connection trouble while a member is down
  }
}
await fw.close();
const report = { increments, failures, tokensIncrease, acquisitions: tokens.length };
process.stdout.write(`${JSON.stringify(report)}\n`);
