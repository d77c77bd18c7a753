// A counting semaphore with Curator's InterProcessSemaphoreV2 layout and rules, so Java and Node
// holders share one: `<path>/locks` is an internal FIFO mutex (one acquirer at a time), and each lease
// is a protected ephemeral-sequential `lease-` node in `<path>/leases`. An acquirer holds the internal
// mutex, creates its lease node, and waits (still holding the mutex) until the leases directory has at
// most `maxLeases` children; then it lets the mutex go and keeps the lease. `maxLeases` is advisory:
// every participant must pass the same number (Curator's rule).
//
//   const pool = new Semaphore(zk, '/semaphores/db', { maxLeases: 4 });
//   await using lease = await pool.acquire({ timeoutMs: 10_000 });
//   await using pair = await pool.acquireMany(2, { signal });   // all or nothing, one deadline
//
// SemaphoreMutex is the same with one lease (Curator's InterProcessSemaphoreMutex): not re-entrant, a
// handle that any code may release. A lease is tracked like a lock lease (uncertain / lost / signal,
// fencing token = the lease node's czxid). A lease node lost with the session is never re-created
// behind the holder's back; an acquire that fails deletes the lease node it made.
import { hostname } from 'node:os';
import {
  ErrorCode,
  InvalidArgumentError,
  KeeperError,
  baseName,
  joinPath,
  observeLockWait,
  realClock,
  type Framework,
  type FrameworkClock,
} from '../../src/index.js';
import { mutexPolicy } from './contenders.js';
import { HeldLease, Lease, type LeaseStateName, type ReleaseOptions } from './lease.js';
import {
  LockTimeoutError,
  contend,
  isSessionEnd,
  removeNode,
  sessionScope,
  waitForChange,
  type HeldNode,
} from './lock-core.js';
import { encodeLockNodeData } from './lock-data.js';
import { type AcquireOptions, type LockOptions } from './mutex.js';
import { NodeMarker } from './node-names.js';
import { decideLeases, semaphorePaths, type SemaphorePaths } from './semaphore-leases.js';

export interface SemaphoreOptions extends LockOptions {
  maxLeases: number;
}

const RESTARTS_MAX = 20;

export class Semaphore {
  readonly maxLeases: number;
  readonly paths: SemaphorePaths;
  readonly #clock: FrameworkClock;

  constructor(
    private readonly fw: Framework,
    readonly path: string,
    private readonly options: SemaphoreOptions,
  ) {
    if (!Number.isSafeInteger(options?.maxLeases) || options.maxLeases < 1) {
      throw new InvalidArgumentError(`maxLeases must be a positive integer, got ${options?.maxLeases}`);
    }
    this.maxLeases = options.maxLeases;
    this.paths = semaphorePaths(path);
    this.#clock = options.clock ?? realClock;
  }

  /** Waits for a lease; rejects with LockTimeoutError after timeoutMs, or with the signal's reason. */
  async acquire(options: AcquireOptions = {}): Promise<Lease> {
    return (await this.#acquire(1, options.signal, this.#deadline(options), options.onQueued))![0]!;
  }

  /** A lease if one is free now (no waiting), else undefined. Leaves no node either way. */
  async tryAcquire(options: { signal?: AbortSignal } = {}): Promise<Lease | undefined> {
    return (await this.#acquire(1, options.signal, 0))?.[0];
  }

  /**
   * Waits for `qty` leases at once (Curator's `acquire(qty)`): all or nothing, under one deadline.
   * Unlike Curator, which takes them one by one (two acquirers can each hold part and wait for each
   * other until they time out), the internal mutex is held until all `qty` count, so partial sets never
   * block each other. Rejects at once when `qty` exceeds maxLeases (it could never succeed).
   */
  async acquireMany(qty: number, options: AcquireOptions = {}): Promise<LeaseSet> {
    this.#checkQty(qty);
    const leases = await this.#acquire(qty, options.signal, this.#deadline(options), options.onQueued);
    return new LeaseSet(leases!);
  }

  /** `qty` leases if that many are free now, else undefined. Leaves no node either way. */
  async tryAcquireMany(qty: number, options: { signal?: AbortSignal } = {}): Promise<LeaseSet | undefined> {
    this.#checkQty(qty);
    const leases = await this.#acquire(qty, options.signal, 0);
    return leases === undefined ? undefined : new LeaseSet(leases);
  }

  /** The lease nodes that exist now (held leases, plus one being decided by the current acquirer). */
  async leaseNodes(options: { signal?: AbortSignal } = {}): Promise<string[]> {
    try {
      return (await this.fw.getChildren(this.paths.leasesPath, options)).children.sort();
    } catch (error) {
      if (isSessionEnd(error)) return [];
      throw error;
    }
  }

  #checkQty(qty: number): void {
    if (!Number.isSafeInteger(qty) || qty < 1) {
      throw new InvalidArgumentError(`qty must be a positive integer, got ${qty}`);
    }
    if (qty > this.maxLeases) {
      throw new InvalidArgumentError(`qty ${qty} is more than maxLeases ${this.maxLeases}: never grantable`);
    }
  }

  #deadline(options: AcquireOptions): number | undefined {
    const { timeoutMs } = options;
    if (timeoutMs !== undefined && (!Number.isFinite(timeoutMs) || timeoutMs < 0)) {
      throw new InvalidArgumentError(`timeoutMs must be a non-negative number, got ${timeoutMs}`);
    }
    const nowMs = this.#clock.nowMs();
    const deadlineMs = options.deadlineMs ?? (timeoutMs === undefined ? undefined : nowMs + timeoutMs);
    return deadlineMs === undefined ? undefined : Math.max(1, deadlineMs);
  }

  /**
   * The whole lease wait (internal mutex, then the lease count), reported to the observers as a wait
   * on the leases directory of kind 'lease', as a lease's hold is: the node is the first lease's.
   */
  async #acquire(
    qty: number,
    signal: AbortSignal | undefined,
    deadlineMs: number | undefined,
    onQueued?: (nodePath: string) => void,
  ): Promise<Lease[] | undefined> {
    let leases: Lease[] | undefined;
    await observeLockWait(this.paths.leasesPath, NodeMarker.lease, signal, async () => {
      leases = await this.#acquireUnobserved(qty, signal, deadlineMs, onQueued);
      const first = leases?.[0];
      return first === undefined ? undefined : { path: first.nodePath, czxid: first.fencingToken };
    });
    return leases;
  }

  async #acquireUnobserved(
    qty: number,
    signal: AbortSignal | undefined,
    deadlineMs: number | undefined,
    onQueued?: (nodePath: string) => void,
  ): Promise<Lease[] | undefined> {
    const controller = new AbortController();
    const onAbort = () => controller.abort(signal!.reason);
    signal?.throwIfAborted();
    signal?.addEventListener('abort', onAbort, { once: true });
    let timer: unknown;
    if (deadlineMs !== undefined && deadlineMs !== 0) {
      const delayMs = Math.max(0, deadlineMs - this.#clock.nowMs());
      timer = this.#clock.setTimer(() => controller.abort(new LockTimeoutError(this.path)), delayMs);
    }
    const watching = this.fw.withWatcherRemoval();
    try {
      for (let restart = 0; restart <= RESTARTS_MAX; restart++) {
        const once = deadlineMs === 0;
        const outcome = await this.#attempt(qty, watching, controller.signal, once, onQueued);
        if (outcome === 'restart') continue;
        if (outcome === 'not-acquired') return undefined;
        const leaseOptions = { clock: this.#clock, onSuspended: this.options.onSuspended };
        return outcome.map((node) => new Lease(new HeldLease(this.fw, node, leaseOptions), this.path));
      }
      throw new LockTimeoutError(this.path);
    } catch (error) {
      throw controller.signal.aborted ? controller.signal.reason : error;
    } finally {
      if (timer !== undefined) this.#clock.clearTimer(timer);
      signal?.removeEventListener('abort', onAbort);
      await watching.removeWatches().catch(() => undefined);
    }
  }

  /** Under the internal mutex: make our `qty` lease nodes and wait until they all count. */
  async #attempt(
    qty: number,
    watching: Framework,
    signal: AbortSignal,
    once: boolean,
    onQueued?: (nodePath: string) => void,
  ): Promise<HeldNode[] | 'restart' | 'not-acquired'> {
    const data = this.#nodeData();
    const { locksPath } = this.paths;
    const marker = NodeMarker.mutex;
    const mutexSpec = { framework: this.fw, dir: locksPath, marker, policy: mutexPolicy, data };
    const contendOptions = { signal, deadlineMs: once ? 0 : undefined, clock: this.#clock, onQueued };
    const mutex = await contend(mutexSpec, contendOptions);
    if (mutex === undefined) return 'not-acquired';
    const leases: HeldNode[] = [];
    let scope: ReturnType<typeof sessionScope> | undefined;
    let keep = false;
    try {
      // The creates go out together; each that succeeded is recorded, so a failure removes them all.
      const creating = Array.from({ length: qty }, () => this.#createLeaseNode(data, signal));
      const settled = await Promise.allSettled(creating);
      for (const result of settled) if (result.status === 'fulfilled') leases.push(result.value);
      const failed = settled.find((result) => result.status === 'rejected');
      if (failed !== undefined) throw (failed as PromiseRejectedResult).reason;
      const sessionId = leases[0]!.sessionId;
      if (leases.some((lease) => lease.sessionId !== sessionId)) return 'restart';
      scope = sessionScope(this.fw, sessionId, signal);
      const ourNodes = leases.map((lease) => lease.nodeName);
      for (;;) {
        if (this.fw.sessionId !== sessionId || scope.sessionGone.signal.aborted) return 'restart';
        const leasesPath = this.paths.leasesPath;
        const read = await watching.getChildren(leasesPath, { watch: true, signal: scope.roundSignal });
        const decision = decideLeases(read.children, ourNodes, this.maxLeases);
        if (decision.kind === 'missing') return 'restart';
        if (decision.kind === 'acquired') {
          keep = true;
          return leases;
        }
        if (once) return 'not-acquired';
        await waitForChange(this.fw, read.watch, scope.roundSignal);
      }
    } catch (error) {
      if (!signal.aborted && (scope?.sessionGone.signal.aborted || isSessionEnd(error))) return 'restart';
      throw error;
    } finally {
      scope?.offSession();
      const removals = keep ? [] : leases.map((lease) => removeNode(this.fw, lease.path, lease.sessionId));
      await Promise.all([...removals, removeNode(this.fw, mutex.path, mutex.sessionId)]);
    }
  }

  async #createLeaseNode(data: Uint8Array, signal: AbortSignal): Promise<HeldNode> {
    const created = await this.fw.create(joinPath(this.paths.leasesPath, NodeMarker.lease), {
      mode: 'EPHEMERAL_SEQUENTIAL',
      protected: true,
      parentsAsContainers: true,
      data,
      signal,
    });
    const stat = created.stat ?? (await this.fw.exists(created.path, { signal }));
    if (stat === null) throw KeeperError.from(ErrorCode.NO_NODE, { path: created.path });
    const nodeName = baseName(created.path);
    return { path: created.path, nodeName, sessionId: stat.ephemeralOwner, czxid: stat.czxid };
  }

  #nodeData(): Uint8Array {
    return encodeLockNodeData({
      owner: this.options.owner ?? `${hostname()}#${process.pid}`,
      host: hostname(),
      pid: process.pid,
      requestedAt: Date.now(),
    });
  }
}

/**
 * Several leases of one semaphore taken together (`acquireMany`): one handle to release them all.
 * Its fencing tokens are its lease nodes' czxids; its signal aborts when any lease is lost.
 */
export class LeaseSet implements AsyncDisposable {
  readonly #signal: AbortSignal;

  constructor(readonly leases: readonly Lease[]) {
    this.#signal = AbortSignal.any(leases.map((lease) => lease.signal));
  }

  get fencingTokens(): bigint[] {
    return this.leases.map((lease) => lease.fencingToken);
  }

  /** The weakest state among the leases: released or lost if any is, then uncertain, else held. */
  get state(): LeaseStateName {
    const order = ['released', 'lost', 'uncertain', 'held'] as const;
    for (const state of order) if (this.leases.some((lease) => lease.state === state)) return state;
    return 'held';
  }

  /** Aborted when any of the leases is lost. */
  get signal(): AbortSignal {
    return this.#signal;
  }

  /** Releases every lease (the deletes go out together). Idempotent. */
  async release(options: ReleaseOptions = {}): Promise<void> {
    await Promise.all(this.leases.map((lease) => lease.release(options)));
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.release();
  }
}

/** Curator's InterProcessSemaphoreMutex: a one-lease semaphore; not re-entrant. */
export class SemaphoreMutex extends Semaphore {
  constructor(fw: Framework, path: string, options: LockOptions = {}) {
    super(fw, path, { ...options, maxLeases: 1 });
  }
}
