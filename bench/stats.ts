// Small statistics for benchmarks: percentiles of latency samples, and the median of per-round
// ratios with its range, so figures from a drifting 2-core machine are read side by side.

export function percentile(sortedSamples: readonly number[], p: number): number {
  if (sortedSamples.length === 0) return Number.NaN;
  const rank = Math.ceil((p / 100) * sortedSamples.length) - 1;
  const index = Math.min(sortedSamples.length - 1, Math.max(0, rank));
  return sortedSamples[index];
}

/** The middle value, or the mean of the two middle values of an even count (2 rounds: their mean). */
export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const half = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[half]! : (sorted[half - 1]! + sorted[half]!) / 2;
}

export interface LatencySummary {
  count: number;
  p50Ms: number;
  p99Ms: number;
  meanMs: number;
}

export function summarize(samplesMs: readonly number[]): LatencySummary {
  const sorted = [...samplesMs].sort((a, b) => a - b);
  const mean = sorted.reduce((sum, v) => sum + v, 0) / Math.max(1, sorted.length);
  return { count: sorted.length, p50Ms: percentile(sorted, 50), p99Ms: percentile(sorted, 99), meanMs: mean };
}

export interface RatioSummary {
  median: number;
  min: number;
  max: number;
  rounds: number;
}

/** Median, min and max of per-round ratios a/b. */
export function ratios(a: readonly number[], b: readonly number[]): RatioSummary {
  const values = a.map((v, i) => v / b[i]).sort((x, y) => x - y);
  const [min, max] = [values[0], values[values.length - 1]];
  return { median: median(values), min, max, rounds: values.length };
}
