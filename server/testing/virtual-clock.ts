// A clock the test moves by hand. Handed to the client, the framework, recipes and the in-process
// server, it makes pings, read timeouts, session expiry, retry backoff and lock timeouts happen
// exactly when the test says, without sleeping. `advance` fires due timers in time order and lets
// the work they start (promises, immediates, in-process bytes) run before it looks at the next.

import type { Clock } from '../../src/client/index.js';

interface PendingTimer {
  readonly atMs: number;
  readonly seq: number;
  readonly callback: () => void;
}

/** Event-loop turns `settle` lets pass: enough for a request's round trip in process, many times. */
const SETTLE_TURNS = 20;
/** Timers one `advance` may fire; more means a timer loop that never lets time pass. */
const FIRINGS_PER_ADVANCE_MAX = 100_000;

export class VirtualClock implements Clock {
  private now: number;
  private readonly timers = new Map<number, PendingTimer>();
  private nextId = 1;
  private nextSeq = 0;

  /** Starts at `startMs` (default: the wall clock, so node ctimes made on it look plausible). */
  constructor(startMs: number = Date.now()) {
    this.now = startMs;
  }

  nowMs(): number {
    return this.now;
  }

  setTimer(callback: () => void, delayMs: number): unknown {
    const id = this.nextId++;
    const delay = Number.isFinite(delayMs) && delayMs > 0 ? delayMs : 0;
    this.timers.set(id, { atMs: this.now + delay, seq: this.nextSeq++, callback });
    return id;
  }

  clearTimer(timer: unknown): void {
    this.timers.delete(timer as number);
  }

  /** Timers armed and not yet fired or cleared. */
  get pendingTimers(): number {
    return this.timers.size;
  }

  /** When the next timer is due, or undefined when none is armed. */
  get nextTimerAtMs(): number | undefined {
    return this.earliest(Infinity)?.[1].atMs;
  }

  /** Lets work that needs no time run: promise callbacks, immediates, in-process bytes. */
  async settle(): Promise<void> {
    for (let turn = 0; turn < SETTLE_TURNS; turn++) await new Promise((resolve) => setImmediate(resolve));
  }

  /** Moves time forward by `ms`, firing every timer due on the way, in order. */
  async advance(ms: number): Promise<void> {
    if (!(ms >= 0)) throw new RangeError(`cannot advance by ${ms} ms`);
    const targetMs = this.now + ms;
    await this.settle();
    for (let fired = 0; ; fired++) {
      if (fired >= FIRINGS_PER_ADVANCE_MAX) {
        throw new Error(`more than ${FIRINGS_PER_ADVANCE_MAX} timers fired in one advance: a timer loop?`);
      }
      const due = this.earliest(targetMs);
      if (due === undefined) break;
      const [id, timer] = due;
      this.timers.delete(id);
      this.now = Math.max(this.now, timer.atMs);
      timer.callback();
      await this.settle();
    }
    this.now = targetMs;
    await this.settle();
  }

  /**
   * Advances in steps of `stepMs` until `condition()` holds; resolves with the virtual ms it took.
   * Throws once `limitMs` passed without it, so a test fails instead of spinning.
   */
  async advanceUntil(
    condition: () => boolean,
    options: { limitMs?: number; stepMs?: number } = {},
  ): Promise<number> {
    const limitMs = options.limitMs ?? 60_000;
    const stepMs = options.stepMs ?? 10;
    const startMs = this.now;
    await this.settle();
    while (!condition()) {
      if (this.now - startMs >= limitMs) throw new Error(`condition not reached in ${limitMs} virtual ms`);
      await this.advance(stepMs);
    }
    return this.now - startMs;
  }

  private earliest(limitMs: number): [number, PendingTimer] | undefined {
    let best: [number, PendingTimer] | undefined;
    for (const entry of this.timers) {
      const timer = entry[1];
      if (timer.atMs > limitMs) continue;
      const before = best === undefined || timer.atMs < best[1].atMs;
      if (before || (timer.atMs === best![1].atMs && timer.seq < best![1].seq)) best = entry;
    }
    return best;
  }
}
