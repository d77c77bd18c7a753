// `tsx test/nemesis/cli.ts [kind=apache] [voters=3] [seconds=20] [seed=1] [faults=kill9,pause]`: one
// nemesis run by hand, its report printed as the suites print it; exits non-zero when the run found a
// problem. Faults: kill9, pause, disk-full, partition-halves, partition-bridge, partition-leader, or
// the groups `process`, `partitions`, `all` (disk-full and partitions need root; see README.md).
import { PARTITION_FAULTS, PROCESS_FAULTS, type FaultAction } from './nemesis.js';
import { formatReports, runNemesis } from './run.js';

// Exit (and so kill the members, unmount their disks, remove the namespaces) on ^C or kill.
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => process.exit(130));

const [kind = 'apache', voters = '3', seconds = '20', seed = '1', faultList = 'process'] =
  process.argv.slice(2);
if (kind !== 'apache' && kind !== 'menagerie') {
  throw new Error(`kind must be apache or menagerie, not ${kind}`);
}
if (voters !== '3' && voters !== '5' && voters !== '7') throw new Error('voters must be 3, 5 or 7');
const groups: Record<string, readonly FaultAction[]> = {
  process: PROCESS_FAULTS,
  partitions: PARTITION_FAULTS,
  all: [...PROCESS_FAULTS, 'disk-full', ...PARTITION_FAULTS],
};
const known: readonly string[] = groups.all!;
const faults = faultList.split(',').flatMap((name) => {
  if (groups[name] !== undefined) return groups[name];
  if (!known.includes(name)) throw new Error(`unknown fault ${name} (known: ${known.join(', ')})`);
  return [name as FaultAction];
});
const report = await runNemesis({
  kind,
  voters: Number(voters) as 3 | 5 | 7,
  durationMs: Number(seconds) * 1000,
  seed: Number(seed),
  faults,
});
console.log(formatReports([report]));
console.log(`wall time ${(report.wallMs / 1000).toFixed(1)} s`);
process.exitCode = report.problems.length === 0 ? 0 : 1;
