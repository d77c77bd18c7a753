// Real Apache Curator 5.4 (Debian's libcurator-*-java) as a test fixture:
// test/interop/java/CuratorHarness.java is compiled once per source version with javac into the temp
// dir, run as a child JVM, and driven over its JSON line protocol.
// `await using curator = await startCurator(connectString)` connects a default client. Disposal closes
// stdin (Curator closes its clients, deleting their ephemerals) and kills the JVM if it has not exited
// shortly after. `kill()` is the abrupt variant: the sessions are left to expire.
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rename, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const JAVA_DIR = '/usr/share/java';
/** Curator and what it needs at run time; the jars' manifests name the rest (netty, commons, ...). */
const JARS = [
  'curator-recipes',
  'curator-x-discovery',
  'curator-framework',
  'curator-client',
  'zookeeper',
  'zookeeper-jute',
  'guava',
  'slf4j-api',
  'slf4j-simple',
  'jackson-databind',
  'jackson-core',
  'jackson-annotations',
].map((name) => `${JAVA_DIR}/${name}.jar`);
const SOURCE = fileURLToPath(new URL('../interop/java/CuratorHarness.java', import.meta.url));
const MAIN_CLASS = 'CuratorHarness';
const REQUEST_TIMEOUT_MS_DEFAULT = 20_000;
const EXIT_GRACE_MS = 3_000;
/** Unclaimed events kept for a later nextEvent; the oldest go first. */
const EVENTS_KEPT_MAX = 1_000;

export function curatorAvailable(): boolean {
  return existsSync('/usr/bin/javac') && existsSync('/usr/bin/java') && JARS.every((jar) => existsSync(jar));
}

let compiled: Promise<string> | undefined;

/** Compiles the harness into a temp dir named by the source's hash, once per source version. */
function compileHarness(): Promise<string> {
  compiled ??= (async () => {
    const hash = createHash('sha256').update(readFileSync(SOURCE)).digest('hex').slice(0, 16);
    const classesDir = path.join(tmpdir(), `menagerie-curator-harness-${hash}`);
    if (existsSync(path.join(classesDir, `${MAIN_CLASS}.class`))) return classesDir;
    const scratchDir = await mkdtemp(path.join(tmpdir(), 'menagerie-curator-javac-'));
    const javacArgs = ['-nowarn', '-d', scratchDir, '-cp', JARS.join(':'), SOURCE];
    const { code, output } = await runToEnd('/usr/bin/javac', javacArgs);
    if (code !== 0) {
      await rm(scratchDir, { recursive: true, force: true });
      throw new Error(`javac failed on ${SOURCE}:\n${output}`);
    }
    // Another run may have finished the same compilation meanwhile: either copy is right.
    await rename(scratchDir, classesDir).catch(() => rm(scratchDir, { recursive: true, force: true }));
    return classesDir;
  })();
  compiled.catch(() => (compiled = undefined));
  return compiled;
}

function runToEnd(command: string, args: string[]): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, output }));
  });
}

/** An unsolicited message from the harness, e.g. `{ event: 'leader', handle, isLeader, ourPath }`. */
export interface CuratorEvent {
  event: string;
  [key: string]: unknown;
}

export interface NodeRead {
  data: Buffer;
  czxid: bigint;
  version: number;
  ephemeralOwner: bigint;
  numChildren: number;
}

/** A service instance as Curator's ServiceDiscovery parsed it. */
export interface CuratorInstanceView {
  name: string;
  id: string;
  address: string | null;
  port: number | null;
  sslPort: number | null;
  payload: unknown;
  payloadClass: string | null;
  registrationTimeUTC: number;
  serviceType: string;
  enabled: boolean;
}

export interface RegisterOptions {
  basePath: string;
  name: string;
  id: string;
  address: string;
  port?: number;
  sslPort?: number;
  payload?: Record<string, unknown>;
  registrationTimeUTC?: number;
}

export type QueuePut =
  | { kind: 'plain' }
  | { kind: 'priority'; priority: number }
  | { kind: 'delay'; delayUntilEpochMs: number }
  | { kind: 'id'; itemId: string };

interface Pending {
  resolve(value: unknown): void;
  reject(error: Error): void;
  timer: NodeJS.Timeout;
}

interface Waiter {
  predicate(event: CuratorEvent): boolean;
  resolve(event: CuratorEvent): void;
  reject(error: Error): void;
  timer: NodeJS.Timeout;
}

export interface CallOptions {
  /** Default 20 s; a blocking acquire should pass its own Curator-side timeout below this. */
  timeoutMs?: number;
  /** Which Curator client (session) runs the command; 'default' is connected by startCurator. */
  client?: string;
}

/** `waitMs` is Curator's own acquire timeout; without it the acquire blocks until the request times out. */
export interface WaitOptions extends CallOptions {
  waitMs?: number;
}

/** A running Curator JVM. Every method sends one command and resolves with Curator's answer. */
export class CuratorHarness implements AsyncDisposable {
  readonly #child: ChildProcess;
  readonly #exited: Promise<void>;
  readonly #pending = new Map<number, Pending>();
  readonly #events: CuratorEvent[] = [];
  readonly #waiters = new Set<Waiter>();
  /** The 'default' client's session id, once startCurator has connected it. */
  sessionId = 0n;
  #nextId = 1;
  #stderr = '';
  #closed = false;
  #ready: Promise<void>;

  constructor(child: ChildProcess) {
    this.#child = child;
    this.#exited = new Promise((resolve) => child.once('exit', () => resolve()));
    // Writing to a JVM that just died gives EPIPE on stdin; the exit handler reports the death instead.
    child.stdin!.on('error', () => undefined);
    child.stderr!.on('data', (d: Buffer) => (this.#stderr = (this.#stderr + d.toString()).slice(-64_000)));
    let signalReady: () => void;
    this.#ready = new Promise((resolve) => (signalReady = resolve));
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const message = parseLine(line);
      if (message === undefined) this.#stderr += `[stdout] ${line}\n`;
      else if (typeof message.event === 'string') {
        if (message.event === 'ready') signalReady();
        else this.#deliver(message as CuratorEvent);
      } else this.#settle(message);
    });
    void this.#exited.then(() => this.#failAll(new Error(`Curator harness exited\n${this.output()}`)));
  }

  /** Waits for the JVM to say it reads commands. */
  async ready(timeoutMs = 20_000): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<never>((_, reject) => {
      const notReady = () => new Error(`Curator harness not ready in ${timeoutMs} ms\n${this.output()}`);
      timer = setTimeout(() => reject(notReady()), timeoutMs);
    });
    const exited = this.#exited.then(() => {
      throw new Error(`Curator harness exited before ready\n${this.output()}`);
    });
    try {
      await Promise.race([this.#ready, timedOut, exited]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** What the JVM wrote to stderr (Curator's warnings), for failure messages. */
  output(): string {
    return this.#stderr;
  }

  /** Sends one command; resolves with its result or rejects with Curator's error. */
  request<T>(op: string, args: Record<string, unknown> = {}, options: CallOptions = {}): Promise<T> {
    if (this.#closed) return Promise.reject(new Error('Curator harness is closed'));
    if (this.#child.exitCode !== null || this.#child.signalCode !== null) {
      return Promise.reject(new Error(`Curator harness exited\n${this.output()}`));
    }
    const id = this.#nextId++;
    const timeoutMs = options.timeoutMs ?? REQUEST_TIMEOUT_MS_DEFAULT;
    const client = options.client === undefined ? {} : { client: options.client };
    const command = { id, op, args: { ...client, ...args } };
    const answer = new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        reject(new Error(`Curator ${op} gave no answer in ${timeoutMs} ms\n${this.output()}`));
      }, timeoutMs);
      this.#pending.set(id, { resolve: resolve as (value: unknown) => void, reject, timer });
      this.#child.stdin!.write(`${JSON.stringify(command)}\n`);
    });
    // A background command (a blocked acquire) left behind by a failed test is rejected when the JVM
    // closes; that must not fail the next test as an unhandled rejection. Awaiting callers still see it.
    answer.catch(() => undefined);
    return answer;
  }

  /** Resolves with the first event (already received or coming) that matches, and consumes it. */
  nextEvent(
    predicate: (event: CuratorEvent) => boolean,
    timeoutMs = REQUEST_TIMEOUT_MS_DEFAULT,
  ): Promise<CuratorEvent> {
    const index = this.#events.findIndex(predicate);
    if (index >= 0) return Promise.resolve(this.#events.splice(index, 1)[0]!);
    if (this.#closed) return Promise.reject(new Error('Curator harness is closed'));
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        predicate,
        resolve,
        reject,
        timer: setTimeout(() => {
          this.#waiters.delete(waiter);
          reject(new Error(`no matching Curator event in ${timeoutMs} ms\n${this.output()}`));
        }, timeoutMs),
      };
      this.#waiters.add(waiter);
    });
  }

  // ----- typed commands -----

  async connect(connectString: string, options: { client?: string; sessionTimeoutMs?: number } = {}) {
    const { sessionId } = await this.request<{ sessionId: string }>(
      'connect',
      { connectString, sessionTimeoutMs: options.sessionTimeoutMs },
      { client: options.client },
    );
    return BigInt(sessionId);
  }

  disconnect(client: string): Promise<void> {
    return this.request('disconnect', {}, { client });
  }

  /** InterProcessMutex.acquire; without timeoutMs it blocks (keep the request timeout above the wait). */
  mutexAcquire(handle: string, path: string, options: WaitOptions & { revocable?: boolean } = {}) {
    return this.request<{ acquired: boolean; lockPath: string | null }>(
      'mutex.acquire',
      { handle, path, timeoutMs: options.waitMs, revocable: options.revocable },
      options,
    );
  }

  /** Curator's Revoker.attemptRevoke: writes `__REVOKE__` into the lock node at `path`. */
  revoke(path: string, options: CallOptions = {}): Promise<void> {
    return this.request('revoke', { path }, options);
  }

  /** Uncontended InterProcessMutex acquire + release cycles on one client, timed inside the JVM. */
  mutexCycles(path: string, cycles: number, options: CallOptions = {}) {
    return this.request<{ cycles: number; elapsedMs: number }>('mutex.cycles', { path, cycles }, options);
  }

  /**
   * Contended InterProcessMutex hand-off, run inside the JVM: `clients` sessions of their own take the
   * lock `acquisitions` times in all; latency from one holder's release to the next holder's acquire.
   */
  mutexHandoff(connectString: string, path: string, clients: number, acquisitions: number) {
    type Handoff = { acquisitions: number; elapsedMs: number; handoffP50Ms: number; handoffP99Ms: number };
    return this.request<Handoff>(
      'mutex.handoff',
      { connectString, path, clients, acquisitions },
      { timeoutMs: 120_000 },
    );
  }

  mutexRelease(handle: string): Promise<void> {
    return this.request('mutex.release', { handle });
  }

  rwAcquire(handle: string, path: string, mode: 'read' | 'write', options: WaitOptions = {}) {
    return this.request<{ acquired: boolean; lockPath: string | null }>(
      'rw.acquire',
      { handle, path, mode, timeoutMs: options.waitMs },
      options,
    );
  }

  rwRelease(handle: string, mode: 'read' | 'write'): Promise<void> {
    return this.request('rw.release', { handle, mode });
  }

  semaphoreAcquire(handle: string, path: string, maxLeases: number, options: WaitOptions = {}) {
    return this.request<{ acquired: boolean; leaseNode: string | null }>(
      'semaphore.acquire',
      { handle, path, maxLeases, timeoutMs: options.waitMs },
      options,
    );
  }

  /** Returns every lease the handle holds. */
  semaphoreRelease(handle: string) {
    return this.request<{ released: number }>('semaphore.release', { handle });
  }

  /** LeaderLatch.start; leadership changes arrive as `{ event: 'leader', handle, isLeader, ourPath }`. */
  latchStart(handle: string, path: string, id: string, options: CallOptions = {}): Promise<void> {
    return this.request('latch.start', { handle, path, id }, options);
  }

  latchState(handle: string) {
    return this.request<{
      hasLeadership: boolean;
      ourPath: string | null;
      leaderId: string;
      participants: Array<{ id: string; isLeader: boolean }>;
    }>('latch.state', { handle });
  }

  latchClose(handle: string, mode: 'silent' | 'notify' = 'silent'): Promise<void> {
    return this.request('latch.close', { handle, mode });
  }

  /** Leadership as the latch listener last reported it. */
  nextLeadership(handle: string, isLeader: boolean, timeoutMs?: number) {
    const matches = (e: CuratorEvent) => e.event === 'leader' && e.handle === handle;
    return this.nextEvent((e) => matches(e) && e.isLeader === isLeader, timeoutMs);
  }

  /**
   * LeaderSelector with autoRequeue: each term is reported as `{ event: 'selector', handle, isLeader }`
   * and lasts until `selectorRelease(handle)`.
   */
  selectorStart(handle: string, path: string, id: string, options: CallOptions = {}): Promise<void> {
    return this.request('selector.start', { handle, path, id }, options);
  }

  /** Ends the current term (takeLeadership returns); the selector requeues. */
  selectorRelease(handle: string): Promise<void> {
    return this.request('selector.release', { selector: handle });
  }

  selectorParticipants(handle: string) {
    return this.request<Array<{ id: string; isLeader: boolean }>>('selector.participants', { handle });
  }

  selectorClose(handle: string): Promise<void> {
    return this.request('selector.close', { handle });
  }

  nextSelectorTerm(handle: string, isLeader: boolean, timeoutMs?: number) {
    const matches = (e: CuratorEvent) => e.event === 'selector' && e.handle === handle;
    return this.nextEvent((e) => matches(e) && e.isLeader === isLeader, timeoutMs);
  }

  /** DistributedDoubleBarrier.enter: blocks until memberQty members are in (or `waitMs` passes). */
  barrierEnter(handle: string, path: string, memberQty: number, options: WaitOptions = {}) {
    return this.request<{ entered: boolean }>(
      'barrier.enter',
      { handle, path, memberQty, timeoutMs: options.waitMs },
      options,
    );
  }

  barrierLeave(handle: string, options: WaitOptions = {}) {
    return this.request<{ left: boolean }>('barrier.leave', { handle, timeoutMs: options.waitMs }, options);
  }

  /** GroupMember.start: joins `<path>/<id>` (EPHEMERAL) with a UTF-8 payload. */
  groupJoin(handle: string, path: string, id: string, payload: string, options: CallOptions = {}) {
    return this.request<void>('group.join', { handle, path, id, payload }, options);
  }

  /** GroupMember.getCurrentMembers: id → payload (UTF-8). */
  groupMembers(handle: string) {
    return this.request<Record<string, string>>('group.members', { handle });
  }

  groupLeave(handle: string): Promise<void> {
    return this.request('group.leave', { handle });
  }

  /** PersistentTtlNode.start, waiting for the first create. */
  ttlStart(handle: string, path: string, ttlMs: number, data: string, options: CallOptions = {}) {
    return this.request<{ created: boolean }>('ttl.start', { handle, path, ttlMs, data }, options);
  }

  ttlClose(handle: string): Promise<void> {
    return this.request('ttl.close', { handle });
  }

  /** ServiceDiscovery.registerService with the default (compatible-mode) JSON serializer. */
  register(instance: RegisterOptions, options: CallOptions = {}): Promise<void> {
    return this.request('discovery.register', { ...instance }, options);
  }

  unregister(basePath: string, id: string, options: CallOptions = {}) {
    return this.request<{ unregistered: boolean }>('discovery.unregister', { basePath, id }, options);
  }

  serviceNames(basePath: string, options: CallOptions = {}) {
    return this.request<string[]>('discovery.names', { basePath }, options);
  }

  /** queryForInstances: what Curator makes of every instance node under `<basePath>/<name>`. */
  instances(basePath: string, name: string, options: CallOptions = {}) {
    return this.request<CuratorInstanceView[]>('discovery.list', { basePath, name }, options);
  }

  countSet(path: string, value: number) {
    return this.request<{ count: number }>('count.set', { path, value });
  }

  countGet(path: string) {
    return this.request<{ count: number; version: number }>('count.get', { path });
  }

  async atomicAdd(path: string, delta: bigint) {
    const r = await this.request<{ succeeded: boolean; preValue: string; postValue: string }>('atomic.add', {
      path,
      delta: delta.toString(),
    });
    return { succeeded: r.succeeded, preValue: BigInt(r.preValue), postValue: BigInt(r.postValue) };
  }

  queuePut(path: string, item: string, put: QueuePut): Promise<void> {
    return this.request('queue.put', { path, item, ...put });
  }

  /** Starts a Curator DistributedQueue consumer (lock-safe with `lockPath`) recording what it takes. */
  queueConsumeStart(handle: string, path: string, lockPath?: string): Promise<void> {
    return this.request('queue.consumeStart', { handle, path, lockPath: lockPath ?? null });
  }

  /** The items (UTF-8) the consumer `handle` has consumed so far. */
  queueConsumed(handle: string): Promise<string[]> {
    return this.request<string[]>('queue.consumed', { handle });
  }

  queueConsumeStop(handle: string): Promise<void> {
    return this.request('queue.consumeStop', { handle });
  }

  children(path: string, options: CallOptions = {}): Promise<string[]> {
    return this.request('children', { path }, options);
  }

  async get(path: string, options: CallOptions = {}): Promise<NodeRead> {
    const r = await this.request<{
      data: string | null;
      czxid: string;
      version: number;
      ephemeralOwner: string;
      numChildren: number;
    }>('get', { path }, options);
    return {
      data: Buffer.from(r.data ?? '', 'base64'),
      czxid: BigInt(r.czxid),
      version: r.version,
      ephemeralOwner: BigInt(r.ephemeralOwner),
      numChildren: r.numChildren,
    };
  }

  /** A plain create through Curator (parents as containers), e.g. to plant a node in our format. */
  async create(path: string, data: Uint8Array, mode = 'PERSISTENT', options: CallOptions = {}) {
    const r = await this.request<{ path: string }>(
      'create',
      { path, data: Buffer.from(data).toString('base64'), mode },
      options,
    );
    return r.path;
  }

  /** A plain setData (any version). */
  set(path: string, data: Uint8Array, options: CallOptions = {}): Promise<void> {
    return this.request('set', { path, data: Buffer.from(data).toString('base64') }, options);
  }

  delete(path: string, options: CallOptions = {}): Promise<void> {
    return this.request('delete', { path }, options);
  }

  // ----- lifecycle -----

  /** Closes stdin so Curator closes its clients; kills the JVM if it lingers. Idempotent. */
  async close(): Promise<void> {
    if (!this.#closed) {
      this.#closed = true;
      this.#child.stdin!.end();
    }
    let timer: NodeJS.Timeout | undefined;
    const lingered = new Promise<void>((resolve) => (timer = setTimeout(resolve, EXIT_GRACE_MS)));
    await Promise.race([this.#exited, lingered]);
    clearTimeout(timer);
    this.#forceExit();
    await this.#exited;
  }

  /** Kills the JVM at once, as a crash would: its sessions stay until they expire. */
  async kill(): Promise<void> {
    this.#closed = true;
    this.#forceExit();
    await this.#exited;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  #forceExit(): void {
    if (this.#child.exitCode === null && this.#child.signalCode === null) this.#child.kill('SIGKILL');
  }

  #settle(message: Record<string, unknown>): void {
    const pending = this.#pending.get(Number(message.id));
    if (pending === undefined) return;
    this.#pending.delete(Number(message.id));
    clearTimeout(pending.timer);
    if (message.ok === true) pending.resolve(message.result);
    else pending.reject(new Error(`Curator: ${String(message.errorClass)}: ${String(message.error)}`));
  }

  #deliver(event: CuratorEvent): void {
    for (const waiter of this.#waiters) {
      if (!waiter.predicate(event)) continue;
      this.#waiters.delete(waiter);
      clearTimeout(waiter.timer);
      waiter.resolve(event);
      return;
    }
    this.#events.push(event);
    if (this.#events.length > EVENTS_KEPT_MAX) this.#events.shift();
  }

  #failAll(error: Error): void {
    for (const pending of this.#pending.values()) {
      clearTimeout(pending.timer);
      pending.reject(error);
    }
    this.#pending.clear();
    for (const waiter of this.#waiters) {
      clearTimeout(waiter.timer);
      waiter.reject(error);
    }
    this.#waiters.clear();
  }
}

function parseLine(line: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(line);
    return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** JVM flags that start the harness fast (tests); the bench uses the JVM's defaults to measure Curator at its best. */
const QUICK_START_JVM_FLAGS = ['-Xmx128m', '-XX:+UseSerialGC', '-XX:TieredStopAtLevel=1'];

export interface StartCuratorOptions {
  sessionTimeoutMs?: number;
  /** 'quick-start' (default: C1 only, small heap) or 'default' (the JVM's own JIT and heap). */
  jvm?: 'quick-start' | 'default';
  /** Called with the JVM process right after it is spawned (the bench tracks its children). */
  onSpawn?: (child: ChildProcess) => void;
}

/** Starts the harness JVM and connects its 'default' Curator client to `connectString`. */
export async function startCurator(connectString: string, options: StartCuratorOptions = {}): Promise<CuratorHarness> {
  const classesDir = await compileHarness();
  const jvmFlags = options.jvm === 'default' ? [] : QUICK_START_JVM_FLAGS;
  const child = spawn(
    '/usr/bin/java',
    [...jvmFlags, '-Dorg.slf4j.simpleLogger.defaultLogLevel=warn', '-cp', [classesDir, ...JARS].join(':'), MAIN_CLASS],
    { stdio: ['pipe', 'pipe', 'pipe'] },
  );
  options.onSpawn?.(child);
  const harness = new CuratorHarness(child);
  try {
    await harness.ready();
    const { sessionTimeoutMs } = options;
    harness.sessionId = await harness.connect(connectString, { sessionTimeoutMs });
    return harness;
  } catch (error) {
    await harness.kill();
    throw error;
  }
}
