// DistributedAtomicLong: a 64-bit counter changed by optimistic compare-and-set on the node's version
// (Curator's DistributedAtomicLong, same 8-byte big-endian format), with an optional promoted-to-lock
// fallback (Curator's PromotedToLock): after `attemptsMax` lost races, take our Mutex (Curator's
// InterProcessMutex layout, so Java counters promoted on the same lock path exclude us) and try again
// under it. A lock not acquired in time gives `succeeded: false`, as in Curator, not an error.
//
//   const counter = new DistributedAtomicLong(zk, '/counters/requests');
//   const { succeeded, preValue, postValue } = await counter.increment();
//   if (!succeeded) retryLater();          // contention beat every attempt (Curator's semantics)
//   new DistributedAtomicLong(zk, path, { promotedLock: { lockPath: '/locks/requests', timeoutMs: 5_000 } });
//   new DistributedAtomicLong(zk, path, { promotedLock: new Mutex(zk, '/locks/requests') }); // the same
//
// Guarantees. A result with `succeeded` was written atomically: no update is lost, `postValue` is
// what the node held right after our write. `succeeded: false` means nothing was written. SUSPENDED:
// calls wait for the connection within the framework's retry policy, then fail with its error. A
// write whose reply was lost is resolved by the framework (read back) before being repeated, so a
// reconnect does not add twice. Session loss and pauses: no session state is involved (the node is
// persistent); only the promoted lock is session-bound and is released by the server if we die. A
// promoted lock made from a PromotedToLock waits on `options.clock` (real time by default).
import {
  ErrorCode,
  InvalidArgumentError,
  pathProblem,
  type Framework,
  type FrameworkClock,
} from '../../src/index.js';
import { hasErrorCode } from '../cache/events.js';
import { LockTimeoutError } from '../locks/lock-core.js';
import type { Lease } from '../locks/lease.js';
import { Mutex } from '../locks/mutex.js';
import { planAtomicLong, type AtomicLongNode, type AtomicLongOp } from './atomic-long.js';

export interface AtomicResult {
  readonly succeeded: boolean;
  readonly preValue: bigint;
  readonly postValue: bigint;
}

/** Curator's PromotedToLock: the mutex path, how long to wait for it, the attempts made under it. */
export interface PromotedToLock {
  lockPath: string;
  /** How long to wait for the lock; past it the operation reports `succeeded: false`. Default 30 000. */
  timeoutMs?: number;
  /** Attempts while holding the lock. Default: the optimistic attemptsMax. */
  attemptsMax?: number;
}

export interface AtomicLongOptions {
  /** Optimistic attempts before giving up (or promoting to the lock). Default 10. */
  attemptsMax?: number;
  /** Fallback after the optimistic attempts: our Mutex on a lock path, or a Mutex given here. */
  promotedLock?: PromotedToLock | Mutex;
  /** How long to wait for a promoted lock given as a Mutex. Default 30 000. */
  lockTimeoutMs?: number;
  /** Where the lock made from a PromotedToLock times its wait. Default: real time. */
  clock?: FrameworkClock;
}

const LOCK_TIMEOUT_MS_DEFAULT = 30_000;

export class DistributedAtomicLong {
  readonly #attemptsMax: number;
  readonly #promoted: { mutex: Mutex; timeoutMs: number; attemptsMax: number } | undefined;

  constructor(
    private readonly zk: Framework,
    readonly path: string,
    private readonly options: AtomicLongOptions = {},
  ) {
    const problem = pathProblem(path);
    if (problem !== undefined) throw new InvalidArgumentError(`bad counter path ${path}: ${problem}`);
    this.#attemptsMax = options.attemptsMax ?? 10;
    if (!Number.isSafeInteger(this.#attemptsMax) || this.#attemptsMax < 1) {
      throw new InvalidArgumentError(`attemptsMax must be a positive integer, got ${this.#attemptsMax}`);
    }
    this.#promoted = promotion(zk, options, this.#attemptsMax);
  }

  /** The current value (0 when the node does not exist). */
  async get(options: { signal?: AbortSignal } = {}): Promise<AtomicResult> {
    const node = await this.#read(options.signal);
    const { preValue } = planAtomicLong(node, { kind: 'add', delta: 0n });
    return { succeeded: true, preValue, postValue: preValue };
  }

  increment(options: { signal?: AbortSignal } = {}): Promise<AtomicResult> {
    return this.add(1n, options);
  }

  decrement(options: { signal?: AbortSignal } = {}): Promise<AtomicResult> {
    return this.add(-1n, options);
  }

  add(delta: bigint, options: { signal?: AbortSignal } = {}): Promise<AtomicResult> {
    return this.#run({ kind: 'add', delta: bigintArg(delta, 'delta') }, options.signal);
  }

  subtract(delta: bigint, options: { signal?: AbortSignal } = {}): Promise<AtomicResult> {
    return this.#run({ kind: 'add', delta: -bigintArg(delta, 'delta') }, options.signal);
  }

  /** Sets the value (optimistically, like every op here: Curator's trySet). */
  trySet(value: bigint, options: { signal?: AbortSignal } = {}): Promise<AtomicResult> {
    return this.#run({ kind: 'set', value: bigintArg(value, 'value') }, options.signal);
  }

  /** Sets the value only if it is `expected` now; a missing node never matches. */
  compareAndSet(
    expected: bigint,
    value: bigint,
    options: { signal?: AbortSignal } = {},
  ): Promise<AtomicResult> {
    const op: AtomicLongOp = {
      kind: 'compare-and-set',
      expected: bigintArg(expected, 'expected'),
      value: bigintArg(value, 'value'),
    };
    return this.#run(op, options.signal);
  }

  /** Creates the node with `value` if it does not exist; false when it already did. */
  async initialize(value: bigint, options: { signal?: AbortSignal } = {}): Promise<boolean> {
    const plan = planAtomicLong(undefined, { kind: 'set', value: bigintArg(value, 'value') });
    try {
      const data = plan.kind === 'fail' ? null : plan.data;
      await this.zk.create(this.path, { data, createParents: true, signal: options.signal });
      return true;
    } catch (error) {
      if (hasErrorCode(error, ErrorCode.NODE_EXISTS)) return false;
      throw error;
    }
  }

  async #run(op: AtomicLongOp, signal: AbortSignal | undefined): Promise<AtomicResult> {
    const result = await this.#attempts(op, signal, this.#attemptsMax);
    const promoted = this.#promoted;
    if (result.succeeded || result.final || promoted === undefined) return result.value;
    let lease: Lease;
    try {
      lease = await promoted.mutex.acquire({ signal, timeoutMs: promoted.timeoutMs });
    } catch (error) {
      // Not acquired in time: not succeeded, as Curator reports it.
      if (error instanceof LockTimeoutError && !signal?.aborted) return result.value;
      throw error;
    }
    await using _held = lease;
    return (await this.#attempts(op, signal, promoted.attemptsMax)).value;
  }

  /** Up to `attemptsMax` tries; `final` when the answer cannot change by trying again. */
  async #attempts(
    op: AtomicLongOp,
    signal: AbortSignal | undefined,
    attemptsMax: number,
  ): Promise<{ succeeded: boolean; final: boolean; value: AtomicResult }> {
    let last: AtomicResult = { succeeded: false, preValue: 0n, postValue: 0n };
    for (let attempt = 0; attempt < attemptsMax; attempt++) {
      signal?.throwIfAborted();
      const node = await this.#read(signal);
      const plan = planAtomicLong(node, op);
      if (plan.kind === 'fail') {
        // compare-and-set whose expectation does not hold: Curator reports it, nothing to retry.
        const value = { succeeded: false, preValue: plan.preValue, postValue: plan.preValue };
        return { succeeded: false, final: true, value };
      }
      last = { succeeded: false, preValue: plan.preValue, postValue: plan.preValue };
      try {
        if (plan.kind === 'create') {
          await this.zk.create(this.path, { data: plan.data, createParents: true, signal });
        } else {
          await this.zk.setData(this.path, plan.data, { version: plan.version, signal });
        }
        const value = { succeeded: true, preValue: plan.preValue, postValue: plan.postValue };
        return { succeeded: true, final: true, value };
      } catch (error) {
        const raced = [ErrorCode.NODE_EXISTS, ErrorCode.BAD_VERSION, ErrorCode.NO_NODE];
        if (!raced.some((code) => hasErrorCode(error, code))) throw error;
      }
    }
    return { succeeded: false, final: false, value: last };
  }

  async #read(signal: AbortSignal | undefined): Promise<AtomicLongNode> {
    try {
      const { data, stat } = await this.zk.getData(this.path, { signal });
      return { data: data ?? Buffer.alloc(0), version: stat.version };
    } catch (error) {
      if (hasErrorCode(error, ErrorCode.NO_NODE)) return undefined;
      throw error;
    }
  }
}

/** The promoted lock as our Mutex, from a PromotedToLock (Curator's shape) or a Mutex as given. */
function promotion(zk: Framework, options: AtomicLongOptions, attemptsMax: number) {
  const given = options.promotedLock;
  if (given === undefined) return undefined;
  if (given instanceof Mutex) {
    return { mutex: given, timeoutMs: options.lockTimeoutMs ?? LOCK_TIMEOUT_MS_DEFAULT, attemptsMax };
  }
  const timeoutMs = given.timeoutMs ?? options.lockTimeoutMs ?? LOCK_TIMEOUT_MS_DEFAULT;
  const lockAttemptsMax = given.attemptsMax ?? attemptsMax;
  if (!Number.isSafeInteger(lockAttemptsMax) || lockAttemptsMax < 1) {
    throw new InvalidArgumentError(
      `promotedLock.attemptsMax must be a positive integer, got ${lockAttemptsMax}`,
    );
  }
  const mutex = new Mutex(zk, given.lockPath, { clock: options.clock });
  return { mutex, timeoutMs, attemptsMax: lockAttemptsMax };
}

function bigintArg(value: bigint, name: string): bigint {
  if (typeof value !== 'bigint') {
    throw new InvalidArgumentError(`${name} must be a bigint, got ${typeof value}`);
  }
  return value;
}
