// PersistentTtlNode: a node that lives while its owner lives, without a session (Curator's
// PersistentTtlNode, same layout, see formats.ts): a CONTAINER node with our data, whose TTL child
// `touch` is set every ttlMs / 2. If the owner stops (crash, partition, pause), the child expires
// after ttlMs and the server then reaps the empty container. Needs a server with TTL nodes
// (ZooKeeper 3.5.3+ with extendedTypesEnabled).
//
//   await using node = await startPersistentTtlNode(zk, '/leases/job-7', { ttlMs: 10_000, data: 'me' });
//
// Guarantees. While we run and can reach the server, the node stays (kept by a PersistentNode, so it
// is re-created if deleted). SUSPENDED / session loss: touches wait or fail and are retried on the
// next tick; nothing is session-bound, so a session loss alone does not remove the node. A pause or
// partition longer than ttlMs lets the node expire (by design: that is how others see we are gone);
// we make it again when we are back. The expiry is the server's, measured on its clock; our touches
// (and the node's retry pauses) run on `options.clock` (real time by default, or a test kit's).
import type { Data, Framework, FrameworkClock } from '../../src/index.js';
import { closeWithFramework, hasErrorCode } from '../cache/events.js';
import { ErrorCode, FrameworkClosedError, realClock } from '../../src/index.js';
import { ttlNodeLayout, TTL_TOUCH_FACTOR_DEFAULT, type TtlNodeLayout } from './formats.js';
import { PersistentNode } from './persistent-node.js';

export interface PersistentTtlNodeOptions {
  ttlMs: number;
  data?: Data | null;
  /** Touch every ttlMs / touchFactor (default 2, Curator's). */
  touchFactor?: number;
  onError?: (error: unknown) => void;
  /** Where the touch timer and timeouts run. Default: real time. */
  clock?: FrameworkClock;
}

export class PersistentTtlNode implements AsyncDisposable {
  readonly layout: TtlNodeLayout;
  readonly #zk: Framework;
  readonly #node: PersistentNode;
  readonly #onError: (error: unknown) => void;
  readonly #clock: FrameworkClock;
  #timer: unknown;
  #stopped = false;
  #touching: Promise<void> | undefined;
  #closed: Promise<void> | undefined;

  constructor(zk: Framework, path: string, options: PersistentTtlNodeOptions) {
    this.layout = ttlNodeLayout(path, options.ttlMs, options.touchFactor ?? TTL_TOUCH_FACTOR_DEFAULT);
    this.#zk = zk;
    this.#clock = options.clock ?? realClock;
    this.#onError =
      options.onError ??
      ((e: unknown) => process.emitWarning(`TTL node ${path}: ${String(e)}`, 'RecipeWarning'));
    this.#node = new PersistentNode(zk, path, {
      mode: 'CONTAINER',
      data: options.data ?? null,
      onError: this.#onError,
      clock: this.#clock,
    });
  }

  get path(): string {
    return this.layout.nodePath;
  }

  /** Creates the node and its first touch; then touches it every `layout.touchEveryMs`. */
  async start(options: { signal?: AbortSignal; timeoutMs?: number } = {}): Promise<void> {
    await this.#node.start(options);
    await this.#touch(options.signal);
    // A framework that closes under us ends the touching (as a crash would: the node then expires).
    closeWithFramework(this.#zk, this);
    this.#armTouch();
  }

  /** Touches every `layout.touchEveryMs` (a timer re-armed at each firing, as an interval would). */
  #armTouch(): void {
    if (this.#stopped) return;
    this.#timer = this.#clock.setTimer(() => {
      this.#touching ??= this.#touch(undefined)
        .catch((error: unknown) => this.#onError(error))
        .finally(() => (this.#touching = undefined));
      this.#armTouch();
    }, Math.max(1, this.layout.touchEveryMs));
  }

  setData(data: Data | null, options: { signal?: AbortSignal } = {}): Promise<void> {
    return this.#node.setData(data, options);
  }

  /** Stops touching and deletes the node. Idempotent. */
  close(): Promise<void> {
    this.#closed ??= (async () => {
      this.#stopped = true;
      if (this.#timer !== undefined) this.#clock.clearTimer(this.#timer);
      await this.#touching;
      await this.#zk.delete(this.layout.touchPath, { quietly: true }).catch((e: unknown) => {
        if (!(e instanceof FrameworkClosedError)) this.#onError(e); // closed with it: it expires
      });
      await this.#node.close();
    })();
    return this.#closed;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  /** Create the TTL child, or set it to reset its clock (Curator's create().orSetData()). */
  async #touch(signal: AbortSignal | undefined): Promise<void> {
    try {
      await this.#zk.setData(this.layout.touchPath, null, { signal });
    } catch (error) {
      if (!hasErrorCode(error, ErrorCode.NO_NODE)) throw error;
      try {
        const { touchPath, ttlMs } = this.layout;
        await this.#zk.create(touchPath, { mode: 'PERSISTENT_WITH_TTL', ttlMs, signal });
      } catch (createError) {
        // The container went (reaped or deleted): the PersistentNode makes it again; touch next tick.
        const expected = [ErrorCode.NO_NODE, ErrorCode.NODE_EXISTS];
        if (!expected.some((code) => hasErrorCode(createError, code))) {
          throw createError;
        }
      }
    }
  }
}

export async function startPersistentTtlNode(
  zk: Framework,
  path: string,
  options: PersistentTtlNodeOptions & { signal?: AbortSignal; timeoutMs?: number },
): Promise<PersistentTtlNode> {
  const { signal, timeoutMs, ...rest } = options;
  const node = new PersistentTtlNode(zk, path, rest);
  try {
    await node.start({ signal, timeoutMs });
    return node;
  } catch (error) {
    await node.close();
    throw error;
  }
}
