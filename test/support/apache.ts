// Apache ZooKeeper 3.8 (Debian's `zookeeper` package) as a test fixture: a standalone server on a
// free loopback port, from a generated zoo.cfg in a temporary dataDir, always stopped afterwards.
// Suites call `apacheAvailable()` and skip the Apache side with a visible notice when it is not
// installed (`.ci/run` installs it).
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fourLetterWord, freePort } from './ports.js';

export const APACHE_JAR = '/usr/share/java/zookeeper.jar';
const SLF4J_SIMPLE = '/usr/share/java/slf4j-simple.jar';
export const ZKCLI = '/usr/share/zookeeper/bin/zkCli.sh';

export function apacheAvailable(): boolean {
  return existsSync(APACHE_JAR) && existsSync('/usr/bin/java');
}

export interface ApacheServer extends AsyncDisposable {
  readonly host: string;
  readonly port: number;
  /** host:port, ready for a client's connect string. */
  readonly connectString: string;
  readonly dataDir: string;
  /** What the server printed so far (for failure messages). */
  output(): string;
  stop(): Promise<void>;
}

export interface ApacheOptions {
  /** Extra zoo.cfg lines (key → value); they override the defaults below. */
  config?: Record<string, string | number | boolean>;
  /** Extra JVM system properties (-Dkey=value), e.g. zookeeper.enforceQuota. */
  systemProperties?: Record<string, string>;
  /** Keep the dataDir on stop (for persistence interchange tests). */
  keepDataDir?: boolean;
  dataDir?: string;
}

/**
 * Starts Apache ZooKeeper standalone and waits until `srvr` shows it serving. Apache 3.8.0 now and
 * then accepts a connection in the instant between binding its port and starting its selector and
 * never answers it (about one start in fifteen): probes are bounded, and a JVM that does not serve
 * within 20 s is killed and started again, up to three times.
 */
export async function startApache(options: ApacheOptions = {}): Promise<ApacheServer> {
  for (let attempt = 1; ; attempt++) {
    const started = await startApacheOnce(options);
    if (started.serving) return started.server;
    const output = started.server.output();
    await started.server.stop();
    if (attempt >= 3) throw new Error(`Apache ZooKeeper did not serve after ${attempt} starts:\n${output}`);
  }
}

async function startApacheOnce(options: ApacheOptions): Promise<{ server: ApacheServer; serving: boolean }> {
  const host = '127.0.0.1';
  const port = await freePort();
  const dataDir = options.dataDir ?? (await mkdtemp(path.join(tmpdir(), 'apache-zk-')));
  const config: Record<string, string | number | boolean> = {
    tickTime: 2000,
    dataDir,
    clientPort: port,
    clientPortAddress: host,
    'admin.enableServer': false,
    '4lw.commands.whitelist': '*',
    extendedTypesEnabled: true,
    maxClientCnxns: 0,
    ...options.config,
  };
  const configFile = path.join(dataDir, 'zoo.cfg');
  await writeFile(configFile, Object.entries(config).map(([k, v]) => `${k}=${v}`).join('\n') + '\n');
  const properties = Object.entries(options.systemProperties ?? {}).map(([k, v]) => `-D${k}=${v}`);
  const child: ChildProcess = spawn(
    '/usr/bin/java',
    [
      '-Xmx256m',
      '-XX:+UseSerialGC',
      '-XX:TieredStopAtLevel=1',
      '-Dorg.slf4j.simpleLogger.defaultLogLevel=warn',
      ...properties,
      '-cp',
      `${APACHE_JAR}:${SLF4J_SIMPLE}`,
      'org.apache.zookeeper.server.quorum.QuorumPeerMain',
      configFile,
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  child.stdout!.on('data', (d: Buffer) => (output = (output + d.toString()).slice(-8000)));
  child.stderr!.on('data', (d: Buffer) => (output = (output + d.toString()).slice(-8000)));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await exited;
    if (!options.keepDataDir && options.dataDir === undefined) await rm(dataDir, { recursive: true, force: true });
  };
  const server: ApacheServer = {
    host,
    port,
    connectString: `${host}:${port}`,
    dataDir,
    output: () => output,
    stop,
    [Symbol.asyncDispose]: stop,
  };
  const deadline = Date.now() + 20_000;
  while (child.exitCode === null && Date.now() < deadline) {
    // `ruok` says imok before the server serves; `srvr` shows a Mode only once it does.
    const answer = await fourLetterWord(port, 'srvr', host, 2_000).catch(() => '');
    if (answer.includes('Mode: ')) return { server, serving: true };
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return { server, serving: false };
}
