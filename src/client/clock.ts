// Where the client (and the framework above it) reads the time and arms its timers. Real time by
// default; a test kit passes a virtual clock it advances by hand, so pings, read timeouts, session
// expiry and waits run deterministically without sleeping.

import { performance } from 'node:perf_hooks';

export interface Clock {
  /** Monotonic milliseconds (any origin, the same for every user of one clock). */
  nowMs(): number;
  /** Calls `callback` once after `delayMs`; returns a handle for clearTimer. */
  setTimer(callback: () => void, delayMs: number): unknown;
  /** Cancels a timer (a handle of a fired or cleared timer is ignored). */
  clearTimer(timer: unknown): void;
}

export const realClock: Clock = {
  nowMs: () => performance.now(),
  setTimer: (callback, delayMs) => setTimeout(callback, delayMs),
  clearTimer: (timer) => clearTimeout(timer as NodeJS.Timeout),
};
