// A counting semaphore with Curator's InterProcessSemaphoreV2 layout and rules, so Java and Node
// holders share one: `<path>/locks` is an internal FIFO mutex (one acquirer at a time), and each lease
// is a protected ephemeral-sequential `lease-` node in `<path>/leases`. An acquirer holds the internal
// mutex, creates its lease node, and waits (still holding the mutex) until the leases directory has at
// most `maxLeases` children; then it lets the mutex go and keeps the lease. `maxLeases` is advisory:
// every participant must pass the same number (Curator's rule).
//
//   const pool = new Semaphore(zk, '/semaphores/db', { maxLeases: 4 });
//   await using lease = await pool.acquire({ timeoutMs: 10_000 });
//
// SemaphoreMutex is the same with one lease (Curator's InterProcessSemaphoreMutex): not re-entrant, a
// handle that any code may release. A lease is tracked like a lock lease (uncertain / lost / signal,
// fencing token = the lease node's czxid). A lease node lost with the session is never re-created
// behind the holder's back; an acquire that fails deletes the lease node it made.
import { hostname } from 'node:os';
import {
  InvalidArgumentError,
  baseName,
  joinPath,
  realClock,
  type Framework,
  type FrameworkClock,
} from '../../src/index.js';
import { mutexPolicy } from './contenders.js';
import { HeldLease, Lease } from './lease.js';
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
import { decideLease, semaphorePaths, type SemaphorePaths } from './semaphore-leases.js';

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
    const { timeoutMs } = options;
    const nowMs = this.#clock.nowMs();
    const deadlineMs = options.deadlineMs ?? (timeoutMs === undefined ? undefined : nowMs + timeoutMs);
    const deadline = deadlineMs === undefined ? undefined : Math.max(1, deadlineMs);
    return (await this.#acquire(options.signal, deadline, options.onQueued))!;
  }

  /** A lease if one is free now (no waiting), else undefined. Leaves no node either way. */
  tryAcquire(options: { signal?: AbortSignal } = {}): Promise<Lease | undefined> {
    return this.#acquire(options.signal, 0);
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

  async #acquire(
    signal: AbortSignal | undefined,
    deadlineMs: number | undefined,
    onQueued?: (nodePath: string) => void,
  ): Promise<Lease | undefined> {
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
        const outcome = await this.#attempt(watching, controller.signal, deadlineMs === 0, onQueued);
        if (outcome === 'restart') continue;
        if (outcome === 'not-acquired') return undefined;
        const held = new HeldLease(this.fw, outcome, {
          clock: this.#clock,
          onSuspended: this.options.onSuspended,
        });
        return new Lease(held, this.path);
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

  /** Under the internal mutex: make our lease node and wait until it counts. */
  async #attempt(
    watching: Framework,
    signal: AbortSignal,
    once: boolean,
    onQueued?: (nodePath: string) => void,
  ): Promise<HeldNode | 'restart' | 'not-acquired'> {
    const data = this.#nodeData();
    const { locksPath } = this.paths;
    const marker = NodeMarker.mutex;
    const mutexSpec = { framework: this.fw, dir: locksPath, marker, policy: mutexPolicy, data };
    const contendOptions = { signal, deadlineMs: once ? 0 : undefined, clock: this.#clock, onQueued };
    const mutex = await contend(mutexSpec, contendOptions);
    if (mutex === undefined) return 'not-acquired';
    let lease: HeldNode | undefined;
    let scope: ReturnType<typeof sessionScope> | undefined;
    let keep = false;
    try {
      const created = await this.fw.create(joinPath(this.paths.leasesPath, NodeMarker.lease), {
        mode: 'EPHEMERAL_SEQUENTIAL',
        protected: true,
        parentsAsContainers: true,
        data,
        signal,
      });
      const stat = created.stat ?? (await this.fw.exists(created.path, { signal }));
      if (stat === null) return 'restart';
      const nodeName = baseName(created.path);
      lease = { path: created.path, nodeName, sessionId: stat.ephemeralOwner, czxid: stat.czxid };
      scope = sessionScope(this.fw, lease.sessionId, signal);
      for (;;) {
        if (this.fw.sessionId !== lease.sessionId || scope.sessionGone.signal.aborted) return 'restart';
        const leasesPath = this.paths.leasesPath;
        const read = await watching.getChildren(leasesPath, { watch: true, signal: scope.roundSignal });
        const decision = decideLease(read.children, lease.nodeName, this.maxLeases);
        if (decision.kind === 'missing') return 'restart';
        if (decision.kind === 'acquired') {
          keep = true;
          return lease;
        }
        if (once) return 'not-acquired';
        await waitForChange(this.fw, read.watch, scope.roundSignal);
      }
    } catch (error) {
      if (!signal.aborted && (scope?.sessionGone.signal.aborted || isSessionEnd(error))) return 'restart';
      throw error;
    } finally {
      scope?.offSession();
      if (lease !== undefined && !keep) await removeNode(this.fw, lease.path, lease.sessionId);
      await removeNode(this.fw, mutex.path, mutex.sessionId);
    }
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

/** Curator's InterProcessSemaphoreMutex: a one-lease semaphore; not re-entrant. */
export class SemaphoreMutex extends Semaphore {
  constructor(fw: Framework, path: string, options: LockOptions = {}) {
    super(fw, path, { ...options, maxLeases: 1 });
  }
}
