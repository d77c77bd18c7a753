// Several locks taken as one (Curator's InterProcessMultiLock, made deadlock-free): all or none, in
// one canonical order (sorted paths, so two multi-locks over overlapping sets never wait on each other
// in a cycle), under one deadline shared by every lock (Curator gives each lock the full timeout).
// On failure the locks already taken are released in reverse order.
//
//   const both = new MultiLock(zk, ['/locks/account/42', '/locks/account/7']);
//   await using lease = await both.acquire({ timeoutMs: 5_000 });
//   await lease.guard([txn.setData('/accounts/42', a), txn.setData('/accounts/7', b)]);
//
// The multi-lease is lost as soon as any of its leases is; `signal` aborts then. guard() checks every
// lock node in the same transaction.
import { realClock, txn, type Framework, type FrameworkClock, type TransactionOp } from '../../src/index.js';
import { Lease, LeaseLostError, type ReleaseOptions } from './lease.js';
import { canonicalLockOrder, releaseOrder } from './multi-lock-order.js';
import { Mutex, type AcquireOptions, type LockOptions } from './mutex.js';

export class MultiLock {
  readonly paths: readonly string[];
  readonly #locks: Mutex[];
  readonly #clock: FrameworkClock;

  constructor(
    private readonly fw: Framework,
    paths: readonly string[],
    options: LockOptions = {},
  ) {
    this.paths = canonicalLockOrder(paths);
    this.#locks = this.paths.map((path) => new Mutex(fw, path, options));
    this.#clock = options.clock ?? realClock;
  }

  /** Takes every lock or none; one deadline for all of them. */
  async acquire(options: AcquireOptions = {}): Promise<MultiLease> {
    const { timeoutMs } = options;
    const now = this.#clock.nowMs();
    const deadlineMs = options.deadlineMs ?? (timeoutMs === undefined ? undefined : now + timeoutMs);
    const taken: Lease[] = [];
    try {
      for (const lock of this.#locks) {
        const { signal, onQueued } = options;
        const acquire: AcquireOptions = signal === undefined ? {} : { signal };
        if (onQueued !== undefined) acquire.onQueued = onQueued;
        if (deadlineMs !== undefined) acquire.deadlineMs = deadlineMs;
        taken.push(await lock.acquire(acquire));
      }
    } catch (error) {
      for (const lease of releaseOrder(taken)) await lease.release();
      throw error;
    }
    return new MultiLease(this.fw, taken);
  }

  /** Every lock if all are free now, else none (and no node left). */
  async tryAcquire(options: { signal?: AbortSignal } = {}): Promise<MultiLease | undefined> {
    const taken: Lease[] = [];
    for (const lock of this.#locks) {
      const lease = await lock.tryAcquire(options).catch(async (error: unknown) => {
        for (const held of releaseOrder(taken)) await held.release();
        throw error;
      });
      if (lease === undefined) {
        for (const held of releaseOrder(taken)) await held.release();
        return undefined;
      }
      taken.push(lease);
    }
    return new MultiLease(this.fw, taken);
  }
}

export class MultiLease implements AsyncDisposable {
  readonly #controller = new AbortController();
  readonly #unsubscribe: Array<() => void> = [];

  constructor(
    private readonly fw: Framework,
    /** In acquisition (canonical) order. */
    readonly leases: readonly Lease[],
  ) {
    for (const lease of leases) {
      if (lease.signal.aborted) this.#controller.abort(lease.signal.reason);
      const onLost = () => this.#controller.abort(lease.signal.reason);
      lease.signal.addEventListener('abort', onLost, { once: true });
      this.#unsubscribe.push(() => lease.signal.removeEventListener('abort', onLost));
    }
  }

  /** Aborted when any of the leases is lost. */
  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  /** The worst state among the leases. */
  get state(): Lease['state'] {
    const order = ['released', 'lost', 'uncertain', 'held'] as const;
    for (const state of order) if (this.leases.some((l) => l.state === state)) return state;
    return 'held';
  }

  /** One fencing token per lock, in canonical order. */
  get fencingTokens(): bigint[] {
    return this.leases.map((l) => l.fencingToken);
  }

  /** Runs `ops` in one transaction that commits only while every lock node still exists. */
  async guard(ops: readonly TransactionOp[], options: { signal?: AbortSignal } = {}) {
    if (this.state === 'lost' || this.state === 'released') {
      throw new LeaseLostError(this.leases[0]!.lockPath);
    }
    const checks = this.leases.map((l) => txn.check(l.nodePath, -1));
    const results = await this.fw.transaction([...checks, ...ops], options);
    return results.slice(checks.length);
  }

  /** Releases every lock, in reverse order (the deletes go out together). Idempotent. */
  async release(options: ReleaseOptions = {}): Promise<void> {
    for (const off of this.#unsubscribe.splice(0)) off();
    for (const lease of releaseOrder(this.leases)) await lease.release(options);
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.release();
  }
}
