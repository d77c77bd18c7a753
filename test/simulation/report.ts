// How a failing seed is shown: the seed, how to replay it, its parameters and the end of its trace.

import type { SeedFailure, SeedsOutcome } from './run-seeds.js';

export function describeFailure(failure: SeedFailure): string {
  const bigints = (_key: string, value: unknown): unknown =>
    typeof value === 'bigint' ? `${value}n` : value;
  const params = JSON.stringify(failure.params, bigints);
  return [
    failure.error.message,
    `replay: SEED=${failure.seed} npm run test:sim`,
    `params: ${params}`,
    'last trace lines:',
    ...failure.traceTail.map((line) => `  ${line}`),
  ].join('\n');
}

export function describeTotals(outcome: SeedsOutcome): string {
  const t = outcome.totals;
  return `${outcome.seedsRun} seeds: ${t.established} leaders established, ${t.elections} elections, ` +
    `${t.committedTxns} txns committed, ${t.writesAcked}/${t.writesSubmitted} writes acknowledged, ` +
    `${t.crashes} crashes, ${t.partitions} partitions, ${t.linkLosses} broken connections reported, ` +
    `syncs ${t.diffs} DIFF / ${t.truncs} TRUNC / ${t.snaps} SNAP, ${t.reconfigs} reconfigs committed, ` +
    `${t.messages} messages, worst time to a write after healing ${t.worstLivenessMs} ms`;
}
