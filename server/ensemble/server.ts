// Running an ensemble member as a server: its core, client listener and EnsembleMember wired together
// (`startEnsembleMember`, what `zk-server start-foreground` runs for a zoo.cfg with server.N lines),
// and a whole ensemble in this process on loopback for tests and demos (`startEnsemble`).

import { mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { pino, type Logger } from 'pino';
import { InvalidArgumentError } from '../../src/protocol/errors.js';
import {
  configFromOptions, type QuorumServerConfig, type ServerConfig, type ServerOptions,
} from '../config/index.js';
import { ServerCore } from '../core/server-core.js';
import { registerQuorumMetrics } from '../metrics/index.js';
import { ClientListener } from '../net/client-listener.js';
import type { ServerModeView } from '../net/four-letter-words.js';
import { DEFAULT_CONNECTION_LIMITS, type ConnectionLimits } from '../net/limits.js';
import { recordDynamicConfig } from '../config/dynamic-config.js';
import { quorumConfig, type Membership, type PeerStatus, type QuorumConfig } from '../quorum/index.js';
import { coreOptionsOf, startSideServers, type RunningServer } from '../standalone.js';
import { DiskPeerStorage, diskPeerStorageOptions } from './disk-storage.js';
import { EnsembleMember, type MemberReconfigOptions } from './member.js';
import { MemoryDisk, MemoryNetwork, MemoryStorage } from './memory.js';
import { peerAddressesOf, reconfigOfPayload } from './reconfig.js';
import type { PeerAddress, PeerStorage, PeerTransport } from './seams.js';
import { TcpPeerTransport } from './tcp-transport.js';

/**
 * Quorum timing a caller may tune beyond tickTime / initLimit / syncLimit (tests shorten the
 * election's waits: `finalizeWaitMs`, `notificationIntervalMinMs`, `notificationIntervalMaxMs`).
 */
export type QuorumTuning = Partial<Omit<QuorumConfig, 'myId' | 'voters' | 'observers'>>;

export interface StartMemberOptions {
  /** The member's config: server.N lines (`servers`), myid (`serverId`), tickTime, initLimit, syncLimit. */
  readonly config: ServerConfig;
  /** The network between peers (TCP between processes; a MemoryNetwork's in process). */
  readonly transport: PeerTransport;
  /** The member's disk (dataDir; a MemoryStorage in process). */
  readonly storage: PeerStorage;
  readonly logger?: Logger;
  readonly quorum?: QuorumTuning;
  readonly connectionLimits?: Partial<ConnectionLimits>;
  /** Called when the member can no longer serve (storage failed); it is stopped right after. */
  readonly onFatal?: (error: unknown) => void;
  /** Different on every start of the member; default: the start time. */
  readonly incarnation?: string;
  /** readonlymode.enabled: how long without a quorum before serving read-only (Apache: max(2 s, tick)). */
  readonly readOnlyAfterMs?: number;
}

/**
 * A running ensemble member: a {@link RunningServer} (client port, `expireSession`, `stop`, `await
 * using`) whose mode follows the ensemble. Stopping it twice is harmless.
 */
export interface RunningMember extends RunningServer {
  /** Its server id (myid; N of its server.N line). */
  readonly myId: number;
  /**
   * 'leader', 'follower' or 'observer' while it serves clients, 'read-only' while it serves reads
   * only (readonlymode.enabled, no quorum), else 'not serving' (as `srvr` shows it).
   */
  readonly mode: ServerModeView;
  /** @internal the runtime, for tests of the ensemble itself */
  readonly member: EnsembleMember;
  /** The consensus state (LOOKING / FOLLOWING / LEADING / OBSERVING, epochs, zxids). */
  status(): PeerStatus | undefined;
  /** Resolves once the member serves clients (immediately if it does). */
  serving(options?: { signal?: AbortSignal }): Promise<ServerModeView>;
}

/** The quorum config a member's server config describes. */
export function quorumConfigOf(config: ServerConfig, tuning: QuorumTuning = {}): QuorumConfig {
  if (config.serverId === undefined) throw new InvalidArgumentError('an ensemble member needs its myid');
  const idOf = (id: bigint) => Number(id);
  return quorumConfig({
    myId: idOf(config.serverId),
    voters: config.servers.filter((s) => s.role === 'participant').map((s) => idOf(s.id)),
    observers: config.servers.filter((s) => s.role === 'observer').map((s) => idOf(s.id)),
    tickMs: config.tickTimeMs,
    initLimitTicks: config.initLimitTicks,
    syncLimitTicks: config.syncLimitTicks,
    configVersion: config.configVersion ?? 0n,
    configText: ensembleConfigText(config),
    reconfigOf: reconfigOfPayload,
    ...tuning,
  });
}

/**
 * Starts one member on the seams given (its peer network and its disk): recovers the storage, binds
 * the client port, then joins the ensemble. {@link startMemberFromConfig} picks TCP and dataDir.
 * @internal
 */
export async function startEnsembleMember(options: StartMemberOptions): Promise<RunningMember> {
  const { config } = options;
  const log = options.logger ?? pino({ level: 'silent' });
  const quorum = quorumConfigOf(config, options.quorum);
  const core = new ServerCore({
    ...coreOptionsOf(config, quorum.myId, log),
    configData: Buffer.from(ensembleConfigText(config)),
  });
  let listener: ClientListener | undefined;
  const member = new EnsembleMember({
    quorum,
    core,
    transport: options.transport,
    storage: options.storage,
    log,
    incarnation: options.incarnation,
    readOnlyAfterMs: config.readOnlyModeEnabled
      ? options.readOnlyAfterMs ?? Math.max(2000, config.tickTimeMs)
      : undefined,
    onFatal: (error) => {
      options.onFatal?.(error);
      void stop();
    },
    reconfig: reconfigOptions(config, options.transport, options.storage, log),
  });
  const limits = { ...DEFAULT_CONNECTION_LIMITS, ...options.connectionLimits };
  listener = new ClientListener(core, member, config, log, limits);
  const running = listener;
  const address = await listener.listen().catch(async (error: unknown) => {
    await options.transport.close();
    await options.storage.close();
    throw error;
  });
  const boundConfig = { ...config, clientPort: address.port };
  let sideServers: Awaited<ReturnType<typeof startSideServers>> = {};
  let stopped: Promise<void> | undefined;
  const stop = () => {
    stopped ??= Promise.all([sideServers.admin?.stop(), sideServers.metrics?.stop()])
      .then(() => running.stop())
      .then(() => member.stop())
      .then(() => log.info('stopped'));
    return stopped;
  };
  try {
    await member.start(running);
    sideServers = await startSideServers(running, boundConfig, log);
    if (sideServers.metrics !== undefined) {
      // The quorum's gauges and counters next to the standalone ones (learners, election_time, ...).
      registerQuorumMetrics(sideServers.metrics.registry, {
        quorumStats: member.quorumStats,
        monitorEntries: () => member.monitorEntries(),
      });
    }
  } catch (error) {
    await stop();
    throw error;
  }
  const host = ['0.0.0.0', '::', ''].includes(address.address) ? '127.0.0.1' : address.address;
  const port = address.port;
  log.info({ port, myId: quorum.myId }, 'member listening for clients');
  return {
    config: boundConfig,
    host,
    port,
    connectString: `${host.includes(':') ? `[${host}]` : host}:${port}`,
    adminPort: sideServers.admin?.port,
    metricsPort: sideServers.metrics?.port,
    myId: quorum.myId,
    member,
    get mode() {
      return running.mode;
    },
    get connectionCount() {
      return running.connectionCount;
    },
    status: () => member.status(),
    serving: (waitOptions) => waitServing(member, running, waitOptions?.signal),
    expireSession: (sessionId) => running.expireSession(sessionId),
    dropConnections: () => running.dropConnections(),
    stop,
    [Symbol.asyncDispose]: stop,
  };
}

/** What {@link startMemberFromConfig} takes besides the config. */
export type StartMemberFromConfigOptions =
  Pick<StartMemberOptions, 'logger' | 'onFatal' | 'quorum' | 'connectionLimits'>;

/**
 * Starts one ensemble member as `zk-server start-foreground` does for a zoo.cfg with server.N lines:
 * TCP between the peers on the ports of its server.N lines, and its dataDir on disk (in memory when
 * there is none). Start one per server.N line, each with its own myid (`serverId`); the members
 * elect a leader and serve clients once a quorum of voters runs.
 *
 * ```ts
 * const { config } = await loadZooCfg('/etc/zookeeper/zoo.cfg'); // server.1..3, dataDir/myid
 * await using member = await startMemberFromConfig(config);
 * await member.serving(); // 'leader' | 'follower' | 'observer'
 * ```
 */
export async function startMemberFromConfig(
  config: ServerConfig,
  options: StartMemberFromConfigOptions = {},
): Promise<RunningMember> {
  const logger = options.logger ?? pino({ level: 'silent' });
  const quorum = quorumConfigOf(config, options.quorum);
  let running: RunningMember | undefined;
  const onStorageFailure = (error: Error) => {
    logger.error({ err: error }, 'the disk failed: stopping');
    options.onFatal?.(error);
    void running?.stop();
  };
  const storage =
    config.dataDir === undefined
      ? new MemoryStorage()
      : new DiskPeerStorage(diskPeerStorageOptions(config, { logger, onFailure: onStorageFailure }));
  const transport = new TcpPeerTransport({ myId: quorum.myId, peers: peerAddresses(config), logger });
  running = await startEnsembleMember({ ...options, config, transport, storage, logger });
  return running;
}

/**
 * The data of /zookeeper/config, as Apache writes a static config's quorum there: one
 * `server.N=host:quorumPort:electionPort:role[;clientHost:clientPort]` line per member, then the
 * config version in hex (0 for a static config). Only server lines that name a client address show one.
 */
export function ensembleConfigText(config: ServerConfig): string {
  const lines = config.servers.map((server) => {
    const { id, host, quorumPort, electionPort, role } = server;
    let line = `server.${id}=${host}:${quorumPort}:${electionPort}:${role}`;
    // Apache 3.8 leaves a client address taken from clientPort/clientPortAddress out of the text, so
    // every member shows the same config.
    if (server.clientPort !== undefined) line += `;${server.clientHost ?? '0.0.0.0'}:${server.clientPort}`;
    return line;
  });
  return [...lines, `version=${(config.configVersion ?? 0n).toString(16)}`].join('\n');
}

/**
 * What a member does when the configs in force change: its transport connects to the members of all
 * of them (keeping its own address), and a member started from a zoo.cfg records a newly activated
 * config as Apache does (zoo.cfg.dynamic.<version>, zoo.cfg pointing at it).
 */
function reconfigOptions(
  config: ServerConfig, transport: PeerTransport, storage: PeerStorage, log: Logger,
): MemberReconfigOptions {
  const me = peerAddresses(config).find((p) => BigInt(p.id) === config.serverId);
  // Every peer ever configured stays reachable: a removed learner keeps following its leader (as
  // Apache's), so the leader must still reach it. A newer config's address of an id wins.
  const known = new Map(peerAddresses(config).map((p) => [p.id, p]));
  let recorded = config.configVersion ?? 0n;
  let writing = Promise.resolve();
  const onMembership = (active: Membership, pending: readonly Membership[]) => {
    const setPeers = (transport as Partial<TcpPeerTransport>).setPeers;
    if (setPeers !== undefined) {
      for (const peer of peerAddressesOf([active, ...pending])) known.set(peer.id, peer);
      const peers = [...known.values()].filter((p) => p.id !== me?.id);
      setPeers.call(transport, me === undefined ? peers : [...peers, me]);
    }
    // An in-memory disk keeps the config itself (a zoo.cfg-started member has the dynamic file below).
    (storage as Partial<MemoryStorage>).recordMembership?.call(storage, active);
    const file = config.configFile;
    if (file === undefined || active.version <= recorded || active.text === undefined) return;
    recorded = active.version;
    const text = active.text;
    writing = writing
      .then(() => recordDynamicConfig(file, text, active.version))
      .then((written) => log.info({ file: written }, 'recorded the new config'))
      .catch((error: unknown) => log.error({ err: error }, 'could not record the new config'));
  };
  return { enabled: config.reconfigEnabled, standaloneEnabled: config.standaloneEnabled, onMembership };
}

/** The peers' addresses of server.N lines. */
export function peerAddresses(config: ServerConfig): PeerAddress[] {
  return config.servers.map((server) => ({
    id: Number(server.id),
    host: server.host,
    quorumPort: server.quorumPort,
    electionPort: server.electionPort,
  }));
}

async function waitServing(member: EnsembleMember, listener: ClientListener, signal?: AbortSignal):
  Promise<ServerModeView> {
  while (member.mode === undefined) {
    signal?.throwIfAborted();
    if (member.failed) throw new Error(`member ${member.myId} stopped before serving`);
    const changed = member.roleChanged();
    if (signal === undefined) {
      await changed;
      continue;
    }
    await new Promise<void>((resolve, reject) => {
      const onAbort = () => reject(signal.reason);
      signal.addEventListener('abort', onAbort, { once: true });
      void changed.then(() => {
        signal.removeEventListener('abort', onAbort);
        resolve();
      });
    });
  }
  return listener.mode;
}

// ----- a whole ensemble in this process -----

/** Options of {@link startEnsemble}. */
export interface StartEnsembleOptions {
  /** Voting members (ids 1..size). */
  readonly size: number;
  /** Observers (ids size+1..size+observers); default none. */
  readonly observers?: number;
  /** tickTime of every member; default 100 ms (fast elections and failure detection in tests). */
  readonly tickTimeMs?: number;
  readonly initLimitTicks?: number;
  readonly syncLimitTicks?: number;
  /** Any other server options every member gets (minSessionTimeout, extendedTypesEnabled, ...). */
  readonly serverOptions?: ServerOptions;
  readonly quorum?: QuorumTuning;
  /** With serverOptions.readOnlyModeEnabled: the wait before serving read-only (default 500 ms here). */
  readonly readOnlyAfterMs?: number;
  /** 'memory' (default): a MemoryNetwork; 'tcp': TcpPeerTransport on free loopback ports. */
  readonly transport?: 'memory' | 'tcp';
  /** 'memory' (default): MemoryStorage; 'disk': DiskPeerStorage in a temporary directory per member. */
  readonly storage?: 'memory' | 'disk';
  /** The in-process network for transport 'memory' (default: a lossless one). */
  readonly network?: MemoryNetwork;
  readonly logger?: Logger;
}

/**
 * An ensemble running in this process (see {@link startEnsemble}). Stop it with `stop()` or
 * `await using`; stopping twice is harmless, and removes the temporary data directories.
 */
export interface RunningEnsemble extends AsyncDisposable {
  /** The in-process peer network (transport 'memory'): partition, isolate and heal peers. */
  readonly network: MemoryNetwork;
  /** Running members by id (a stopped member is absent until restarted). */
  readonly members: ReadonlyMap<number, RunningMember>;
  /** Every running member's host:port, comma-separated. */
  readonly connectString: string;
  member(id: number): RunningMember;
  /** The serving leader, if there is one now. */
  leader(): RunningMember | undefined;
  /** Resolves once a leader serves and every running member serves too. */
  settled(options?: { signal?: AbortSignal }): Promise<RunningMember>;
  /** Ends a session as if it had expired, through the leader. */
  expireSession(sessionId: bigint): Promise<void>;
  /** Stops one member (its disk is kept for restartMember). */
  stopMember(id: number): Promise<void>;
  /** Starts a stopped member again from its disk, on its old client port (a new one if that is taken). */
  restartMember(id: number): Promise<RunningMember>;
  stop(): Promise<void>;
}

/** Quorum waits shortened for in-process ensembles (Apache's are 200 ms and up). */
const IN_PROCESS_TUNING: QuorumTuning = {
  finalizeWaitMs: 50,
  notificationIntervalMinMs: 50,
  notificationIntervalMaxMs: 800,
};

/**
 * Starts a whole ensemble in this process, on loopback client ports the OS picks: `size` voters and
 * `observers` observers, with ids 1..size+observers. Peers talk over an in-memory network (default)
 * or real TCP on free loopback ports; their disks are in memory (default, kept across
 * `restartMember`) or temporary directories. For tests and demos; `menagerie/testing`'s
 * `TestingCluster` wraps it. Resolves once every member has started; `settled()` waits for a leader.
 *
 * ```ts
 * await using ensemble = await startEnsemble({ size: 3 });
 * const leader = await ensemble.settled();
 * const zk = createFramework({ connectString: ensemble.connectString });
 * ```
 */
export async function startEnsemble(options: StartEnsembleOptions): Promise<RunningEnsemble> {
  const { size, observers = 0 } = options;
  if (!Number.isInteger(size) || size < 1 || !Number.isInteger(observers) || observers < 0) {
    throw new InvalidArgumentError('an ensemble needs a positive size and a non-negative observer count');
  }
  const network = options.network ?? new MemoryNetwork();
  const ids = Array.from({ length: size + observers }, (_, index) => index + 1);
  const tcp = options.transport === 'tcp';
  const servers: QuorumServerConfig[] = [];
  for (const id of ids) {
    servers.push({
      id: BigInt(id), host: '127.0.0.1',
      quorumPort: tcp ? await freePort() : 0, electionPort: tcp ? await freePort() : 0,
      role: id <= size ? ('participant' as const) : ('observer' as const),
    });
  }
  const disks = new Map(ids.map((id) => [id, new MemoryDisk()]));
  const dataRoot =
    options.storage === 'disk' ? await mkdtemp(path.join(os.tmpdir(), 'ensemble-')) : undefined;
  const silent = pino({ level: 'silent' });
  const members = new Map<number, RunningMember>();
  // A restarted member binds its old client port again, so connect strings stay valid.
  const clientPorts = new Map<number, number>();
  let incarnations = 0;
  const startMember = async (id: number) => {
    const port = clientPorts.get(id);
    if (port === undefined) return await startMemberOn(id, 0);
    try {
      return await startMemberOn(id, port);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw error;
      options.logger?.warn({ myId: id, port }, 'the old client port is taken: restarting on a new one');
      return await startMemberOn(id, 0);
    }
  };
  const startMemberOn = async (id: number, clientPort: number) => {
    const config = configFromOptions({
      tickTimeMs: options.tickTimeMs ?? 100,
      initLimitTicks: options.initLimitTicks ?? 10,
      syncLimitTicks: options.syncLimitTicks ?? 5,
      clientPortAddress: '127.0.0.1',
      ...options.serverOptions,
      clientPort,
      servers,
      serverId: BigInt(id),
      peerType: id <= size ? 'participant' : 'observer',
      standaloneEnabled: false,
      ...(dataRoot !== undefined && { dataDir: path.join(dataRoot, String(id)) }),
    });
    const logger = options.logger?.child({ myId: id }) ?? silent;
    const storage = dataRoot === undefined
      ? new MemoryStorage(disks.get(id)!)
      : new DiskPeerStorage(diskPeerStorageOptions(config, { logger }));
    const transport = tcp
      ? new TcpPeerTransport({ myId: id, peers: peerAddresses(config), logger })
      : network.transport(id);
    const running = await startEnsembleMember({
      config,
      transport,
      storage,
      logger,
      quorum: { ...IN_PROCESS_TUNING, ...options.quorum },
      incarnation: `${id}.${++incarnations}`,
      readOnlyAfterMs: options.readOnlyAfterMs ?? 500,
    });
    members.set(id, running);
    clientPorts.set(id, running.port);
    return running;
  };
  try {
    await Promise.all(ids.map((id) => startMember(id)));
  } catch (error) {
    await Promise.all([...members.values()].map((m) => m.stop()));
    if (dataRoot !== undefined) await rm(dataRoot, { recursive: true, force: true });
    throw error;
  }
  const member = (id: number) => {
    const found = members.get(id);
    if (found === undefined) throw new InvalidArgumentError(`member ${id} is not running`);
    return found;
  };
  const leader = () => [...members.values()].find((m) => m.mode === 'leader');
  let stopped: Promise<void> | undefined;
  const stop = () => {
    stopped ??= Promise.all([...members.values()].map((m) => m.stop())).then(async () => {
      members.clear();
      if (dataRoot !== undefined) await rm(dataRoot, { recursive: true, force: true });
    });
    return stopped;
  };
  return {
    network,
    members,
    get connectString() {
      return [...members.values()].map((m) => m.connectString).join(',');
    },
    member,
    leader,
    settled: async (waitOptions) => {
      for (;;) {
        await Promise.all([...members.values()].map((m) => m.serving(waitOptions)));
        const found = leader();
        const readWrite = (m: RunningMember) => ['leader', 'follower', 'observer'].includes(m.mode);
        if (found !== undefined && [...members.values()].every(readWrite)) return found;
        waitOptions?.signal?.throwIfAborted();
        await Promise.race([...members.values()].map((m) => m.member.roleChanged()));
      }
    },
    expireSession: async (sessionId) => {
      const current = leader();
      if (current === undefined) throw new InvalidArgumentError('no member leads now');
      await current.expireSession(sessionId);
    },
    stopMember: async (id) => {
      const running = member(id);
      members.delete(id);
      await running.stop();
    },
    restartMember: async (id) => {
      if (members.has(id)) throw new InvalidArgumentError(`member ${id} is running`);
      return await startMember(id);
    },
    stop,
    [Symbol.asyncDispose]: stop,
  };
}

/** A free loopback port (the OS picks one; it is released for the member to bind). */
async function freePort(): Promise<number> {
  return await new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}
