// Declares nemesis runs as mocha specs, one describe per ensemble kind (ours only when our zk-server
// runs ensembles), and prints every run's report side by side at the end. Faults this machine cannot
// make (disk-full without root; partitions without root, iproute2 or namespaces) are left out of a
// run with the reason printed; a run left with no fault at all is skipped, never failed.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'mocha';
import { ensembleUnavailable, type EnsembleKind } from '../support/ensemble.js';
import { smallDiskSupport } from './disk.js';
import { PARTITION_FAULTS, type FaultAction } from './nemesis.js';
import { netnsSupport } from './netns.js';
import { formatReports, runNemesis, type NemesisOptions, type NemesisReport } from './run.js';

const KINDS: readonly EnsembleKind[] = ['apache', 'menagerie'];

export interface NemesisSuite {
  title: string;
  runs: readonly Omit<NemesisOptions, 'kind'>[];
}

export function describeNemesis(suite: NemesisSuite): void {
  describe(suite.title, function () {
    const reports: NemesisReport[] = [];
    for (const kind of KINDS) {
      describe(`[${kind}]`, function () {
        before(async function () {
          this.timeout(60_000);
          const unavailable = await ensembleUnavailable(kind);
          if (unavailable !== undefined) {
            console.log(`    (${unavailable}: no ${kind} runs)`);
            this.skip();
          }
        });
        for (const run of suite.runs) {
          const faultNames = (run.faults ?? ['kill9', 'pause']).map((f) => FAULT_NAMES[f]).join(', ');
          const title =
            `${run.voters} voters + ${run.observers ?? 1} observer, ${run.durationMs / 1000} s of ` +
            `${faultNames} (seed ${run.seed}): writes linearizable, no acknowledged write lost, ` +
            'the lock holds';
          it(title, async function () {
            this.timeout(run.durationMs + 180_000);
            const faults = await faultsPossibleHere(run.faults);
            if (faults.length === 0) this.skip();
            const report = await runNemesis({ ...run, faults, kind });
            reports.push(report);
            assert.ok(report.faults.length > 0, 'the nemesis injected faults');
            assert.ok(report.operations.ok > 0 && report.lock.acknowledged > 0, 'the clients made progress');
            if (referenceMayFail(kind, faults) && report.problems.length > 0) {
              // The table shows them; the reference's own bugs must not turn our suite red.
              console.log(
                '      (Apache 3.8.0 under partitions: ' +
                  `${report.lostAcknowledgedWrites} acknowledged writes lost, ` +
                  `${report.problems.length} problems; reported, not asserted: see test/nemesis/README.md)`,
              );
              return;
            }
            assert.equal(report.lostAcknowledgedWrites, 0);
            assert.equal(report.linearizable, 'yes');
            assert.ok(report.lock.ok, report.lock.problems.join('\n'));
            assert.deepEqual(report.problems, []);
          });
        }
      });
    }
    after(() => {
      if (reports.length > 0) console.log(`\n${formatReports(reports).replace(/^/gm, '    ')}\n`);
    });
  });
}

const FAULT_NAMES: Record<FaultAction, string> = {
  kill9: 'kill -9',
  pause: 'SIGSTOP',
  'disk-full': 'disk full',
  'partition-halves': 'majority/minority partitions',
  'partition-bridge': 'bridge partitions',
  'partition-leader': 'isolated leaders',
};

/**
 * Apache 3.8.0 (Debian 12's package) lost acknowledged writes in partition runs, right after an
 * isolated leader rejoined (known sync-phase bugs fixed in later 3.8/3.9 releases, e.g. ZOOKEEPER-4785,
 * ZOOKEEPER-4646/4685): its partition runs are reported, not asserted, unless NEMESIS_STRICT_APACHE=1.
 */
function referenceMayFail(kind: EnsembleKind, faults: readonly FaultAction[]): boolean {
  if (process.env.NEMESIS_STRICT_APACHE === '1') return false;
  return kind === 'apache' && faults.some((f) => PARTITION_FAULTS.includes(f));
}

/** The faults of `wanted` this machine can make; prints why the others are left out. */
async function faultsPossibleHere(
  wanted: readonly FaultAction[] = ['kill9', 'pause'],
): Promise<FaultAction[]> {
  const disk = wanted.includes('disk-full') ? await smallDiskSupport() : undefined;
  const netns = wanted.some((f) => PARTITION_FAULTS.includes(f)) ? await netnsSupport() : undefined;
  const possible = wanted.filter((fault) => {
    if (fault === 'disk-full') return disk!.supported;
    if (PARTITION_FAULTS.includes(fault)) return netns!.supported;
    return true;
  });
  if (disk !== undefined && !disk.supported) {
    console.log(`      (no disk-full faults here: ${disk.reason})`);
  }
  if (netns !== undefined && !netns.supported) console.log(`      (no partitions here: ${netns.reason})`);
  return possible;
}

/** NEMESIS_SEED and NEMESIS_DURATION_MS override a suite's defaults (to replay or lengthen a run). */
export function fromEnvironment(seed: number, durationMs: number): { seed: number; durationMs: number } {
  return {
    seed: Number(process.env.NEMESIS_SEED ?? seed),
    durationMs: Number(process.env.NEMESIS_DURATION_MS ?? durationMs),
  };
}
