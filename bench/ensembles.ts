// 3-member ensembles for the benchmarks, each member a process of its own from a generated zoo.cfg
// and myid in its own dataDir: Apache ZooKeeper 3.8 (QuorumPeerMain, the JVM settings of
// bench/servers.ts) and ours (`zk-server start-foreground`, bench/ensemble-member-child.ts). Both get
// the same timing (Debian's zoo.cfg: tickTime 2000, initLimit 10, syncLimit 5). A member can be
// killed with SIGKILL and started again on its dataDir. Stopping is idempotent and kills every member.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { APACHE_JAR } from '../test/support/apache.js';
import { fourLetterWord, freePort } from '../test/support/ports.js';
import { trackChild } from './children.js';

export type EnsembleKind = 'ours' | 'apache';

const SLF4J_SIMPLE = '/usr/share/java/slf4j-simple.jar';
const APACHE_HEAP_MB = 1000;
const SERVING_TIMEOUT_MS = 60_000;
const POLL_MS = 5;
const OUTPUT_CHARS_MAX = 32_000;

export interface EnsembleMemberProcess {
  readonly id: number;
  readonly clientPort: number;
  readonly connectString: string;
  /** Undefined while killed. */
  child: ChildProcess | undefined;
  output: string;
}

export interface BenchEnsemble extends AsyncDisposable {
  readonly kind: EnsembleKind;
  readonly members: readonly EnsembleMemberProcess[];
  /** Every member, comma-separated. */
  readonly connectString: string;
  /** Resolves once every running member's `srvr` shows a Mode and one of them leads; returns it. */
  settled(signal?: AbortSignal): Promise<EnsembleMemberProcess>;
  /** SIGKILL: the process dies with its sockets, as in a crash. */
  kill(member: EnsembleMemberProcess): Promise<void>;
  /** Starts a killed member again on its dataDir. */
  restart(member: EnsembleMemberProcess): void;
  stop(): Promise<void>;
}

/** The mode `srvr` reports, or undefined when the member does not serve (or does not answer). */
export async function modeOf(member: EnsembleMemberProcess): Promise<string | undefined> {
  const answer = await fourLetterWord(member.clientPort, 'srvr', '127.0.0.1', 1_000).catch(() => '');
  return /^Mode: (\w+)/m.exec(answer)?.[1];
}

export async function startBenchEnsemble(kind: EnsembleKind, size = 3): Promise<BenchEnsemble> {
  const root = await mkdtemp(path.join(tmpdir(), `bench-ensemble-${kind}-`));
  const ports: Array<{ client: number; quorum: number; election: number }> = [];
  for (let i = 0; i < size; i++) {
    ports.push({ client: await freePort(), quorum: await freePort(), election: await freePort() });
  }
  const serverLines = ports.map((p, i) => `server.${i + 1}=127.0.0.1:${p.quorum}:${p.election}`);
  const configFiles: string[] = [];
  for (let i = 0; i < size; i++) {
    const dataDir = path.join(root, String(i + 1));
    await mkdir(dataDir);
    await writeFile(path.join(dataDir, 'myid'), `${i + 1}\n`);
    const lines = [
      'tickTime=2000', 'initLimit=10', 'syncLimit=5', `dataDir=${dataDir}`,
      `clientPort=${ports[i]!.client}`, 'clientPortAddress=127.0.0.1', 'admin.enableServer=false',
      '4lw.commands.whitelist=*', 'maxClientCnxns=0', ...serverLines,
    ];
    const file = path.join(dataDir, 'zoo.cfg');
    await writeFile(file, `${lines.join('\n')}\n`);
    configFiles.push(file);
  }
  const members: EnsembleMemberProcess[] = ports.map((p, i) => ({
    id: i + 1, clientPort: p.client, connectString: `127.0.0.1:${p.client}`, child: undefined, output: '',
  }));
  const spawnMember = (member: EnsembleMemberProcess) => {
    const file = configFiles[member.id - 1]!;
    const child = kind === 'apache'
      ? spawn('/usr/bin/java', [
        `-Xmx${APACHE_HEAP_MB}m`, '-Dorg.slf4j.simpleLogger.defaultLogLevel=warn',
        '-cp', `${APACHE_JAR}:${SLF4J_SIMPLE}`, 'org.apache.zookeeper.server.quorum.QuorumPeerMain', file,
      ], { stdio: ['ignore', 'pipe', 'pipe'] })
      : spawn(process.execPath, [
        '--import', 'tsx', fileURLToPath(new URL('./ensemble-member-child.ts', import.meta.url)), file,
      ], { stdio: ['ignore', 'pipe', 'pipe'] });
    trackChild(child);
    const keep = (d: Buffer) => (member.output = (member.output + d.toString()).slice(-OUTPUT_CHARS_MAX));
    child.stdout!.on('data', keep);
    child.stderr!.on('data', keep);
    child.once('error', (error) => (member.output += `\n${error.message}`));
    member.child = child;
  };
  const kill = async (member: EnsembleMemberProcess) => {
    const child = member.child;
    member.child = undefined;
    if (child === undefined || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGKILL');
    await exited;
  };
  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      await Promise.all(members.map(kill));
      await rm(root, { recursive: true, force: true });
    })());
  const settled = async (signal?: AbortSignal) => {
    const deadline = performance.now() + SERVING_TIMEOUT_MS;
    for (;;) {
      signal?.throwIfAborted();
      const running = members.filter((m) => m.child !== undefined);
      for (const m of running) {
        if (m.child!.exitCode === null) continue;
        throw new Error(`${kind} member ${m.id} exited:\n${m.output.slice(-2000)}`);
      }
      const modes = await Promise.all(running.map(modeOf));
      const leaderIndex = modes.indexOf('leader');
      if (leaderIndex >= 0 && modes.every((m) => m !== undefined)) return running[leaderIndex]!;
      if (performance.now() > deadline) {
        const tails = members.map((m) => `member ${m.id}: ${m.output.slice(-600)}`).join('\n');
        throw new Error(`${kind} ensemble not settled within ${SERVING_TIMEOUT_MS} ms:\n${tails}`);
      }
      await new Promise((resolve) => setTimeout(resolve, POLL_MS * 10));
    }
  };
  members.forEach(spawnMember);
  const ensemble: BenchEnsemble = {
    kind,
    members,
    connectString: members.map((m) => m.connectString).join(','),
    settled,
    kill,
    restart: (member) => {
      if (member.child === undefined) spawnMember(member);
    },
    stop,
    [Symbol.asyncDispose]: stop,
  };
  try {
    await settled();
  } catch (error) {
    await stop();
    throw error;
  }
  return ensemble;
}
