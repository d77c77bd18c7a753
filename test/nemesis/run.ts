// One nemesis run: an ensemble of real processes, register workers doing compare-and-set and reads on
// a few znodes and lock workers incrementing a counter under the mutex recipe (each its own process),
// the nemesis killing and pausing members, filling a member's disk or partitioning the network on a
// seeded schedule, then the checks: linearizability of the register histories, acknowledged writes
// lost, the lock checker, and the recovery times. Disk faults put each member's dataDir on its own
// small tmpfs; partitions put each member in its own network namespace (workers stay outside).
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { ZooKeeperClient } from '../../src/index.js';
import { startEnsemble, type EnsembleKind, type MemberPlacement } from '../support/ensemble.js';
import { freeDisk, mountSmallDisk, unmountSmallDisk } from './disk.js';
import { NetworkLab } from './netns.js';
import { checkLock, type LockVerdict } from './lock-checker.js';
import type { IncrementRecord, LockWorkerConfig } from './lock-worker.js';
import { checkHistory, type HistoryOp, type KeyVerdict } from './linearizability.js';
import {
  PARTITION_FAULTS,
  PROCESS_FAULTS,
  planFaults,
  runFaults,
  type FaultAction,
  type FaultRecord,
} from './nemesis.js';
import type { HistoryLine, RegisterWorkerConfig } from './register-worker.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const REPO_ROOT = path.resolve(HERE, '../..');

export interface NemesisOptions {
  kind: EnsembleKind;
  voters: 3 | 5 | 7;
  observers?: number;
  /** How long the workers run and the nemesis acts. */
  durationMs: number;
  seed: number;
  registerClients?: number;
  lockClients?: number;
  keys?: number;
  /** What the nemesis may do; default kill -9 and SIGSTOP. Callers check disk and netns support. */
  faults?: readonly FaultAction[];
  /** Each member's tmpfs, when the faults fill disks. Default 32 MiB. */
  diskBytes?: number;
}

export interface NemesisReport {
  readonly kind: EnsembleKind;
  readonly voters: number;
  readonly observers: number;
  readonly seed: number;
  readonly durationMs: number;
  readonly faultKinds: readonly FaultAction[];
  readonly operations: { total: number; ok: number; fail: number; unknown: number; unapplied: number };
  readonly faults: readonly FaultRecord[];
  readonly lostAcknowledgedWrites: number;
  /**
   * The verdict ZooKeeper promises and the suites assert: the compare-and-sets (every write) and the
   * final reads linearizable. ZooKeeper's reads are only sequentially consistent, and sync + getData
   * can be stale when it reaches a leader that has not yet noticed it was replaced (resumed from
   * SIGSTOP, or cut off): Apache 3.8 does it. Those reads are checked too, and reported, not asserted.
   */
  readonly linearizable: Verdict;
  readonly keyVerdicts: readonly KeyVerdict[];
  /** The whole history, every sync + getData read included. */
  readonly readsLinearizable: Verdict;
  /** Reads that saw a version older than one a CAS had already acknowledged before the read began. */
  readonly staleReads: number;
  readonly staleReadExamples: readonly string[];
  readonly lock: LockVerdict;
  /** Every member shows the same data for every key at the end. */
  readonly membersAgree: boolean;
  readonly problems: readonly string[];
  readonly wallMs: number;
}

export async function runNemesis(options: NemesisOptions): Promise<NemesisReport> {
  const started = performance.now();
  const observers = options.observers ?? 1;
  const faultKinds = options.faults ?? PROCESS_FAULTS;
  const size = options.voters + observers;
  await using network = faultKinds.some((f) => PARTITION_FAULTS.includes(f))
    ? await NetworkLab.create(size)
    : undefined;
  const diskBytes = faultKinds.includes('disk-full') ? (options.diskBytes ?? 32 << 20) : 0;
  const placement = placementFor(network, diskBytes);
  const { kind, voters } = options;
  await using ensemble = await startEnsemble({ kind, voters, observers, placement });
  const root = `/nemesis-${options.seed}`;
  const keys = Array.from({ length: options.keys ?? 3 }, (_, i) => `${root}/r${i}`);
  const lockPath = `${root}/lock`;
  const counterPath = `${root}/counter`;
  {
    const connectString = ensemble.connectString;
    await using setup = new ZooKeeperClient({ connectString, sessionTimeoutMs: 8_000 });
    await setup.connect({ timeoutMs: 15_000 });
    await setup.create(root);
    for (const key of keys) await setup.create(key, '0');
    await setup.create(counterPath, '0');
    await setup.create(`${root}/probe`, '');
  }
  const registerWorkers = Array.from({ length: options.registerClients ?? 4 }, (_, i) => {
    const config: RegisterWorkerConfig = {
      client: `c${i}`,
      connectString: ensemble.connectString,
      keys,
      seed: options.seed * 100 + i,
      sessionTimeoutMs: 6_000,
      opTimeoutMs: 4_000,
    };
    return new Worker('register-worker.ts', config);
  });
  const lockWorkers = Array.from({ length: options.lockClients ?? 3 }, (_, i) => {
    const config: LockWorkerConfig = {
      client: `l${i}`,
      connectString: ensemble.connectString,
      lockPath,
      counterPath,
      sessionTimeoutMs: 6_000,
    };
    return new Worker('lock-worker.ts', config);
  });
  const workers = [...registerWorkers, ...lockWorkers];
  // The clock starts once every worker has loaded (seconds apart on a busy machine), for all at once.
  try {
    await Promise.all(workers.map((w) => w.ready));
  } catch (error) {
    for (const worker of workers) worker.kill();
    throw error;
  }
  const endAtMs = performance.timeOrigin + performance.now() + options.durationMs;
  for (const worker of workers) worker.start(endAtMs);
  const plan = planFaults(options.seed, options.durationMs, options.voters, faultKinds);
  const nemesis = runFaults(ensemble, plan, `${root}/probe`, options.seed, network);
  const [registerOutputs, lockOutputs] = await Promise.all([
    Promise.all(registerWorkers.map((w) => w.result)),
    Promise.all(lockWorkers.map((w) => w.result)),
    nemesis.done,
  ]);
  await network?.heal();
  for (const member of ensemble.members) {
    if (placement.prepareDataDir !== undefined) await freeDisk(member.dataDir);
    if (member.state === 'paused') member.resume();
    if (member.state === 'stopped') await member.restart();
  }
  await ensemble.waitServing(45_000);

  const problems: string[] = [];
  const history = registerOutputs.flat().map((line) => fromLine(line as HistoryLine));
  const final = await finalState(ensemble.members.map((m) => m.connectString), [...keys, counterPath]);
  if (!final.agree) problems.push(`members disagree at the end: ${final.disagreement}`);
  // The final reads (after every worker stopped) join the history: a lost write shows as a violation.
  const finalAt = performance.timeOrigin + performance.now();
  for (const key of keys) {
    const { value, version } = final.values.get(key)!;
    history.push({ client: 'final', key, op: { kind: 'read', value, version }, outcome: 'ok',
      invokedAt: finalAt, completedAt: finalAt + 1 });
  }
  if (process.env.NEMESIS_DUMP) {
    const file = `${process.env.NEMESIS_DUMP}-${options.kind}-${options.voters}-${options.seed}.json`;
    const logs = ensemble.members.map((m) => ({ id: m.id, outputTail: m.output() }));
    await writeFile(file, JSON.stringify({ history, lock: lockOutputs.flat(), logs }));
  }
  const lost = lostAcknowledged(history, final.values);
  problems.push(...lost.problems);
  const writes = history.filter((h) => h.op.kind !== 'read' || h.client === 'final');
  const keyVerdicts = checkHistory(writes, { value: '0', version: 0 });
  for (const verdict of keyVerdicts) {
    if (verdict.linearizable) continue;
    problems.push(`${verdict.key} not linearizable:\n${verdict.explanation ?? '(search bound reached)'}`);
  }
  const readVerdicts = checkHistory(history, { value: '0', version: 0 });
  const stale = staleReads(history);
  const records = lockOutputs.flat().filter((r) => 'token' in (r as object)) as IncrementRecord[];
  const lock = checkLock(records, Number(final.values.get(counterPath)!.value));
  problems.push(...lock.problems.map((p) => `lock: ${p}`));
  const count = (o: string) => history.filter((h) => h.client !== 'final' && h.outcome === o).length;
  return {
    kind: options.kind,
    voters: options.voters,
    observers,
    seed: options.seed,
    durationMs: options.durationMs,
    faultKinds,
    operations: {
      total: history.length - keys.length,
      ok: count('ok'),
      fail: count('fail'),
      unknown: count('unknown'),
      unapplied: count('unapplied'),
    },
    faults: nemesis.faults,
    lostAcknowledgedWrites: lost.count,
    linearizable: verdictOf(keyVerdicts),
    keyVerdicts,
    readsLinearizable: verdictOf(readVerdicts),
    staleReads: stale.count,
    staleReadExamples: stale.examples,
    lock,
    membersAgree: final.agree,
    problems,
    wallMs: performance.now() - started,
  };
}

/** Members in the lab's namespaces (else on loopback), each dataDir its own tmpfs when `diskBytes` > 0. */
export function placementFor(network: NetworkLab | undefined, diskBytes: number): MemberPlacement {
  const placement: MemberPlacement = { host: (id) => network?.host(id) ?? '127.0.0.1' };
  if (network !== undefined) placement.commandPrefix = (id) => network.commandPrefix(id);
  if (diskBytes > 0) {
    placement.prepareDataDir = (dir) => mountSmallDisk(dir, diskBytes);
    placement.releaseDataDir = (dir) => unmountSmallDisk(dir);
  }
  return placement;
}

type Verdict = 'yes' | 'no' | 'inconclusive';

function verdictOf(verdicts: readonly KeyVerdict[]): Verdict {
  if (verdicts.some((v) => v.inconclusive)) return 'inconclusive';
  return verdicts.every((v) => v.linearizable) ? 'yes' : 'no';
}

/** Ok reads older than a CAS acknowledged (on that key) before the read was invoked. */
function staleReads(history: readonly HistoryOp[]): { count: number; examples: string[] } {
  // Per key: acknowledged CAS completions in time order, with the highest version so far.
  const byKey = new Map<string, { at: number; newest: number }[]>();
  const cas = history.filter((h) => h.op.kind === 'cas' && h.outcome === 'ok');
  for (const h of cas.sort((x, y) => x.completedAt - y.completedAt)) {
    const list = byKey.get(h.key) ?? [];
    const version = (h.op as { expectedVersion: number }).expectedVersion + 1;
    list.push({ at: h.completedAt, newest: Math.max(version, list.at(-1)?.newest ?? 0) });
    byKey.set(h.key, list);
  }
  const examples: string[] = [];
  let count = 0;
  for (const h of history) {
    if (h.op.kind !== 'read' || h.outcome !== 'ok') continue;
    const list = byKey.get(h.key) ?? [];
    let lo = 0;
    let hi = list.length; // the first completion at or after the read's invocation
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (list[mid]!.at < h.invokedAt) lo = mid + 1;
      else hi = mid;
    }
    const newest = lo === 0 ? 0 : list[lo - 1]!.newest;
    if (h.op.version >= newest) continue;
    count++;
    if (examples.length < 3) {
      examples.push(`${h.client} read ${h.key} v${h.op.version} after v${newest} was acknowledged`);
    }
  }
  return { count, examples };
}

/** A register as read at the end. */
type Register = { value: string; version: number };

function fromLine(line: HistoryLine): HistoryOp {
  return { ...line, completedAt: line.completedAt ?? Infinity };
}

/**
 * Acknowledged writes missing at the end: every acknowledged write got a version; two with the same
 * version on one key, or a version above the final one, mean one was lost.
 */
function lostAcknowledged(
  history: readonly HistoryOp[],
  finals: ReadonlyMap<string, Register>,
): { count: number; problems: string[] } {
  const problems: string[] = [];
  const versions = new Map<string, string>();
  let count = 0;
  for (const h of history) {
    if (h.outcome !== 'ok' || h.op.kind === 'read') continue;
    const version = h.op.kind === 'cas' ? h.op.expectedVersion + 1 : h.op.newVersion!;
    const slot = `${h.key}@${version}`;
    const earlier = versions.get(slot);
    const finalVersion = finals.get(h.key)!.version;
    if (earlier !== undefined || version > finalVersion) {
      count++;
      problems.push(`acknowledged write ${h.op.value} to ${h.key} (version ${version}) lost` +
        (earlier ? `: ${earlier} has the same version` : `: the final version is ${finalVersion}`));
    }
    versions.set(slot, h.op.value);
  }
  return { count, problems: problems.slice(0, 10) };
}

/** Every key read on every member after a sync; whether they all agree. */
async function finalState(
  connectStrings: readonly string[],
  keys: readonly string[],
): Promise<{ values: Map<string, Register>; agree: boolean; disagreement: string }> {
  const views: Map<string, Register>[] = [];
  for (const connectString of connectStrings) {
    await using client = new ZooKeeperClient({ connectString, sessionTimeoutMs: 8_000 });
    await client.connect({ timeoutMs: 15_000 });
    const view = new Map<string, Register>();
    for (const key of keys) {
      await client.sync(key);
      const { data, stat } = await client.getData(key);
      view.set(key, { value: String(data), version: stat.version });
    }
    views.push(view);
  }
  const render = (v: Map<string, Register>) =>
    [...v].map(([k, { value, version }]) => `${k}=${value}@${version}`).join(' ');
  const rendered = views.map(render);
  const agree = new Set(rendered).size === 1;
  return { values: views[0]!, agree, disagreement: agree ? '' : rendered.join(' | ') };
}

const WORKER_READY_MS = 90_000;

/**
 * One worker process (see start-signal.ts): `ready` once it has loaded, `start` sends the end time,
 * `result` is its JSON lines. Killed if it is not ready in time or outlives its end by far.
 */
class Worker {
  readonly ready: Promise<void>;
  readonly result: Promise<unknown[]>;
  readonly #child: ChildProcess;
  #overdue: NodeJS.Timeout;

  constructor(file: string, config: object) {
    const args = ['--import', 'tsx', path.join(HERE, file), JSON.stringify(config)];
    const child = spawn(process.execPath, args, { cwd: REPO_ROOT, stdio: ['pipe', 'pipe', 'pipe'] });
    this.#child = child;
    this.#overdue = setTimeout(() => child.kill('SIGKILL'), WORKER_READY_MS);
    let out = '';
    let err = '';
    let markReady: () => void = () => {};
    this.ready = new Promise<void>((resolve, reject) => {
      markReady = resolve;
      child.once('close', () => reject(new Error(`${file} ended before it was ready:\n${err}`)));
    });
    this.ready.catch(() => {}); // observed through Promise.all in runNemesis
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      if (/^ready$/m.test(out)) markReady();
    });
    child.stderr!.on('data', (d: Buffer) => (err = (err + d.toString()).slice(-4000)));
    this.result = new Promise((resolve, reject) => {
      child.once('error', reject);
      child.once('close', (code, signal) => {
        clearTimeout(this.#overdue);
        if (code !== 0) {
          reject(new Error(`${file} exited with ${code ?? signal}:\n${err}`));
          return;
        }
        const lines = out.split('\n').filter((l) => l.startsWith('{'));
        resolve(lines.map((l) => JSON.parse(l) as unknown));
      });
    });
    this.result.catch(() => {}); // observed by runNemesis once started
  }

  start(endAtMs: number): void {
    clearTimeout(this.#overdue);
    const child = this.#child;
    this.#overdue = setTimeout(() => child.kill('SIGKILL'), endAtMs - Date.now() + 60_000);
    child.stdin!.end(`${endAtMs}\n`);
  }

  kill(): void {
    clearTimeout(this.#overdue);
    this.#child.kill('SIGKILL');
  }
}

/** The runs side by side, then each run's faults. */
export function formatReports(reports: readonly NemesisReport[]): string {
  const rows: [string, (r: NemesisReport) => string][] = [
    ['ensemble', (r) => `${r.kind} ${r.voters}+${r.observers}`],
    ['seed / duration', (r) => `${r.seed} / ${(r.durationMs / 1000).toFixed(0)} s`],
    ['operations', (r) => String(r.operations.total)],
    ['  ok / fail', (r) => `${r.operations.ok} / ${r.operations.fail}`],
    ['  unknown / unapplied', (r) => `${r.operations.unknown} / ${r.operations.unapplied}`],
    ['faults', (r) => faultSummary(r.faults)],
    ['acknowledged writes lost', (r) => String(r.lostAcknowledgedWrites)],
    ['linearizable (CAS writes)', (r) => r.linearizable],
    ['  with sync+getData reads too', (r) => r.readsLinearizable],
    ['  stale reads', (r) => String(r.staleReads)],
    ['members agree at the end', (r) => (r.membersAgree ? 'yes' : 'NO')],
    ['lock increments ok / unknown', (r) => `${r.lock.acknowledged} / ${r.lock.unknown}`],
    ['lock: lost / overlaps / token regr.', (r) => lockCounts(r.lock)],
    ['write recovery ms (median / max)', (r) => stats(r.faults.map((f) => f.writeRecoveryMs))],
    ['rejoin ms (median / max)', (r) => stats(r.faults.map((f) => f.rejoinMs))],
    ['per fault: write/rejoin median ms', recoveryByKind],
    ['probe sessions expired', (r) => String(r.faults.filter((f) => f.probeSessionExpired).length)],
    ['verdict', (r) => (r.problems.length === 0 ? 'PASS' : `FAIL (${r.problems.length})`)],
  ];
  const width = Math.max(...rows.map(([label]) => label.length));
  const columns = reports.map((r) => rows.map(([, cell]) => cell(r)));
  const columnWidth = columns.map((c) => Math.max(...c.map((s) => s.length)));
  const lines = rows.map(([label], i) =>
    [label.padEnd(width), ...columns.map((c, j) => c[i]!.padEnd(columnWidth[j]!))].join(' | '),
  );
  for (const r of reports) {
    lines.push('', `faults of ${r.kind} ${r.voters}+${r.observers} (seed ${r.seed}):`);
    for (const f of r.faults) {
      const recovery = f.writeRecoveryMs === undefined ? 'none' : `${Math.round(f.writeRecoveryMs)} ms`;
      const rejoin = f.rejoinMs === undefined ? `never: ${f.error ?? ''}` : `${Math.round(f.rejoinMs)} ms`;
      const expired = f.probeSessionExpired ? ' (the probe session expired)' : '';
      const detail = f.detail === undefined ? '' : ` [${f.detail}]`;
      lines.push(`  ${(f.atMs / 1000).toFixed(1)} s ${f.action} ${f.members.join(', ')}${detail}: ` +
        `first write after ${recovery}${expired}, rejoined after ${rejoin}`);
    }
    for (const p of r.problems.slice(0, 10)) lines.push(`  PROBLEM: ${p}`);
    for (const e of r.staleReadExamples) lines.push(`  stale read (allowed by ZooKeeper, reported): ${e}`);
  }
  return lines.join('\n');
}

function lockCounts(lock: LockVerdict): string {
  return [lock.lostIncrements, lock.overlaps, lock.tokenRegressions].join(' / ');
}

const FAULT_LABELS: Record<FaultAction, string> = {
  kill9: 'kill -9',
  pause: 'SIGSTOP',
  'disk-full': 'disk full',
  'partition-halves': 'majority/minority',
  'partition-bridge': 'bridge',
  'partition-leader': 'isolated leader',
};

function faultSummary(faults: readonly FaultRecord[]): string {
  const counts = new Map<FaultAction, number>();
  for (const f of faults) counts.set(f.action, (counts.get(f.action) ?? 0) + 1);
  const parts = [...counts].map(([action, n]) => `${n} ${FAULT_LABELS[action]}`);
  return `${faults.length} (${parts.join(', ')})`;
}

/** Write recovery and rejoin medians per kind of fault, for the side-by-side table. */
function recoveryByKind(r: NemesisReport): string {
  const kinds = [...new Set(r.faults.map((f) => f.action))];
  return kinds
    .map((kind) => {
      const of = r.faults.filter((f) => f.action === kind);
      const median = (values: (number | undefined)[]) => stats(values).split(' / ')[0];
      const write = median(of.map((f) => f.writeRecoveryMs));
      return `${FAULT_LABELS[kind]} ${write}/${median(of.map((f) => f.rejoinMs))}`;
    })
    .join('; ');
}

function stats(values: readonly (number | undefined)[]): string {
  const known = values.filter((v): v is number => v !== undefined).sort((a, b) => a - b);
  const missing = values.length - known.length;
  if (known.length === 0) return missing > 0 ? `none (${missing} missing)` : '-';
  const median = known[Math.floor(known.length / 2)]!;
  return `${Math.round(median)} / ${Math.round(known.at(-1)!)}${missing > 0 ? ` (${missing} missing)` : ''}`;
}
