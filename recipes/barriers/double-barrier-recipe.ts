// DoubleBarrier: members enter together once `memberQty` have arrived, and leave together once all have
// left (the ZooKeeper recipe; Curator's DistributedDoubleBarrier, same layout: EPHEMERAL `<path>/<uuid>`
// per member, PERSISTENT `<path>/ready` once enough arrived). Decisions in double-barrier.ts.
//
//   const barrier = new DoubleBarrier(zk, '/barriers/job', 3);
//   await barrier.enter({ timeoutMs: 60_000 });   // resolves when 3 members are in
//   await work();
//   await barrier.leave({ signal });              // resolves when all 3 have left
//
// Guarantees. Enter passes only when a listing shows `ready` or enough members, never on a wake-up
// alone (Curator's GH-1290 bypass). Leave waits for every member that entered, including one that has
// not called leave yet (Curator 5.4 returns early there). SUSPENDED: waits go on (watches survive a
// reconnect on the same session). Session loss: our member node is gone; `enter` re-creates it if it
// had not passed yet, `leave` continues without it. Abort / timeout in `enter`: our member node is
// deleted and the watch removed, so a failed member leaves nothing behind; in `leave`: our node is
// deleted if it still exists. The last member out deletes `ready`; the barrier's parent is a container.
// Timeouts run on `options.clock` (real time by default; a test kit passes its virtual clock).
import { randomUUID } from 'node:crypto';
import {
  ErrorCode,
  InvalidArgumentError,
  joinPath,
  pathProblem,
  realClock,
  type Framework,
  type FrameworkClock,
} from '../../src/index.js';
import { deadlineOf, hasErrorCode, waitFor } from '../cache/events.js';
import type { BarrierOptions, BarrierWaitOptions } from './barrier.js';
import { decideEnter, decideLeave, READY_NODE } from './double-barrier.js';

export class DoubleBarrier {
  readonly #ourNode = randomUUID();
  #entered = false;
  #sessionAtEnter = 0n;
  readonly #clock: FrameworkClock;

  constructor(
    private readonly zk: Framework,
    readonly path: string,
    readonly memberQty: number,
    options: BarrierOptions = {},
  ) {
    this.#clock = options.clock ?? realClock;
    const problem = pathProblem(path);
    if (problem !== undefined) throw new InvalidArgumentError(`bad barrier path ${path}: ${problem}`);
    if (!Number.isSafeInteger(memberQty) || memberQty < 1) {
      throw new InvalidArgumentError(`memberQty must be a positive integer, got ${memberQty}`);
    }
  }

  /** This member's node name under the barrier path. */
  get memberNode(): string {
    return this.#ourNode;
  }

  /** Resolves once `memberQty` members have entered (or the barrier is already open). */
  async enter(options: BarrierWaitOptions = {}): Promise<void> {
    if (this.#entered) throw new InvalidArgumentError('this member has already entered');
    options.signal?.throwIfAborted();
    const deadline = deadlineOf(options.timeoutMs, this.#clock);
    const ourPath = joinPath(this.path, this.#ourNode);
    const readyPath = joinPath(this.path, READY_NODE);
    try {
      await using scope = this.zk.withWatcherRemoval();
      for (;;) {
        options.signal?.throwIfAborted();
        await this.#ensureMember(ourPath, options.signal);
        // Watch `ready` first, then list: a `ready` made in between still wakes us.
        const { stat: ready, watch } = await scope.exists(readyPath, { watch: true, signal: options.signal });
        if (ready !== null) break;
        const { children } = await this.zk.getChildren(this.path, { signal: options.signal });
        const decision = decideEnter(children, this.memberQty);
        if (decision.kind === 'pass') {
          if (decision.createReady) await this.#createReady(readyPath, options.signal);
          break;
        }
        await waitFor(watch, { signal: options.signal, deadline, what: `entering barrier ${this.path}` });
      }
      this.#entered = true;
    } catch (error) {
      await this.zk.delete(ourPath, { quietly: true, guaranteed: true }).catch(() => undefined);
      throw error;
    }
  }

  /** Resolves once every member has left; the last one out removes `ready`. */
  async leave(options: BarrierWaitOptions = {}): Promise<void> {
    options.signal?.throwIfAborted();
    const deadline = deadlineOf(options.timeoutMs, this.#clock);
    const ourPath = joinPath(this.path, this.#ourNode);
    let ourNodeExists = this.#entered && this.zk.sessionId === this.#sessionAtEnter;
    try {
      await using scope = this.zk.withWatcherRemoval();
      for (;;) {
        options.signal?.throwIfAborted();
        const children = await this.#children(options.signal);
        const decision = decideLeave(children, this.#ourNode, ourNodeExists);
        if (decision.kind === 'missing') {
          ourNodeExists = false; // our session was lost: nothing of ours to delete any more
          continue;
        }
        if (decision.deleteOurs) {
          await this.zk.delete(ourPath, { quietly: true });
          ourNodeExists = false;
        }
        if (decision.kind === 'done') {
          await this.zk.delete(joinPath(this.path, READY_NODE), { quietly: true });
          break;
        }
        const { stat, watch } = await scope.exists(joinPath(this.path, decision.node), {
          watch: true,
          signal: options.signal,
        });
        if (stat === null) continue;
        await waitFor(watch, { signal: options.signal, deadline, what: `leaving barrier ${this.path}` });
      }
    } catch (error) {
      if (ourNodeExists) {
        await this.zk.delete(ourPath, { quietly: true, guaranteed: true }).catch(() => undefined);
      }
      throw error;
    } finally {
      this.#entered = false;
    }
  }

  async #ensureMember(ourPath: string, signal: AbortSignal | undefined): Promise<void> {
    if (this.#sessionAtEnter === this.zk.sessionId) return;
    try {
      await this.zk.create(ourPath, { mode: 'EPHEMERAL', parentsAsContainers: true, signal });
    } catch (error) {
      if (!hasErrorCode(error, ErrorCode.NODE_EXISTS)) throw error;
    }
    this.#sessionAtEnter = this.zk.sessionId;
  }

  async #createReady(readyPath: string, signal: AbortSignal | undefined): Promise<void> {
    try {
      await this.zk.create(readyPath, { signal });
    } catch (error) {
      if (!hasErrorCode(error, ErrorCode.NODE_EXISTS)) throw error;
    }
  }

  async #children(signal: AbortSignal | undefined): Promise<string[]> {
    try {
      return (await this.zk.getChildren(this.path, { signal })).children;
    } catch (error) {
      if (hasErrorCode(error, ErrorCode.NO_NODE)) return [];
      throw error;
    }
  }
}
