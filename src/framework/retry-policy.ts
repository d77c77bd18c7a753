// Retry policies as small objects: each answers one question, "how long to sleep before retry
// number n, or stop?", from the retry count, the time spent so far and a random number. They hold
// no state and read no clock, so one policy serves every operation and tests drive them directly.

import { InvalidArgumentError } from '../protocol/index.js';

export interface RetryPolicy {
  /** For logs and error messages ("exponentialBackoff(base 100 ms, 10 retries)"). */
  readonly description: string;
  /**
   * Milliseconds to sleep before retry `retryCount` (0 for the first retry), or undefined to give
   * up. `elapsedMs` is the time since the operation's first attempt; `random` is in [0, 1).
   */
  delayBeforeRetryMs(retryCount: number, elapsedMs: number, random: () => number): number | undefined;
}

/** Curator caps the exponent so the shift cannot overflow; so do we. */
export const EXPONENTIAL_RETRIES_MAX = 29;

export interface ExponentialBackoffOptions {
  /** The unit of sleep; retry n sleeps base × a random whole number in [1, 2^(n+1)). */
  baseSleepMs: number;
  /** Retries after the first attempt (at most 29). */
  maxRetries: number;
  /** Longest single sleep. Default: unbounded. */
  maxSleepMs?: number;
}

/**
 * Exponential backoff with full jitter, as Curator's ExponentialBackoffRetry: retry n sleeps
 * `baseSleepMs × max(1, floor(random × 2^(n+1)))`, so a crowd of clients spreads out.
 */
export function exponentialBackoff(options: ExponentialBackoffOptions): RetryPolicy {
  const baseSleepMs = nonNegative(options.baseSleepMs, 'baseSleepMs');
  const maxRetries = Math.min(nonNegativeInteger(options.maxRetries, 'maxRetries'), EXPONENTIAL_RETRIES_MAX);
  const maxSleepMs =
    options.maxSleepMs === undefined ? Infinity : nonNegative(options.maxSleepMs, 'maxSleepMs');
  return {
    description: `exponentialBackoff(base ${baseSleepMs} ms, ${maxRetries} retries, max ${maxSleepMs} ms)`,
    delayBeforeRetryMs(retryCount, _elapsedMs, random) {
      if (retryCount >= maxRetries) return undefined;
      const slots = 2 ** (retryCount + 1);
      const multiplier = Math.max(1, Math.floor(random() * slots));
      return Math.min(baseSleepMs * multiplier, maxSleepMs);
    },
  };
}

/** Exponential backoff whose single sleep never exceeds `maxSleepMs` (Curator's bounded variant). */
export function boundedExponentialBackoff(options: Required<ExponentialBackoffOptions>): RetryPolicy {
  if (options.maxSleepMs === undefined) {
    throw new InvalidArgumentError('boundedExponentialBackoff needs maxSleepMs');
  }
  const policy = exponentialBackoff(options);
  return { ...policy, description: `bounded ${policy.description}` };
}

/** At most `retries` retries, `sleepMs` apart. */
export function retryNTimes(retries: number, sleepMs: number): RetryPolicy {
  const count = nonNegativeInteger(retries, 'retries');
  const sleep = nonNegative(sleepMs, 'sleepMs');
  return {
    description: `retryNTimes(${count}, ${sleep} ms)`,
    delayBeforeRetryMs: (retryCount) => (retryCount < count ? sleep : undefined),
  };
}

/** One retry after `sleepMs`. */
export function retryOnce(sleepMs: number): RetryPolicy {
  return { ...retryNTimes(1, sleepMs), description: `retryOnce(${sleepMs} ms)` };
}

/** Retries `sleepMs` apart until `maxElapsedMs` have passed since the first attempt. */
export function retryUntilElapsed(maxElapsedMs: number, sleepMs: number): RetryPolicy {
  const limit = nonNegative(maxElapsedMs, 'maxElapsedMs');
  const sleep = nonNegative(sleepMs, 'sleepMs');
  return {
    description: `retryUntilElapsed(${limit} ms, ${sleep} ms)`,
    delayBeforeRetryMs(_retryCount, elapsedMs) {
      if (elapsedMs >= limit) return undefined;
      return Math.min(sleep, limit - elapsedMs);
    },
  };
}

/** Retries forever, `sleepMs` apart; only a signal, session expiry or close ends the operation. */
export function retryForever(sleepMs: number): RetryPolicy {
  const sleep = nonNegative(sleepMs, 'sleepMs');
  return { description: `retryForever(${sleep} ms)`, delayBeforeRetryMs: () => sleep };
}

/** Never retries: the first failure is the answer. */
export const noRetry: RetryPolicy = { description: 'noRetry', delayBeforeRetryMs: () => undefined };

/** Curator's default for a new client: exponential backoff from 1 s, 3 retries. */
export function defaultRetryPolicy(): RetryPolicy {
  return exponentialBackoff({ baseSleepMs: 1000, maxRetries: 3 });
}

function nonNegative(value: number, name: string): number {
  if (typeof value !== 'number' || !(value >= 0) || !Number.isFinite(value)) {
    throw new InvalidArgumentError(`${name} must be a finite number ≥ 0, got ${value}`);
  }
  return value;
}

function nonNegativeInteger(value: number, name: string): number {
  if (!Number.isInteger(value) || value < 0) {
    throw new InvalidArgumentError(`${name} must be an integer ≥ 0, got ${value}`);
  }
  return value;
}
