// Servers the bench starts as child processes from a generated zoo.cfg-like config in a temporary
// dataDir: Apache ZooKeeper 3.8 with the JVM settings Debian's zkServer.sh uses (full JIT, 1000 MB
// heap, unlike the test fixture's small quick-start JVM), and ours through bench/our-server-child.ts.
// Both report the time from spawn to serving (`srvr` shows a Mode) and their pid for RSS. Every
// handle is AsyncDisposable and stop is idempotent; a server that does not serve in time is killed.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { APACHE_JAR, apacheAvailable } from '../test/support/apache.js';
import { fourLetterWord, freePort } from '../test/support/ports.js';
import { trackChild } from './children.js';

export { apacheAvailable };

const SLF4J_SIMPLE = '/usr/share/java/slf4j-simple.jar';
/** Debian's zkEnv.sh default ZK_SERVER_HEAP. */
const APACHE_HEAP_MB = 1000;
const SERVING_TIMEOUT_MS = 30_000;
const SERVING_POLL_MS = 5;

export interface BenchServer extends AsyncDisposable {
  readonly port: number;
  readonly connectString: string;
  readonly pid: number;
  readonly dataDir: string;
  /** From spawning the process to the first `srvr` answer that shows it serving. */
  readonly startToServingMs: number;
  output(): string;
  stop(): Promise<void>;
}

type Config = Record<string, string | number | boolean>;

async function writeConfig(dataDir: string, port: number, extra: Config): Promise<string> {
  const config: Config = {
    tickTime: 2000,
    dataDir,
    clientPort: port,
    clientPortAddress: '127.0.0.1',
    'admin.enableServer': false,
    '4lw.commands.whitelist': '*',
    maxClientCnxns: 0,
    ...extra,
  };
  const file = path.join(dataDir, 'zoo.cfg');
  await writeFile(file, Object.entries(config).map(([k, v]) => `${k}=${v}`).join('\n') + '\n');
  return file;
}

/**
 * Where a server keeps its data: a fresh temporary dataDir (removed on stop), or `reuseDataDir`
 * from an earlier server (kept on stop: its creator removes it), for recovery times.
 */
export interface DataDirOptions {
  reuseDataDir?: string;
  /** How long to wait for serving (default 30 s): a recovery of a large tree takes longer. */
  servingTimeoutMs?: number;
}

async function dataDirFor(prefix: string, { reuseDataDir }: DataDirOptions): Promise<string> {
  return reuseDataDir ?? (await mkdtemp(path.join(tmpdir(), prefix)));
}

/** Spawns, then polls `srvr` until it serves; kills the child (and removes dataDir unless kept) on stop. */
async function launch(
  dataDir: string,
  port: number,
  command: string,
  args: string[],
  { reuseDataDir, servingTimeoutMs = SERVING_TIMEOUT_MS }: DataDirOptions = {},
): Promise<BenchServer> {
  const keepDataDir = reuseDataDir !== undefined;
  const startedMs = performance.now();
  const child: ChildProcess = trackChild(spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] }));
  let output = '';
  const keep = (d: Buffer) => (output = (output + d.toString()).slice(-32_000));
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  child.once('error', (error) => (output += `\n${error.message}`));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
      if (!keepDataDir) await rm(dataDir, { recursive: true, force: true });
    })());
  const deadline = startedMs + servingTimeoutMs;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      await stop();
      throw new Error(`${command} exited before serving:\n${output.slice(-2000)}`);
    }
    const answer = await fourLetterWord(port, 'srvr', '127.0.0.1', 1_000).catch(() => '');
    if (answer.includes('Mode: ')) break;
    if (performance.now() > deadline) {
      await stop();
      throw new Error(`${command} was not serving within ${servingTimeoutMs} ms:\n${output.slice(-2000)}`);
    }
    await new Promise((resolve) => setTimeout(resolve, SERVING_POLL_MS));
  }
  const startToServingMs = performance.now() - startedMs;
  return {
    port,
    connectString: `127.0.0.1:${port}`,
    pid: child.pid!,
    dataDir,
    startToServingMs,
    output: () => output,
    stop,
    [Symbol.asyncDispose]: stop,
  };
}

/** Apache ZooKeeper 3.8 standalone, durable (forceSync=yes, its default). */
export async function startApacheServer(
  config: Config = {},
  options: DataDirOptions = {},
): Promise<BenchServer> {
  const port = await freePort();
  const dataDir = await dataDirFor('bench-apache-', options);
  const configFile = await writeConfig(dataDir, port, { extendedTypesEnabled: true, ...config });
  const args = [
    `-Xmx${APACHE_HEAP_MB}m`,
    '-Dorg.slf4j.simpleLogger.defaultLogLevel=warn',
    '-cp',
    `${APACHE_JAR}:${SLF4J_SIMPLE}`,
    'org.apache.zookeeper.server.quorum.QuorumPeerMain',
    configFile,
  ];
  return await launch(dataDir, port, '/usr/bin/java', args, options);
}

/** Our server in its own Node process (see our-server-child.ts), from the same kind of config. */
export async function startOurServer(
  config: Config = {},
  options: DataDirOptions = {},
): Promise<BenchServer> {
  const port = await freePort();
  const dataDir = await dataDirFor('bench-ours-', options);
  const configFile = await writeConfig(dataDir, port, config);
  const child = fileURLToPath(new URL('./our-server-child.ts', import.meta.url));
  const args = ['--import', 'tsx', child, configFile];
  return await launch(dataDir, port, process.execPath, args, options);
}

/** Whether the server wrote anything besides our zoo.cfg under its dataDir (a txn log, a snapshot). */
export async function wroteToDataDir(server: BenchServer): Promise<boolean> {
  const entries = await readdir(server.dataDir, { recursive: true, withFileTypes: true });
  return entries.some((e) => e.isFile() && e.name !== 'zoo.cfg');
}

/** Resident set size of a process, from /proc (Linux). */
export async function residentBytes(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
  if (match === null) throw new Error(`no VmRSS for pid ${pid}`);
  return Number(match[1]) * 1024;
}
