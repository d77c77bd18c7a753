// Barrier: one node that holds everybody up while it exists (Curator's DistributedBarrier). Someone
// sets it, waiters wait until it is removed.
//
//   const barrier = new Barrier(zk, '/barriers/deploy');
//   await barrier.set();                                 // holds every waiter
//   await barrier.wait({ signal, timeoutMs: 30_000 });   // elsewhere: resolves once removed
//   await barrier.remove();
//
// Guarantees. The barrier node is PERSISTENT: it outlives its setter (a setter that dies leaves it
// up, as in Curator). `wait` resolves only after a read saw the node absent, never on a wake-up alone.
// SUSPENDED: a waiter keeps waiting (its watch survives a reconnect on the same session); session
// loss: the watch is gone, so it reads again on the new session. Abort / timeout: the waiter's watch
// is removed and it rejects with the signal's reason / TimeoutError. Nothing of a waiter is left.
// Timeouts run on `options.clock` (real time by default; a test kit passes its virtual clock).
import {
  ErrorCode,
  InvalidArgumentError,
  pathProblem,
  realClock,
  type Framework,
  type FrameworkClock,
} from '../../src/index.js';
import { deadlineOf, hasErrorCode, waitFor } from '../cache/events.js';

export interface BarrierOptions {
  /** Where wait timeouts read the time and arm their timers. Default: real time. */
  clock?: FrameworkClock;
}

export interface BarrierWaitOptions {
  signal?: AbortSignal;
  /** Reject with TimeoutError after this long. */
  timeoutMs?: number;
}

export class Barrier {
  readonly #clock: FrameworkClock;

  constructor(
    private readonly zk: Framework,
    readonly path: string,
    options: BarrierOptions = {},
  ) {
    this.#clock = options.clock ?? realClock;
    const problem = pathProblem(path);
    if (problem !== undefined) throw new InvalidArgumentError(`bad barrier path ${path}: ${problem}`);
  }

  /** Puts the barrier up (already up is fine). */
  async set(options: { signal?: AbortSignal } = {}): Promise<void> {
    try {
      await this.zk.create(this.path, { parentsAsContainers: true, signal: options.signal });
    } catch (error) {
      if (!hasErrorCode(error, ErrorCode.NODE_EXISTS)) throw error;
    }
  }

  /** Takes the barrier down (already down is fine). */
  async remove(options: { signal?: AbortSignal } = {}): Promise<void> {
    await this.zk.delete(this.path, { quietly: true, signal: options.signal });
  }

  /** True while the barrier is up. */
  async isSet(options: { signal?: AbortSignal } = {}): Promise<boolean> {
    return (await this.zk.exists(this.path, { signal: options.signal })) !== null;
  }

  /** Resolves once the barrier is down. */
  async wait(options: BarrierWaitOptions = {}): Promise<void> {
    const deadline = deadlineOf(options.timeoutMs, this.#clock);
    await using scope = this.zk.withWatcherRemoval();
    for (;;) {
      options.signal?.throwIfAborted();
      const { stat, watch } = await scope.exists(this.path, { watch: true, signal: options.signal });
      if (stat === null) return;
      await waitFor(watch, { signal: options.signal, deadline, what: `waiting on barrier ${this.path}` });
    }
  }
}
