// The lock core every lock kind shares (mutex, read/write lock, the semaphore's internal mutex, the
// leader recipes): create a protected ephemeral-sequential contender node under the lock directory
// (parents as containers), list the children, let the pure policy (`decideContender`) say "acquired"
// or "watch this predecessor", watch only that predecessor (a getData watch: no herd, and no watch
// left on a node that is already gone), and decide again when it goes.
//
// Guarantees: before reporting "acquired" our node's ephemeralOwner is checked against the current
// session (CURATOR-604/696: a node seen after a session change belongs to the dead session). An acquire
// that times out, is aborted, or fails deletes its node before it rejects (guaranteed delete: retried
// in the background through connection trouble until done or the session ends), so no contender node
// is ever left behind (kazoo #732). A session lost while waiting costs the place in line: the node is
// re-created under the new session, as Curator does.
import {
  ClosedError,
  ErrorCode,
  KeeperError,
  TimeoutError,
  baseName,
  findProtectedChild,
  joinPath,
  observeLockWait,
  protectedPath,
  realClock,
  txn,
  type ConnectionStateChange,
  type Framework,
  type FrameworkClock,
  type Stat,
  type WatchedEvent,
} from '../../src/index.js';
import { randomUUID } from 'node:crypto';
import { decideContender, policyMarkers, type LockPolicy } from './contenders.js';
import { parseContenderName } from './node-names.js';

/** What one contender node looks like: where it lives, how it is named, what it holds. */
export interface ContenderSpec {
  framework: Framework;
  /** The lock directory. */
  dir: string;
  /** The name before the server's sequence, e.g. `lock-`; the framework adds `_c_<uuid>-`. */
  marker: string;
  policy: LockPolicy;
  data: Uint8Array;
  /** Our own nodes that already hold this lock (a write-lock holder taking the read lock). */
  heldByUs?: readonly string[];
  /**
   * A node of ours just released on this lock whose delete has not gone out yet: it is deleted in the
   * same transaction that creates the new node (one write instead of two), see `createContender`.
   */
  replaces?: DeferredDelete;
}

/** A released node whose delete waits to be folded into the next create; `settle` exactly once. */
export interface DeferredDelete {
  readonly node: HeldNode;
  /** Hands over the delete: resolves the release once `done` does. */
  settle(done: Promise<void>): void;
}

export interface ContendOptions {
  signal?: AbortSignal | undefined;
  /** undefined: wait forever; 0: decide once (tryAcquire); otherwise a deadline on `clock`. */
  deadlineMs?: number | undefined;
  clock?: FrameworkClock | undefined;
  /** Called once the node exists, with its path (Curator's CURATOR-592 "callback once queued"). */
  onQueued?: ((nodePath: string) => void) | undefined;
}

/** Our node, once it holds the lock. */
export interface HeldNode {
  path: string;
  nodeName: string;
  /** The session that owns the node (its ephemeralOwner). */
  sessionId: bigint;
  /** The node's czxid: the fencing token. */
  czxid: bigint;
}

/** Rejects an acquire that did not get the lock within its time. */
export class LockTimeoutError extends TimeoutError {
  constructor(path: string) {
    super(`lock ${path} was not acquired in time`);
    this.name = 'LockTimeoutError';
  }
}

/** Restarts after a lost session are bounded so a flapping connection cannot loop forever. */
const SESSION_RESTARTS_MAX = 20;

/** Contends for the lock (below), reporting the wait to the installed observers (metrics, spans). */
export function contend(spec: ContenderSpec, options: ContendOptions = {}): Promise<HeldNode | undefined> {
  return observeLockWait(spec.dir, spec.marker, options.signal, () => contendUnobserved(spec, options));
}

/**
 * Contends for the lock at `spec.dir` until it is ours (resolves), the deadline passes (undefined for
 * `deadlineMs: 0`, LockTimeoutError otherwise), or the signal aborts (its reason). Never leaves a node.
 */
async function contendUnobserved(
  spec: ContenderSpec,
  options: ContendOptions = {},
): Promise<HeldNode | undefined> {
  const clock = options.clock ?? realClock;
  const once = options.deadlineMs === 0;
  const controller = new AbortController();
  const signal = controller.signal;
  const onCallerAbort = () => controller.abort(options.signal!.reason);
  options.signal?.throwIfAborted();
  options.signal?.addEventListener('abort', onCallerAbort, { once: true });
  let timer: unknown;
  if (options.deadlineMs !== undefined && !once) {
    const delayMs = Math.max(0, options.deadlineMs - clock.nowMs());
    timer = clock.setTimer(() => controller.abort(new LockTimeoutError(spec.dir)), delayMs);
  }
  const watching = spec.framework.withWatcherRemoval();
  try {
    for (let restart = 0; ; restart++) {
      if (restart > SESSION_RESTARTS_MAX) throw new LockTimeoutError(spec.dir);
      // A folded delete belongs to the first node only.
      const nodeSpec = restart === 0 ? spec : { ...spec, replaces: undefined };
      const outcome = await contendWithOneNode(nodeSpec, watching, signal, once, options.onQueued);
      if (outcome === 'restart') continue;
      return outcome === 'not-acquired' ? undefined : outcome;
    }
  } catch (error) {
    throw signal.aborted ? signal.reason : error;
  } finally {
    if (timer !== undefined) clock.clearTimer(timer);
    options.signal?.removeEventListener('abort', onCallerAbort);
    await watching.removeWatches().catch(() => undefined);
  }
}

/** One node's life in the queue: held, given up (once), or gone with its session (restart). */
async function contendWithOneNode(
  spec: ContenderSpec,
  watching: Framework,
  signal: AbortSignal,
  once: boolean,
  onQueued: ((nodePath: string) => void) | undefined,
): Promise<HeldNode | 'restart' | 'not-acquired'> {
  const fw = spec.framework;
  // Curator's protection id (a UUID), for the folded create; the framework names an ordinary one.
  const protectionId = spec.replaces === undefined ? undefined : randomUUID();
  const successor = protectionId === undefined ? undefined : successorPath(spec, protectionId);
  const creating = createContender(spec, signal, protectionId);
  // The first listing goes out right behind the create instead of after its reply: a session's
  // requests are answered in order, so it sees our node, and an uncontended acquire costs one round
  // trip. A listing that went out first after all (or failed) is simply done again below. Behind a
  // folded create, the stat of the node it most likely made goes instead (see successorPath).
  let pipelined = successor === undefined ? listBehind(fw, spec.dir, signal) : undefined;
  const successorStat = successor === undefined ? undefined : existsBehind(fw, successor, signal);
  let created: Awaited<typeof creating>;
  try {
    created = await creating;
  } catch (error) {
    // The session ended under the create: a node it may have made went with it. Start over.
    if (!signal.aborted && isSessionEnd(error)) return 'restart';
    throw error;
  }
  const ourPath = created.path;
  const nodeName = baseName(ourPath);
  const sessionId = created.stat?.ephemeralOwner ?? fw.sessionId;
  let keep = false;
  const { sessionGone, roundSignal, offSession } = sessionScope(fw, sessionId, signal);
  const held = (stat: Stat): HeldNode => {
    keep = true;
    return { path: ourPath, nodeName, sessionId: stat.ephemeralOwner, czxid: stat.czxid };
  };
  try {
    onQueued?.(ourPath);
    // A created node without a stat (a folded create): read it now, beside the listing, so that a
    // hand-off does not wait for it.
    let ownStat: Promise<Stat | undefined> | undefined;
    if (created.stat === undefined) {
      if (ourPath === successor) {
        // Nothing was created here since our released node, which held the lock: this one holds it.
        const stat = await raceSignal(successorStat!, roundSignal);
        if (stat !== undefined && stat.ephemeralOwner === sessionId && fw.sessionId === sessionId) {
          return held(stat);
        }
      }
      ownStat = fw.exists(ourPath, { signal: roundSignal }).then((s) => s ?? undefined, () => undefined);
    }
    const heldByUs = spec.heldByUs === undefined ? {} : { heldByUs: spec.heldByUs };
    /** Children to decide on without listing: our last view minus a predecessor known to be gone. */
    let known: string[] | undefined;
    for (;;) {
      signal.throwIfAborted();
      if (fw.sessionId !== sessionId || sessionGone.signal.aborted) return 'restart'; // a dead session's node
      let children = known;
      known = undefined;
      if (children === undefined) {
        const early = pipelined === undefined ? undefined : await raceSignal(pipelined, roundSignal);
        pipelined = undefined;
        children = early?.includes(nodeName)
          ? early
          : (await fw.getChildren(spec.dir, { signal: roundSignal })).children;
      }
      const decision = decideContender(children, nodeName, spec.policy, heldByUs);
      if (decision.kind === 'missing') return 'restart';
      if (decision.kind === 'acquired') {
        // Ownership: the create's own stat names our session as the owner, and the session has not
        // changed since, so the node listed is ours. Without that stat, read it (CURATOR-604/696).
        let stat = created.stat;
        if (stat === undefined && ownStat !== undefined) stat = await raceSignal(ownStat, roundSignal);
        if (stat === undefined || stat.ephemeralOwner !== fw.sessionId) {
          stat = (await fw.exists(ourPath, { signal: roundSignal })) ?? undefined;
        }
        if (stat === undefined) return 'restart';
        if (stat.ephemeralOwner !== fw.sessionId) return 'restart'; // not ours: never report it held
        return held(stat);
      }
      if (once) return 'not-acquired';
      const predecessor = decision.predecessor;
      const deleted = await waitForPredecessor(watching, joinPath(spec.dir, predecessor), roundSignal);
      if (deleted && policyMarkers(spec.policy).length === 1) {
        // Sequences only grow, so no contender can appear ahead of us: if our last view without the
        // deleted predecessor grants the lock, so does the directory now, without listing it again.
        // (Two-marker policies are excluded: a read-write downgrade node reuses an older sequence.)
        const without = children.filter((child) => child !== predecessor);
        if (decideContender(without, nodeName, spec.policy, heldByUs).kind === 'acquired') known = without;
      }
    }
  } catch (error) {
    // A session that ended while we waited is a restart, unless the caller gave up meanwhile.
    if (!signal.aborted && (sessionGone.signal.aborted || isSessionEnd(error))) return 'restart';
    throw error;
  } finally {
    offSession();
    if (!keep) await removeNode(fw, ourPath, sessionId);
  }
}

/**
 * The path a folded create makes when nothing else was created in the lock directory since our
 * released node: the server's sequence counter then stands one past that node's (a delete does not
 * advance it). Our released node held the lock, so nothing was ahead of it, and nothing can come
 * ahead later (sequences only grow): a node at this path holds the lock at once. Undefined when the
 * released node's sequence is unknown or the counter would wrap.
 */
function successorPath(spec: ContenderSpec, protectionId: string): string | undefined {
  const old = parseContenderName(spec.replaces!.node.nodeName, [spec.marker]);
  if (old === undefined || old.marker !== spec.marker || old.sequence < 0) return undefined;
  if (old.sequence >= 0x7fffffff || spec.heldByUs !== undefined) return undefined;
  const sequence = String(old.sequence + 1).padStart(10, '0');
  return protectedPath(joinPath(spec.dir, spec.marker), protectionId) + sequence;
}

/**
 * Creates our contender node (protected, ephemeral-sequential, parents as containers). With
 * `spec.replaces`, our node just released on this lock is deleted in the same transaction: one write
 * for release-then-acquire instead of two. The new node then has no stat (a create inside a multi
 * has none on Apache), so the caller reads it before reporting "acquired". When the transaction fails,
 * the old node is deleted on its own and the node is created the ordinary way; when its outcome is
 * unknown (connection lost), our protected name is looked for: found, it is ours (and the old node
 * went with it); not found, nothing was applied.
 */
async function createContender(
  spec: ContenderSpec,
  signal: AbortSignal,
  protectionId: string | undefined,
): Promise<{ path: string; stat?: Stat | undefined }> {
  const fw = spec.framework;
  const named = joinPath(spec.dir, spec.marker);
  const ordinary = () =>
    fw.create(named, { mode: 'EPHEMERAL_SEQUENTIAL', protected: true, parentsAsContainers: true,
      data: spec.data, signal });
  const replaces = spec.replaces;
  if (replaces === undefined || protectionId === undefined) return ordinary();
  const { node: old } = replaces;
  try {
    // Not given the signal: once sent, its outcome must be known, since the old node goes with it.
    const [, created] = await fw.transaction([
      txn.delete(old.path),
      txn.create(protectedPath(named, protectionId), { mode: 'EPHEMERAL_SEQUENTIAL', data: spec.data }),
    ]);
    replaces.settle(Promise.resolve());
    return { path: created.path };
  } catch (error) {
    const definite = error instanceof KeeperError
      && (error.multiOpIndex !== undefined || error.indeterminate === false);
    if (!definite) {
      const adopted = await findOwnOrphan(fw, spec.dir, protectionId, old.sessionId);
      if (adopted !== undefined) {
        replaces.settle(Promise.resolve());
        return { path: adopted };
      }
    }
    replaces.settle(removeNode(fw, old.path, old.sessionId));
    signal.throwIfAborted();
    return ordinary();
  }
}

/**
 * After a transaction whose outcome is unknown: our node carrying `protectionId`, if it was made. If
 * the listing fails, it is removed in the background, so it cannot block the queue as a stray node.
 */
async function findOwnOrphan(
  fw: Framework,
  dir: string,
  protectionId: string,
  sessionId: bigint,
): Promise<string | undefined> {
  try {
    const found = findProtectedChild((await fw.getChildren(dir)).children, protectionId);
    return found === undefined ? undefined : joinPath(dir, found);
  } catch (error) {
    if (!hasCode(error, ErrorCode.NO_NODE)) void removeOrphanInBackground(fw, dir, protectionId, sessionId);
    throw error;
  }
}

const ORPHAN_REMOVAL_ATTEMPTS_MAX = 20;

async function removeOrphanInBackground(
  fw: Framework,
  dir: string,
  protectionId: string,
  sessionId: bigint,
): Promise<void> {
  for (let attempt = 0; attempt < ORPHAN_REMOVAL_ATTEMPTS_MAX; attempt++) {
    if (fw.sessionId !== sessionId) return; // the session ended: its ephemeral nodes are gone
    try {
      const found = findProtectedChild((await fw.getChildren(dir)).children, protectionId);
      if (found !== undefined) await fw.delete(joinPath(dir, found), { quietly: true, guaranteed: true });
      return;
    } catch (error) {
      if (hasCode(error, ErrorCode.NO_NODE) || error instanceof ClosedError) return;
    }
  }
}

/**
 * Lists `dir` in the next turn of the event loop: after the create issued in this turn has been
 * handed to the client (its writes go out once per turn), so the listing follows it on the wire.
 * Resolves undefined on any failure; the caller then lists again the ordinary way.
 */
function listBehind(fw: Framework, dir: string, signal: AbortSignal): Promise<string[] | undefined> {
  return new Promise<string[] | undefined>((resolve) => {
    setImmediate(() => {
      if (signal.aborted) return resolve(undefined);
      fw.getChildren(dir, { signal }).then(
        ({ children }) => resolve(children),
        () => resolve(undefined),
      );
    });
  });
}

/**
 * The stat of `path` (undefined when it does not exist, or on any failure), asked at once: called
 * right after the transaction that creates it was started, it takes at least as many promise hops
 * through the framework, so it reaches the connection after the transaction and shares its write.
 * Had it gone first after all, it finds nothing and the caller lists the directory instead.
 */
function existsBehind(fw: Framework, path: string, signal: AbortSignal): Promise<Stat | undefined> {
  return fw.exists(path, { signal }).then(
    (stat) => stat ?? undefined,
    () => undefined,
  );
}

/** `promise`, or the signal's reason as a rejection once it aborts. */
function raceSignal<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  let onAbort = () => {};
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => {
      onAbort = () => reject(signal.reason);
      signal.addEventListener('abort', onAbort, { once: true });
    }),
  ]).finally(() => signal.removeEventListener('abort', onAbort));
}

/**
 * Waits until the predecessor goes, or the connection changes (then the caller looks again). True
 * when it is known to be deleted: its NodeDeleted event came, or it was already gone.
 */
async function waitForPredecessor(
  fw: Framework,
  predecessorPath: string,
  signal: AbortSignal,
): Promise<boolean> {
  let read: { watch: Promise<WatchedEvent> };
  try {
    read = await fw.getData(predecessorPath, { watch: true, signal });
  } catch (error) {
    if (hasCode(error, ErrorCode.NO_NODE)) return true; // already gone: decide again at once
    throw error;
  }
  let deleted = false;
  const seen = read.watch.then((event) => void (deleted = event.type === 'nodeDeleted'));
  await waitForChange(fw, seen, signal);
  return deleted;
}

/**
 * Waits for a watch to fire, the signal to abort (rejects with its reason), or the connection to come
 * back or be lost: after SUSPENDED a watch may be late or gone with the session, so look again.
 */
export async function waitForChange(
  fw: Framework,
  watch: Promise<unknown>,
  signal: AbortSignal,
): Promise<void> {
  let unsubscribe = () => {};
  let onAbort = () => {};
  try {
    await new Promise<void>((resolve, reject) => {
      watch.then(() => resolve(), () => resolve());
      unsubscribe = fw.onConnectionStateChange((change: ConnectionStateChange) => {
        if (change.state === 'RECONNECTED' || change.state === 'LOST') resolve();
      });
      onAbort = () => reject(signal.reason);
      if (signal.aborted) onAbort();
      else signal.addEventListener('abort', onAbort, { once: true });
    });
  } finally {
    unsubscribe();
    signal.removeEventListener('abort', onAbort);
  }
}

/**
 * A signal for the reads of one node's round that also aborts when its session is lost: an answer on
 * a dead session is useless, and a read caught in the switch to a new session must not hold us up.
 */
export interface SessionScope {
  /** Aborts when the session is lost or replaced. */
  readonly sessionGone: AbortController;
  /** Aborts with the caller's signal or when the session goes. */
  readonly roundSignal: AbortSignal;
  /** Stops listening (idempotent). */
  offSession(): void;
}

export function sessionScope(fw: Framework, sessionId: bigint, signal: AbortSignal): SessionScope {
  const sessionGone = new AbortController();
  // One controller for both causes (cheaper than AbortSignal.any, made once per acquire).
  const round = new AbortController();
  const onCallerAbort = () => round.abort(signal.reason);
  const offState = fw.onConnectionStateChange((change) => {
    if (change.state !== 'LOST' && fw.sessionId === sessionId) return;
    sessionGone.abort();
    round.abort(sessionGone.signal.reason);
  });
  if (signal.aborted) onCallerAbort();
  else signal.addEventListener('abort', onCallerAbort, { once: true });
  const offSession = () => {
    offState();
    signal.removeEventListener('abort', onCallerAbort);
  };
  return { sessionGone, roundSignal: round.signal, offSession };
}

/**
 * Deletes our node (guaranteed: through connection trouble, in the background if need be). A node
 * of a session that has already ended is gone with it, or about to be. While disconnected the delete
 * goes on in the background and this resolves at once: a release must not wait for the network.
 */
export async function removeNode(fw: Framework, nodePath: string, sessionId: bigint): Promise<void> {
  // The old session may still be alive at the server (the framework gave up on it first): delete its
  // node if it is still there, so it does not block the queue until the server expires it.
  const sameSession = fw.sessionId === sessionId;
  const deleting = fw.delete(nodePath, { guaranteed: sameSession, quietly: true }).catch(() => undefined);
  if (fw.isConnected) await deleting;
}

export function hasCode(error: unknown, code: number): boolean {
  return error instanceof KeeperError && error.code === code;
}

/** Errors that mean our session ended under us: start over with a new node. */
export function isSessionEnd(error: unknown): boolean {
  return hasCode(error, ErrorCode.SESSION_EXPIRED) || hasCode(error, ErrorCode.NO_NODE);
}
