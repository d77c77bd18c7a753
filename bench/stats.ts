// Small statistics for benchmarks: percentiles of latency samples, and the median of per-round
// ratios with its range, so figures from a drifting 2-core machine are read side by side.

export function percentile(sortedSamples: readonly number[], p: number): number {
  if (sortedSamples.length === 0) return Number.NaN;
  const index = Math.min(sortedSamples.length - 1, Math.max(0, Math.ceil((p / 100) * sortedSamples.length) - 1));
  return sortedSamples[index];
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
  return { median: percentile(values, 50), min: values[0], max: values[values.length - 1], rounds: values.length };
}
