// Real-process ensembles for the failover and nemesis suites: Apache ZooKeeper 3.8 or our zk-server,
// one process per member, from zoo.cfg files in Apache's format (server.N lines, dataDir/myid),
// on free loopback ports. Members can be killed (-9), stopped, paused (SIGSTOP), resumed and
// restarted; every wait is bounded and fails with the members' modes and log tails; stop() kills
// every process and removes every temporary directory, also after a failed start. A placement (the
// nemesis's) may give each member its own address, run it through a command prefix (a network
// namespace) and mount something on its dataDir (a small disk).
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { APACHE_JAR, apacheAvailable } from './apache.js';
import { fourLetterWord, freePort } from './ports.js';

export type EnsembleKind = 'apache' | 'menagerie';

const HOST = '127.0.0.1';
const SLF4J_SIMPLE = '/usr/share/java/slf4j-simple.jar';
const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
// MENAGERIE_SERVER_ROOT runs the zk-server of another checkout (a branch still being built).
const OUR_ROOT = process.env.MENAGERIE_SERVER_ROOT ?? REPO_ROOT;
const OUR_CLI = path.join(OUR_ROOT, 'server', 'cli.ts');
const OUTPUT_CHARS_MAX = 20_000;
const SRVR_TIMEOUT_MS = 1_500;
const START_ATTEMPTS = 3;
const START_MARKER = '=== member started';

export interface EnsembleOptions {
  kind: EnsembleKind;
  /** Participants (voters). */
  voters: number;
  observers?: number;
  /** Default 200: failover in a few hundred milliseconds. */
  tickTimeMs?: number;
  /** In ticks; default 20. */
  initLimit?: number;
  /** In ticks; default 5 (a paused leader is given up after syncLimit ticks). */
  syncLimit?: number;
  /** Extra zoo.cfg lines for every member (they override the defaults). */
  config?: Record<string, string | number | boolean>;
  /** Extra JVM -D properties (Apache only). */
  systemProperties?: Record<string, string>;
  /** How long every member may take to show a Mode. Default 30 000. */
  startTimeoutMs?: number;
  /** Where members run; default: every member on 127.0.0.1, as a plain child process. */
  placement?: MemberPlacement;
}

/** Where and how each member (1-based id) runs. */
export interface MemberPlacement {
  /** The address the member listens on for clients, the quorum and elections. */
  host(id: number): string;
  /** Put before the member's command line (e.g. `ip netns exec <ns>`); the pid stays the member's. */
  commandPrefix?(id: number): readonly string[];
  /** Called on the member's new, empty dataDir before anything is written there (e.g. a mount). */
  prepareDataDir?(dataDir: string, id: number): Promise<void>;
  /** Called once the member is dead, before the dataDir is removed (e.g. an unmount). */
  releaseDataDir?(dataDir: string, id: number): Promise<void>;
}

export type MemberMode = 'leader' | 'follower' | 'observer' | 'standalone' | 'read-only' | '';
export type ProcessState = 'running' | 'paused' | 'stopped';

export interface EnsembleMember {
  /** The server id (myid), 1-based. */
  readonly id: number;
  readonly role: 'participant' | 'observer';
  readonly clientPort: number;
  readonly quorumPort: number;
  readonly electionPort: number;
  /** This member's host:port only. */
  readonly connectString: string;
  /** The address it listens on. */
  readonly host: string;
  readonly dataDir: string;
  readonly state: ProcessState;
  readonly pid: number | undefined;
  /** What `srvr` says (leader, follower, observer, ...), or '' when it does not answer with a Mode. */
  mode(): Promise<MemberMode>;
  /** Waits until `mode()` is one of `modes`. */
  waitMode(modes: readonly MemberMode[], timeoutMs?: number): Promise<MemberMode>;
  /** A crash: SIGKILL, then waits for the exit (a paused process is killed too). */
  kill9(): Promise<void>;
  /** A clean stop: SIGTERM (SIGKILL after 5 s), then waits for the exit. */
  stop(): Promise<void>;
  /** SIGSTOP: the process stays, its sockets stay open, it answers nothing. */
  pause(): void;
  /** SIGCONT. */
  resume(): void;
  /** Starts a stopped member with the same config and dataDir (kills it first if running). */
  restart(): Promise<void>;
  /** Until the next restart, the process exiting by itself is expected (a fault may make it stop). */
  tolerateExit(): void;
  /** The tail of what the member printed. */
  output(): string;
  /** How the member synchronised with a leader since it last started, as its log says. */
  syncModes(): SyncMode[];
}

export type SyncMode = 'DIFF' | 'SNAP' | 'TRUNC';

export interface Ensemble extends AsyncDisposable {
  readonly kind: EnsembleKind;
  readonly members: readonly EnsembleMember[];
  /** Every member's host:port, comma separated. */
  readonly connectString: string;
  /** By server id (1-based). */
  member(id: number): EnsembleMember;
  /** The member that says it leads (waits for one among the running members). */
  leader(timeoutMs?: number): Promise<EnsembleMember>;
  /** Waits until every running member serves (shows a Mode). */
  waitServing(timeoutMs?: number): Promise<void>;
  /** Modes and log tails of every member, for failure messages. */
  describe(tailChars?: number): Promise<string>;
  stop(): Promise<void>;
}

/** Whether ensembles of this kind can be started here (Apache installed; ours: see ourEnsembleSupport). */
export function ensembleKindInstalled(kind: EnsembleKind): boolean {
  return kind === 'apache' ? apacheAvailable() : existsSync(OUR_CLI);
}

/** Why an ensemble of `kind` cannot run here (for a spec's skip notice), or undefined when it can. */
export async function ensembleUnavailable(kind: EnsembleKind): Promise<string | undefined> {
  if (kind === 'apache') return apacheAvailable() ? undefined : 'Apache ZooKeeper is not installed';
  const support = await ourEnsembleSupport();
  return support.supported ? undefined : `our zk-server does not run ensembles here: ${support.reason}`;
}

/** Starts the ensemble and waits until every member shows a Mode; retries on fresh ports. */
export async function startEnsemble(options: EnsembleOptions): Promise<Ensemble> {
  if (options.voters < 1 || (options.observers ?? 0) < 0) throw new Error('need at least one voter');
  for (let attempt = 1; ; attempt++) {
    const ensemble = await createEnsemble(options);
    try {
      await Promise.all(ensemble.members.map((m) => m.restart()));
      await ensemble.waitServing(options.startTimeoutMs ?? 30_000);
      return ensemble;
    } catch (error) {
      const report = await ensemble.describe().catch(() => '');
      await ensemble.stop();
      // A member that lost a port race exits at once: another start on fresh ports is worth it.
      if (attempt >= START_ATTEMPTS || options.kind === 'menagerie') {
        const message = `${options.kind} ensemble did not start (attempt ${attempt}): ${String(error)}`;
        throw new Error(`${message}\n${report}`, { cause: error });
      }
    }
  }
}

interface MemberPorts {
  client: number;
  quorum: number;
  election: number;
}

async function createEnsemble(options: EnsembleOptions): Promise<Ensemble> {
  const observers = options.observers ?? 0;
  const size = options.voters + observers;
  const ports: MemberPorts[] = [];
  const taken = new Set<number>();
  const hostOf = (i: number) => options.placement?.host(i + 1) ?? HOST;
  while (ports.length < size) {
    const three = [await freePort(), await freePort(), await freePort()];
    if (three.some((p) => taken.has(p)) || new Set(three).size < 3) continue;
    three.forEach((p) => taken.add(p));
    ports.push({ client: three[0]!, quorum: three[1]!, election: three[2]! });
  }
  const roleOf = (i: number) => (i < options.voters ? 'participant' : 'observer');
  // One voter and no observer is a standalone server: no server lines, as Apache expects.
  const serverLines =
    size === 1
      ? []
      : ports.map((p, i) => {
          const role = roleOf(i) === 'observer' ? ':observer' : '';
          return `server.${i + 1}=${hostOf(i)}:${p.quorum}:${p.election}${role}`;
        });
  const members: Member[] = [];
  const dirs: string[] = [];
  try {
    for (let i = 0; i < size; i++) {
      const id = i + 1;
      const dataDir = await mkdtemp(path.join(tmpdir(), `${options.kind}-ens-${id}-`));
      dirs.push(dataDir);
      liveDirs.add(dataDir);
      await options.placement?.prepareDataDir?.(dataDir, id);
      await writeFile(path.join(dataDir, 'myid'), `${id}\n`);
      const lines: Record<string, string | number | boolean> = {
        tickTime: options.tickTimeMs ?? 200,
        initLimit: options.initLimit ?? 20,
        syncLimit: options.syncLimit ?? 5,
        dataDir,
        clientPort: ports[i]!.client,
        clientPortAddress: hostOf(i),
        'admin.enableServer': false,
        '4lw.commands.whitelist': '*',
        maxClientCnxns: 0,
        extendedTypesEnabled: true,
        ...(roleOf(i) === 'observer' ? { peerType: 'observer' } : {}),
        ...options.config,
      };
      const text = [...Object.entries(lines).map(([k, v]) => `${k}=${v}`), ...serverLines].join('\n') + '\n';
      const configFile = path.join(dataDir, 'zoo.cfg');
      await writeFile(configFile, text);
      members.push(new Member(options, id, roleOf(i), ports[i]!, hostOf(i), dataDir, configFile));
    }
  } catch (error) {
    await removeDirs(dirs, options.placement);
    throw error;
  }
  return new RunningEnsemble(options.kind, members, dirs, options.placement);
}

class RunningEnsemble implements Ensemble {
  readonly connectString: string;
  #stopping: Promise<void> | undefined;

  constructor(
    readonly kind: EnsembleKind,
    readonly members: readonly Member[],
    private readonly dirs: readonly string[],
    private readonly placement: MemberPlacement | undefined,
  ) {
    this.connectString = members.map((m) => m.connectString).join(',');
  }

  member(id: number): EnsembleMember {
    const found = this.members[id - 1];
    if (found === undefined) throw new Error(`no member ${id} (ids 1..${this.members.length})`);
    return found;
  }

  async leader(timeoutMs = 30_000): Promise<EnsembleMember> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      this.#throwIfDied();
      const running = this.members.filter((m) => m.state === 'running');
      const modes = await Promise.all(running.map((m) => m.mode()));
      const leaders = running.filter((_, i) => modes[i] === 'leader');
      if (leaders.length === 1) return leaders[0]!;
      if (Date.now() > deadline) {
        throw new Error(`no single leader within ${timeoutMs} ms:\n${await this.describe()}`);
      }
      await sleep(100);
    }
  }

  async waitServing(timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      this.#throwIfDied();
      const running = this.members.filter((m) => m.state === 'running');
      const modes = await Promise.all(running.map((m) => m.mode()));
      if (modes.every((mode) => mode !== '')) return;
      if (Date.now() > deadline) {
        throw new Error(`not every running member serves within ${timeoutMs} ms:\n${await this.describe()}`);
      }
      await sleep(100);
    }
  }

  async describe(tailChars = 1_500): Promise<string> {
    const parts = await Promise.all(
      this.members.map(async (m) => {
        const mode = m.state === 'running' ? (await m.mode()) || '(no mode)' : `(${m.state})`;
        const tail = m.output().slice(-tailChars).trimEnd();
        return `--- ${this.kind} member ${m.id} (${m.role}, client port ${m.clientPort}): ${mode}\n${tail}`;
      }),
    );
    return parts.join('\n');
  }

  stop(): Promise<void> {
    this.#stopping ??= (async () => {
      await Promise.all(this.members.map((m) => m.kill9()));
      await removeDirs(this.dirs, this.placement);
    })();
    return this.#stopping;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }

  #throwIfDied(): void {
    const died = this.members.find((m) => m.diedUnexpectedly);
    if (died !== undefined) {
      throw new Error(`${this.kind} member ${died.id} exited by itself:\n${died.output().slice(-3000)}`);
    }
  }
}

class Member implements EnsembleMember {
  readonly connectString: string;
  readonly clientPort: number;
  readonly quorumPort: number;
  readonly electionPort: number;
  #child: ChildProcess | undefined;
  #exited: Promise<void> = Promise.resolve();
  #paused = false;
  #output = '';
  #expectingExit = false;
  #exitTolerated = false;
  diedUnexpectedly = false;

  constructor(
    private readonly options: EnsembleOptions,
    readonly id: number,
    readonly role: 'participant' | 'observer',
    ports: MemberPorts,
    readonly host: string,
    readonly dataDir: string,
    private readonly configFile: string,
  ) {
    this.clientPort = ports.client;
    this.quorumPort = ports.quorum;
    this.electionPort = ports.election;
    this.connectString = `${host}:${ports.client}`;
  }

  get state(): ProcessState {
    if (this.#child === undefined) return 'stopped';
    return this.#paused ? 'paused' : 'running';
  }

  get pid(): number | undefined {
    return this.#child?.pid;
  }

  output(): string {
    return this.#output;
  }

  tolerateExit(): void {
    this.#exitTolerated = true;
  }

  syncModes(): SyncMode[] {
    const started = this.#output.lastIndexOf(START_MARKER);
    const sinceStart = started < 0 ? this.#output : this.#output.slice(started);
    const modes: SyncMode[] = [];
    // Apache's Learner lines; ours: any log line naming the mode with 'sync' in it.
    const patterns: [SyncMode, RegExp][] = [
      ['DIFF', /Getting a diff from the leader|sync[^\n]*\bDIFF\b/gi],
      ['SNAP', /Getting a snapshot from leader|sync[^\n]*\bSNAP\b/gi],
      ['TRUNC', /Truncating log to get in sync|sync[^\n]*\bTRUNC\b/gi],
    ];
    const found: { at: number; mode: SyncMode }[] = [];
    for (const [mode, pattern] of patterns) {
      for (const match of sinceStart.matchAll(pattern)) found.push({ at: match.index ?? 0, mode });
    }
    for (const { mode } of found.sort((a, b) => a.at - b.at)) modes.push(mode);
    return modes;
  }

  async mode(): Promise<MemberMode> {
    if (this.#child === undefined || this.#paused) return '';
    const answer = await fourLetterWord(this.clientPort, 'srvr', this.host, SRVR_TIMEOUT_MS).catch(() => '');
    return (/^Mode: (\S+)/m.exec(answer)?.[1] ?? '') as MemberMode;
  }

  async waitMode(modes: readonly MemberMode[], timeoutMs = 30_000): Promise<MemberMode> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (this.diedUnexpectedly) throw new Error(`member ${this.id} exited:\n${this.#output.slice(-3000)}`);
      const mode = await this.mode();
      if (modes.includes(mode)) return mode;
      if (Date.now() > deadline) {
        const tail = this.#output.slice(-3000);
        const wanted = modes.join('|');
        throw new Error(`member ${this.id} is '${mode}', not ${wanted}, after ${timeoutMs} ms:\n${tail}`);
      }
      await sleep(100);
    }
  }

  async kill9(): Promise<void> {
    await this.#end('SIGKILL');
  }

  async stop(): Promise<void> {
    await this.#end('SIGTERM');
  }

  pause(): void {
    if (this.#child === undefined || this.#paused) return;
    this.#child.kill('SIGSTOP');
    this.#paused = true;
  }

  resume(): void {
    if (this.#child === undefined || !this.#paused) return;
    this.#child.kill('SIGCONT');
    this.#paused = false;
  }

  async restart(): Promise<void> {
    await this.kill9();
    this.diedUnexpectedly = false;
    this.#exitTolerated = false;
    const child = this.#spawn();
    this.#child = child;
    this.#paused = false;
    const append = (d: Buffer) => (this.#output = (this.#output + d.toString()).slice(-OUTPUT_CHARS_MAX));
    child.stdout!.on('data', append);
    child.stderr!.on('data', append);
    this.#exited = new Promise<void>((resolve) => {
      child.once('exit', () => {
        if (!this.#expectingExit && !this.#exitTolerated) this.diedUnexpectedly = true;
        if (this.#child === child) this.#child = undefined;
        resolve();
      });
    });
  }

  async #end(signal: 'SIGKILL' | 'SIGTERM'): Promise<void> {
    const child = this.#child;
    if (child === undefined) return;
    this.#expectingExit = true;
    try {
      if (child.exitCode === null && child.signalCode === null) {
        if (signal === 'SIGTERM' && this.#paused) child.kill('SIGCONT');
        child.kill(signal);
      }
      const escalate = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await this.#exited;
      clearTimeout(escalate);
    } finally {
      this.#expectingExit = false;
      this.#paused = false;
      if (this.#child === child) this.#child = undefined;
    }
  }

  #spawn(): ChildProcess {
    const child = this.#spawnProcess();
    liveChildren.add(child);
    child.once('exit', () => liveChildren.delete(child));
    return child;
  }

  #spawnProcess(): ChildProcess {
    const stdio: ['ignore', 'pipe', 'pipe'] = ['ignore', 'pipe', 'pipe'];
    this.#output += `\n${START_MARKER} ${new Date().toISOString()}\n`;
    const prefix = this.options.placement?.commandPrefix?.(this.id) ?? [];
    const start = (command: string, args: string[], extra: { cwd?: string; env?: NodeJS.ProcessEnv }) =>
      prefix.length === 0
        ? spawn(command, args, { stdio, ...extra })
        : spawn(prefix[0]!, [...prefix.slice(1), command, ...args], { stdio, ...extra });
    if (this.options.kind === 'menagerie') {
      const args = ['--import', 'tsx', OUR_CLI, 'start-foreground', this.configFile];
      const env = { ...process.env, ZK_SERVER_LOG_LEVEL: process.env.ZK_SERVER_LOG_LEVEL ?? 'info' };
      return start(process.execPath, args, { cwd: OUR_ROOT, env });
    }
    const properties = Object.entries(this.options.systemProperties ?? {}).map(([k, v]) => `-D${k}=${v}`);
    const args = [
      '-Xmx128m',
      '-XX:+UseSerialGC',
      '-XX:TieredStopAtLevel=1',
      '-Dorg.slf4j.simpleLogger.defaultLogLevel=warn',
      // The learner says how it synchronised (DIFF, SNAP, TRUNC) at info: syncModes() reads it.
      '-Dorg.slf4j.simpleLogger.log.org.apache.zookeeper.server.quorum.Learner=info',
      '-Dorg.slf4j.simpleLogger.log.org.apache.zookeeper.server.quorum.LearnerHandler=info',
      ...properties,
      '-cp',
      `${APACHE_JAR}:${SLF4J_SIMPLE}`,
      'org.apache.zookeeper.server.quorum.QuorumPeerMain',
      this.configFile,
    ];
    return start('/usr/bin/java', args, {});
  }
}

async function removeDirs(dirs: readonly string[], placement: MemberPlacement | undefined): Promise<void> {
  await Promise.all(
    dirs.map(async (dir, i) => {
      await placement?.releaseDataDir?.(dir, i + 1).catch(() => {});
      await rm(dir, { recursive: true, force: true }).catch(() => {});
      liveDirs.delete(dir);
    }),
  );
}

// Members and their dataDirs must not outlive the test process, even when it exits without stopping
// its ensembles.
const liveChildren = new Set<ChildProcess>();
const liveDirs = new Set<string>();
process.once('exit', () => {
  for (const child of liveChildren) child.kill('SIGKILL');
  for (const dir of liveDirs) {
    try {
      rmSync(dir, { recursive: true, force: true });
    } catch {
      // still a mount point (the placement's exit handler unmounts it)
    }
  }
});

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Whether our zk-server runs ensembles: MENAGERIE_ENSEMBLE=1 says yes, =0 says no; otherwise a probe
 * starts a 3-member ensemble of ours and sees whether every member shows a Mode within `timeoutMs`.
 * The answer is cached for the process. `reason` says why not, for the skip notice.
 */
export async function ourEnsembleSupport(timeoutMs = 20_000): Promise<EnsembleSupport> {
  probing ??= (async () => {
    const forced = process.env.MENAGERIE_ENSEMBLE;
    if (forced === '1') return { supported: true, reason: 'MENAGERIE_ENSEMBLE=1' };
    if (forced === '0') return { supported: false, reason: 'MENAGERIE_ENSEMBLE=0' };
    try {
      const ensemble = await startEnsemble({ kind: 'menagerie', voters: 3, startTimeoutMs: timeoutMs });
      await ensemble.stop();
      return { supported: true, reason: 'a 3-member probe ensemble served' };
    } catch (error) {
      const firstLines = String(error).split('\n').slice(0, 1).join(' ');
      const refusal = /describes an ensemble[^\n]*/.exec(String(error))?.[0];
      return { supported: false, reason: refusal ?? firstLines };
    }
  })();
  return await probing;
}
let probing: Promise<EnsembleSupport> | undefined;

export interface EnsembleSupport {
  readonly supported: boolean;
  readonly reason: string;
}
