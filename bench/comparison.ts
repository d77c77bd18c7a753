// What a benchmark comparison is: N sides measured in alternating rounds, each round giving a set of
// figures per side; the first side is the reference for ratios (when it is ours). Each comparison
// lives in its own file under bench/ and is registered in run.ts.
import type { LatencySummary } from './stats.js';

/** The machine's floor, measured once per run before the comparisons. */
export interface Floor {
  fsyncAppend: LatencySummary;
  fdatasyncPreallocated: LatencySummary;
  loopbackRoundTrip: LatencySummary;
}

/** One number a side produces per round. */
export interface Figure {
  key: string;
  unit: string;
  higherIsBetter: boolean;
  /** The machine's best possible value of this figure, in the same unit (for "how far from the floor"). */
  floor?: (floor: Floor) => number;
}

export interface RunMode {
  quick: boolean;
  /** Aborted when the round overruns its time limit: the side stops issuing work and fails. */
  signal: AbortSignal;
  /** Adds a line under the comparison's table (once per distinct text), e.g. a caveat seen while running. */
  note(text: string): void;
}

export interface Side<Context> {
  label: string;
  /** One round: returns a value for every figure key of the comparison. */
  measure(context: Context, mode: RunMode): Promise<Record<string, number>>;
}

export interface Comparison<Context = unknown> {
  name: string;
  /** Shown under the table: what exactly is measured, and caveats. */
  notes?: string[];
  figures: Figure[];
  sides: Array<Side<Context>>;
  /** Ratios first/each are printed only when the first side is ours; baselines alone get none. */
  firstIsOurs: boolean;
  rounds?: { quick: number; full: number };
  /** An unrecorded first round per side (JIT warm-up, caches); default true. */
  warmup?: boolean;
  /** Longest one side's round may take before the comparison is abandoned. */
  roundTimeLimitMs?: { quick: number; full: number };
  /** Resolves with why the comparison cannot run here (missing Apache, JVM, ...), or undefined. */
  skipReason?: () => Promise<string | undefined>;
  /** Shared state for every round (servers, JVMs); disposed after the last round, even on failure. */
  setup?: (quick: boolean) => Promise<Context & AsyncDisposable>;
}

/** Erases the context type so comparisons with different contexts share one list. */
export function comparison<Context>(definition: Comparison<Context>): Comparison<unknown> {
  return definition as unknown as Comparison<unknown>;
}
