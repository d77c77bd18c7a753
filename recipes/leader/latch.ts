// Leader latch (Curator's LeaderLatch, same layout: `<path>/_c_<uuid>-latch-<seq>`, data = the
// participant id), so Java services using Curator and Node services using this elect one leader.
//
//   await using latch = new LeaderLatch(zk, '/election/reports', { id: 'worker-3' });
//   latch.start();
//   const term = await latch.whenLeader({ signal });      // term.term: fencing token (czxid)
//   runReports(term.signal);                               // aborted when leadership ends
//   for await (const change of latch.changes({ signal })) console.log(change.isLeader);
//
// No double leaders: leadership is reported only after our node's ephemeralOwner is checked against
// the current session (CURATOR-696), and it is a lease (lease.ts) that ends on session expiry or
// when our node is deleted. What SUSPENDED means is this latch's own policy (not a global one):
// `pause` (default) keeps the term alive but `uncertain` until the connection comes back with the
// same session (then leader again) or a deadline counted from the last server response passes (then
// lost); `resign` ends the term at once and re-queues. After a loss the latch re-queues with a new
// node: never delete-and-recreate on RECONNECTED (the CURATOR-644/645 livelock).
import { EventEmitter } from 'node:events';
import {
  ErrorCode,
  InvalidArgumentError,
  joinPath,
  observeLeadershipTerm,
  realClock,
  type Framework,
  type FrameworkClock,
} from '../../src/index.js';
import { latchPolicy } from '../locks/contenders.js';
import { HeldLease, Lease } from '../locks/lease.js';
import { contend, hasCode } from '../locks/lock-core.js';
import { NodeMarker } from '../locks/node-names.js';
import {
  describeParticipants,
  encodeParticipantId,
  type LeaderRecipe,
  type Participant,
} from './participants.js';

export type SuspendedPolicy = 'pause' | 'resign';

export interface LeadershipTerm {
  /** The fencing token of this term: our node's czxid, higher than any earlier leader's. */
  readonly term: bigint;
  /** Aborted when this term ends (lost, resigned, or the latch closed). */
  readonly signal: AbortSignal;
  /** Our latch node. */
  readonly nodePath: string;
}

export type LeadershipChange =
  | { readonly isLeader: true; readonly term: LeadershipTerm }
  | { readonly isLeader: false; readonly uncertain?: boolean };

export interface LeaderOptions {
  /** This participant's id, written into its node (Curator reads it as UTF-8). Default ''. */
  id?: string;
  /** What SUSPENDED does to a leader: 'pause' (uncertain until a deadline, default) or 'resign'. */
  onSuspended?: SuspendedPolicy;
  clock?: FrameworkClock;
  /** Errors the background loop met (it retries after a short pause). */
  onError?: (error: unknown) => void;
}

/** A pause between failed rounds, so a broken connection cannot make a hot loop. */
export const RETRY_PAUSE_MS = 250;

export class LeaderLatch implements AsyncDisposable {
  readonly #fw: Framework;
  readonly #options: LeaderOptions;
  readonly #clock: FrameworkClock;
  readonly #events = new EventEmitter();
  readonly #closing = new AbortController();
  #phase: 'latent' | 'started' | 'closed' = 'latent';
  #loop: Promise<void> | undefined;
  #lease: Lease | undefined;
  #term: LeadershipTerm | undefined;
  #ourPath: string | undefined;
  #closeMode: 'silent' | 'notify' = 'notify';

  constructor(fw: Framework, readonly path: string, options: LeaderOptions = {}) {
    this.#fw = fw;
    this.#options = options;
    this.#clock = options.clock ?? realClock;
    this.#events.setMaxListeners(0);
  }

  /** Joins the election; leadership is then reported through whenLeader, the listener and changes(). */
  start(): void {
    if (this.#phase !== 'latent') throw new InvalidArgumentError(`cannot start a ${this.#phase} latch`);
    this.#phase = 'started';
    this.#loop = this.#run();
  }

  get hasLeadership(): boolean {
    return this.#term !== undefined && this.#lease?.state === 'held';
  }

  /** The current term while leader (also while uncertain under 'pause'). */
  get term(): LeadershipTerm | undefined {
    return this.#term;
  }

  /** Our node, once created. */
  get ourPath(): string | undefined {
    return this.#ourPath;
  }

  /** Resolves with the term once we lead (at once if we do). */
  whenLeader(options: { signal?: AbortSignal } = {}): Promise<LeadershipTerm> {
    options.signal?.throwIfAborted();
    if (this.#term !== undefined && this.hasLeadership) return Promise.resolve(this.#term);
    return new Promise((resolve, reject) => {
      const onAbort = () => {
        off();
        reject(options.signal!.reason);
      };
      const off = this.onChange((change) => {
        if (!change.isLeader) return;
        off();
        options.signal?.removeEventListener('abort', onAbort);
        resolve(change.term);
      });
      options.signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** Calls `listener` on every leadership change; returns the unsubscribe. */
  onChange(listener: (change: LeadershipChange) => void): () => void {
    this.#events.on('change', listener);
    return () => void this.#events.off('change', listener);
  }

  /** Leadership changes from now on; ends when the latch closes or the signal aborts. */
  async *changes(options: { signal?: AbortSignal } = {}): AsyncIterable<LeadershipChange> {
    const queue: LeadershipChange[] = [];
    let wake: (() => void) | undefined;
    const off = this.onChange((change) => {
      if (queue.length < 1000) queue.push(change);
      wake?.();
    });
    const onEnd = () => wake?.();
    options.signal?.addEventListener('abort', onEnd);
    this.#closing.signal.addEventListener('abort', onEnd);
    try {
      for (;;) {
        while (queue.length > 0) yield queue.shift()!;
        if (options.signal?.aborted || this.#closing.signal.aborted) return;
        await new Promise<void>((resolve) => (wake = resolve));
        wake = undefined;
      }
    } finally {
      off();
      options.signal?.removeEventListener('abort', onEnd);
      this.#closing.signal.removeEventListener('abort', onEnd);
    }
  }

  /** Every participant in order, the leader first (Curator's getParticipants). */
  participants(options: { signal?: AbortSignal } = {}): Promise<Participant[]> {
    return readParticipants(this.#fw, this.path, 'latch', options.signal);
  }

  /** The current leader, or undefined when nobody participates. */
  async leader(options: { signal?: AbortSignal } = {}): Promise<Participant | undefined> {
    return (await this.participants(options))[0];
  }

  /**
   * Leaves the election and deletes our node. `notify` (default) tells listeners we are no longer
   * leader; `silent` does not. Idempotent.
   */
  async close(options: { mode?: 'silent' | 'notify' } = {}): Promise<void> {
    if (this.#phase === 'closed') return this.#loop;
    this.#closeMode = options.mode ?? 'notify';
    this.#phase = 'closed';
    this.#closing.abort(new Error('the leader latch is closed'));
    await this.#loop;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  async #run(): Promise<void> {
    const closing = this.#closing.signal;
    // A closed framework ends the loop too, instead of failing and pausing forever.
    void this.#fw.closed().then(() => this.#closing.abort(new Error('the framework is closed')));
    const data = encodeParticipantId(this.#options.id ?? '');
    const spec = { framework: this.#fw, dir: this.path, marker: NodeMarker.latch, policy: latchPolicy, data };
    while (!closing.aborted) {
      try {
        const onQueued = (nodePath: string) => (this.#ourPath = nodePath);
        const node = await contend(spec, { signal: closing, clock: this.#clock, onQueued });
        const onSuspended = this.#options.onSuspended === 'resign' ? 'lose' : 'uncertain';
        const held = new HeldLease(this.#fw, node!, { clock: this.#clock, onSuspended });
        const lease = new Lease(held, this.path);
        await this.#lead(lease, closing);
      } catch (error) {
        if (closing.aborted) break;
        this.#options.onError?.(error);
        await pause(RETRY_PAUSE_MS, closing, this.#clock);
      }
    }
    this.#ourPath = undefined;
  }

  /** One term: from acquired to lost or closed; then the node is deleted and we re-queue. */
  async #lead(lease: Lease, closing: AbortSignal): Promise<void> {
    this.#lease = lease;
    const ended = new AbortController();
    const term: LeadershipTerm = { term: lease.fencingToken, signal: ended.signal, nodePath: lease.nodePath };
    this.#term = term;
    const observedTerm = { path: this.path, recipe: 'latch', fencingToken: term.term };
    const observed = observeLeadershipTerm({ ...observedTerm, participantId: this.#options.id });
    const offUncertain = lease.on('uncertain', () => this.#emit({ isLeader: false, uncertain: true }));
    const offHeld = lease.on('held', () => this.#emit({ isLeader: true, term }));
    this.#emit({ isLeader: true, term });
    let wake = () => {};
    try {
      await new Promise<void>((resolve) => {
        wake = resolve;
        if (lease.signal.aborted || closing.aborted) return resolve();
        lease.signal.addEventListener('abort', wake, { once: true });
        closing.addEventListener('abort', wake, { once: true });
      });
    } finally {
      lease.signal.removeEventListener('abort', wake);
      closing.removeEventListener('abort', wake);
      offUncertain();
      offHeld();
      this.#term = undefined;
      this.#lease = undefined;
      observed.end();
      ended.abort(lease.signal.aborted ? lease.signal.reason : closing.reason);
      if (!closing.aborted || this.#closeMode === 'notify') this.#emit({ isLeader: false });
      await lease.release({ confirm: true });
    }
  }

  #emit(change: LeadershipChange): void {
    for (const listener of this.#events.listeners('change')) {
      try {
        (listener as (c: LeadershipChange) => void)(change);
      } catch (error) {
        this.#options.onError?.(error);
      }
    }
  }
}

/** Reads the participants of a latch or selector path, leader first. */
export async function readParticipants(
  fw: Framework,
  path: string,
  recipe: LeaderRecipe,
  signal?: AbortSignal,
): Promise<Participant[]> {
  let children: string[];
  try {
    children = (await fw.getChildren(path, signal === undefined ? {} : { signal })).children;
  } catch (error) {
    if (hasCode(error, ErrorCode.NO_NODE)) return [];
    throw error;
  }
  const nodes = await Promise.all(
    children.map(async (nodeName) => {
      const read = fw.getData(joinPath(path, nodeName));
      const data = await read.then((r) => r.data ?? undefined, () => undefined);
      return { nodeName, data };
    }),
  );
  return describeParticipants(recipe, nodes);
}

/** Waits `ms`, or less if the signal aborts (never rejects). */
export function pause(ms: number, signal: AbortSignal, clock: FrameworkClock): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const done = () => {
      clock.clearTimer(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = clock.setTimer(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}
