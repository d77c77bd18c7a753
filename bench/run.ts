// `npm run bench`: measures the machine's floor and then every registered comparison, each side
// in alternating rounds (A B, B A, ...), and prints a markdown report with the median of per-round
// ratios and their range; JSON and markdown copies go to bench/results/. `--quick` for a smoke run.
import { mkdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import cliProgress from 'cli-progress';
import { Command } from 'commander';
import { fdatasyncPreallocatedFloor, fsyncAppendFloor, loopbackRoundTripFloor } from './floor.js';
import { ratios, type LatencySummary, type RatioSummary } from './stats.js';

/** One figure measured for two sides; `measure` returns the figure of one round. */
export interface Comparison {
  name: string;
  unit: string;
  higherIsBetter: boolean;
  sides: [Side, Side];
}
export interface Side {
  label: string;
  measure(quick: boolean): Promise<number>;
}

interface ComparisonResult {
  name: string;
  unit: string;
  labels: [string, string];
  values: [number[], number[]];
  ratio: RatioSummary;
}

/** Comparisons grow as the server, client and recipes land (see the issues). */
function registeredComparisons(): Comparison[] {
  // The noise of the method itself: the same measurement on both sides.
  const fsyncRound = async (quick: boolean) => 1000 / (await fsyncAppendFloor(quick ? 50 : 200)).p50Ms;
  return [
    {
      name: 'A-vs-A noise: fsync-after-append rate',
      unit: 'syncs/s',
      higherIsBetter: true,
      sides: [
        { label: 'A', measure: fsyncRound },
        { label: 'A again', measure: fsyncRound },
      ],
    },
  ];
}

async function main(): Promise<void> {
  const program = new Command()
    .name('bench')
    .option('--quick', 'a smoke run of about two minutes')
    .option('--rounds <n>', 'rounds per comparison', (v) => Number.parseInt(v, 10))
    .parse(process.argv);
  const options = program.opts<{ quick?: boolean; rounds?: number }>();
  const quick = options.quick ?? false;
  const rounds = options.rounds ?? (quick ? 4 : 10);
  const comparisons = registeredComparisons();
  const bar = new cliProgress.SingleBar(
    { format: 'bench [{bar}] {value}/{total} {step}', hideCursor: true },
    cliProgress.Presets.shades_classic,
  );
  bar.start(3 + comparisons.length * rounds * 2, 0, { step: 'floor' });

  const iterations = quick ? 200 : 1000;
  const floor = {
    fsyncAppend: await fsyncAppendFloor(iterations),
    fdatasyncPreallocated: await fdatasyncPreallocatedFloor(iterations),
    loopbackRoundTrip: await loopbackRoundTripFloor(iterations * 5),
  };
  bar.increment(3, { step: 'floor done' });

  const results: ComparisonResult[] = [];
  for (const comparison of comparisons) {
    const values: [number[], number[]] = [[], []];
    for (let round = 0; round < rounds; round++) {
      const order = round % 2 === 0 ? [0, 1] : [1, 0];
      for (const side of order) {
        bar.update({ step: `${comparison.name} (${comparison.sides[side].label}, round ${round + 1})` });
        values[side].push(await comparison.sides[side].measure(quick));
        bar.increment();
      }
    }
    results.push({
      name: comparison.name,
      unit: comparison.unit,
      labels: [comparison.sides[0].label, comparison.sides[1].label],
      values,
      ratio: ratios(values[0], values[1]),
    });
  }
  bar.stop();

  const report = renderReport(floor, results, quick);
  process.stdout.write(report);
  const dir = path.join(path.dirname(fileURLToPath(import.meta.url)), 'results');
  await mkdir(dir, { recursive: true });
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  await writeFile(path.join(dir, `${stamp}.md`), report);
  await writeFile(path.join(dir, `${stamp}.json`), JSON.stringify({ floor, results, quick, machine: machine() }, null, 2));
}

function machine(): string {
  return `${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, Node ${process.version}`;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

function renderReport(floor: Record<string, LatencySummary>, results: ComparisonResult[], quick: boolean): string {
  const lines = [
    `# menagerie bench${quick ? ' (quick)' : ''}`,
    '',
    `${new Date().toISOString()} · ${machine()}`,
    '',
    '## The machine floor',
    '',
    '| what | p50 ms | p99 ms |',
    '| --- | --- | --- |',
    ...Object.entries(floor).map(([name, s]) => `| ${name} | ${s.p50Ms.toFixed(3)} | ${s.p99Ms.toFixed(3)} |`),
    '',
    '## Comparisons (median of per-round ratios, min–max across rounds)',
    '',
    '| figure | A | B | A/B |',
    '| --- | --- | --- | --- |',
    ...results.map(
      (r) =>
        `| ${r.name} | ${r.labels[0]}: ${median(r.values[0]).toFixed(1)} ${r.unit} | ${r.labels[1]}: ` +
        `${median(r.values[1]).toFixed(1)} ${r.unit} | ${r.ratio.median.toFixed(2)} ` +
        `(${r.ratio.min.toFixed(2)}–${r.ratio.max.toFixed(2)}) |`,
    ),
    '',
  ];
  return lines.join('\n');
}

await main();
