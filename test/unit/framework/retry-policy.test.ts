// Each retry policy gives the sleeps Curator's namesake gives, and stops when it should; driven
// with a fixed random number and explicit elapsed times, no clock.
import assert from 'node:assert/strict';
import { describe, it } from 'mocha';
import {
  InvalidArgumentError,
  boundedExponentialBackoff,
  exponentialBackoff,
  noRetry,
  retryForever,
  retryNTimes,
  retryOnce,
  retryUntilElapsed,
  type RetryPolicy,
} from '../../../src/index.js';

function delays(policy: RetryPolicy, count: number, random = () => 0.999): Array<number | undefined> {
  return Array.from({ length: count }, (_, i) => policy.delayBeforeRetryMs(i, 0, random));
}

describe('retry policies', () => {
  it('exponentialBackoff doubles its jitter window and stops after maxRetries', () => {
    const policy = exponentialBackoff({ baseSleepMs: 10, maxRetries: 3 });
    // random just under 1 picks the top slot: 2^(n+1) - 1.
    assert.deepEqual(delays(policy, 5), [10, 30, 70, undefined, undefined]);
    // random 0 picks the lowest slot, which is clamped to one base unit.
    assert.deepEqual(delays(policy, 3, () => 0), [10, 10, 10]);
    // The jitter is the random slot: 0.5 of 8 slots is slot 4.
    assert.equal(policy.delayBeforeRetryMs(2, 0, () => 0.5), 40);
  });

  it('exponentialBackoff caps maxRetries at 29, as Curator does', () => {
    const policy = exponentialBackoff({ baseSleepMs: 1, maxRetries: 100 });
    assert.notEqual(policy.delayBeforeRetryMs(28, 0, () => 0), undefined);
    assert.equal(policy.delayBeforeRetryMs(29, 0, () => 0), undefined);
  });

  it('boundedExponentialBackoff never sleeps longer than maxSleepMs', () => {
    const policy = boundedExponentialBackoff({ baseSleepMs: 10, maxSleepMs: 50, maxRetries: 5 });
    assert.deepEqual(delays(policy, 6), [10, 30, 50, 50, 50, undefined]);
  });

  it('retryNTimes and retryOnce sleep the same time each retry, then stop', () => {
    assert.deepEqual(delays(retryNTimes(3, 25), 4), [25, 25, 25, undefined]);
    assert.deepEqual(delays(retryOnce(7), 2), [7, undefined]);
    assert.deepEqual(delays(retryNTimes(0, 7), 1), [undefined]);
    assert.deepEqual(delays(noRetry, 1), [undefined]);
  });

  it('retryUntilElapsed stops once the time is spent and never sleeps past it', () => {
    const policy = retryUntilElapsed(1000, 300);
    assert.equal(policy.delayBeforeRetryMs(0, 0, Math.random), 300);
    assert.equal(policy.delayBeforeRetryMs(5, 900, Math.random), 100);
    assert.equal(policy.delayBeforeRetryMs(6, 1000, Math.random), undefined);
  });

  it('retryForever always retries', () => {
    const policy = retryForever(5);
    assert.equal(policy.delayBeforeRetryMs(1_000_000, 1e12, Math.random), 5);
  });

  it('refuses nonsense parameters', () => {
    assert.throws(() => exponentialBackoff({ baseSleepMs: -1, maxRetries: 1 }), InvalidArgumentError);
    assert.throws(() => retryNTimes(1.5, 1), InvalidArgumentError);
    assert.throws(() => retryUntilElapsed(Infinity, 1), InvalidArgumentError);
    assert.throws(() => retryForever(Number.NaN), InvalidArgumentError);
  });
});
