// Runs one set of conformance specs against our server and against Apache ZooKeeper 3.8, from the
// same zoo.cfg lines. The Apache side is skipped with a visible notice when it is not installed.
// Each describe block shares one server; specs keep apart by working under `target.path()` roots.

import { describe } from 'mocha';
import { parseZooCfg } from '../../server/config/index.js';
import { startServerWithConfig, type RunningServer } from '../../server/standalone.js';
import { apacheAvailable, startApache, type ApacheServer } from './apache.js';
import { fourLetterWord } from './ports.js';
import { RawClient, RawConnection, type ConnectOptions } from './raw-client.js';

export type ServerKind = 'menagerie' | 'apache';

export interface ServerUnderTest {
  readonly kind: ServerKind;
  readonly port: number;
  readonly connectString: string;
  /** A new session (closed by `await using`). */
  connect(options?: ConnectOptions): Promise<RawClient>;
  /** A bare socket, for malformed input. */
  open(): Promise<RawConnection>;
  fourLetterWord(word: string): Promise<string>;
  /** A fresh root path for one spec ("/spec-3"); nothing else uses it. */
  path(): string;
}

export interface BothServersOptions {
  /** zoo.cfg lines for both servers (they override the defaults below). */
  config?: Record<string, string | number | boolean>;
}

const DEFAULT_CONFIG: Record<string, string | number | boolean> = {
  tickTime: 2000,
  '4lw.commands.whitelist': '*',
  extendedTypesEnabled: true,
  maxClientCnxns: 0,
};

let pathCounter = 0;

/** Declares `title [menagerie]` and `title [apache]` suites running the same `body`. */
export function describeBothServers(
  title: string,
  options: BothServersOptions,
  body: (target: () => ServerUnderTest) => void,
): void {
  for (const kind of ['menagerie', 'apache'] as const) {
    describe(`${title} [${kind}]`, function () {
      let server: ServerUnderTest | undefined;
      let stop: (() => Promise<void>) | undefined;
      before(async function () {
        this.timeout(60_000);
        if (kind === 'apache' && !apacheAvailable()) {
          console.log(`    (Apache ZooKeeper is not installed: skipping "${title}" against Apache)`);
          this.skip();
        }
        const started = kind === 'apache' ? await startApacheTarget(options) : await startOurs(options);
        server = started.target;
        stop = started.stop;
      });
      after(async function () {
        this.timeout(30_000);
        await stop?.();
      });
      body(() => {
        if (server === undefined) throw new Error('server not started');
        return server;
      });
    });
  }
}

function target(kind: ServerKind, port: number): ServerUnderTest {
  return {
    kind,
    port,
    connectString: `127.0.0.1:${port}`,
    connect: (options) => RawClient.connect(port, options),
    open: () => RawConnection.open(port),
    fourLetterWord: (word) => fourLetterWord(port, word),
    path: () => `/spec-${++pathCounter}`,
  };
}

async function startOurs(options: BothServersOptions): Promise<{ target: ServerUnderTest; stop: () => Promise<void> }> {
  const lines = Object.entries({ ...DEFAULT_CONFIG, ...options.config }).map(([k, v]) => `${k}=${v}`);
  const { config } = parseZooCfg(['dataDir=/nonexistent', 'clientPort=1', ...lines].join('\n'));
  const server: RunningServer = await startServerWithConfig({
    ...config,
    dataDir: undefined,
    dataLogDir: undefined,
    clientPort: 0,
    clientPortAddress: '127.0.0.1',
  });
  return { target: target('menagerie', server.port), stop: () => server.stop() };
}

async function startApacheTarget(
  options: BothServersOptions,
): Promise<{ target: ServerUnderTest; stop: () => Promise<void> }> {
  const config = { ...DEFAULT_CONFIG, ...options.config };
  // Apache reads a few settings only as JVM system properties (jute.maxbuffer, readonlymode.enabled).
  const systemProperties: Record<string, string> = {};
  for (const key of ['jute.maxbuffer', 'readonlymode.enabled']) {
    if (key in config) systemProperties[key] = String(config[key]);
  }
  const server: ApacheServer = await startApache({ config, systemProperties });
  return { target: target('apache', server.port), stop: () => server.stop() };
}

/**
 * Marks a spec where our server is known to differ from Apache: skipped on ours with a visible notice
 * (so the difference stays listed), still run against Apache.
 */
export function knownDivergence(context: Mocha.Context, server: ServerUnderTest, reason: string): void {
  if (server.kind !== 'menagerie') return;
  console.log(`    (known divergence, skipped on menagerie: ${reason})`);
  context.skip();
}
