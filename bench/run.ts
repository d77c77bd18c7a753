// `npm run bench`: measures the machine's floor and then every registered comparison, its sides in
// alternating rounds (A B C, C B A, ...), and prints a markdown report with the median of per-round
// ratios and their range; JSON and markdown copies go to bench/results/. `--quick` for a smoke run.
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import cliProgress from 'cli-progress';
import { Command } from 'commander';
import { killChildrenOnExit } from './children.js';
import { clientComparisons } from './client-comparison.js';
import type { Comparison, Floor, RunMode } from './comparison.js';
import { ensembleComparisons } from './ensemble-comparison.js';
import { fdatasyncPreallocatedFloor, fsyncAppendFloor, loopbackRoundTripFloor } from './floor.js';
import { recipeLatencyComparisons } from './recipe-latency.js';
import { recipeComparisons } from './recipes.js';
import { memoryComparisons } from './memory-comparison.js';
import { mixedWorkloadComparisons } from './mixed-workload.js';
import { machine, renderReport, type ComparisonResult } from './report.js';
import { serverComparisons } from './server-comparison.js';

// Even counts, so each side runs first as often as last.
const ROUNDS_DEFAULT = { quick: 4, full: 8 };
const ROUND_TIME_LIMIT_MS_DEFAULT = { quick: 30_000, full: 120_000 };

/** Comparisons grow as the server, client and recipes land (see issue 12). */
async function registeredComparisons(quick: boolean): Promise<Comparison[]> {
  return [
    noiseComparison(),
    ...clientComparisons(),
    ...recipeComparisons(),
    ...recipeLatencyComparisons(),
    // Its RSS comparison is superseded by memory-comparison.ts (the same fill, plus recovery time).
    ...(await serverComparisons()),
    ...memoryComparisons(),
    ...ensembleComparisons(),
    ...mixedWorkloadComparisons(quick),
  ];
}

/** The noise of the method itself: the same fsync measurement on both sides. */
function noiseComparison(): Comparison {
  const measure = async (_: unknown, { quick }: { quick: boolean }) => ({
    rate: 1000 / (await fsyncAppendFloor(quick ? 50 : 200)).p50Ms,
  });
  return {
    name: 'A-vs-A noise: fsync-after-append rate',
    figures: [{ key: 'rate', unit: 'syncs/s', higherIsBetter: true }],
    sides: [
      { label: 'A', measure },
      { label: 'A again', measure },
    ],
    firstIsOurs: true,
    warmup: false,
  };
}

async function main(): Promise<void> {
  killChildrenOnExit();
  const program = new Command()
    .name('bench')
    .option('--quick', 'a smoke run of about two minutes')
    .option('--rounds <n>', 'rounds per comparison', (v) => Number.parseInt(v, 10))
    .option('--only <text>', 'run only comparisons whose name contains this text')
    .option('--render <json>', 'print the report of an earlier run from its JSON copy, measuring nothing')
    .parse(process.argv);
  const options = program.opts<{ quick?: boolean; rounds?: number; only?: string; render?: string }>();
  if (options.render !== undefined) {
    process.stdout.write(await rerender(options.render));
    return;
  }
  const quick = options.quick ?? false;
  const only = options.only?.toLowerCase();
  const comparisons = (await registeredComparisons(quick)).filter(
    (c) => only === undefined || c.name.toLowerCase().includes(only),
  );
  const mode = quick ? 'quick' : 'full';
  const roundsOf = (c: Comparison) => options.rounds ?? (c.rounds ?? ROUNDS_DEFAULT)[mode];
  const steps = (c: Comparison) => (roundsOf(c) + (c.warmup === false ? 0 : 1)) * c.sides.length;
  const bar = new cliProgress.SingleBar(
    { format: 'bench [{bar}] {value}/{total} {step}', hideCursor: true, stream: process.stderr },
    cliProgress.Presets.shades_classic,
  );
  bar.start(3 + comparisons.reduce((sum, c) => sum + steps(c), 0), 0, { step: 'floor' });
  const started = Date.now();

  const iterations = quick ? 200 : 1000;
  const floor: Floor = {
    fsyncAppend: await fsyncAppendFloor(iterations),
    fdatasyncPreallocated: await fdatasyncPreallocatedFloor(iterations),
    loopbackRoundTrip: await loopbackRoundTripFloor(iterations * 5),
  };
  bar.increment(3, { step: 'floor done' });

  const results: ComparisonResult[] = [];
  let stepsDone = 3;
  for (const c of comparisons) {
    results.push(await runComparison(c, quick, roundsOf(c), floor, (step) => bar.increment({ step })));
    // A skipped or stopped comparison still moves the bar past its steps.
    stepsDone += steps(c);
    bar.update(stepsDone);
  }
  bar.stop();

  const elapsedS = Math.round((Date.now() - started) / 1000);
  const args = process.argv.slice(2);
  const report = renderReport({ floor, results, quick, elapsedS, args });
  process.stdout.write(report);
  const dir = path.join(path.dirname(fileURLToPath(import.meta.url)), 'results');
  await mkdir(dir, { recursive: true });
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  await writeFile(path.join(dir, `${stamp}.md`), report);
  const date = new Date().toISOString();
  const json = { floor, results, quick, elapsedS, args, date, machine: machine() };
  await writeFile(path.join(dir, `${stamp}.json`), JSON.stringify(json, null, 2));
}

/** The report of a saved run (its date from the JSON, or from a `<timestamp>.json` file name). */
async function rerender(file: string): Promise<string> {
  const run = JSON.parse(await readFile(file, 'utf8')) as {
    floor: Floor;
    results: ComparisonResult[];
    quick: boolean;
    elapsedS: number;
    args?: string[];
    date?: string;
  };
  const stamp = /(\d{4}-\d\d-\d\d)T(\d\d)-(\d\d)-(\d\d)-(\d{3})Z/.exec(path.basename(file));
  const [day, hours, minutes, seconds, ms] = stamp?.slice(1) ?? [];
  const fromName = stamp === null ? undefined : `${day}T${hours}:${minutes}:${seconds}.${ms}Z`;
  const date = new Date(run.date ?? fromName ?? Date.now());
  return renderReport({ ...run, args: run.args ?? (run.quick ? ['--quick'] : []), date });
}

/** All rounds of one comparison; a failure or overrun is recorded and ends only this comparison. */
async function runComparison(
  c: Comparison,
  quick: boolean,
  rounds: number,
  floor: Floor,
  progress: (step: string) => void,
): Promise<ComparisonResult> {
  const result: ComparisonResult = {
    name: c.name,
    notes: [...(c.notes ?? [])],
    firstIsOurs: c.firstIsOurs,
    figures: c.figures.map(({ key, unit, higherIsBetter }) => ({ key, unit, higherIsBetter })),
    labels: c.sides.map((s) => s.label),
    values: c.sides.map(() => []),
    floors: Object.fromEntries(c.figures.flatMap((f) => (f.floor ? [[f.key, f.floor(floor)]] : []))),
  };
  const skipReason = await c.skipReason?.();
  if (skipReason !== undefined) return { ...result, skipped: skipReason };
  const limitMs = (c.roundTimeLimitMs ?? ROUND_TIME_LIMIT_MS_DEFAULT)[quick ? 'quick' : 'full'];
  let context: (AsyncDisposable & object) | undefined;
  try {
    context = await c.setup?.(quick);
    const warmupRounds = c.warmup === false ? 0 : 1;
    for (let round = 0; round < warmupRounds + rounds; round++) {
      const order = c.sides.map((_, i) => i);
      if (round % 2 === 1) order.reverse();
      for (const sideIndex of order) {
        const side = c.sides[sideIndex]!;
        const warm = round < warmupRounds;
        progress(`${c.name}: ${side.label}${warm ? ' (warm-up)' : `, round ${round + 1 - warmupRounds}`}`);
        const note = (text: string) => void (result.notes.includes(text) || result.notes.push(text));
        const measure = side.measure.bind(side);
        const figures = await measureBounded(measure, context, { quick, note }, limitMs);
        for (const f of c.figures) {
          if (typeof figures[f.key] !== 'number') throw new Error(`${side.label} gave no figure ${f.key}`);
        }
        if (!warm) result.values[sideIndex]!.push(figures);
      }
    }
  } catch (error) {
    result.error = error instanceof Error ? error.message.split('\n').slice(0, 3).join(' / ') : String(error);
  } finally {
    await Promise.resolve(context?.[Symbol.asyncDispose]()).catch((error: unknown) => {
      result.error ??= `stopping: ${String(error)}`;
    });
  }
  return result;
}

async function measureBounded(
  measure: (context: unknown, mode: RunMode) => Promise<Record<string, number>>,
  context: unknown,
  mode: Omit<RunMode, 'signal'>,
  limitMs: number,
): Promise<Record<string, number>> {
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const overrun = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      controller.abort();
      reject(new Error(`a round took longer than ${limitMs} ms`));
    }, limitMs);
  });
  const measured = measure(context, { ...mode, signal: controller.signal });
  measured.catch(() => undefined);
  try {
    return await Promise.race([measured, overrun]);
  } finally {
    clearTimeout(timer);
  }
}

await main();
