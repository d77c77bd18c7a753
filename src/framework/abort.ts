// Small helpers for the `{ signal }` discipline: check first, always remove the abort listener
// when done, and never leave a timer running after the wait is over. Time comes from a clock
// object, so a test kit can run the framework on virtual time.

import { realClock, type Clock } from '../client/clock.js';

/** Where the framework reads the time and arms its timers: the client's Clock (one clock for both). */
export type FrameworkClock = Clock;
export { realClock };

/** Sleeps `ms` on `clock`, or rejects with the signal's reason as soon as it aborts. */
export function sleep(ms: number, signal?: AbortSignal, clock: FrameworkClock = realClock): Promise<void> {
  if (signal?.aborted) return Promise.reject(signal.reason);
  if (ms <= 0) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const onAbort = () => {
      clock.clearTimer(timer);
      reject(signal!.reason);
    };
    const timer = clock.setTimer(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * Settles with `promise`, or rejects with the signal's reason when it aborts first. The promise
 * keeps running: `onLateResult` hears its outcome when the caller stopped waiting, so work it did
 * (a node created, a watch set) can be undone.
 */
export function raceAbort<T>(
  promise: Promise<T>,
  signal: AbortSignal | undefined,
  onLateResult?: (outcome: { value: T } | { error: unknown }) => void,
): Promise<T> {
  if (signal === undefined) return promise;
  return new Promise<T>((resolve, reject) => {
    let abandoned = false;
    const onAbort = () => {
      abandoned = true;
      reject(signal.reason);
    };
    if (signal.aborted) onAbort();
    else signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        if (abandoned) onLateResult?.({ value });
        else resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        if (abandoned) onLateResult?.({ error });
        else reject(error);
      },
    );
  });
}
