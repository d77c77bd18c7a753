// A held lock node as the user holds it: `await using lease = await mutex.acquire()`.
// The lease follows the pure state machine of lease-state.ts: `held`, `uncertain` once the connection
// is SUSPENDED (with a deadline counted from the last server response, not from the SUSPENDED event,
// CURATOR-460), `lost` on session expiry, when the deadline passes, or when our node is deleted
// (an admin broke the lock); `released` after release(). `lease.signal` aborts when it is lost.
// `fencingToken` is the node's czxid: strictly increasing across every acquisition of every lock.
// `guard(ops)` runs a transaction that commits only while our node exists (ZooKeeper-side fencing).
// Cooperative revocation: someone writes Curator's `__REVOKE__` into our node; we emit 'revoke'.
import { EventEmitter } from 'node:events';
import {
  ErrorCode,
  KeeperError,
  observeLockHold,
  realClock,
  txn,
  type ConnectionStateChange,
  type Framework,
  type FrameworkClock,
  type TransactionOp,
  type TransactionResults,
  type WatchedEvent,
} from '../../src/index.js';
import { decodeLockNodeData } from './lock-data.js';
import { removeNode, type HeldNode } from './lock-core.js';
import { stepLease, type LeaseAction, type LeaseInput, type LeaseState } from './lease-state.js';

export type LeaseStateName = 'held' | 'uncertain' | 'lost' | 'released';

export interface LeaseOptions {
  clock?: FrameworkClock | undefined;
  /** SUSPENDED means doubt until a deadline ('uncertain', the default) or an immediate loss ('lose'). */
  onSuspended?: 'uncertain' | 'lose' | undefined;
  /** Deletes our node on release (default: removeNode); resolves once it is deleted. */
  deleteNode?: ((node: HeldNode) => Promise<void>) | undefined;
}

/** Rejects guard() when our node is gone: the lock is no longer ours. */
export class LeaseLostError extends Error {
  constructor(path: string, options?: ErrorOptions) {
    super(`the lease on ${path} is lost`, options);
    this.name = 'LeaseLostError';
  }
}

/**
 * Where the client's read timeout fires (2/3 of the session timeout after the last receipt). The
 * framework does not report the last server response with SUSPENDED, so we assume the worst case: it
 * came one read timeout before the SUSPENDED event.
 */
const READ_TIMEOUT_FRACTION = 2 / 3;

/** Live leases per framework view: one subscription to `closed()` each, not one per lease ever made. */
const closeListeners = new WeakMap<Framework, Set<() => void>>();

function onFrameworkClosed(fw: Framework, listener: () => void): () => void {
  let listeners = closeListeners.get(fw);
  if (listeners === undefined) {
    const created = new Set<() => void>();
    listeners = created;
    closeListeners.set(fw, created);
    void fw.closed().then(() => {
      for (const l of [...created]) l();
      created.clear();
    });
  }
  listeners.add(listener);
  return () => void listeners.delete(listener);
}

/**
 * One held node. Events: 'state' (LeaseState), 'uncertain', 'held', 'lost' (LeaseState), 'revoke'.
 * Several handles may share a node (re-entrancy); the node is deleted when the last one is released.
 */
export class HeldLease extends EventEmitter {
  #state: LeaseState = { kind: 'held' };
  /** Wall-clock time (ms since the epoch) when the lock was acquired; see Lease.acquiredAtMs. */
  readonly acquiredAtMs = Date.now();
  readonly #controller = new AbortController();
  readonly #fw: Framework;
  readonly #clock: FrameworkClock;
  readonly #options: LeaseOptions;
  #timer: unknown;
  #watchSoon: NodeJS.Immediate | undefined;
  #unsubscribe: () => void = () => {};
  #untrackClose: () => void = () => {};
  #holders = 0;
  #released: Promise<void> | undefined;
  #watching: ReturnType<Framework['withWatcherRemoval']>;

  constructor(fw: Framework, readonly node: HeldNode, options: LeaseOptions = {}) {
    super();
    observeLockHold(node, this); // hold time and span, until 'released' or 'lost'
    this.#fw = fw;
    this.#clock = options.clock ?? realClock;
    this.#options = options;
    this.#watching = fw.withWatcherRemoval();
    this.on('error', () => undefined); // listeners' errors are not ours to crash on
    this.#unsubscribe = fw.onConnectionStateChange((change) => this.#onConnection(change));
    // The watch on our node goes out one event-loop turn later: a lease released at once (a tight
    // acquire/release loop) then costs no request. Nothing is missed meanwhile: a node deleted
    // before the read is reported by the read itself (NoNode).
    this.#watchSoon = setImmediate(() => {
      this.#watchSoon = undefined;
      this.#watchNode();
    });
    this.#untrackClose = onFrameworkClosed(fw, () => this.#input({ type: 'client-closed' }));
    // A change that came between the ownership check and now.
    if (fw.sessionId !== node.sessionId) this.#input({ type: 'session-expired' });
    else if (fw.connectionState === 'SUSPENDED') this.#onConnection({
      state: 'SUSPENDED', previous: undefined, sessionId: node.sessionId, atMs: this.#clock.nowMs(),
    });
  }

  get state(): LeaseState {
    return this.#state;
  }

  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  /** A new handle on this node (re-entrancy): the node stays until every handle is released. */
  retain(): void {
    this.#holders++;
  }

  /**
   * Releases one handle; the last deletes the node. The delete is sent at once; the promise resolves
   * when the server has done it (or, while disconnected, once it is left to the background retries).
   */
  releaseOne(): Promise<void> {
    this.#holders--;
    if (this.#holders > 0) return Promise.resolve();
    this.#released ??= this.#release();
    return this.#released;
  }

  async #release(): Promise<void> {
    const wasLostWithSession = this.#state.kind === 'lost' && this.#state.reason === 'session-expired';
    this.#input({ type: 'released' });
    this.#stop();
    // Deleting the node fires (and so ends) our watch on it; remove the watch only if the node stays.
    if (wasLostWithSession) await this.#watching.removeWatches().catch(() => undefined);
    else if (this.#options.deleteNode !== undefined) await this.#options.deleteNode(this.node);
    else await removeNode(this.#fw, this.node.path, this.node.sessionId);
  }

  /** Runs `ops` atomically, only if our node still exists (check op first). Results exclude the check. */
  async guard<const T extends readonly TransactionOp[]>(ops: T, options: { signal?: AbortSignal } = {}) {
    if (this.#state.kind === 'lost' || this.#state.kind === 'released') {
      throw new LeaseLostError(this.node.path);
    }
    try {
      const results = await this.#fw.transaction([txn.check(this.node.path, -1), ...ops], options);
      return results.slice(1) as unknown as TransactionResults<T>;
    } catch (error) {
      if (error instanceof KeeperError && error.multiOpIndex === 0 && error.code === ErrorCode.NO_NODE) {
        this.#input({ type: 'node-deleted' });
        throw new LeaseLostError(this.node.path, { cause: error });
      }
      throw error;
    }
  }

  /** Stops tracking without deleting the node (the framework closed, or the owner took it over). */
  #stop(): void {
    if (this.#watchSoon !== undefined) clearImmediate(this.#watchSoon);
    this.#watchSoon = undefined;
    this.#unsubscribe();
    this.#untrackClose();
    if (this.#timer !== undefined) this.#clock.clearTimer(this.#timer);
    this.#timer = undefined;
  }

  #onConnection(change: ConnectionStateChange): void {
    const negotiatedMs = this.#fw.client.negotiatedTimeoutMs;
    switch (change.state) {
      case 'SUSPENDED':
      case 'READ_ONLY':
        this.#input({
          type: 'suspended',
          lastResponseAtMs: change.atMs - Math.floor(negotiatedMs * READ_TIMEOUT_FRACTION),
          sessionTimeoutMs: negotiatedMs,
        });
        break;
      case 'RECONNECTED':
        this.#input({ type: 'reconnected', sessionId: this.#fw.sessionId });
        break;
      case 'LOST':
        this.#input({ type: 'session-expired' });
        break;
      default:
        break;
    }
  }

  /** A data watch on our node: deletion means lost, `__REVOKE__` asks us to release. */
  #watchNode(): void {
    if (this.#state.kind === 'lost' || this.#state.kind === 'released') return;
    const onEvent = (event: WatchedEvent) => {
      if (event.type === 'nodeDeleted') this.#input({ type: 'node-deleted' });
      else if (event.type === 'nodeDataChanged') this.#watchNode();
    };
    this.#watching.getData(this.node.path, { watch: onEvent }).then(
      ({ data }) => {
        if (decodeLockNodeData(data ?? Buffer.alloc(0)).kind === 'revoke-requested') this.#revokeRequested();
      },
      (error: unknown) => {
        if (error instanceof KeeperError && error.code === ErrorCode.NO_NODE) {
          this.#input({ type: 'node-deleted' });
        }
        // Other failures (connection trouble) are covered by the connection states.
      },
    );
  }

  /** Someone wrote `__REVOKE__` into our node: tell the holder, who decides (cooperative). */
  #revokeRequested(): void {
    this.emit('revoke', this.#state);
  }

  #input(input: LeaseInput): void {
    const policy = {
      sessionId: this.node.sessionId,
      onSuspended: this.#options.onSuspended ?? 'uncertain',
    } as const;
    const step = stepLease(this.#state, input, policy);
    this.#state = step.state;
    for (const action of step.actions) this.#act(action);
  }

  #act(action: LeaseAction): void {
    switch (action.type) {
      case 'verify':
        this.#fw.exists(this.node.path).then(
          (stat) => this.#input({ type: 'verified', ephemeralOwner: stat?.ephemeralOwner }),
          () => undefined, // the next connection change tells
        );
        break;
      case 'wake-at': {
        if (this.#timer !== undefined) this.#clock.clearTimer(this.#timer);
        const delayMs = Math.max(0, action.atMs - this.#clock.nowMs());
        this.#timer = this.#clock.setTimer(() => {
          this.#timer = undefined;
          this.#input({ type: 'tick', nowMs: this.#clock.nowMs() });
        }, delayMs);
        break;
      }
      case 'notify':
        this.#notify(action.state);
        break;
    }
  }

  #notify(state: LeaseState): void {
    if (state.kind === 'held' && this.#timer !== undefined) {
      this.#clock.clearTimer(this.#timer);
      this.#timer = undefined;
    }
    if (state.kind === 'lost') {
      this.#stop();
      void this.#watching.removeWatches().catch(() => undefined);
      this.#controller.abort(new LeaseLostError(this.node.path, { cause: state.reason }));
    }
    if (state.kind !== 'released') this.emit(state.kind, state);
    this.emit('state', state);
  }
}

export interface ReleaseOptions {
  /**
   * Wait until the server has deleted the node (default false). Without it, release() resolves at
   * once: the delete goes out at the end of this event-loop turn, or inside the transaction of the
   * same lock's next acquire if one starts before then (one write for release-then-acquire). Others
   * get the lock only once the delete is applied, so safety is the same as waiting. Confirm when you
   * tell another party out of band that the lock is free, or check from any session that it is.
   */
  confirm?: boolean;
}

/**
 * The handle users hold. Release is idempotent; disposing releases (without confirm). Each handle of
 * a re-entered lock is released on its own; the node goes with the last.
 */
export class Lease implements AsyncDisposable {
  #released = false;
  #deleted: Promise<void> = Promise.resolve();

  /** @internal */
  constructor(readonly held: HeldLease, readonly lockPath: string) {
    held.retain();
  }

  /** The lock node's czxid: strictly increasing across every acquisition, of every lock. */
  get fencingToken(): bigint {
    return this.held.node.czxid;
  }

  /**
   * When this process got the lock (ms since the epoch, local wall clock). The lock node's JSON has
   * `requestedAt` instead: it is written once, when the contender node is created (joins the queue);
   * writing the acquisition time into it would cost a second write per acquisition.
   */
  get acquiredAtMs(): number {
    return this.held.acquiredAtMs;
  }

  /** Our lock node's path. */
  get nodePath(): string {
    return this.held.node.path;
  }

  get state(): LeaseStateName {
    return this.#released ? 'released' : this.held.state.kind;
  }

  /** The full state: the deadline while uncertain, the reason once lost. */
  get detail(): LeaseState {
    return this.#released ? { kind: 'released' } : this.held.state;
  }

  /** Aborted when the lease is lost (reason: a LeaseLostError). */
  get signal(): AbortSignal {
    return this.held.signal;
  }

  get isReleased(): boolean {
    return this.#released;
  }

  /** Listens for 'held' | 'uncertain' | 'lost' | 'revoke' | 'state'; returns the unsubscribe. */
  on(event: 'held' | 'uncertain' | 'lost' | 'state' | 'revoke', listener: (state: LeaseState) => void) {
    this.held.on(event, listener);
    return () => void this.held.off(event, listener);
  }

  /** Runs `ops` in one transaction that commits only while our lock node exists. */
  guard<const T extends readonly TransactionOp[]>(ops: T, options: { signal?: AbortSignal } = {}) {
    if (this.#released) return Promise.reject(new LeaseLostError(this.nodePath));
    return this.held.guard(ops, options);
  }

  /** Releases this handle. Idempotent; a later call with `confirm` still waits for the delete. */
  async release(options: ReleaseOptions = {}): Promise<void> {
    if (!this.#released) {
      this.#released = true;
      this.#deleted = this.held.releaseOne();
      this.#deleted.catch(() => undefined);
    }
    if (options.confirm) await this.#deleted;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.release();
  }
}
