// `tsx test/nemesis/cli.ts [kind=apache] [voters=3] [seconds=20] [seed=1]`: one nemesis run by hand,
// its report printed as the suites print it; exits non-zero when the run found a problem.
import { formatReports, runNemesis } from './run.js';

// Exit (and so kill the members, see test/support/ensemble.ts) on ^C or kill.
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => process.exit(130));

const [kind = 'apache', voters = '3', seconds = '20', seed = '1'] = process.argv.slice(2);
if (kind !== 'apache' && kind !== 'menagerie') {
  throw new Error(`kind must be apache or menagerie, not ${kind}`);
}
if (voters !== '3' && voters !== '5' && voters !== '7') throw new Error('voters must be 3, 5 or 7');
const report = await runNemesis({
  kind,
  voters: Number(voters) as 3 | 5 | 7,
  durationMs: Number(seconds) * 1000,
  seed: Number(seed),
});
console.log(formatReports([report]));
console.log(`wall time ${(report.wallMs / 1000).toFixed(1)} s`);
process.exitCode = report.problems.length === 0 ? 0 : 1;
