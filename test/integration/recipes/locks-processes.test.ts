// Eight processes contend for one mutex for a bounded time on a 3-node ensemble (Apache ZooKeeper 3.8,
// and ours) while one member is killed: a counter each holder increments (read, then a guarded unversioned
// write) loses no update, and each process sees its fencing tokens strictly increase.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'mocha';
import { createFramework } from '../../../src/index.js';
import {
  ensembleUnavailable,
  startEnsemble,
  type Ensemble,
  type EnsembleKind,
} from '../../support/ensemble.js';

const WORKER = fileURLToPath(new URL('./locks-process-worker.ts', import.meta.url));
const PROCESSES = 8;

interface WorkerReport {
  increments: number;
  failures: number;
  tokensIncrease: boolean;
  acquisitions: number;
}

function runWorker(args: string[]): Promise<WorkerReport> {
  return new Promise((resolve, reject) => {
    const stdio = ['ignore', 'pipe', 'pipe'] as const;
    const child = spawn(process.execPath, ['--import', 'tsx', WORKER, ...args], { stdio: [...stdio] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.once('error', reject);
    child.once('close', (code) => {
      const line = out.trim().split('\n').at(-1) ?? '';
      try {
        resolve(JSON.parse(line) as WorkerReport);
      } catch {
        reject(new Error(`worker exited ${code} without a report:\n${out}\n${err}`));
      }
    });
  });
}

const KINDS: readonly EnsembleKind[] = ['apache', 'menagerie'];

const TITLE = 'eight processes share one mutex on a 3-node ensemble while a member dies';

for (const kind of KINDS) describe(`${TITLE} [${kind}]`, function () {
  this.timeout(90_000);
  let ensemble: Ensemble;

  before(async function () {
    this.timeout(60_000);
    const unavailable = await ensembleUnavailable(kind);
    if (unavailable !== undefined) {
      console.log(`    (${unavailable}: skipping the ${kind} side)`);
      this.skip();
    }
    ensemble = await startEnsemble({ kind, voters: 3 });
  });

  after(async () => {
    await ensemble?.stop();
  });

  it('loses no counter update', async () => {
    await using fw = createFramework({ connectString: ensemble.connectString, sessionTimeoutMs: 8000 });
    await fw.blockUntilConnected();
    await fw.create('/processes/counter', { data: '0', createParents: true });
    const endAt = Date.now() + 12_000; // includes each worker's start-up
    const args = [ensemble.connectString, '/processes/mutex', '/processes/counter', String(endAt)];
    const workers = Array.from({ length: PROCESSES }, () => runWorker(args));
    // Kill a member once the workers are busy (some have their sessions on it).
    for (;;) {
      const { data, watch } = await fw.getData('/processes/counter', { watch: true });
      if (Number(data?.toString()) >= 20) break;
      await watch;
    }
    const victim = ensemble.members.find((m) => m.state === 'running')!;
    await victim.kill9();
    const reports = await Promise.all(workers);
    await fw.sync('/');
    const counter = Number((await fw.getData('/processes/counter')).data?.toString());
    const increments = reports.reduce((sum, r) => sum + r.increments, 0);
    assert.ok(increments > 0, 'the processes got the lock');
    // A guarded write whose reply was lost may have applied without being counted: never fewer.
    assert.ok(counter >= increments, `counter ${counter} < ${increments} increments: an update was lost`);
    assert.ok(counter - increments <= reports.reduce((sum, r) => sum + r.failures, 0));
    for (const report of reports) assert.ok(report.tokensIncrease, 'fencing tokens increase per process');
  });
});
