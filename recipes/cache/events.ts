// Shared plumbing of the recipe shells: an event stream with listeners and bounded async iterators,
// a serial task queue (watch events and reads processed strictly in order), and waiting for a watch,
// a signal or a deadline, whichever comes first. No I/O of its own; time and timers come from a
// clock (real by default), so a test kit can run every recipe wait on virtual time.
import { KeeperError, realClock, TimeoutError, type FrameworkClock } from '../../src/index.js';

/** Events an iterator buffers for a slow reader before it fails with an overflow error. */
export const EVENTS_QUEUED_MAX_DEFAULT = 10_000;

export class EventStreamOverflowError extends Error {
  constructor(queuedMax: number) {
    super(`more than ${queuedMax} events queued for a reader that does not keep up`);
    this.name = 'EventStreamOverflowError';
  }
}

interface Reader<T> {
  queue: T[];
  wake: (() => void) | undefined;
  failed: Error | undefined;
}

/** Fan-out of events to listeners (called synchronously) and to async iterators (each its own queue). */
export class EventStream<T> {
  readonly #listeners = new Set<(event: T) => void>();
  readonly #readers = new Set<Reader<T>>();
  #ended = false;

  constructor(
    private readonly queuedMax = EVENTS_QUEUED_MAX_DEFAULT,
    private readonly onListenerError: (error: unknown) => void = reportListenerError,
  ) {}

  get ended(): boolean {
    return this.#ended;
  }

  /** Calls `listener` for every event from now on; returns the function that unsubscribes it. */
  on(listener: (event: T) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  emit(event: T): void {
    if (this.#ended) return;
    for (const listener of [...this.#listeners]) {
      try {
        listener(event);
      } catch (error) {
        this.onListenerError(error);
      }
    }
    for (const reader of this.#readers) {
      if (reader.failed !== undefined) continue;
      if (reader.queue.length >= this.queuedMax) reader.failed = new EventStreamOverflowError(this.queuedMax);
      else reader.queue.push(event);
      reader.wake?.();
    }
  }

  /** Ends every iterator (after what it has queued) and drops the listeners. */
  end(): void {
    this.#ended = true;
    this.#listeners.clear();
    for (const reader of this.#readers) reader.wake?.();
  }

  /**
   * Events from now on, preceded by `initial` (a consistent snapshot taken in the same tick), until
   * the stream ends or `signal` aborts.
   */
  iterate(initial: readonly T[] = [], signal?: AbortSignal): AsyncIterableIterator<T> {
    const reader: Reader<T> = { queue: [...initial], wake: undefined, failed: undefined };
    const readers = this.#readers;
    const stream = this;
    if (!this.#ended) readers.add(reader);
    const onAbort = () => reader.wake?.();
    signal?.addEventListener('abort', onAbort, { once: true });
    const finish = (): IteratorResult<T> => {
      readers.delete(reader);
      signal?.removeEventListener('abort', onAbort);
      reader.queue.length = 0;
      return { done: true, value: undefined };
    };
    return {
      async next(): Promise<IteratorResult<T>> {
        for (;;) {
          if (signal?.aborted) {
            finish();
            throw signal.reason;
          }
          if (reader.queue.length > 0) return { done: false, value: reader.queue.shift()! };
          if (reader.failed !== undefined) {
            finish();
            throw reader.failed;
          }
          if (stream.#ended || !readers.has(reader)) return finish();
          await new Promise<void>((resolve) => (reader.wake = resolve));
          reader.wake = undefined;
        }
      },
      async return(): Promise<IteratorResult<T>> {
        return finish();
      },
      [Symbol.asyncIterator]() {
        return this;
      },
    };
  }
}

function reportListenerError(error: unknown): void {
  process.emitWarning(`a recipe listener threw: ${String(error)}`, 'RecipeWarning');
}

/** Runs tasks one after another; a failing task is reported and does not stop the queue. */
export class SerialTasks {
  #tail: Promise<void> = Promise.resolve();
  #pending = 0;

  constructor(private readonly onError: (error: unknown) => void) {}

  get pending(): number {
    return this.#pending;
  }

  run(task: () => Promise<void>): Promise<void> {
    this.#pending++;
    const next = this.#tail.then(task).catch(this.onError).finally(() => this.#pending--);
    this.#tail = next;
    return next;
  }

  /** Queues `task` like run, but the caller gets its result or its error (not reported). */
  call<T>(task: () => Promise<T>): Promise<T> {
    this.#pending++;
    const result = this.#tail.then(task).finally(() => this.#pending--);
    this.#tail = result.then(
      () => undefined,
      () => undefined,
    );
    return result;
  }

  /** Resolves once every task queued so far has finished. */
  drained(): Promise<void> {
    return this.#tail;
  }
}

/** A point in time on a clock: waits against it time out when that clock reaches `atMs`. */
export interface Deadline {
  readonly atMs: number;
  readonly clock: FrameworkClock;
}

/** The deadline `timeoutMs` from now on `clock`, or undefined for none. */
export function deadlineOf(
  timeoutMs: number | undefined,
  clock: FrameworkClock = realClock,
): Deadline | undefined {
  if (timeoutMs === undefined) return undefined;
  if (!(timeoutMs >= 0)) throw new TypeError(`timeoutMs must be >= 0, got ${timeoutMs}`);
  return { atMs: clock.nowMs() + timeoutMs, clock };
}

function timedOut(what: string): TimeoutError {
  return new TimeoutError(`${what} timed out`);
}

/**
 * Waits for `wake` (a watch firing, a state change...), the signal or the deadline, whichever comes
 * first. Resolves on `wake`; rejects with the signal's reason, or TimeoutError naming `what`.
 */
export function waitFor(
  wake: Promise<unknown>,
  options: { signal?: AbortSignal | undefined; deadline?: Deadline | undefined; what: string },
): Promise<void> {
  const { signal, deadline, what } = options;
  if (signal?.aborted) return Promise.reject(signal.reason);
  if (deadline !== undefined && deadline.clock.nowMs() >= deadline.atMs) {
    return Promise.reject(timedOut(what));
  }
  return new Promise<void>((resolve, reject) => {
    let timer: unknown;
    const done = () => {
      if (timer !== undefined) deadline!.clock.clearTimer(timer);
      signal?.removeEventListener('abort', onAbort);
    };
    const onAbort = () => {
      done();
      reject(signal!.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    if (deadline !== undefined) {
      const { clock, atMs } = deadline;
      timer = clock.setTimer(() => {
        done();
        reject(timedOut(what));
      }, Math.max(0, atMs - clock.nowMs()));
    }
    wake.then(
      () => {
        done();
        resolve();
      },
      () => {
        // A watch that can no longer fire (session expired) is a reason to look again, not a failure.
        done();
        resolve();
      },
    );
  });
}

/** Resolves after `ms` on `clock`, or rejects with the signal's reason; the timer never outlives either. */
export function sleep(ms: number, signal?: AbortSignal, clock: FrameworkClock = realClock): Promise<void> {
  if (signal?.aborted) return Promise.reject(signal.reason);
  return new Promise<void>((resolve, reject) => {
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

/** A promise that resolves at the next call of the returned `fire` (and stays resolved). */
export function trigger(): { promise: Promise<void>; fire: () => void } {
  let fire!: () => void;
  const promise = new Promise<void>((resolve) => (fire = resolve));
  return { promise, fire };
}

/** True when `error` is a ZooKeeper error with `code`. */
export function hasErrorCode(error: unknown, code: number): boolean {
  return error instanceof KeeperError && error.code === code;
}

/**
 * Closes `recipe` when `framework` closes (its iterators end, its timers stop), holding it only
 * weakly, so recipes closed earlier do not pile up in a long-lived framework.
 */
export function closeWithFramework(
  framework: { closed(): Promise<unknown> },
  recipe: { close(): Promise<void> },
): void {
  const ref = new WeakRef(recipe);
  void framework.closed().then(() => ref.deref()?.close());
}
