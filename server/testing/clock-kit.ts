// One recipe spec, two kinds of time. A `ClockKit` is what a spec body needs from its world: frameworks
// on the kit's clock, "let N ms pass", "wait until", session expiry and a partition of one client, and
// an assertion on elapsed time. `VirtualClockKit` runs on an InProcessServer and its VirtualClock: time
// moves only when the spec says, and times are exact. `RealClockKit` runs on any real server (Apache
// ZooKeeper, ours) with the real clock: letting time pass is waiting, and an exact time becomes a bound
// (never early, at most `lateMsMax` late). The same body then checks both that the recipe's timing is
// right to the millisecond and that it holds against a real server.
//
//   const kit = VirtualClockKit.start();       // or RealClockKit.on(apache.connectString)
//   const zk = await kit.connect({ sessionTimeoutMs: 3000 });
//   const wait = kit.track(new Barrier(zk, '/b', { clock: kit.clock }).wait({ timeoutMs: 1000 }));
//   await kit.until(() => wait.settled);
//   kit.assertElapsed(wait.atMs! - startMs, 1000, 'barrier timeout');
//   await kit.close();

import assert from 'node:assert/strict';
import { expireSession } from '../../src/client/testing.js';
import { realClock, type Clock } from '../../src/client/index.js';
import { tcpTransport, type Transport } from '../../src/client/transport.js';
import { createFramework, type Framework, type FrameworkOptions } from '../../src/framework/index.js';
import { ClientFaults } from './client-faults.js';
import { InProcessServer, type InProcessServerOptions } from './in-process.js';
import { VirtualClock } from './virtual-clock.js';

/** A promise's outcome, and when (on the kit's clock) it settled, for a spec to look at later. */
export interface Tracked<T> {
  readonly settled: boolean;
  readonly value: T | undefined;
  readonly error: unknown;
  /** The kit clock's time when it settled. */
  readonly atMs: number | undefined;
}

export interface KitConnectOptions extends Omit<FrameworkOptions, 'connectString' | 'clock'> {
  /** Wait for the first connection (default true). */
  connected?: boolean;
}

/** Frameworks a kit made, with the per-client faults each was built with. */
const faultsOf = new WeakMap<Framework, ClientFaults>();

export abstract class ClockKit {
  /** Every framework and recipe the spec handed to `own`, closed by `close` (last first). */
  readonly #owned: Array<{ close(): Promise<unknown> }> = [];

  /** True when times are exact (virtual); false when they are bounds (real). */
  abstract readonly exactTime: boolean;
  /** Hand this to recipes (their `clock` option). */
  abstract readonly clock: Clock;
  /** The name a spec title shows. */
  abstract readonly label: string;

  /**
   * @param namespace every framework of this kit lives under it, so specs sharing a real server
   *   do not see each other's nodes.
   */
  protected constructor(readonly namespace: string) {}

  protected abstract readonly connectString: string;
  protected abstract readonly baseTransport: Transport;
  /** Lets `ms` pass on the kit's clock. */
  abstract advance(ms: number): Promise<void>;
  /** Lets time pass until `condition()` holds; throws after `limitMs`. Resolves with the ms it took. */
  abstract until(condition: () => boolean, options?: { limitMs?: number }): Promise<number>;
  /** Ends `framework`'s current session on the server, now. */
  abstract expireSession(framework: Framework): Promise<void>;
  /** Stops the server (the kit's own, or nothing for a real server the kit does not own). */
  protected abstract stopServer(): Promise<void>;

  /** A framework on this kit's server and clock, in the kit's namespace, closed with the kit. */
  async connect(options: KitConnectOptions = {}): Promise<Framework> {
    const { connected = true, ...frameworkOptions } = options;
    const faults = new ClientFaults(this.baseTransport);
    const framework = createFramework({
      namespace: this.namespace,
      ...frameworkOptions,
      connectString: this.connectString,
      clock: this.clock,
      client: { ...frameworkOptions.client, transport: faults.transport },
    });
    faultsOf.set(framework, faults);
    this.own(framework);
    if (connected) await this.whileTimePasses(framework.blockUntilConnected());
    return framework;
  }

  /** Closes `thing` when the kit closes (recipes, frameworks), in the reverse order of `own`. */
  own<T extends { close(): Promise<unknown> }>(thing: T): T {
    this.#owned.push(thing);
    return thing;
  }

  /** From now on `framework`'s client hears nothing and reaches nothing (only that client). */
  partition(framework: Framework): void {
    this.#faults(framework).partition();
  }

  heal(framework: Framework): void {
    this.#faults(framework).heal();
  }

  /** Cuts `framework`'s connection; the session survives and the client reconnects. */
  dropConnection(framework: Framework): void {
    this.#faults(framework).dropConnection();
  }

  /** Watches `promise`; the box says whether and when (kit clock) it settled. */
  track<T>(promise: Promise<T>): Tracked<T> {
    const box: { settled: boolean; value: T | undefined; error: unknown; atMs: number | undefined } = {
      settled: false,
      value: undefined,
      error: undefined,
      atMs: undefined,
    };
    promise.then(
      (value) => Object.assign(box, { settled: true, value, atMs: this.clock.nowMs() }),
      (error: unknown) => Object.assign(box, { settled: true, error, atMs: this.clock.nowMs() }),
    );
    return box;
  }

  /** Waits (letting time pass) until `tracked` settled; resolves with it. */
  async settled<T>(tracked: Tracked<T>, options: { limitMs?: number } = {}): Promise<Tracked<T>> {
    await this.until(() => tracked.settled, options);
    return tracked;
  }

  /**
   * Virtual time: `actualMs` is exactly `expectedMs`. Real time: it is not early (by more than
   * timer rounding) and at most `lateMsMax` late, the scheduling a busy machine adds.
   */
  abstract assertElapsed(actualMs: number, expectedMs: number, what: string): void;

  /**
   * For what is known only within a range (another clock's tick bucket): `actualMs` is in
   * [lowMs, highMs], on real time widened as assertElapsed widens an exact time.
   */
  abstract assertElapsedWithin(actualMs: number, lowMs: number, highMs: number, what: string): void;

  /** Closes everything the spec owned, then the kit's server. */
  async close(): Promise<void> {
    for (const thing of this.#owned.splice(0).reverse()) {
      await this.whileTimePasses(thing.close()).catch(() => undefined);
    }
    await this.stopServer();
  }

  /** Awaits `promise`, letting the kit's time pass meanwhile (virtual time needs moving). */
  protected abstract whileTimePasses<T>(promise: Promise<T>): Promise<T>;

  #faults(framework: Framework): ClientFaults {
    const faults = faultsOf.get(framework);
    if (faults === undefined) throw new Error('this framework was not made by the kit (kit.connect)');
    return faults;
  }
}

/** Options of the virtual kit: the in-process server's (tickTime 500 ms by default). */
export interface VirtualClockKitOptions extends Omit<InProcessServerOptions, 'clock'> {
  /** Where the virtual clock starts (default 1 000 000). */
  startMs?: number;
}

/** A ClockKit on an InProcessServer and its VirtualClock: exact times, no sleeping. */
export class VirtualClockKit extends ClockKit {
  readonly exactTime = true;
  readonly label = 'virtual time, in-process server';
  readonly clock: VirtualClock;
  readonly server: InProcessServer;
  protected readonly connectString: string;
  protected readonly baseTransport: Transport;

  private constructor(options: VirtualClockKitOptions) {
    super('kit');
    const { startMs = 1_000_000, ...serverOptions } = options;
    this.clock = new VirtualClock(startMs);
    this.server = new InProcessServer({ tickTimeMs: 500, ...serverOptions, clock: this.clock });
    this.connectString = this.server.connectString;
    this.baseTransport = this.server.transport;
  }

  static start(options: VirtualClockKitOptions = {}): VirtualClockKit {
    return new VirtualClockKit(options);
  }

  advance(ms: number): Promise<void> {
    return this.clock.advance(ms);
  }

  until(condition: () => boolean, options: { limitMs?: number } = {}): Promise<number> {
    return this.clock.advanceUntil(condition, { limitMs: options.limitMs ?? 60_000, stepMs: 1 });
  }

  async expireSession(framework: Framework): Promise<void> {
    await this.server.expireSession(framework.sessionId);
  }

  assertElapsed(actualMs: number, expectedMs: number, what: string): void {
    assert.equal(actualMs, expectedMs, `${what}: at +${actualMs} ms, expected exactly +${expectedMs} ms`);
  }

  assertElapsedWithin(actualMs: number, lowMs: number, highMs: number, what: string): void {
    assert.ok(
      actualMs >= lowMs && actualMs <= highMs,
      `${what}: at +${actualMs} ms, expected +${lowMs}..${highMs} ms`,
    );
  }

  protected async whileTimePasses<T>(promise: Promise<T>): Promise<T> {
    let done = false;
    const watched = promise.finally(() => (done = true));
    watched.catch(() => undefined);
    // Closes and connects need round trips and, now and then, a timer: move time until they finish.
    await this.clock.settle();
    for (let step = 0; step < 600 && !done; step++) await this.clock.advance(100);
    return watched;
  }

  protected async stopServer(): Promise<void> {
    await this.server.close();
  }
}

export interface RealClockKitOptions {
  /** How late a real-time event may be and still pass (default 1500 ms: a busy 2-core machine). */
  lateMsMax?: number;
  /** Namespace prefix (each kit on a shared server gets its own namespace under it). */
  namespacePrefix?: string;
}

/** How early a real timer may appear by a clock read at a different instant (ms rounding). */
const REAL_EARLY_MS_MAX = 20;
/** Polling step of `until` on real time. */
const REAL_POLL_MS = 5;

/** A ClockKit on a real server (not owned: the caller stops it) and the real clock. */
export class RealClockKit extends ClockKit {
  readonly exactTime = false;
  readonly label: string;
  readonly clock: Clock = realClock;
  protected readonly baseTransport: Transport = tcpTransport;
  readonly #lateMsMax: number;
  static #kits = 0;

  private constructor(
    protected readonly connectString: string,
    serverName: string,
    options: RealClockKitOptions,
  ) {
    super(`${options.namespacePrefix ?? 'kit'}-${process.pid}-${++RealClockKit.#kits}`);
    this.label = `real time, ${serverName}`;
    this.#lateMsMax = options.lateMsMax ?? 1500;
  }

  /** A kit on the server at `connectString` (named `serverName` in titles). */
  static on(connectString: string, serverName: string, options: RealClockKitOptions = {}): RealClockKit {
    return new RealClockKit(connectString, serverName, options);
  }

  advance(ms: number): Promise<void> {
    return new Promise((resolve) => setTimeout(resolve, ms));
  }

  async until(condition: () => boolean, options: { limitMs?: number } = {}): Promise<number> {
    const limitMs = options.limitMs ?? 30_000;
    const startMs = this.clock.nowMs();
    while (!condition()) {
      if (this.clock.nowMs() - startMs >= limitMs) throw new Error(`condition not reached in ${limitMs} ms`);
      await this.advance(REAL_POLL_MS);
    }
    return this.clock.nowMs() - startMs;
  }

  async expireSession(framework: Framework): Promise<void> {
    await expireSession(framework.client);
  }

  assertElapsed(actualMs: number, expectedMs: number, what: string): void {
    this.assertElapsedWithin(actualMs, expectedMs, expectedMs, what);
  }

  assertElapsedWithin(actualMs: number, lowMs: number, highMs: number, what: string): void {
    const low = lowMs - REAL_EARLY_MS_MAX;
    const high = highMs + this.#lateMsMax;
    const expected = lowMs === highMs ? `+${lowMs} ms` : `+${lowMs}..${highMs} ms`;
    assert.ok(
      actualMs >= low && actualMs <= high,
      `${what}: at +${Math.round(actualMs)} ms, expected ${expected} (real time: ${low}..${high})`,
    );
  }

  protected whileTimePasses<T>(promise: Promise<T>): Promise<T> {
    return promise;
  }

  protected async stopServer(): Promise<void> {
    // The server belongs to whoever started it.
  }
}
