// The bench's markdown report: the machine floor, then one table per comparison with each side's
// median figure, the median (min–max) of per-round ratios first/each, and ours as a multiple of the floor.
import os from 'node:os';
import type { Floor } from './comparison.js';
import { median } from './stats.js';

export interface ComparisonResult {
  name: string;
  notes: string[];
  firstIsOurs: boolean;
  figures: Array<{ key: string; unit: string; higherIsBetter: boolean }>;
  labels: string[];
  /** values[side][round][figureKey] */
  values: Array<Array<Record<string, number>>>;
  /** The floor of a figure, in its unit, where one is defined. */
  floors: Record<string, number>;
  skipped?: string;
  error?: string;
}

export function machine(): string {
  const cpus = os.cpus();
  const memoryGiB = Math.round(os.totalmem() / 2 ** 30);
  return `${cpus.length} × ${cpus[0]?.model ?? 'cpu'}, ${memoryGiB} GiB, Node ${process.version}`;
}

/** Enough digits to compare, no more. */
export function formatNumber(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  const magnitude = Math.abs(value);
  if (magnitude >= 100) return Math.round(value).toLocaleString('en-US');
  if (magnitude >= 10) return value.toFixed(1);
  if (magnitude >= 1) return value.toFixed(2);
  return value.toFixed(3);
}

/** Median and range of per-round ratios of side 0 to `side` for one figure. */
function ratioCell(r: ComparisonResult, key: string, side: number): string {
  const rounds = Math.min(r.values[0]!.length, r.values[side]!.length);
  if (rounds === 0) return '–';
  const ratios = Array.from({ length: rounds }, (_, i) => r.values[0]![i]![key]! / r.values[side]![i]![key]!);
  const sorted = ratios.sort((a, b) => a - b);
  return `${median(sorted).toFixed(2)} (${sorted[0]!.toFixed(2)}–${sorted[sorted.length - 1]!.toFixed(2)})`;
}

/** Notes are written as source lines; a line starting with two spaces continues the previous one. */
function foldNotes(notes: readonly string[]): string[] {
  const folded: string[] = [];
  for (const note of notes) {
    if (note.startsWith('  ') && folded.length > 0) folded[folded.length - 1] += ` ${note.trim()}`;
    else folded.push(note);
  }
  return folded;
}

function renderComparison(r: ComparisonResult): string[] {
  const lines = [`### ${r.name}`, ''];
  if (r.skipped !== undefined) return [...lines, `Skipped: ${r.skipped}`, ''];
  if (r.error !== undefined) lines.push(`**Stopped early:** ${r.error}`, '');
  const rounds = Math.min(...r.values.map((v) => v.length));
  if (rounds === 0) return [...lines, 'No complete round.', ''];
  const others = r.labels.slice(1).map((label, i) => ({ label, side: i + 1 }));
  const ratioHeads = r.firstIsOurs ? others.map((o) => `${r.labels[0]} / ${o.label}`) : [];
  const showFloor = r.firstIsOurs && Object.keys(r.floors).length > 0;
  const head = ['figure', ...r.labels, ...ratioHeads, ...(showFloor ? [`${r.labels[0]} / floor`] : [])];
  lines.push(`| ${head.join(' | ')} |`, `| ${head.map(() => '---').join(' | ')} |`);
  for (const f of r.figures) {
    const medians = r.values.map((side) => median(side.map((round) => round[f.key]!)));
    const cells = [
      `${f.key} (${f.unit}, ${f.higherIsBetter ? 'higher' : 'lower'} is better)`,
      ...medians.map(formatNumber),
      ...(r.firstIsOurs ? others.map((o) => ratioCell(r, f.key, o.side)) : []),
    ];
    if (showFloor) {
      const floor = r.floors[f.key];
      cells.push(floor === undefined ? '' : (medians[0]! / floor).toFixed(2));
    }
    lines.push(`| ${cells.join(' | ')} |`);
  }
  lines.push('', `${rounds} rounds per side, sides in alternating order.`);
  if (!r.firstIsOurs) lines.push('Baselines only: our side is not registered yet, so no ratios.');
  for (const note of foldNotes(r.notes)) lines.push(`- ${note}`);
  lines.push('');
  return lines;
}

export function renderReport(run: {
  floor: Floor;
  results: ComparisonResult[];
  quick: boolean;
  elapsedS: number;
  /** When the run ended (default now). */
  date?: Date;
  /** The arguments the run was given (`--quick`, `--only ...`), so the report names its command. */
  args: readonly string[];
}): string {
  const quoted = run.args.map((a) => (/^[\w.=-]+$/.test(a) ? a : `'${a}'`));
  const command = `npm run bench${quoted.length > 0 ? ` -- ${quoted.join(' ')}` : ''}`;
  const lines = [
    `# menagerie bench${run.quick ? ' (quick)' : ''}`,
    '',
    `${(run.date ?? new Date()).toISOString()} · ${machine()} · ${run.elapsedS} s · \`${command}\``,
    '',
    'Ratios are the median of per-round ratios (min–max across rounds) of the first side to each other',
    'side, for the figure as written: above 1 is better for the first side when higher is better, below',
    '1 when lower is better. The A-vs-A rows show how far apart two identical sides land on this machine.',
    '',
    '## The machine floor',
    '',
    '| what | p50 ms | p99 ms |',
    '| --- | --- | --- |',
    ...Object.entries(run.floor).map(
      ([name, s]: [string, Floor[keyof Floor]]) =>
        `| ${name} | ${s.p50Ms.toFixed(3)} | ${s.p99Ms.toFixed(3)} |`,
    ),
    '',
    '## Comparisons',
    '',
    ...run.results.flatMap(renderComparison),
  ];
  return lines.join('\n');
}
