// The one retry loop every framework operation runs in, built on p-retry. It reads the operation's
// traits (src/protocol/opcodes.ts) and the error's class: connection loss and operation timeout
// are retried after the policy's sleep and once a connection is back; session expiry, logical
// answers (NoNode, BadVersion, NodeExists ...) and our own errors are not. A write whose outcome
// is unknown (an indeterminate ConnectionLoss) is never repeated blindly: the next attempt first
// asks `resolveIndeterminate` whether it was applied, and only repeats it if it was not.

import pRetry, { AbortError } from 'p-retry';
import type { KeeperError, OpTraits } from '../protocol/index.js';
import { sleep as realSleep } from './abort.js';
import { isIndeterminate, isRetryable } from './errors.js';
import type { RetryPolicy } from './retry-policy.js';

/** What a read-back found out about a write whose reply was lost. */
export type Resolution<T> = { readonly applied: true; readonly value: T } | { readonly applied: false };

/** Decides whether the write whose reply was lost (`error`) was applied. */
export type Resolver<T> = (error: KeeperError, signal: AbortSignal | undefined) => Promise<Resolution<T>>;

export interface AttemptContext {
  /** 1 for the first attempt. */
  readonly attemptNumber: number;
  /** An earlier attempt of this call was indeterminate and was resolved as not applied. */
  readonly afterIndeterminate: boolean;
  readonly signal: AbortSignal | undefined;
}

export interface RetryInfo {
  readonly error: KeeperError;
  /** 0 for the first retry. */
  readonly retryCount: number;
  readonly delayMs: number;
}

export interface RetryLoopOptions<T> {
  readonly policy: RetryPolicy;
  /** The traits of the operation retried (`operations[name].traits`). */
  readonly traits: OpTraits;
  readonly signal?: AbortSignal;
  /** Resolves once a connection is up; rejects with a retryable error when it gives up waiting. */
  readonly waitForConnection?: (signal: AbortSignal | undefined) => Promise<void>;
  /**
   * Decides whether an indeterminate write was applied. Absent: such a write is not retried and
   * its indeterminate error goes to the caller. It may throw: a retryable error retries the
   * resolution itself, any other error ends the call.
   */
  readonly resolveIndeterminate?: Resolver<T>;
  readonly random?: () => number;
  /** A monotonic clock in ms; performance.now by default. */
  readonly nowMs?: () => number;
  /** The sleep between attempts; tests pass a fake one. */
  readonly sleep?: (ms: number, signal: AbortSignal | undefined) => Promise<void>;
  /** Told before each sleep, for logs and tests. */
  readonly onRetry?: (info: RetryInfo) => void;
}

/** Runs `attempt` until it succeeds, the policy gives up, the error is final, or the signal aborts. */
export async function retryLoop<T>(
  attempt: (context: AttemptContext) => Promise<T>,
  options: RetryLoopOptions<T>,
): Promise<T> {
  const { policy, traits, signal } = options;
  const random = options.random ?? Math.random;
  const nowMs = options.nowMs ?? (() => performance.now());
  const sleep = options.sleep ?? realSleep;
  const startMs = nowMs();
  let unresolved: KeeperError | undefined;
  let afterIndeterminate = false;

  const once = async (attemptNumber: number): Promise<T> => {
    await options.waitForConnection?.(signal);
    if (unresolved !== undefined) {
      const resolution = await options.resolveIndeterminate!(unresolved, signal);
      unresolved = undefined;
      if (resolution.applied) return resolution.value;
      afterIndeterminate = true;
    }
    try {
      return await attempt({ attemptNumber, afterIndeterminate, signal });
    } catch (error) {
      if (isIndeterminate(error) && !traits.idempotent) {
        // Never repeat a write that may have happened without finding out first.
        if (options.resolveIndeterminate === undefined) throw new AbortError(error as Error);
        unresolved = error as KeeperError;
      }
      throw error;
    }
  };

  // The first attempt runs without p-retry: nearly every call ends there (done, or a final error),
  // and p-retry's setup and extra promise hops cost more than the call on a fast path. A failure
  // goes to p-retry as its first attempt's failure, so what follows is decided exactly as before.
  if (signal?.aborted) throw signal.reason;
  let firstError: unknown;
  try {
    const value = await once(1);
    if (signal?.aborted) throw signal.reason;
    return value;
  } catch (error) {
    if (signal?.aborted) throw signal.reason;
    firstError = error;
  }
  const attempts = (attemptNumber: number) =>
    attemptNumber === 1 ? Promise.reject(firstError) : once(attemptNumber);

  return pRetry(attempts, {
    retries: Infinity,
    // The policy decides the sleeps; p-retry's own backoff stays at zero.
    minTimeout: 0,
    maxTimeout: 0,
    signal,
    shouldRetry: async ({ error, retriesConsumed }) => {
      if (!isRetryable(error)) return false;
      const delayMs = policy.delayBeforeRetryMs(retriesConsumed, nowMs() - startMs, random);
      if (delayMs === undefined) return false;
      options.onRetry?.({ error, retryCount: retriesConsumed, delayMs });
      await sleep(delayMs, signal);
      return true;
    },
  }).catch((error: unknown) => {
    // An aborted call rejects with the signal's own reason, whatever p-retry made of it.
    if (signal?.aborted) throw signal.reason;
    throw error;
  });
}
