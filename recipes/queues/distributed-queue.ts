// DistributedQueue: items as PERSISTENT_SEQUENTIAL nodes under the queue path in Curator's layout and
// envelope (formats.ts), so Java producers and Node consumers share a queue; the plain, priority, delay
// and id kinds of Curator's DistributedQueue / DistributedPriorityQueue / DistributedDelayQueue /
// DistributedIdQueue. Consumers take items in Curator's order.
//
//   const queue = new DistributedQueue(zk, '/q/mail', { kind: 'priority', lockPath: '/q/mail-locks' });
//   await queue.put('hello', { priority: 1 });
//   await queue.consume(async (message) => send(message.items[0]), { signal });
//
// Guarantees. Without `lockPath` an item is deleted before the handler runs (Curator's default): it is
// handed out at most once, and lost if the consumer dies while handling it. With `lockPath` (lock-safe,
// Curator's lockPath): the consumer first creates an EPHEMERAL `<lockPath>/<item>`, runs the handler,
// and only then deletes item and lock in one transaction; a consumer that dies (session lost) drops
// its lock with its session and the item is taken again by another: never lost, handled once unless a
// handler dies mid-way (then again, at least once). SUSPENDED: takes wait for the connection; the
// handler goes on. LOST (our session, and so our lock, is gone; another consumer may take the item):
// the handler's signal aborts with QueueItemLockLostError, and the item is neither completed nor its
// new lock touched. Long pauses: the same as LOST once the session expired. A handler that throws
// releases the lock (lock-safe: the item stays) and the error rejects `process`. Queues of more than
// a few thousand items are slow to list (Curator's warning too). Take timeouts, delay-queue waits and
// consume's error pause run on `options.clock` (real time by default; a test kit passes its virtual one).
import { randomUUID } from 'node:crypto';
import {
  ErrorCode,
  InvalidArgumentError,
  joinPath,
  pathProblem,
  realClock,
  txn,
  type Data,
  type Framework,
  type FrameworkClock,
} from '../../src/index.js';
import { deadlineOf, hasErrorCode, sleep, waitFor } from '../cache/events.js';
import { itemLockPath, nextQueueItems } from './consumer.js';
import {
  cleanItemId,
  decodeQueueItems,
  encodeQueueItems,
  parseIdItem,
  queueItemName,
  type QueueKind,
  type QueuePlacement,
} from './formats.js';

/** Lock-safe: our session (and with it our lock on the item) was lost while handling it. */
export class QueueItemLockLostError extends Error {
  constructor(readonly itemName: string) {
    super(`the lock on queue item ${itemName} was lost with its session; another consumer may take it`);
    this.name = 'QueueItemLockLostError';
  }
}

/** After a failed item, `consume` waits this long before taking the next. */
export const CONSUME_ERROR_DELAY_MS = 1000;

export interface QueueOptions {
  /** Default 'plain'. */
  kind?: QueueKind;
  /** Lock-safe consumption: lock nodes live under this path (Curator's lockPath). */
  lockPath?: string;
  /**
   * Wall time the delay queue compares item times with (ms since the epoch). Default: Date.now, or,
   * with `clock`, the wall time at construction moved on by `clock` (so virtual time moves it too).
   */
  nowMs?: () => number;
  /** Where timeouts and waits read the time and arm their timers. Default: real time. */
  clock?: FrameworkClock;
}

export interface QueuePutOptions {
  signal?: AbortSignal;
  /** Priority queue: lower comes out first. */
  priority?: number;
  /** Delay queue: not handed out before this time (ms since the epoch). */
  delayUntilEpochMs?: number;
  /** Id queue: the id to find (and remove) the item by. */
  itemId?: string;
}

export interface QueueMessage {
  /** The item node's name. */
  name: string;
  /** The items in the node (one per put; several for putMulti). */
  items: Buffer[];
}

export interface QueueTakeOptions {
  signal?: AbortSignal;
  timeoutMs?: number;
}

export class DistributedQueue {
  readonly kind: QueueKind;
  readonly lockPath: string | undefined;
  readonly #nowMs: () => number;
  readonly #clock: FrameworkClock;

  constructor(
    private readonly zk: Framework,
    readonly path: string,
    options: QueueOptions = {},
  ) {
    const lockPath = options.lockPath;
    const problem = pathProblem(path) ?? (lockPath === undefined ? undefined : pathProblem(lockPath));
    if (problem !== undefined) throw new InvalidArgumentError(`bad queue path: ${problem}`);
    this.kind = options.kind ?? 'plain';
    this.lockPath = options.lockPath;
    this.#clock = options.clock ?? realClock;
    this.#nowMs = options.nowMs ?? (options.clock === undefined ? Date.now : wallTimeOn(options.clock));
  }

  /** Adds one item; resolves with its node name. */
  put(item: Data, options: QueuePutOptions = {}): Promise<string> {
    return this.putMulti([item], options);
  }

  /** Adds several items in one node (Curator's putMulti): they are taken together. */
  async putMulti(items: readonly Data[], options: QueuePutOptions = {}): Promise<string> {
    if (items.length === 0) throw new InvalidArgumentError('putMulti needs at least one item');
    const name = queueItemName(this.#placement(options));
    const data = encodeQueueItems(items.map((item) => (typeof item === 'string' ? Buffer.from(item) : item)));
    const { path } = await this.zk.create(joinPath(this.path, name), {
      mode: 'PERSISTENT_SEQUENTIAL',
      data,
      createParents: true,
      signal: options.signal,
    });
    return path.slice(path.lastIndexOf('/') + 1);
  }

  /** Id queue: removes the items put with `itemId` that are not taken yet; returns how many. */
  async remove(itemId: string, options: { signal?: AbortSignal } = {}): Promise<number> {
    if (this.kind !== 'id') throw new InvalidArgumentError('remove(itemId) is for id queues');
    const wanted = cleanItemId(itemId);
    let removed = 0;
    for (const name of await this.#children(this.path, options.signal)) {
      if (parseIdItem(name).id !== wanted) continue;
      try {
        await this.zk.delete(joinPath(this.path, name), { signal: options.signal });
        removed++;
      } catch (error) {
        if (!hasErrorCode(error, ErrorCode.NO_NODE)) throw error;
      }
    }
    return removed;
  }

  /** Item node names in the queue now, in the order they would be taken. */
  async peek(options: { signal?: AbortSignal } = {}): Promise<string[]> {
    const children = await this.#children(this.path, options.signal);
    const decision = nextQueueItems(this.kind, children, Number.MAX_SAFE_INTEGER);
    return decision.kind === 'take' ? decision.items : [];
  }

  /** Waits for the next item and removes it (lock-safe: under its lock). */
  take(options: QueueTakeOptions = {}): Promise<QueueMessage> {
    return this.process(async (message) => message, options);
  }

  /**
   * Takes the next item and runs `handler` on it (see the file header for when it is deleted);
   * resolves with what the handler returned.
   */
  async process<R>(
    handler: (message: QueueMessage, signal: AbortSignal | undefined) => Promise<R>,
    options: QueueTakeOptions = {},
  ): Promise<R> {
    const deadline = deadlineOf(options.timeoutMs, this.#clock);
    await using scope = this.zk.withWatcherRemoval();
    for (;;) {
      options.signal?.throwIfAborted();
      const { children, watch } = await this.#watchChildren(scope, this.path, options.signal);
      // Lock-safe: the locks are listed with a watch, so an item held by a consumer that dies frees
      // up when its lock goes, even if that happens right after this listing.
      const locks = this.lockPath === undefined || children.length === 0
        ? undefined
        : await this.#watchChildren(scope, this.lockPath, options.signal);
      const decision = nextQueueItems(this.kind, children, this.#nowMs(), new Set(locks?.children));
      if (decision.kind === 'take') {
        for (const name of decision.items) {
          const taken = await this.#tryTake(name, handler, options.signal);
          if (taken !== undefined) return taken.value;
        }
        continue;
      }
      const wakes: Array<Promise<unknown>> = locks === undefined ? [watch] : [watch, locks.watch];
      let timer: unknown;
      if (decision.kind === 'wait') {
        const delayMs = decision.untilMs - this.#nowMs();
        wakes.push(new Promise<void>((resolve) => (timer = this.#clock.setTimer(resolve, delayMs))));
      }
      try {
        const what = `taking from ${this.path}`;
        await waitFor(Promise.race(wakes), { signal: options.signal, deadline, what });
      } finally {
        if (timer !== undefined) this.#clock.clearTimer(timer);
      }
    }
  }

  /** Processes items one after another until `signal` aborts (resolves then). */
  async consume(
    handler: (message: QueueMessage, signal: AbortSignal | undefined) => Promise<void>,
    options: { signal?: AbortSignal; onError?: (error: unknown) => void; errorDelayMs?: number } = {},
  ): Promise<void> {
    const report =
      options.onError ?? ((e: unknown) => process.emitWarning(`queue ${this.path}: ${String(e)}`));
    for (;;) {
      if (options.signal?.aborted) return;
      try {
        await this.process(handler, { signal: options.signal });
      } catch (error) {
        if (options.signal?.aborted) return;
        report(error);
        // A handler that keeps failing on an item that stays (lock-safe) must not spin.
        const delayMs = options.errorDelayMs ?? CONSUME_ERROR_DELAY_MS;
        await sleep(delayMs, options.signal, this.#clock).catch(() => undefined);
      }
    }
  }

  /** One item: undefined when someone else had it first. */
  async #tryTake<R>(
    name: string,
    handler: (message: QueueMessage, signal: AbortSignal | undefined) => Promise<R>,
    signal: AbortSignal | undefined,
  ): Promise<{ value: R } | undefined> {
    const itemPath = joinPath(this.path, name);
    if (this.lockPath === undefined) {
      let read;
      try {
        read = await this.zk.getData(itemPath, { signal });
        await this.zk.delete(itemPath, { version: read.stat.version, signal });
      } catch (error) {
        const takenFirst = [ErrorCode.NO_NODE, ErrorCode.BAD_VERSION];
        if (takenFirst.some((code) => hasErrorCode(error, code))) return undefined;
        throw error;
      }
      return { value: await handler({ name, items: itemBuffers(read.data ?? Buffer.alloc(0)) }, signal) };
    }
    const lockNode = itemLockPath(this.lockPath, name);
    try {
      const data = randomUUID();
      await this.zk.create(lockNode, { mode: 'EPHEMERAL', data, parentsAsContainers: true, signal });
    } catch (error) {
      if (hasErrorCode(error, ErrorCode.NODE_EXISTS)) return undefined;
      throw error;
    }
    // The lock is our session's: once that session is lost, another consumer may take the item, so
    // the handler's signal aborts, and we neither complete the item nor touch a lock that is not ours.
    const lockSession = this.zk.sessionId;
    const lost = new AbortController();
    const stopWatching = this.zk.onConnectionStateChange(({ state }) => {
      if (state === 'LOST') lost.abort(new QueueItemLockLostError(name));
    });
    const handlerSignal = signal === undefined ? lost.signal : AbortSignal.any([signal, lost.signal]);
    const stillOurs = () => !lost.signal.aborted && this.zk.sessionId === lockSession;
    try {
      let data: Buffer;
      try {
        data = (await this.zk.getData(itemPath, { signal })).data ?? Buffer.alloc(0);
      } catch (error) {
        if (hasErrorCode(error, ErrorCode.NO_NODE)) return undefined; // done by the lock's previous holder
        throw error;
      }
      const value = await handler({ name, items: itemBuffers(data) }, handlerSignal);
      if (!stillOurs()) throw new QueueItemLockLostError(name);
      await this.zk.transaction([txn.delete(itemPath), txn.delete(lockNode)]);
      return { value };
    } finally {
      stopWatching();
      // After a failure (or when the item was gone) our lock goes, and the item stays for someone else.
      if (stillOurs()) {
        await this.zk.delete(lockNode, { quietly: true, guaranteed: true }).catch(() => undefined);
      }
    }
  }

  async #watchChildren(
    scope: Framework,
    path: string,
    signal: AbortSignal | undefined,
  ): Promise<{ children: string[]; watch: Promise<unknown> }> {
    for (;;) {
      try {
        const { children, watch } = await scope.getChildren(path, { watch: true, signal });
        return { children, watch };
      } catch (error) {
        if (!hasErrorCode(error, ErrorCode.NO_NODE)) throw error;
        const { stat, watch } = await scope.exists(path, { watch: true, signal });
        if (stat === null) return { children: [], watch };
      }
    }
  }

  async #children(path: string, signal: AbortSignal | undefined): Promise<string[]> {
    try {
      return (await this.zk.getChildren(path, { signal })).children;
    } catch (error) {
      if (hasErrorCode(error, ErrorCode.NO_NODE)) return [];
      throw error;
    }
  }

  #placement(options: QueuePutOptions): QueuePlacement {
    switch (this.kind) {
      case 'plain':
        return { kind: 'plain' };
      case 'priority':
        return { kind: 'priority', priority: options.priority ?? 0 };
      case 'delay':
        if (options.delayUntilEpochMs === undefined) {
          throw new InvalidArgumentError('a delay queue put needs delayUntilEpochMs');
        }
        return { kind: 'delay', delayUntilEpochMs: options.delayUntilEpochMs };
      case 'id':
        if (options.itemId === undefined) throw new InvalidArgumentError('an id queue put needs itemId');
        return { kind: 'id', itemId: options.itemId };
    }
  }
}

/** Epoch milliseconds that move with `clock`: the wall time now, plus the clock's time since. */
function wallTimeOn(clock: FrameworkClock): () => number {
  const wallAtStartMs = Date.now();
  const clockAtStartMs = clock.nowMs();
  return () => wallAtStartMs + (clock.nowMs() - clockAtStartMs);
}

function itemBuffers(data: Uint8Array): Buffer[] {
  return decodeQueueItems(data).map((item) => Buffer.from(item.buffer, item.byteOffset, item.length));
}
