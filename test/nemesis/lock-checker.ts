// Checks what the lock workers recorded against the counter's final value: the mutex recipe with
// fencing tokens must give no overlapping holders, tokens that rise in commit order, and no lost
// increments. Commit order is the guarded writes' mzxid order (ZooKeeper's total order).
import type { IncrementRecord } from './lock-worker.js';

export interface LockVerdict {
  readonly ok: boolean;
  readonly acknowledged: number;
  readonly unknown: number;
  readonly finalCounter: number;
  /** Acknowledged increments that wrote a value another acknowledged increment also wrote. */
  readonly lostIncrements: number;
  /** Consecutive commits where the later holder acquired before the earlier one's guarded write began. */
  readonly overlaps: number;
  /** Consecutive commits whose fencing tokens do not rise. */
  readonly tokenRegressions: number;
  readonly problems: readonly string[];
}

export function checkLock(records: readonly IncrementRecord[], finalCounter: number): LockVerdict {
  const acknowledged = records.filter((r) => r.outcome === 'ok');
  const unknown = records.filter((r) => r.outcome === 'unknown').length;
  const problems: string[] = [];
  const byCommit = [...acknowledged].sort((a, b) => compareBig(a.mzxid!, b.mzxid!));

  const valuesSeen = new Map<number, IncrementRecord>();
  let lostIncrements = 0;
  for (const record of byCommit) {
    const earlier = valuesSeen.get(record.valueWritten);
    if (earlier !== undefined) {
      lostIncrements++;
      const who = `${earlier.client} and ${record.client}`;
      problems.push(`${who} both wrote ${record.valueWritten}: an increment was lost`);
    }
    valuesSeen.set(record.valueWritten, record);
  }

  let overlaps = 0;
  let tokenRegressions = 0;
  for (let i = 1; i < byCommit.length; i++) {
    const before = byCommit[i - 1]!;
    const after = byCommit[i]!;
    // `after` could only acquire once `before`'s node was gone, which is after its guarded write began.
    if (after.acquiredAt < before.guardInvokedAt) {
      overlaps++;
      problems.push(
        `${after.client} (token ${after.token}) acquired at ${after.acquiredAt.toFixed(1)} while ` +
          `${before.client} (token ${before.token}) still held it ` +
          `(guarded write at ${before.guardInvokedAt.toFixed(1)})`,
      );
    }
    if (compareBig(after.token, before.token) <= 0) {
      tokenRegressions++;
      problems.push(`token ${after.token} of ${after.client} committed after token ${before.token}`);
    }
  }

  // Every acknowledged increment counts; an unknown one may or may not have.
  if (finalCounter < acknowledged.length || finalCounter > acknowledged.length + unknown) {
    const counts = `${acknowledged.length} acknowledged, ${unknown} unknown increments`;
    problems.push(`counter is ${finalCounter}: ${counts}`);
  }
  const last = byCommit.at(-1);
  if (last !== undefined && finalCounter < last.valueWritten) {
    const acknowledgedWrite = `${last.client} was acknowledged writing ${last.valueWritten}`;
    problems.push(`counter is ${finalCounter} but ${acknowledgedWrite}`);
  }
  return {
    ok: problems.length === 0,
    acknowledged: acknowledged.length,
    unknown,
    finalCounter,
    lostIncrements,
    overlaps,
    tokenRegressions,
    problems: problems.slice(0, 20),
  };
}

function compareBig(a: string, b: string): number {
  const x = BigInt(a);
  const y = BigInt(b);
  return x < y ? -1 : x > y ? 1 : 0;
}
