// PersistentNode: a node this process keeps present (Curator's PersistentNode): created on start,
// created again when someone deletes it, and re-created after a session loss; deleted on close.
//
//   await using node = await startPersistentNode(zk, '/workers/w1', { mode: 'EPHEMERAL', data: 'x' });
//   await node.setData('y');
//
// Guarantees. SUSPENDED: nothing is done; the node (if ephemeral) may still be there and operations
// wait for the connection. RECONNECTED on the same session: the node is checked, and kept when it is
// ours (ephemeralOwner = our session) with our data: no delete/recreate churn for watchers. Session
// loss (LOST, then RECONNECTED on a new session): the node is made again; a node still left by one
// of our earlier sessions is deleted at its version and replaced (the NodeExists trap), and a node
// owned by another live session is waited out (watched until it goes), never stolen. Long pauses:
// the same as a session loss once the server expired us. Only one create/check runs at a time; one
// still running when the session is lost is dropped, so the node is back as soon as the new session is.
// Sequential modes are not supported: the node's name must be fixed to be kept. Start timeouts and the
// retry pause after a failed pass run on `options.clock` (real time by default; a test kit passes its
// virtual clock).
import {
  ErrorCode,
  FrameworkClosedError,
  InvalidArgumentError,
  pathProblem,
  realClock,
  type Data,
  type Framework,
  type FrameworkClock,
  type WatchedEvent,
  type WatcherRemovingFramework,
} from '../../src/index.js';
import { decideRegistration, type ExistingNode } from '../discovery/registration.js';
import { deadlineOf, hasErrorCode, SerialTasks, trigger, waitFor } from '../cache/events.js';

export type PersistentNodeMode = 'EPHEMERAL' | 'PERSISTENT' | 'CONTAINER' | 'PERSISTENT_WITH_TTL';

export interface PersistentNodeOptions {
  /** Default EPHEMERAL. */
  mode?: PersistentNodeMode;
  data?: Data | null;
  /** For PERSISTENT_WITH_TTL. */
  ttlMs?: number;
  /** Delete the node on close (default true; only when it is ours). */
  deleteOnClose?: boolean;
  /** Where failures of background re-creation go; a warning by default. */
  onError?: (error: unknown) => void;
  /** Where timeouts and retry pauses read the time and arm their timers. Default: real time. */
  clock?: FrameworkClock;
}

/** Sessions remembered to recognise our own leftover nodes. */
const SESSIONS_REMEMBERED_MAX = 32;
/** After a pass failed (retries used up), the next one starts this much later. */
const ENSURE_RETRY_DELAY_MS = 1000;

export class PersistentNode implements AsyncDisposable {
  readonly #zk: WatcherRemovingFramework;
  readonly #mode: PersistentNodeMode;
  readonly #options: PersistentNodeOptions;
  readonly #tasks: SerialTasks;
  readonly #closing = new AbortController();
  readonly #sessions: bigint[] = [];
  readonly #created = trigger();
  #data: Buffer;
  #started = false;
  #closed: Promise<void> | undefined;
  #ensureQueued = false;
  #watchArmed = false;
  #stopStates: (() => void) | undefined;
  #everCreated = false;
  #retryTimer: unknown;
  /** The pass running now, aborted when its session is lost. */
  #pass: AbortController | undefined;
  readonly #clock: FrameworkClock;

  constructor(
    zk: Framework,
    readonly path: string,
    options: PersistentNodeOptions = {},
  ) {
    const problem = pathProblem(path);
    if (problem !== undefined) throw new InvalidArgumentError(`bad node path ${path}: ${problem}`);
    const mode = options.mode ?? 'EPHEMERAL';
    if (!['EPHEMERAL', 'PERSISTENT', 'CONTAINER', 'PERSISTENT_WITH_TTL'].includes(mode)) {
      throw new InvalidArgumentError(`a persistent node cannot be ${mode}`);
    }
    if (mode === 'PERSISTENT_WITH_TTL' && options.ttlMs === undefined) {
      throw new InvalidArgumentError('PERSISTENT_WITH_TTL needs ttlMs');
    }
    this.#zk = zk.withWatcherRemoval();
    this.#mode = mode;
    this.#options = options;
    this.#clock = options.clock ?? realClock;
    this.#data = toBuffer(options.data);
    this.#tasks = new SerialTasks((error) => this.#reportError(error));
  }

  /** The data this node is kept with. */
  get data(): Buffer {
    return this.#data;
  }

  /** True once the node was created (or found ours) at least once. */
  get created(): boolean {
    return this.#everCreated;
  }

  /** Starts keeping the node; resolves once it exists (the node keeps trying if the wait is abandoned). */
  async start(options: { signal?: AbortSignal; timeoutMs?: number } = {}): Promise<void> {
    if (this.#started) throw new InvalidArgumentError('a persistent node starts once');
    if (this.#closed !== undefined) throw new InvalidArgumentError('the persistent node is closed');
    this.#started = true;
    this.#stopStates = this.#zk.onConnectionStateChange(({ state }) => {
      if (state === 'LOST') {
        this.#watchArmed = false;
        // A pass still running on the lost session (say, woken by our node's deletion at the expiry)
        // would sit out its retry backoff; the pass queued at RECONNECTED makes the node at once.
        this.#pass?.abort(new SessionPassAbandoned());
      }
      if (state === 'RECONNECTED') this.#scheduleEnsure();
    });
    this.#scheduleEnsure();
    await this.waitForCreated(options);
  }

  /** Resolves once the node has been created (or adopted) at least once. */
  waitForCreated(options: { signal?: AbortSignal; timeoutMs?: number } = {}): Promise<void> {
    const deadline = deadlineOf(options.timeoutMs, this.#clock);
    const what = `creating ${this.path}`;
    return waitFor(this.#created.promise, { signal: options.signal, deadline, what });
  }

  /** Changes the node's data (and what it is re-created with). */
  async setData(data: Data | null, options: { signal?: AbortSignal } = {}): Promise<void> {
    if (this.#closed !== undefined) throw new InvalidArgumentError('the persistent node is closed');
    this.#data = toBuffer(data);
    if (!this.#started) return;
    await waitFor(this.#scheduleEnsure(true), { signal: options.signal, what: `updating ${this.path}` });
  }

  /** Stops keeping the node and deletes it if it is ours. Idempotent. */
  close(): Promise<void> {
    this.#closed ??= this.#close();
    return this.#closed;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  async #close(): Promise<void> {
    this.#stopStates?.();
    this.#clearRetryTimer();
    this.#closing.abort(new InvalidArgumentError('the persistent node closed'));
    await this.#tasks.drained();
    await this.#zk.removeWatches().catch(() => undefined);
    if (!this.#started || this.#options.deleteOnClose === false) return;
    try {
      const stat = await this.#zk.exists(this.path);
      const owner = stat?.ephemeralOwner;
      const ours = stat !== null && (owner === 0n || owner === this.#zk.sessionId);
      if (stat !== null && ours) {
        await this.#zk.delete(this.path, { version: stat.version, quietly: true, guaranteed: true });
      }
    } catch (error) {
      // BadVersion: someone changed it meanwhile, so it is no longer only ours to delete.
      if (!hasErrorCode(error, ErrorCode.BAD_VERSION)) this.#reportError(error);
    }
  }

  /** Queues one ensure pass unless one is already waiting to run; `force` queues one regardless. */
  #scheduleEnsure(force = false): Promise<void> {
    if (this.#ensureQueued && !force) return this.#tasks.drained();
    this.#ensureQueued = true;
    return this.#tasks.run(async () => {
      this.#ensureQueued = false;
      if (this.#closing.signal.aborted) return;
      await this.#runPass((signal) => this.#ensure(signal));
    });
  }

  /** Runs one pass, abandoned (not reported) when the session is lost under it. */
  async #runPass(pass: (signal: AbortSignal) => Promise<void>): Promise<void> {
    const controller = new AbortController();
    this.#pass = controller;
    try {
      await pass(AbortSignal.any([this.#closing.signal, controller.signal]));
    } catch (error) {
      if (!controller.signal.aborted || this.#closing.signal.aborted) throw error;
    } finally {
      if (this.#pass === controller) this.#pass = undefined;
    }
  }

  #rememberSession(): bigint {
    const sessionId = this.#zk.sessionId;
    if (!this.#sessions.includes(sessionId)) {
      this.#sessions.push(sessionId);
      if (this.#sessions.length > SESSIONS_REMEMBERED_MAX) this.#sessions.shift();
    }
    return sessionId;
  }

  /** Makes the node be there with our data, as ours; then watches it for deletion. */
  async #ensure(signal: AbortSignal): Promise<void> {
    for (;;) {
      signal.throwIfAborted();
      const sessionId = this.#rememberSession();
      const existing = await this.#read(signal);
      const decision = decideRegistration(existing, {
        sessionId,
        previousSessionIds: this.#sessions.filter((s) => s !== sessionId),
        ephemeral: this.#mode === 'EPHEMERAL',
        data: this.#data,
      });
      try {
        if (decision.kind === 'create') {
          await this.#zk.create(this.path, {
            mode: this.#mode,
            data: this.#data,
            parentsAsContainers: true,
            signal,
            ...(this.#options.ttlMs === undefined ? {} : { ttlMs: this.#options.ttlMs }),
          });
        } else if (decision.kind === 'update') {
          await this.#zk.setData(this.path, this.#data, { version: decision.version, signal });
        } else if (decision.kind === 'replace') {
          await this.#zk.delete(this.path, { version: decision.version, signal });
          continue;
        } else if (decision.kind === 'wait') {
          const { stat, watch } = await this.#zk.exists(this.path, { watch: true, signal });
          if (stat !== null) await waitFor(watch, { signal, what: `waiting for ${this.path}` });
          continue;
        }
      } catch (error) {
        // Someone raced us between the read and the write: look again.
        const raced = [ErrorCode.NODE_EXISTS, ErrorCode.NO_NODE, ErrorCode.BAD_VERSION, ErrorCode.NOT_EMPTY];
        if (raced.some((code) => hasErrorCode(error, code))) continue;
        throw error;
      }
      if (!(await this.#armWatch(signal))) continue;
      this.#everCreated = true;
      this.#created.fire();
      return;
    }
  }

  async #read(signal: AbortSignal): Promise<ExistingNode | undefined> {
    try {
      const { data, stat } = await this.#zk.getData(this.path, { signal });
      return { ephemeralOwner: stat.ephemeralOwner, version: stat.version, data: data ?? Buffer.alloc(0) };
    } catch (error) {
      if (hasErrorCode(error, ErrorCode.NO_NODE)) return undefined;
      throw error;
    }
  }

  /** Watches our node (once at a time); false when it is already gone again. */
  async #armWatch(signal: AbortSignal): Promise<boolean> {
    if (this.#watchArmed) return true;
    const onEvent = (event: WatchedEvent) => {
      this.#watchArmed = false;
      if (this.#closing.signal.aborted) return;
      // Deleted: make it again. Data changed by someone else: keep it, watch again (Curator's rule).
      if (event.type === 'nodeDeleted' || event.type === 'nodeDataChanged') this.#scheduleRewatch(event);
    };
    this.#watchArmed = true;
    try {
      const stat = await this.#zk.exists(this.path, { watch: onEvent, signal });
      return stat !== null;
    } catch (error) {
      this.#watchArmed = false;
      throw error;
    }
  }

  #scheduleRewatch(event: WatchedEvent): void {
    if (event.type === 'nodeDeleted') {
      this.#scheduleEnsure();
      return;
    }
    void this.#tasks.run(async () => {
      if (this.#closing.signal.aborted) return;
      await this.#runPass(async (signal) => {
        if (!(await this.#armWatch(signal))) await this.#ensure(signal);
      });
    });
  }

  #reportError(error: unknown): void {
    if (this.#closing.signal.aborted) return;
    const report =
      this.#options.onError ??
      ((e: unknown) => process.emitWarning(`persistent node ${this.path}: ${String(e)}`, 'RecipeWarning'));
    report(error);
    if (error instanceof FrameworkClosedError) return;
    // A failed pass (retries exhausted) is tried again on the next reconnect; until then try later.
    this.#clearRetryTimer();
    this.#retryTimer = this.#clock.setTimer(() => {
      this.#retryTimer = undefined;
      this.#scheduleEnsure();
    }, ENSURE_RETRY_DELAY_MS);
  }

  #clearRetryTimer(): void {
    if (this.#retryTimer !== undefined) this.#clock.clearTimer(this.#retryTimer);
    this.#retryTimer = undefined;
  }
}

/** Why a pass stopped: its session was lost and a new pass runs on the next one. */
class SessionPassAbandoned extends Error {
  constructor() {
    super('the session was lost during this pass; the next session makes the node');
    this.name = 'SessionPassAbandoned';
  }
}

/** Starts a persistent node and waits until it exists; closes it again if that fails. */
export async function startPersistentNode(
  zk: Framework,
  path: string,
  options: PersistentNodeOptions & { signal?: AbortSignal; timeoutMs?: number } = {},
): Promise<PersistentNode> {
  const { signal, timeoutMs, ...nodeOptions } = options;
  const node = new PersistentNode(zk, path, nodeOptions);
  try {
    await node.start({ signal, timeoutMs });
    return node;
  } catch (error) {
    await node.close();
    throw error;
  }
}

function toBuffer(data: Data | null | undefined): Buffer {
  if (data === undefined || data === null) return Buffer.alloc(0);
  return typeof data === 'string' ? Buffer.from(data, 'utf8') : Buffer.from(data);
}
