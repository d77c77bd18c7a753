// Running an ensemble member as a server: its core, client listener and EnsembleMember wired together
// (`startEnsembleMember`, what `zk-server start-foreground` runs for a zoo.cfg with server.N lines),
// and a whole ensemble in this process on loopback for tests and demos (`startEnsemble`).

import { pino, type Logger } from 'pino';
import { InvalidArgumentError } from '../../src/protocol/errors.js';
import { configFromOptions, type ServerConfig, type ServerOptions } from '../config/index.js';
import { ServerCore } from '../core/server-core.js';
import { ClientListener } from '../net/client-listener.js';
import type { ServerModeView } from '../net/four-letter-words.js';
import { DEFAULT_CONNECTION_LIMITS, type ConnectionLimits } from '../net/limits.js';
import { quorumConfig, type PeerStatus, type QuorumConfig } from '../quorum/index.js';
import { startSideServers, type RunningServer } from '../standalone.js';
import { EnsembleMember } from './member.js';
import { MemoryDisk, MemoryNetwork, MemoryStorage } from './memory.js';
import type { PeerStorage, PeerTransport } from './seams.js';

/** Quorum timing a caller may tune (tests shorten the election's waits). */
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
}

/** A running member: a RunningServer whose Mode follows the ensemble. */
export interface RunningMember extends RunningServer {
  readonly myId: number;
  /** leader | follower | observer while serving clients, else 'not serving'. */
  readonly mode: ServerModeView;
  readonly member: EnsembleMember;
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
    ...tuning,
  });
}

/** Starts one member: recovers its storage, binds the client port, then joins the ensemble. */
export async function startEnsembleMember(options: StartMemberOptions): Promise<RunningMember> {
  const { config } = options;
  const log = options.logger ?? pino({ level: 'silent' });
  const quorum = quorumConfigOf(config, options.quorum);
  const core = new ServerCore({
    serverId: quorum.myId,
    tickTimeMs: config.tickTimeMs,
    minSessionTimeoutMs: config.minSessionTimeoutMs,
    maxSessionTimeoutMs: config.maxSessionTimeoutMs,
    extendedTypesEnabled: config.extendedTypesEnabled,
    superDigest: config.superDigest,
    skipACL: config.skipAcl,
    enforceQuota: config.enforceQuota,
    reconfigEnabled: config.reconfigEnabled,
    containerMaxNeverUsedIntervalMs: config.containerMaxNeverUsedIntervalMs,
    startTimeMs: Date.now(),
    onWarning: (message) => log.warn(message),
  });
  let listener: ClientListener | undefined;
  const member = new EnsembleMember({
    quorum,
    core,
    transport: options.transport,
    storage: options.storage,
    log,
    incarnation: options.incarnation,
    onFatal: (error) => {
      options.onFatal?.(error);
      void stop();
    },
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
  /** The in-process network (default: a lossless one). */
  readonly network?: MemoryNetwork;
  readonly logger?: Logger;
}

/** An ensemble in this process. Stop it with `stop()` or `await using`. */
export interface RunningEnsemble extends AsyncDisposable {
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
  /** Stops one member (its disk is kept for restartMember). */
  stopMember(id: number): Promise<void>;
  /** Starts a stopped member again from its disk, on a new client port. */
  restartMember(id: number): Promise<RunningMember>;
  stop(): Promise<void>;
}

/** Quorum waits shortened for in-process ensembles (Apache's are 200 ms and up). */
const IN_PROCESS_TUNING: QuorumTuning = {
  finalizeWaitMs: 50,
  notificationIntervalMinMs: 50,
  notificationIntervalMaxMs: 800,
};

export async function startEnsemble(options: StartEnsembleOptions): Promise<RunningEnsemble> {
  const { size, observers = 0 } = options;
  if (!Number.isInteger(size) || size < 1 || !Number.isInteger(observers) || observers < 0) {
    throw new InvalidArgumentError('an ensemble needs a positive size and a non-negative observer count');
  }
  const network = options.network ?? new MemoryNetwork();
  const ids = Array.from({ length: size + observers }, (_, index) => index + 1);
  const servers = ids.map((id) => ({
    id: BigInt(id), host: '127.0.0.1', quorumPort: 0, electionPort: 0,
    role: id <= size ? ('participant' as const) : ('observer' as const),
  }));
  const disks = new Map(ids.map((id) => [id, new MemoryDisk()]));
  const members = new Map<number, RunningMember>();
  let incarnations = 0;
  const startMember = async (id: number) => {
    const config = configFromOptions({
      tickTimeMs: options.tickTimeMs ?? 100,
      initLimitTicks: options.initLimitTicks ?? 10,
      syncLimitTicks: options.syncLimitTicks ?? 5,
      clientPortAddress: '127.0.0.1',
      ...options.serverOptions,
      clientPort: 0,
      servers,
      serverId: BigInt(id),
      peerType: id <= size ? 'participant' : 'observer',
      standaloneEnabled: false,
    });
    const running = await startEnsembleMember({
      config,
      transport: network.transport(id),
      storage: new MemoryStorage(disks.get(id)!),
      logger: options.logger?.child({ myId: id }),
      quorum: { ...IN_PROCESS_TUNING, ...options.quorum },
      incarnation: `${id}.${++incarnations}`,
    });
    members.set(id, running);
    return running;
  };
  try {
    await Promise.all(ids.map((id) => startMember(id)));
  } catch (error) {
    await Promise.all([...members.values()].map((m) => m.stop()));
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
    stopped ??= Promise.all([...members.values()].map((m) => m.stop())).then(() => members.clear());
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
        if (found !== undefined && [...members.values()].every((m) => m.mode !== 'not serving')) return found;
        await Promise.race([...members.values()].map((m) => m.member.roleChanged()));
      }
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
