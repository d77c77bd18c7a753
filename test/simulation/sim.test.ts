// Goal: the long seeded simulation of whole ensembles (see simulator.ts for the fault model and the
// invariants). `npm run test:sim` runs SEEDS seeds (default 20000) from FIRST_SEED (default 1) within
// SIM_BUDGET_MS of wall time (default 180 s); `SEED=<n> npm run test:sim` replays one seed with its trace.

import assert from 'node:assert/strict';
import { describeFailure, describeTotals } from './report.js';
import { runSeeds, traceSeed } from './run-seeds.js';

function envNumber(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new Error(`${name} must be a non-negative integer, got ${raw}`);
  }
  return value;
}

const replaySeed = process.env.SEED;
const seeds = envNumber('SEEDS', 20_000);
const firstSeed = envNumber('FIRST_SEED', 1);
const budgetMs = envNumber('SIM_BUDGET_MS', 180_000);

describe('quorum: ensemble simulation', () => {
  if (replaySeed !== undefined && replaySeed !== '') {
    const seed = envNumber('SEED', 0);
    it(`replays seed ${seed}`, function () {
      this.timeout(120_000);
      const outcome = runSeeds({ first: seed, count: 1 });
      const failure = outcome.failures[0];
      if (failure !== undefined) assert.fail(describeFailure(failure));
      if (process.env.TRACE === '1') process.stdout.write(`${traceSeed(seed, {}, 1_000_000).join('\n')}\n`);
      process.stdout.write(`      ${describeTotals(outcome)}\n`);
    });
    return;
  }
  it(`keeps every invariant on up to ${seeds} seeds from ${firstSeed}`, function () {
    this.timeout(budgetMs + 120_000);
    const started = performance.now();
    const outcome = runSeeds({
      first: firstSeed, count: seeds, stopAfterFailures: 5,
      shouldStop: () => performance.now() - started > budgetMs,
    });
    const seconds = Math.round((performance.now() - started) / 1000);
    process.stdout.write(`      ${describeTotals(outcome)} in ${seconds} s\n`);
    if (outcome.failures.length > 0) {
      assert.fail(outcome.failures.map(describeFailure).join('\n\n'));
    }
    assert.ok(outcome.seedsRun > 0, 'no seed ran');
  });
});
