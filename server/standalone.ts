// The standalone server: a ServerCore behind the client listener, with the write pipeline's persist
// step as the seam where the transaction log plugs in. `startServer()` is what tests, the testing kit,
// the demo and `zk-server start-foreground` use.

import { pino, type Logger } from 'pino';
import { AdminServer } from './admin/index.js';
import { configFromOptions, type ServerConfig, type ServerOptions } from './config/index.js';
import type { TxnPersister } from './core/api.js';
import { ServerCore, type ServerCoreOptions } from './core/server-core.js';
import { DurableSeams, dataDirOptions } from './durable/index.js';
import { ClientListener } from './net/client-listener.js';
import { DEFAULT_CONNECTION_LIMITS, type ConnectionLimits } from './net/limits.js';
import { InMemoryPersister, PipelineGateway, WritePipeline } from './net/pipeline.js';
import { MetricsServer, PROMETHEUS_PROVIDER_CLASS } from './metrics/index.js';

export interface StartServerOptions extends ServerOptions {
  /** Where logs go; default: none (in process). The CLI passes a pino logger on stdout. */
  logger?: Logger;
  /** The persist seam; default: in memory (durable at once, lost on stop). */
  persister?: TxnPersister;
  /** Called when the server can no longer serve (persisting failed); it is stopped right after. */
  onFatal?: (error: unknown) => void;
  /** Per-connection limits (outstanding requests, unsent bytes); the defaults suit production. */
  connectionLimits?: Partial<ConnectionLimits>;
  /**
   * Recovery seam: loads a snapshot and replays the log into the core (restore(), apply()) before the
   * client port is bound. Absent: the server starts empty.
   */
  recover?: (core: ServerCore) => Promise<void> | void;
}

/** A running server. Stop it with `stop()` or `await using`; stopping twice is harmless. */
export interface RunningServer extends AsyncDisposable {
  readonly config: ServerConfig;
  /** The host the client port is bound to (127.0.0.1 when bound to all interfaces). */
  readonly host: string;
  readonly port: number;
  /** host:port for a client's connect string. */
  readonly connectString: string;
  /** The AdminServer's and the /metrics endpoint's ports, when they run. */
  readonly adminPort: number | undefined;
  readonly metricsPort: number | undefined;
  /** Client connections currently open. */
  readonly connectionCount: number;
  /** Ends a session as if it had expired (its ephemerals go, its connection is closed). */
  expireSession(sessionId: bigint): Promise<void>;
  /** Cuts every client connection without ending any session. */
  dropConnections(): void;
  stop(): Promise<void>;
}

/** The core's options from a server config (standalone, or one ensemble member `serverId`). */
export function coreOptionsOf(config: ServerConfig, serverId: number, log: Logger): ServerCoreOptions {
  return {
    serverId,
    tickTimeMs: config.tickTimeMs,
    minSessionTimeoutMs: config.minSessionTimeoutMs,
    maxSessionTimeoutMs: config.maxSessionTimeoutMs,
    extendedTypesEnabled: config.extendedTypesEnabled,
    superDigest: config.superDigest,
    skipACL: config.skipAcl,
    enforceQuota: config.enforceQuota,
    watchesPerSessionMax: config.watchesPerSessionMax,
    reconfigEnabled: config.reconfigEnabled,
    containerMaxNeverUsedIntervalMs: config.containerMaxNeverUsedIntervalMs,
    // Apache's standalone server has no local sessions; only an ensemble member's core gets them.
    localSessionsEnabled: config.distributed && config.localSessionsEnabled,
    localSessionsUpgradingEnabled: config.localSessionsUpgradingEnabled,
    startTimeMs: Date.now(),
    onWarning: (message) => log.warn(message),
  };
}

/** Starts a standalone server; with clientPort 0 (the default in process) the OS picks a free port. */
export async function startServer(options: StartServerOptions = {}): Promise<RunningServer> {
  const { logger, persister, onFatal, connectionLimits, recover, ...serverOptions } = options;
  // In process the default is loopback only: tests and demos should not listen on the network.
  const config = configFromOptions({ clientPortAddress: '127.0.0.1', ...serverOptions });
  return await startServerWithConfig(config, { logger, persister, onFatal, connectionLimits, recover });
}

/** Starts a server from an already validated config (the CLI's path, after loading zoo.cfg). */
export async function startServerWithConfig(
  config: ServerConfig,
  seams: Pick<StartServerOptions, 'logger' | 'persister' | 'onFatal' | 'connectionLimits' | 'recover'> = {},
): Promise<RunningServer> {
  const log = seams.logger ?? pino({ level: 'silent' });
  const serverId = config.serverId === undefined ? 1 : Number(config.serverId);
  const core = new ServerCore(coreOptionsOf(config, serverId, log));
  // A dataDir and no seams of the caller's: the txn log and snapshots there, as Apache's.
  let observeFsync: ((elapsedMs: number) => void) | undefined; // the metrics endpoint, once it runs
  let listener: ClientListener | undefined;
  const onFsync = (elapsedMs: number) => {
    observeFsync?.(elapsedMs);
    const slow = elapsedMs > config.fsyncWarningThresholdMs;
    if (slow && listener !== undefined) listener.stats.fsyncThresholdExceeded++;
  };
  const durable =
    config.dataDir !== undefined && seams.persister === undefined && seams.recover === undefined
      ? new DurableSeams(dataDirOptions(config, { logger: log, onFsync }))
      : undefined;
  await (seams.recover ?? durable?.recover)?.(core);
  const pipeline = new WritePipeline(
    core,
    seams.persister ?? durable?.persister ?? new InMemoryPersister(),
    (error) => {
      log.error({ err: error }, 'persisting a transaction failed: stopping the server');
      seams.onFatal?.(error);
      void listener?.stop();
    },
    (error) => log.error({ err: error }, 'a reply callback failed'),
  );
  const limits = { ...DEFAULT_CONNECTION_LIMITS, ...seams.connectionLimits };
  listener = new ClientListener(core, new PipelineGateway(core, pipeline), config, log, limits);
  const address = await listener.listen().catch(async (error: unknown) => {
    await durable?.close();
    throw error;
  });
  listener.sessionsChanged(); // sessions recovered from disk expire on schedule
  const boundConfig = { ...config, clientPort: address.port };
  const sideServers = await startSideServers(listener, boundConfig, log).catch(async (error: unknown) => {
    await listener?.stop();
    await durable?.close();
    throw error;
  });
  observeFsync = sideServers.metrics?.observeFsync;
  const host = isAnyAddress(address.address) ? '127.0.0.1' : address.address;
  const port = address.port;
  log.info({ port, host: address.address }, 'serving clients');
  const running = listener;
  let stopped: Promise<void> | undefined;
  const stop = () => {
    stopped ??= Promise.all([sideServers.admin?.stop(), sideServers.metrics?.stop()])
      .then(() => running.stop())
      .then(() => durable?.close())
      .then(() => log.info('stopped'));
    return stopped;
  };
  return {
    config: { ...config, clientPort: port },
    host,
    port,
    connectString: `${host.includes(':') ? `[${host}]` : host}:${port}`,
    adminPort: sideServers.admin?.port,
    metricsPort: sideServers.metrics?.port,
    get connectionCount() {
      return running.connectionCount;
    },
    expireSession: (sessionId) => running.expireSession(sessionId),
    dropConnections: () => running.dropConnections(),
    stop,
    [Symbol.asyncDispose]: stop,
  };
}

const DEFAULT_PROVIDER_CLASS = 'org.apache.zookeeper.metrics.impl.DefaultMetricsProvider';

/** The AdminServer and the Prometheus endpoint, each when the config asks for it. */
export async function startSideServers(
  listener: ClientListener,
  config: ServerConfig,
  log: Logger,
): Promise<{ admin?: AdminServer; metrics?: MetricsServer }> {
  // Apache exits when its AdminServer cannot bind; here the clients are served anyway, with an error
  // logged, so a busy port 8080 (the default) does not take the coordination service down.
  const admin = config.adminServerEnabled
    ? await AdminServer.start(listener, {
        host: config.adminServerAddress,
        port: config.adminServerPort,
        commandUrl: config.adminCommandUrl,
        clientPort: config.clientPort,
      }).catch((error: unknown) => {
        const port = config.adminServerPort;
        log.error({ err: error, port }, 'admin server could not start; serving without it');
        return undefined;
      })
    : undefined;
  if (admin !== undefined) {
    log.info({ port: admin.port, url: config.adminCommandUrl }, 'serving the admin server');
  }
  const className = config.metricsProviderClassName;
  // Apache's default provider only feeds mntr, which is always there.
  if (className === undefined || className === DEFAULT_PROVIDER_CLASS) return { admin };
  if (className !== PROMETHEUS_PROVIDER_CLASS) {
    log.warn({ className }, 'metricsProvider.className: only the Prometheus provider is known; no metrics');
    return { admin };
  }
  const metrics = await MetricsServer.start(listener, {
    host: config.metricsHttpHost,
    port: config.metricsHttpPort,
  }).catch(async (error: unknown) => {
    await admin?.stop();
    throw error;
  });
  log.info({ port: metrics.port }, 'serving Prometheus metrics at /metrics');
  return { admin, metrics };
}

function isAnyAddress(address: string): boolean {
  return address === '0.0.0.0' || address === '::' || address === '';
}
