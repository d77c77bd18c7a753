// What the recipe contract suites run against: each entry starts a server on a free loopback port.
// Every suite loops over `RECIPE_SERVERS`, so adding our own server is one line here
// (e.g. `{ name: 'menagerie', available: () => true, start: () => startServer({ tickTime: 200 }) }`).
// Also: frameworks made for a test and closed after it, a framework behind a controllable proxy,
// and waiting for states or conditions without blind sleeps.
import {
  createFramework,
  retryNTimes,
  ZooKeeperClient,
  type ConnectionStateName,
  type Framework,
  type FrameworkOptions,
} from '../../../../src/index.js';
import { after, afterEach, before, beforeEach, describe } from 'mocha';
import {
  serverFactories,
  type ServerFactory,
  type ServerUnderTest,
} from '../../../conformance/recipes/servers.js';
import { startControlledProxy, type ControlledProxy } from '../../../support/controlled-proxy.js';
import { curatorAvailable } from '../../../support/curator.js';

export type RecipeServer = ServerUnderTest;
export type RecipeServerFactory = ServerFactory;
/** The same servers as every recipe contract: Apache ZooKeeper 3.8 and ours. */
export const RECIPE_SERVERS = serverFactories;

/** What a suite from `describeOnRecipeServers` gives its tests. */
export interface RecipeSuite {
  readonly fx: Fixtures;
  /** The server of this run (started in `before`). */
  readonly server: RecipeServer;
  /** A path of its own for each test: `<prefix><n>`. */
  path(): string;
}

/**
 * One describe per recipe server: the server started once (skipped with mocha's notice where it is
 * not installed), a fresh path per test, and every framework and proxy of a test closed after it.
 */
export function describeOnRecipeServers(title: string, pathPrefix: string, body: (suite: RecipeSuite) => void): void {
  for (const factory of RECIPE_SERVERS) {
    describe(`${title} on ${factory.name}`, function () {
      this.timeout(30_000);
      let server: RecipeServer | undefined;
      let n = 0;
      const fx = new Fixtures(() => server!);
      before(async function () {
        if (!factory.available()) this.skip();
        this.timeout(60_000);
        server = await factory.start();
      });
      beforeEach(() => void n++);
      afterEach(() => fx.closeAll());
      after(() => server?.stop());
      body({
        fx,
        get server() {
          return server!;
        },
        path: () => `${pathPrefix}${n}`,
      });
    });
  }
}

/**
 * One describe for interop with real Curator 5.4, on the first recipe server (Apache): skipped with
 * mocha's notice when that server or Curator is not installed; frameworks closed after each test.
 */
export function describeWithCurator(title: string, body: (suite: Omit<RecipeSuite, 'path'>) => void): void {
  describe(title, function () {
    this.timeout(60_000);
    let server: RecipeServer | undefined;
    const fx = new Fixtures(() => server!);
    before(async function () {
      const factory = RECIPE_SERVERS[0]!;
      if (!factory.available() || !curatorAvailable()) this.skip();
      server = await factory.start();
    });
    afterEach(() => fx.closeAll());
    after(() => server?.stop());
    body({
      fx,
      get server() {
        return server!;
      },
    });
  });
}

/** Frameworks and proxies made by a test, closed by `closeAll` (call it in afterEach). */
export class Fixtures {
  readonly #closers: Array<() => Promise<unknown>> = [];

  constructor(readonly server: () => RecipeServer) {}

  async framework(options: Partial<FrameworkOptions> = {}): Promise<Framework> {
    const framework = createFramework({
      connectString: this.server().connectString,
      sessionTimeoutMs: 4000,
      connectionTimeoutMs: 3000,
      retry: retryNTimes(20, 50),
      client: { connectTimeoutMs: 500, reconnectDelayMaxMs: 50 },
      ...options,
    });
    this.#closers.push(() => framework.close());
    await framework.blockUntilConnected();
    return framework;
  }

  /** A framework whose connection goes through a proxy the test controls. */
  async proxied(options: Partial<FrameworkOptions> = {}): Promise<{ zk: Framework; proxy: ControlledProxy }> {
    const proxy = await startControlledProxy(this.server().port);
    this.#closers.push(() => proxy.close());
    const zk = await this.framework({ connectString: proxy.connectString, ...options });
    return { zk, proxy };
  }

  async client(): Promise<ZooKeeperClient> {
    const client = new ZooKeeperClient({ connectString: this.server().connectString });
    this.#closers.push(() => client.close());
    await client.connect();
    return client;
  }

  /** Registers something to close after the test (e.g. a recipe). */
  defer<T extends AsyncDisposable>(closeable: T): T {
    this.#closers.push(async () => closeable[Symbol.asyncDispose]());
    return closeable;
  }

  async closeAll(): Promise<void> {
    // Recipes before frameworks before proxies: reverse order of creation.
    for (const close of this.#closers.splice(0).reverse()) await close().catch(() => undefined);
  }
}

/** Resolves once the states in `sequence` were seen in that order (others in between are skipped). */
export async function nextState(
  zk: Framework,
  sequence: ConnectionStateName | ConnectionStateName[],
  timeoutMs = 15_000,
): Promise<void> {
  const wanted = Array.isArray(sequence) ? [...sequence] : [sequence];
  const signal = AbortSignal.timeout(timeoutMs);
  for await (const change of zk.connectionStates({ signal })) {
    if (change.state === wanted[0]) wanted.shift();
    if (wanted.length === 0) return;
  }
  throw new Error(`never reached ${wanted.join(' then ')}`);
}

/** Polls `check` until it is true (for server-side facts no event reports). */
export async function eventually(check: () => Promise<boolean> | boolean, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) throw new Error('condition not reached in time');
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/**
 * Ends the session of a proxied `zk` at the server, as Curator's KillSession does: with the proxy
 * cut (so the framework cannot take its session back meanwhile), a second client joins the session
 * with its id and password and closes it. The framework then finds its session expired (LOST) and
 * starts a new one (RECONNECTED).
 */
export async function expireSession(
  zk: Framework,
  proxy: ControlledProxy,
  connectString: string,
): Promise<void> {
  const { sessionId, sessionPassword } = zk.client;
  proxy.blackhole(true);
  proxy.dropAll();
  try {
    const intruder = new ZooKeeperClient({ connectString, sessionId, sessionPassword });
    await intruder.connect();
    await intruder.close();
  } finally {
    proxy.blackhole(false);
  }
}

/** Takes events from an async iterator until `count` match `keep`, or fails after `timeoutMs`. */
export async function take<T>(
  iterator: AsyncIterator<T>,
  count: number,
  keep: (event: T) => boolean = () => true,
  timeoutMs = 10_000,
): Promise<T[]> {
  const taken: T[] = [];
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`only ${taken.length} of ${count} events came`)), timeoutMs);
  });
  try {
    while (taken.length < count) {
      const next = await Promise.race([iterator.next(), timeout]);
      if (next.done) throw new Error(`the stream ended after ${taken.length} of ${count} events`);
      if (keep(next.value)) taken.push(next.value);
    }
    return taken;
  } finally {
    clearTimeout(timer);
  }
}
