// SharedValue and SharedCount: a value every participant sees, changed by compare-and-set on the
// node's version (Curator's SharedValue / SharedCount; the count is Curator's 4-byte big-endian int,
// so Java and kazoo with support_curator=True share it).
//
//   await using count = await startSharedCount(zk, '/counters/slots', 10);
//   const { value, version } = count.current;
//   if (await count.trySet(value - 1, version)) { ... }   // false: someone changed it first
//   count.onChange(({ value }) => console.log(value));
//
// Guarantees. `current` is the last value read (from a watch or our own write); a write at a stale
// version fails (trySet → false) and refreshes `current`. SUSPENDED: `current` may be stale and no
// change events come; writes wait for the connection. RECONNECTED (same or new session): the value is
// read again and a change event is emitted if it moved while we were away. A node deleted by someone
// keeps the last value locally and is watched for re-creation. Long pauses: as stale as the pause.
import {
  ErrorCode,
  InvalidArgumentError,
  pathProblem,
  type Framework,
  type WatchedEvent,
  type WatcherRemovingFramework,
} from '../../src/index.js';
import { closeWithFramework, EventStream, hasErrorCode, SerialTasks, waitFor } from '../cache/events.js';
import { decodeSharedCount, encodeSharedCount } from './formats.js';

export interface VersionedValue<T> {
  readonly value: T;
  /** The node's data version; -1 before the first read. */
  readonly version: number;
}

export interface ValueCodec<T> {
  encode(value: T): Uint8Array;
  /** Throws for bytes that are not a value (reported, the last good value is kept). */
  decode(bytes: Uint8Array): T;
}

export const BYTES_CODEC: ValueCodec<Buffer> = {
  encode: (value) => value,
  decode: (bytes) => Buffer.from(bytes),
};

export const SHARED_COUNT_CODEC: ValueCodec<number> = {
  encode: encodeSharedCount,
  decode: decodeSharedCount,
};

export interface SharedValueOptions {
  onError?: (error: unknown) => void;
  eventsQueuedMax?: number;
}

export class SharedValue<T = Buffer> implements AsyncDisposable {
  readonly #zk: WatcherRemovingFramework;
  readonly #tasks: SerialTasks;
  readonly #stream: EventStream<VersionedValue<T>>;
  readonly #closing = new AbortController();
  #current: VersionedValue<T>;
  #czxid = -1n;
  #watchArmed = false;
  #started = false;
  #closed: Promise<void> | undefined;
  #stopStates: (() => void) | undefined;

  constructor(
    zk: Framework,
    readonly path: string,
    private readonly seed: T,
    private readonly codec: ValueCodec<T>,
    private readonly options: SharedValueOptions = {},
  ) {
    const problem = pathProblem(path);
    if (problem !== undefined) throw new InvalidArgumentError(`bad value path ${path}: ${problem}`);
    codec.encode(seed); // a seed that cannot be written is an error now, not at start
    this.#zk = zk.withWatcherRemoval();
    this.#current = { value: seed, version: -1 };
    this.#tasks = new SerialTasks((error) => this.#report(error));
    this.#stream = new EventStream(options.eventsQueuedMax);
  }

  get current(): VersionedValue<T> {
    return this.#current;
  }

  get value(): T {
    return this.#current.value;
  }

  onChange(listener: (value: VersionedValue<T>) => void): () => void {
    return this.#stream.on(listener);
  }

  /** Every change from now on (not the current value). */
  changes(options: { signal?: AbortSignal } = {}): AsyncIterableIterator<VersionedValue<T>> {
    return this.#stream.iterate([], options.signal);
  }

  /** Creates the node with the seed if absent, reads it and starts watching it. */
  async start(options: { signal?: AbortSignal } = {}): Promise<void> {
    if (this.#started) throw new InvalidArgumentError('a shared value starts once');
    this.#started = true;
    try {
      await this.#zk.create(this.path, {
        data: this.codec.encode(this.seed),
        createParents: true,
        signal: options.signal,
      });
    } catch (error) {
      if (!hasErrorCode(error, ErrorCode.NODE_EXISTS)) throw error;
    }
    closeWithFramework(this.#zk, this); // iterators end with the framework
    this.#stopStates = this.#zk.onConnectionStateChange(({ state }) => {
      if (state === 'LOST') this.#watchArmed = false;
      if (state === 'RECONNECTED') void this.#tasks.run(() => this.#read());
    });
    const firstRead = this.#tasks.call(() => this.#read());
    firstRead.catch(() => undefined);
    await waitFor(firstRead, { signal: options.signal, what: `reading ${this.path}` });
    await firstRead;
  }

  /** Sets the value whatever it is now. */
  async set(value: T, options: { signal?: AbortSignal } = {}): Promise<void> {
    const stat = await this.#zk.setData(this.path, this.codec.encode(value), { signal: options.signal });
    this.#adopt(value, stat.version, stat.czxid);
  }

  /**
   * Sets the value only if the node is still at `expectedVersion` (a number, or `current`);
   * false when someone changed it first (`current` is then refreshed).
   */
  async trySet(
    value: T,
    expectedVersion: number | VersionedValue<T>,
    options: { signal?: AbortSignal } = {},
  ): Promise<boolean> {
    const version = typeof expectedVersion === 'number' ? expectedVersion : expectedVersion.version;
    if (!Number.isInteger(version) || version < 0) {
      throw new InvalidArgumentError(`trySet needs a version read from the node, got ${version}`);
    }
    try {
      const data = this.codec.encode(value);
      const stat = await this.#zk.setData(this.path, data, { version, signal: options.signal });
      this.#adopt(value, stat.version, stat.czxid);
      return true;
    } catch (error) {
      if (!hasErrorCode(error, ErrorCode.BAD_VERSION) && !hasErrorCode(error, ErrorCode.NO_NODE)) throw error;
      await this.#tasks.run(() => this.#read());
      return false;
    }
  }

  close(): Promise<void> {
    this.#closed ??= (async () => {
      this.#stopStates?.();
      this.#closing.abort(new InvalidArgumentError('the shared value closed'));
      await this.#tasks.drained();
      await this.#zk.removeWatches().catch(() => undefined);
      this.#stream.end();
    })();
    return this.#closed;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  /** Reads the node (watching it unless a watch is already set) and adopts what it holds. */
  async #read(): Promise<void> {
    const signal = this.#closing.signal;
    if (signal.aborted) return;
    const watch = !this.#watchArmed;
    const onEvent = (event: WatchedEvent) => {
      this.#watchArmed = false;
      if (!this.#closing.signal.aborted) void this.#tasks.run(() => this.#read());
    };
    if (watch) this.#watchArmed = true;
    try {
      const readOptions = watch ? { watch: onEvent, signal } : { signal };
      const { data, stat } = await this.#zk.getData(this.path, readOptions);
      this.#adopt(this.codec.decode(data ?? Buffer.alloc(0)), stat.version, stat.czxid);
    } catch (error) {
      if (watch) this.#watchArmed = false;
      if (!hasErrorCode(error, ErrorCode.NO_NODE)) throw error;
      // Deleted: keep the last value, and learn when it is made again.
      this.#watchArmed = true;
      const stat = await this.#zk.exists(this.path, { watch: onEvent, signal }).catch((e: unknown) => {
        this.#watchArmed = false;
        throw e;
      });
      // Made again meanwhile: the exists watch covers its changes; read it once more without one.
      if (stat !== null) void this.#tasks.run(() => this.#read());
    }
  }

  #adopt(value: T, version: number, czxid: bigint): void {
    if (czxid === this.#czxid && version <= this.#current.version) return; // an older read, late
    const first = this.#czxid === -1n;
    this.#czxid = czxid;
    this.#current = { value, version };
    if (!first) this.#stream.emit(this.#current);
  }

  #report(error: unknown): void {
    if (this.#closing.signal.aborted) return;
    const report =
      this.options.onError ??
      ((e: unknown) => process.emitWarning(`shared value ${this.path}: ${String(e)}`, 'RecipeWarning'));
    report(error);
  }
}

/** A started SharedValue of raw bytes. */
export async function startSharedValue(
  zk: Framework,
  path: string,
  seed: Uint8Array,
  options: SharedValueOptions & { signal?: AbortSignal } = {},
): Promise<SharedValue<Buffer>> {
  const { signal, ...rest } = options;
  const value = new SharedValue(zk, path, Buffer.from(seed), BYTES_CODEC, rest);
  return started(value, signal);
}

/** A started SharedCount (Curator's 4-byte int). */
export async function startSharedCount(
  zk: Framework,
  path: string,
  seed: number,
  options: SharedValueOptions & { signal?: AbortSignal } = {},
): Promise<SharedValue<number>> {
  const { signal, ...rest } = options;
  return started(new SharedValue(zk, path, seed, SHARED_COUNT_CODEC, rest), signal);
}

async function started<T>(value: SharedValue<T>, signal: AbortSignal | undefined): Promise<SharedValue<T>> {
  try {
    await value.start({ signal });
    return value;
  } catch (error) {
    await value.close();
    throw error;
  }
}
