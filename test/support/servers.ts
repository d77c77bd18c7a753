// Runs one set of conformance specs against our server and against Apache ZooKeeper 3.8, from the
// same zoo.cfg lines. The Apache side is skipped with a visible notice when it is not installed.
// Each describe block shares one server; specs keep apart by working under `target.path()` roots.

import { describe } from 'mocha';
import { parseZooCfg } from '../../server/config/index.js';
import { startServerWithConfig, type RunningServer } from '../../server/standalone.js';
import { apacheAvailable, startApache } from './apache.js';
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
  'admin.enableServer': false,
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

async function startOurs(
  options: BothServersOptions,
): Promise<{ target: ServerUnderTest; stop: () => Promise<void> }> {
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
  // Apache reads a few settings only as JVM system properties (without its zookeeper. prefix).
  const systemProperties: Record<string, string> = {};
  const propertyOnly = ['jute.maxbuffer', 'readonlymode.enabled', 'znode.container.checkIntervalMs',
    'znode.container.maxPerMinute', 'znode.container.maxNeverUsedIntervalMs'];
  for (const key of propertyOnly) {
    if (key in config) systemProperties[key] = String(config[key]);
  }
  const server = await startApache({ config, systemProperties });
  return { target: target('apache', server.port), stop: () => server.stop() };
}

/** Our server as its own process (`zk-server start-foreground`), for clients that block the event loop. */
export interface ServerProcess extends AsyncDisposable {
  readonly port: number;
  readonly connectString: string;
  readonly dataDir: string;
  /** What the process printed so far (pino JSON lines, and stderr). */
  output(): string;
  /** SIGTERM, then waits for the exit; resolves with the exit code. */
  stop(): Promise<number | null>;
}

/** Starts `server/cli.ts start-foreground` on a free port from the given zoo.cfg lines. */
export async function startServerProcess(
  config: Record<string, string | number | boolean> = {},
): Promise<ServerProcess> {
  const { spawn } = await import('node:child_process');
  const { mkdtemp, rm, writeFile } = await import('node:fs/promises');
  const { tmpdir } = await import('node:os');
  const pathModule = await import('node:path');
  const { freePort } = await import('./ports.js');
  const dataDir = await mkdtemp(pathModule.join(tmpdir(), 'menagerie-zk-'));
  const port = await freePort();
  const lines = {
    tickTime: 2000,
    dataDir,
    clientPort: port,
    clientPortAddress: '127.0.0.1',
    'admin.enableServer': false, // as Apache's fixture: many servers at once must not all want port 8080
    ...config,
  };
  const configFile = pathModule.join(dataDir, 'zoo.cfg');
  await writeFile(configFile, Object.entries(lines).map(([k, v]) => `${k}=${v}`).join('\n') + '\n');
  const args = ['--import', 'tsx', 'server/cli.ts', 'start-foreground', configFile];
  const child = spawn(process.execPath, args, {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  let stopping: Promise<number | null> | undefined;
  const stop = () => {
    stopping ??= (async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      const code = await exited;
      await rm(dataDir, { recursive: true, force: true });
      return code;
    })();
    return stopping;
  };
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) {
      await stop();
      throw new Error(`zk-server exited early:\n${output}`);
    }
    if (output.includes('serving clients')) break;
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      await stop();
      throw new Error(`zk-server was not serving within 30 s:\n${output}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return {
    port,
    connectString: `127.0.0.1:${port}`,
    dataDir,
    output: () => output,
    stop,
    [Symbol.asyncDispose]: async () => {
      await stop();
    },
  };
}

/**
 * Marks a spec where our server is known to differ from Apache: skipped on ours with a visible notice
 * (so the difference stays listed), still run against Apache. RUN_KNOWN_DIVERGENCES=1 runs them on ours too.
 */
export function knownDivergence(context: Mocha.Context, server: ServerUnderTest, reason: string): void {
  if (server.kind !== 'menagerie' || process.env.RUN_KNOWN_DIVERGENCES === '1') return;
  console.log(`    (known divergence, skipped on menagerie: ${reason})`);
  context.skip();
}
