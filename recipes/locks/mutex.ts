// The distributed mutex (Curator's InterProcessMutex: FIFO-fair, same node names, so a Java service
// using Curator and a Node service using this share one lock).
//
//   const mutex = new Mutex(zk, '/locks/billing', { owner: 'billing-worker-3' });
//   await using lease = await mutex.acquire({ signal, timeoutMs: 5_000 });
//   await lease.guard([txn.setData('/billing/state', next)]);   // commits only while we hold it
//   doWork(lease.signal, lease.fencingToken);
//
// Re-entrancy: Node has no threads, so "the same thread takes it again" has no meaning, and making a
// process-wide lock re-entrant would let two unrelated async tasks of one process both hold it. So
// re-entrancy is explicit: code that holds a lease takes the lock again with `lease` passed as
// `reentrantFrom` (or `mutex.reenter(lease)`), and gets a second handle on the same node at once. The
// node is deleted when the last handle is released. A second `acquire()` without the lease queues
// behind the first, as with any other contender.
//
// On connection loss: a waiting acquire keeps waiting (its node survives a SUSPENDED connection);
// after session expiry it re-queues with a new node. A held lease goes `uncertain` on SUSPENDED and
// `lost` on expiry, when its deadline passes, or when its node is deleted: watch `lease.signal`.
import { hostname } from 'node:os';
import {
  ErrorCode,
  InvalidArgumentError,
  activeTraceId,
  joinPath,
  pathProblem,
  realClock,
  type Framework,
  type FrameworkClock,
} from '../../src/index.js';
import { describeContenders, mutexPolicy, type LockPolicy } from './contenders.js';
import {
  contend,
  hasCode,
  removeNode,
  type ContenderSpec,
  type DeferredDelete,
  type HeldNode,
} from './lock-core.js';
import { HeldLease, Lease, type LeaseOptions } from './lease.js';
import {
  decodeLockNodeData,
  encodeLockNodeData,
  encodeRevokeRequest,
  type LockNodeData,
} from './lock-data.js';
import { NodeMarker } from './node-names.js';

export interface LockOptions {
  /** Who we are, written into our node for inspect() (default `<host>#<pid>`). */
  owner?: string;
  traceId?: string;
  /** SUSPENDED makes a held lease 'uncertain' (default) or 'lost' at once ('lose'). */
  onSuspended?: 'uncertain' | 'lose';
  /** Time and timers (a test kit passes a virtual clock). */
  clock?: FrameworkClock;
}

export interface AcquireOptions {
  signal?: AbortSignal;
  /** How long to wait; undefined waits until acquired or aborted. Rejects with LockTimeoutError. */
  timeoutMs?: number;
  /** Called once our contender node exists (we are in the queue). */
  onQueued?: (nodePath: string) => void;
  /** An absolute deadline on the lock's clock (the multi-lock's one deadline); wins over timeoutMs. */
  deadlineMs?: number;
}

export interface ContenderInfo {
  nodeName: string;
  /** Owner data for our nodes; Curator's nodes read as `foreign` (their data is an IP address). */
  data: LockNodeData | undefined;
  /** The node's czxid (its fencing token when it holds the lock). */
  czxid: bigint | undefined;
  sessionId: bigint | undefined;
  holds: boolean;
}

export interface LockInspection {
  /** The nodes that hold the lock now (one for a mutex; several readers for a read lock). */
  holders: ContenderInfo[];
  /** The waiting nodes, in queue order. */
  queue: ContenderInfo[];
}

/** The shell every node-queue lock kind shares: contend with a marker and a policy, hand out leases. */
export class QueueLock {
  protected readonly clock: FrameworkClock;
  /** Our last released node, while its delete waits one turn to be folded into an acquire. */
  #deferred: (DeferredDelete & { readonly flush: NodeJS.Immediate }) | undefined;

  constructor(
    protected readonly fw: Framework,
    /** The lock directory. */
    readonly path: string,
    protected readonly marker: string,
    protected readonly policy: LockPolicy,
    protected readonly options: LockOptions = {},
  ) {
    const problem = pathProblem(path);
    if (problem !== undefined || path === '/') {
      throw new InvalidArgumentError(`bad lock path ${path}: ${problem ?? 'the root'}`);
    }
    this.clock = options.clock ?? realClock;
  }

  /** Waits for the lock; rejects with LockTimeoutError after timeoutMs, or the signal's reason. */
  async acquire(options: AcquireOptions = {}): Promise<Lease> {
    const held = await this.contend(options, this.deadline(options));
    return new Lease(held!, this.path);
  }

  /** Takes the lock if it is free now (no waiting); undefined otherwise. Leaves no node either way. */
  async tryAcquire(options: { signal?: AbortSignal } = {}): Promise<Lease | undefined> {
    const held = await this.contend(options, 0);
    return held === undefined ? undefined : new Lease(held, this.path);
  }

  /** Holders and queue, read from the server, in Curator's order. */
  inspect(options: { signal?: AbortSignal } = {}): Promise<LockInspection> {
    return inspectLock(this.fw, this.path, this.policy, options.signal);
  }

  /** Asks the current holder(s) to release (Curator's `__REVOKE__`); returns the nodes asked. */
  async requestRevoke(options: { signal?: AbortSignal } = {}): Promise<string[]> {
    const { holders } = await this.inspect(options);
    const asked: string[] = [];
    for (const holder of holders) {
      try {
        await this.fw.setData(joinPath(this.path, holder.nodeName), encodeRevokeRequest(), options);
        asked.push(holder.nodeName);
      } catch {
        // released meanwhile
      }
    }
    return asked;
  }

  protected async contend(
    options: AcquireOptions,
    deadlineMs: number | undefined,
    extra: Partial<ContenderSpec> = {},
  ): Promise<HeldLease | undefined> {
    const replaces = this.#takeDeferred();
    let settled = false;
    const spec: ContenderSpec = {
      framework: this.fw,
      dir: this.path,
      marker: this.marker,
      policy: this.policy,
      data: this.ownerData(),
      ...extra,
      ...(replaces === undefined ? {} : {
        replaces: { node: replaces.node, settle: (done) => ((settled = true), replaces.settle(done)) },
      }),
    };
    try {
      const node = await contend(spec, {
        signal: options.signal,
        deadlineMs,
        clock: this.clock,
        onQueued: options.onQueued,
      });
      return node === undefined ? undefined : this.track(node);
    } finally {
      // The acquire ended before its create (aborted at once): the old node still has to go.
      if (replaces !== undefined && !settled) replaces.settle(removeNode(this.fw, replaces.node.path,
        replaces.node.sessionId));
    }
  }

  protected track(node: HeldNode): HeldLease {
    const leaseOptions: LeaseOptions = {
      clock: this.clock,
      onSuspended: this.options.onSuspended,
      deleteNode: (held) => this.#deferDelete(held),
    };
    return new HeldLease(this.fw, node, leaseOptions);
  }

  /**
   * A release's delete waits for the end of this event-loop turn: an acquire on this lock before then
   * deletes it in the transaction that creates its own node (release-then-acquire in one write, see
   * lock-core's createContender); otherwise it goes out alone. Nobody else can take the lock while
   * our node exists, so waiting a turn is as safe as deleting at once.
   */
  #deferDelete(node: HeldNode): Promise<void> {
    this.#flushDeferred();
    if (!this.fw.isConnected || this.fw.sessionId !== node.sessionId) {
      return removeNode(this.fw, node.path, node.sessionId);
    }
    return new Promise<void>((resolve) => {
      this.#deferred = {
        node,
        settle: (done) => resolve(done),
        flush: setImmediate(() => this.#flushDeferred()),
      };
    });
  }

  #flushDeferred(): void {
    const deferred = this.#deferred;
    if (deferred === undefined) return;
    this.#deferred = undefined;
    clearImmediate(deferred.flush);
    deferred.settle(removeNode(this.fw, deferred.node.path, deferred.node.sessionId));
  }

  /** The deferred delete for an acquire to fold in, if it is of the current session. */
  #takeDeferred(): DeferredDelete | undefined {
    const deferred = this.#deferred;
    if (deferred === undefined) return undefined;
    if (!this.fw.isConnected || this.fw.sessionId !== deferred.node.sessionId) {
      this.#flushDeferred();
      return undefined;
    }
    this.#deferred = undefined;
    clearImmediate(deferred.flush);
    return deferred;
  }

  protected deadline(options: AcquireOptions): number | undefined {
    if (options.deadlineMs !== undefined) return Math.max(1, options.deadlineMs);
    if (options.timeoutMs === undefined) return undefined;
    if (!Number.isFinite(options.timeoutMs) || options.timeoutMs < 0) {
      throw new InvalidArgumentError(`timeoutMs must be a non-negative number, got ${options.timeoutMs}`);
    }
    // timeoutMs 0 still waits a moment (use tryAcquire for "no wait"); a deadline of 0 means once.
    return this.clock.nowMs() + Math.max(1, options.timeoutMs);
  }

  /** What our contender nodes hold: the owner JSON of lock-data.ts. */
  ownerData(): Uint8Array {
    const traceId = this.options.traceId ?? activeTraceId(); // `zk-cli locks inspect` shows the trace
    const host = localHost();
    return encodeLockNodeData({
      owner: this.options.owner ?? `${host}#${process.pid}`,
      host,
      pid: process.pid,
      requestedAt: Date.now(),
      ...(traceId === undefined ? {} : { traceId }),
    });
  }
}

let hostName: string | undefined;

/** This machine's name, read once: os.hostname() is a system call, and an acquire wants it twice. */
function localHost(): string {
  hostName ??= hostname();
  return hostName;
}

/** Curator's InterProcessMutex layout (`_c_<uuid>-lock-<seq>`), FIFO, with explicit re-entrancy. */
export class Mutex extends QueueLock {
  constructor(fw: Framework, path: string, options: LockOptions = {}) {
    super(fw, path, NodeMarker.mutex, mutexPolicy, options);
  }

  override async acquire(options: AcquireOptions & { reentrantFrom?: Lease } = {}): Promise<Lease> {
    if (options.reentrantFrom !== undefined) return this.reenter(options.reentrantFrom);
    return super.acquire(options);
  }

  /** A second handle on the node `lease` holds: the same lock, taken again by its holder. */
  reenter(lease: Lease): Lease {
    if (lease.lockPath !== this.path) {
      throw new InvalidArgumentError(`that lease holds ${lease.lockPath}, not ${this.path}`);
    }
    if (lease.state === 'released' || lease.state === 'lost') {
      throw new InvalidArgumentError(`cannot re-enter a ${lease.state} lease`);
    }
    return new Lease(lease.held, this.path);
  }
}

/** Reads the lock directory: holders and queue with their owner data and czxids. */
export async function inspectLock(
  fw: Framework,
  path: string,
  policy: LockPolicy,
  signal?: AbortSignal,
): Promise<LockInspection> {
  let children: string[];
  try {
    children = (await fw.getChildren(path, signal === undefined ? {} : { signal })).children;
  } catch (error) {
    if (isNoNode(error)) return { holders: [], queue: [] };
    throw error;
  }
  const states = describeContenders(children, policy);
  const infos = await Promise.all(
    states.map(async ({ contender, holds }): Promise<ContenderInfo> => {
      try {
        const { data, stat } = await fw.getData(joinPath(path, contender.nodeName));
        const { czxid, ephemeralOwner: sessionId } = stat;
        const decoded = decodeLockNodeData(data ?? Buffer.alloc(0));
        return { nodeName: contender.nodeName, data: decoded, czxid, sessionId, holds };
      } catch (error) {
        if (!isNoNode(error)) throw error;
        const gone = { data: undefined, czxid: undefined, sessionId: undefined };
        return { nodeName: contender.nodeName, ...gone, holds };
      }
    }),
  );
  return { holders: infos.filter((i) => i.holds), queue: infos.filter((i) => !i.holds) };
}

/**
 * Admin "break lock": deletes the node(s) holding the lock at `path`, so the next in line gets it.
 * The holder's lease goes `lost` (its node-deleted watch fires). Returns what was deleted, for the
 * audit trail the caller keeps. Use with care: the holder may still be working; fencing tokens and
 * guard() are what keep its late writes out.
 */
export async function breakLock(
  fw: Framework,
  path: string,
  options: { policy?: LockPolicy; signal?: AbortSignal } = {},
): Promise<ContenderInfo[]> {
  const { holders } = await inspectLock(fw, path, options.policy ?? mutexPolicy, options.signal);
  const broken: ContenderInfo[] = [];
  for (const holder of holders) {
    try {
      await fw.delete(joinPath(path, holder.nodeName));
      broken.push(holder);
    } catch (error) {
      if (!isNoNode(error)) throw error;
    }
  }
  return broken;
}

function isNoNode(error: unknown): boolean {
  return hasCode(error, ErrorCode.NO_NODE);
}
