// A real Apache ZooKeeper 3.8 ensemble on loopback for multi-server tests: one QuorumPeerMain per
// member, server.N lines and myid files in temporary dataDirs, members that can be killed and
// started again, and everything stopped (and removed) at the end.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { APACHE_JAR } from '../../../support/apache.js';
import { fourLetterWord, freePort } from '../../../support/ports.js';

const SLF4J_SIMPLE = '/usr/share/java/slf4j-simple.jar';

export interface EnsembleMember {
  readonly id: number;
  readonly clientPort: number;
  readonly connectString: string;
  readonly running: boolean;
  /** leader, follower, read-only, or '' when not serving. */
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

export async function startApacheEnsemble(options: EnsembleOptions = {}): Promise<ApacheEnsemble> {
  const size = options.size ?? 3;
  const host = '127.0.0.1';
  const ports = [];
  for (let i = 0; i < size; i++)
    ports.push({ client: await freePort(), quorum: await freePort(), election: await freePort() });
  const serverLines = ports.map((p, i) => `server.${i + 1}=${host}:${p.quorum}:${p.election}`).join('\n');
  const dirs: string[] = [];
  const members: Array<EnsembleMember & { stopForGood(): Promise<void> }> = [];
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
      `clientPortAddress=${host}`,
      'admin.enableServer=false',
      '4lw.commands.whitelist=*',
      'maxClientCnxns=0',
      ...Object.entries(options.config ?? {}).map(([k, v]) => `${k}=${v}`),
      serverLines,
    ].join('\n');
    const configFile = path.join(dataDir, 'zoo.cfg');
    await writeFile(configFile, config + '\n');
    members.push(member(id, ports[i].client, configFile, options.systemProperties ?? {}));
  }
  const stop = async () => {
    await Promise.all(members.map((m) => m.stopForGood()));
    await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
  };
  const ensemble: ApacheEnsemble = {
    members,
    connectString: members.map((m) => m.connectString).join(','),
    member: (port) => {
      const found = members.find((m) => m.clientPort === port);
      if (!found) throw new Error(`no member has client port ${port}`);
      return found;
    },
    async waitServing(count, waitOptions = {}) {
      const deadline = Date.now() + (waitOptions.timeoutMs ?? 30_000);
      const serving = (mode: string) =>
        mode === 'leader' || mode === 'follower' || (waitOptions.readOnly === true && mode === 'read-only');
      for (;;) {
        const modes = await Promise.all(members.map((m) => (m.running ? m.mode() : Promise.resolve(''))));
        if (modes.filter(serving).length >= count) return;
        if (Date.now() > deadline)
          throw new Error(`ensemble not serving with ${count} members: ${modes.join(',')}`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    },
    stop,
    [Symbol.asyncDispose]: stop,
  };
  try {
    await Promise.all(members.map((m) => m.start()));
    await ensemble.waitServing(size);
  } catch (error) {
    await stop();
    throw error;
  }
  return ensemble;
}

function member(
  id: number,
  clientPort: number,
  configFile: string,
  systemProperties: Record<string, string>,
): EnsembleMember & { stopForGood(): Promise<void> } {
  let child: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();
  let output = '';
  const kill = async () => {
    if (child !== undefined && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await exited;
    child = undefined;
  };
  return {
    id,
    clientPort,
    connectString: `127.0.0.1:${clientPort}`,
    get running() {
      return child !== undefined;
    },
    async mode() {
      const answer = await fourLetterWord(clientPort, 'srvr').catch(() => '');
      return /^Mode: (\S+)/m.exec(answer)?.[1] ?? '';
    },
    kill,
    output: () => output,
    async start() {
      if (child !== undefined) return;
      const properties = Object.entries(systemProperties).map(([k, v]) => `-D${k}=${v}`);
      child = spawn(
        '/usr/bin/java',
        [
          '-Xmx128m',
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
      child.stdout!.on('data', (d: Buffer) => (output = (output + d.toString()).slice(-20_000)));
      child.stderr!.on('data', (d: Buffer) => (output = (output + d.toString()).slice(-20_000)));
      const current = child;
      exited = new Promise<void>((resolve) => current.once('exit', () => resolve()));
    },
    stopForGood: kill,
  };
}
