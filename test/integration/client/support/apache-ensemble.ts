// Real Apache ZooKeeper 3.8 servers on loopback for the client's tests: a 3-node ensemble (one
// QuorumPeerMain per member, server.N lines and myid files in temporary dataDirs, members that can
// be killed and started again) and a standalone server. Every wait is bounded: a four-letter word
// gets a timeout, a member that dies while starting (a port taken by someone else between
// freePort() and its bind) makes the start retry on fresh ports, and stop() always finishes.
// Superseded by test/support/ensemble.ts (both kinds); only test/integration/recipes/locks-processes
// still uses it: move that suite over, then delete this file.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { APACHE_JAR } from '../../../support/apache.js';
import { freePort } from '../../../support/ports.js';

const SLF4J_SIMPLE = '/usr/share/java/slf4j-simple.jar';
const HOST = '127.0.0.1';
const START_ATTEMPTS = 3;

export interface EnsembleMember {
  readonly id: number;
  readonly clientPort: number;
  readonly connectString: string;
  readonly running: boolean;
  /** standalone, leader, follower, read-only, or '' when not serving. */
  mode(): Promise<string>;
  /** Kills the JVM at once (SIGKILL), as a crash would. */
  kill(): Promise<void>;
  start(): Promise<void>;
  /** The tail of what the member printed (for failure messages). */
  output(): string;
}

export interface ApacheEnsemble extends AsyncDisposable {
  readonly members: readonly EnsembleMember[];
  /** Every member's host:port, comma separated. */
  readonly connectString: string;
  member(port: number): EnsembleMember;
  /** Waits until `count` members serve (leader or follower, or read-only when allowed). */
  waitServing(count: number, options?: { readOnly?: boolean; timeoutMs?: number }): Promise<void>;
  stop(): Promise<void>;
}

export interface EnsembleOptions {
  size?: number;
  tickTime?: number;
  systemProperties?: Record<string, string>;
  /** Extra zoo.cfg lines (key → value). */
  config?: Record<string, string | number | boolean>;
}

/** A standalone server, shaped like test/support/apache.ts's handle. */
export interface StandaloneServer extends AsyncDisposable {
  readonly port: number;
  readonly connectString: string;
  output(): string;
  stop(): Promise<void>;
}

/** Sends a four-letter word; resolves with the answer, or '' on error or after `timeoutMs`. */
export function fourLetterWordWithin(port: number, word: string, timeoutMs = 2000): Promise<string> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    const socket = net.connect(port, HOST, () => socket.write(word));
    const timer = setTimeout(() => socket.destroy(), timeoutMs);
    socket.on('data', (chunk) => chunks.push(chunk));
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(Buffer.concat(chunks).toString('utf8'));
    });
  });
}

export async function startApacheEnsemble(options: EnsembleOptions = {}): Promise<ApacheEnsemble> {
  for (let attempt = 1; ; attempt++) {
    const ensemble = await createEnsemble(options);
    try {
      await Promise.all(ensemble.members.map((m) => m.start()));
      await ensemble.waitServing(ensemble.members.length);
      return ensemble;
    } catch (error) {
      await ensemble.stop();
      if (attempt >= START_ATTEMPTS) throw error;
    }
  }
}

export async function startApacheStandalone(options: EnsembleOptions = {}): Promise<StandaloneServer> {
  const ensemble = await startApacheEnsemble({ ...options, size: 1 });
  const [only] = ensemble.members;
  return {
    port: only.clientPort,
    connectString: only.connectString,
    output: () => only.output(),
    stop: () => ensemble.stop(),
    [Symbol.asyncDispose]: () => ensemble.stop(),
  };
}

async function createEnsemble(options: EnsembleOptions): Promise<ApacheEnsemble> {
  const size = options.size ?? 3;
  const ports = [];
  for (let i = 0; i < size; i++) {
    ports.push({ client: await freePort(), quorum: await freePort(), election: await freePort() });
  }
  // One member and no server lines is a standalone server.
  const serverLines =
    size === 1 ? [] : ports.map((p, i) => `server.${i + 1}=${HOST}:${p.quorum}:${p.election}`);
  const dirs: string[] = [];
  const members: Member[] = [];
  for (let i = 0; i < size; i++) {
    const id = i + 1;
    const dataDir = await mkdtemp(path.join(tmpdir(), `apache-zk-${id}-`));
    dirs.push(dataDir);
    await writeFile(path.join(dataDir, 'myid'), `${id}\n`);
    const config = [
      `tickTime=${options.tickTime ?? 300}`,
      'initLimit=20',
      'syncLimit=10',
      `dataDir=${dataDir}`,
      `clientPort=${ports[i].client}`,
      `clientPortAddress=${HOST}`,
      'admin.enableServer=false',
      '4lw.commands.whitelist=*',
      'maxClientCnxns=0',
      'extendedTypesEnabled=true',
      ...Object.entries(options.config ?? {}).map(([k, v]) => `${k}=${v}`),
      ...serverLines,
    ].join('\n');
    const configFile = path.join(dataDir, 'zoo.cfg');
    await writeFile(configFile, config + '\n');
    members.push(member(id, ports[i].client, configFile, options.systemProperties ?? {}));
  }
  let stopping: Promise<void> | undefined;
  const stop = () => {
    stopping ??= (async () => {
      await Promise.all(members.map((m) => m.kill()));
      await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
    })();
    return stopping;
  };
  const serving = (mode: string, readOnly: boolean) =>
    mode === 'leader' || mode === 'follower' || mode === 'standalone' || (readOnly && mode === 'read-only');
  return {
    members,
    connectString: members.map((m) => m.connectString).join(','),
    member: (port) => {
      const found = members.find((m) => m.clientPort === port);
      if (!found) throw new Error(`no member has client port ${port}`);
      return found;
    },
    async waitServing(count, waitOptions = {}) {
      const deadline = Date.now() + (waitOptions.timeoutMs ?? 30_000);
      for (;;) {
        const died = members.find((m) => m.diedUnexpectedly);
        if (died) throw new Error(`member ${died.id} exited:\n${died.output()}`);
        const modes = await Promise.all(members.map((m) => (m.running ? m.mode() : Promise.resolve(''))));
        if (modes.filter((mode) => serving(mode, waitOptions.readOnly === true)).length >= count) return;
        if (Date.now() > deadline) throw new Error(`not serving with ${count} members: ${modes.join(',')}`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    },
    stop,
    [Symbol.asyncDispose]: stop,
  };
}

interface Member extends EnsembleMember {
  /** The JVM exited without being killed (e.g. its port was taken). */
  readonly diedUnexpectedly: boolean;
}

function member(
  id: number,
  clientPort: number,
  configFile: string,
  properties: Record<string, string>,
): Member {
  let child: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();
  let output = '';
  let killing = false;
  let died = false;
  return {
    id,
    clientPort,
    connectString: `${HOST}:${clientPort}`,
    get running() {
      return child !== undefined;
    },
    get diedUnexpectedly() {
      return died;
    },
    async mode() {
      const answer = await fourLetterWordWithin(clientPort, 'srvr');
      return /^Mode: (\S+)/m.exec(answer)?.[1] ?? '';
    },
    async kill() {
      killing = true;
      if (child !== undefined && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
      child = undefined;
      killing = false;
    },
    output: () => output,
    async start() {
      if (child !== undefined) return;
      died = false;
      const flags = Object.entries(properties).map(([k, v]) => `-D${k}=${v}`);
      const current = spawn(
        '/usr/bin/java',
        [
          '-Xmx128m',
          '-XX:+UseSerialGC',
          '-XX:TieredStopAtLevel=1',
          '-Dorg.slf4j.simpleLogger.defaultLogLevel=warn',
          ...flags,
          '-cp',
          `${APACHE_JAR}:${SLF4J_SIMPLE}`,
          'org.apache.zookeeper.server.quorum.QuorumPeerMain',
          configFile,
        ],
        { stdio: ['ignore', 'pipe', 'pipe'] },
      );
      child = current;
      current.stdout!.on('data', (d: Buffer) => (output = (output + d.toString()).slice(-20_000)));
      current.stderr!.on('data', (d: Buffer) => (output = (output + d.toString()).slice(-20_000)));
      exited = new Promise<void>((resolve) =>
        current.once('exit', () => {
          if (!killing) died = true;
          if (child === current) child = undefined;
          resolve();
        }),
      );
    },
  };
}

/**
 * Stops what `starting` yields, for after-hooks: a start still under way is waited for (its own
 * waits are bounded), a failed one has nothing to stop.
 */
export async function stopWithin(starting: Promise<{ stop(): Promise<void> }> | undefined): Promise<void> {
  const started = await starting?.catch(() => undefined);
  await started?.stop();
}
