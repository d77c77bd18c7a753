// Runs seeds of the ensemble simulation and reports the first failure with the seed that replays it.

import { InvariantViolation, Simulation, paramsForSeed, type SimParams, type SimStats } from './simulator.js';

export interface SeedFailure {
  readonly seed: number;
  readonly params: SimParams;
  readonly error: Error;
  /** The last lines of a traced replay of the same seed. */
  readonly traceTail: string[];
}

export interface SeedsOutcome {
  readonly seedsRun: number;
  readonly failures: SeedFailure[];
  readonly totals: Omit<SimStats, 'healedAtMs' | 'livenessAtMs' | 'convergedAtMs'> & {
    worstLivenessMs: number;
  };
}

export function runSeed(seed: number, overrides: Partial<SimParams> = {}): SimStats {
  return new Simulation(paramsForSeed(seed, overrides)).run();
}

/** Replays a failing seed with tracing on, to show what led to the failure. */
export function traceSeed(seed: number, overrides: Partial<SimParams> = {}, lines = 60): string[] {
  const simulation = new Simulation(paramsForSeed(seed, overrides), { trace: true });
  try {
    simulation.run();
  } catch {
    // the failure itself is reported by the caller
  }
  return (simulation.trace ?? []).slice(-lines);
}

/** Runs seeds first..first+count-1, stopping early when `deadlineMs` (wall clock, from the caller) passes. */
export function runSeeds(options: {
  first: number; count: number; overrides?: Partial<SimParams>; stopAfterFailures?: number;
  shouldStop?: () => boolean;
}): SeedsOutcome {
  const failures: SeedFailure[] = [];
  const totals = {
    elections: 0, established: 0, writesSubmitted: 0, writesAcked: 0, committedTxns: 0, crashes: 0,
    partitions: 0, linkLosses: 0, diffs: 0, truncs: 0, snaps: 0, reconfigs: 0, messages: 0, steps: 0,
    worstLivenessMs: 0,
  };
  let seedsRun = 0;
  for (let seed = options.first; seed < options.first + options.count; seed++) {
    if (options.shouldStop?.()) break;
    seedsRun++;
    try {
      const stats = runSeed(seed, options.overrides);
      for (const key of Object.keys(totals) as (keyof typeof totals)[]) {
        if (key !== 'worstLivenessMs') totals[key] += stats[key];
      }
      totals.worstLivenessMs = Math.max(totals.worstLivenessMs, stats.livenessAtMs - stats.healedAtMs);
    } catch (error) {
      if (!(error instanceof Error)) throw error;
      const kind = error instanceof InvariantViolation ? '' : ' (crash in the code under test)';
      const wrapped = new Error(`seed ${seed}${kind}: ${error.message}`, { cause: error });
      const params = paramsForSeed(seed, options.overrides);
      failures.push({ seed, params, error: wrapped, traceTail: traceSeed(seed, options.overrides) });
      if (failures.length >= (options.stopAfterFailures ?? 1)) break;
    }
  }
  return { seedsRun, failures, totals };
}
