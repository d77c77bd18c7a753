// Leader selector and runAsLeader: run a job while leader, on one participant at a time (Curator's
// LeaderSelector layout: an InterProcessMutex at the path, `_c_<uuid>-lock-<seq>` nodes whose data is
// the participant id).
//
//   await using job = runAsLeader(zk, '/election/compactor', async (signal, term) => {
//     while (!signal.aborted) await compactOnce({ signal, fencingToken: term });
//   }, { id: 'worker-3' });
//
// The job gets an AbortSignal aborted when leadership is lost (session expiry, our node deleted,
// SUSPENDED past its deadline, or at once under `onSuspended: 'resign'`), when interrupted, or when
// the selector closes; and the term (our node's czxid, a fencing token). When the job returns or
// throws, the node is deleted and, with autoRequeue (runAsLeader always), we queue again. The loop is
// one `for` around acquire: a thrown job, a failed acquire, a lost session or an interrupt never stop
// it (Curator's LeaderSelector requeue bugs: CURATOR-15, -16, -73, -104, -518, -671). A job that
// ignores its signal keeps our process from re-queueing until it returns; it cannot make two runs of
// the job overlap in this process.
import {
  InvalidArgumentError,
  observeLeadershipTerm,
  realClock,
  type Framework,
  type FrameworkClock,
} from '../../src/index.js';
import { mutexPolicy } from '../locks/contenders.js';
import { HeldLease, Lease } from '../locks/lease.js';
import { contend } from '../locks/lock-core.js';
import { NodeMarker } from '../locks/node-names.js';
import { RETRY_PAUSE_MS, pause, readParticipants, type LeaderOptions } from './latch.js';
import { encodeParticipantId, type Participant } from './participants.js';

/** The job run while leader: `term` is the fencing token of this leadership. */
export type LeaderJob = (signal: AbortSignal, term: bigint) => Promise<void> | void;

export interface SelectorOptions extends LeaderOptions {
  /** Queue again after each term (default true). Without it, call requeue() for another term. */
  autoRequeue?: boolean;
}

export class LeaderSelector implements AsyncDisposable {
  readonly #fw: Framework;
  readonly #job: LeaderJob;
  readonly #options: SelectorOptions;
  readonly #clock: FrameworkClock;
  readonly #closing = new AbortController();
  #phase: 'latent' | 'started' | 'closed' = 'latent';
  #loop: Promise<void> | undefined;
  #queued = 0;
  #wakeQueue: (() => void) | undefined;
  #interrupt: AbortController | undefined;
  #leading = false;
  /** Terms started so far (for tests and metrics). */
  termsStarted = 0;

  constructor(fw: Framework, readonly path: string, job: LeaderJob, options: SelectorOptions = {}) {
    if (typeof job !== 'function') throw new InvalidArgumentError('the leader job must be a function');
    this.#fw = fw;
    this.#job = job;
    this.#options = options;
    this.#clock = options.clock ?? realClock;
  }

  start(): void {
    if (this.#phase !== 'latent') throw new InvalidArgumentError(`cannot start a ${this.#phase} selector`);
    this.#phase = 'started';
    this.#queued = 1;
    this.#loop = this.#run();
  }

  /** Without autoRequeue: queue for one more term (no effect while already queued). */
  requeue(): void {
    if (this.#phase !== 'started') throw new InvalidArgumentError(`cannot requeue a ${this.#phase} selector`);
    if (this.#queued === 0) this.#queued = 1;
    this.#wakeQueue?.();
  }

  /** Ends the current term (aborts the job's signal); with autoRequeue we queue again. */
  interruptLeadership(): void {
    this.#interrupt?.abort(new Error('leadership interrupted'));
  }

  get hasLeadership(): boolean {
    return this.#leading;
  }

  participants(options: { signal?: AbortSignal } = {}): Promise<Participant[]> {
    return readParticipants(this.#fw, this.path, 'selector', options.signal);
  }

  async leader(options: { signal?: AbortSignal } = {}): Promise<Participant | undefined> {
    return (await this.participants(options))[0];
  }

  /** Stops: aborts the job, waits for it to return, deletes our node. Idempotent. */
  async close(): Promise<void> {
    if (this.#phase !== 'closed') {
      this.#phase = 'closed';
      this.#closing.abort(new Error('the leader selector is closed'));
      this.#wakeQueue?.();
    }
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
    const spec = { framework: this.#fw, dir: this.path, marker: NodeMarker.mutex, policy: mutexPolicy, data };
    const onSuspended = this.#options.onSuspended === 'resign' ? 'lose' : 'uncertain';
    while (!closing.aborted) {
      if (this.#queued === 0) {
        await new Promise<void>((resolve) => (this.#wakeQueue = resolve));
        this.#wakeQueue = undefined;
        continue;
      }
      let lease: Lease;
      try {
        const node = await contend(spec, { signal: closing, clock: this.#clock });
        lease = new Lease(new HeldLease(this.#fw, node!, { clock: this.#clock, onSuspended }), this.path);
      } catch (error) {
        if (closing.aborted) break;
        this.#options.onError?.(error);
        await pause(RETRY_PAUSE_MS, closing, this.#clock);
        continue;
      }
      if (this.#options.autoRequeue === false) this.#queued = 0;
      await this.#term(lease, closing);
    }
  }

  /** Runs the job once, under a signal that aborts on loss, interrupt or close; then releases. */
  async #term(lease: Lease, closing: AbortSignal): Promise<void> {
    const interrupt = new AbortController();
    this.#interrupt = interrupt;
    const signal = AbortSignal.any([lease.signal, closing, interrupt.signal]);
    this.#leading = true;
    this.termsStarted++;
    const participantId = this.#options.id;
    const term = { path: this.path, recipe: 'selector', fencingToken: lease.fencingToken, participantId };
    const observed = observeLeadershipTerm(term);
    try {
      await this.#job(signal, lease.fencingToken);
    } catch (error) {
      if (!signal.aborted) this.#options.onError?.(error);
    } finally {
      this.#leading = false;
      this.#interrupt = undefined;
      observed.end();
      await lease.release({ confirm: true });
    }
  }
}

/**
 * Runs `job` whenever this process leads at `path`, again after each re-election, until the returned
 * selector is closed (or disposed).
 */
export function runAsLeader(
  fw: Framework,
  path: string,
  job: LeaderJob,
  options: LeaderOptions = {},
): LeaderSelector {
  const selector = new LeaderSelector(fw, path, job, { ...options, autoRequeue: true });
  selector.start();
  return selector;
}
