// The AdminServer's commands as Apache 3.5+ answers them at /commands/<name>: each is a JSON object
// with Apache's key names (checked against a running 3.8.0), then "command" (the primary name) and
// "error" (null, or why it failed). The values come from the same source the four-letter words read.

import type { ServerConfig } from '../config/index.js';
import {
  NOT_SERVING_ANSWER,
  ZOOKEEPER_VERSION,
  dataDirSizes,
  environmentEntries,
  monitorEntries,
  proposalSizes,
  type ConnectionView,
  type FourLetterWordSource,
} from '../net/four-letter-words.js';

type CommandBody = Record<string, unknown>;

interface AdminCommand {
  /** The primary name (what "command" reports) and the other names it answers to. */
  readonly names: readonly string[];
  run(source: FourLetterWordSource, context: AdminContext): CommandBody;
  /** False: answered while the server does not serve (Apache's serverRequired); default true. */
  readonly serverRequired?: boolean;
}

/** What the commands need beyond the source. */
export interface AdminContext {
  /** The client port actually bound (the config says 0 when the OS picked it). */
  readonly clientPort: number;
}

const COMMANDS: readonly AdminCommand[] = [
  { names: ['ruok'], run: () => ({}) },
  { names: ['server_stats', 'srvr'], run: (source) => serverStats(source) },
  {
    names: ['stats', 'stat'],
    run: (source) => ({
      ...serverStats(source),
      connections: [...source.connections()].map((c) => connectionBrief(c)),
      secure_connections: [],
    }),
  },
  {
    names: ['configuration', 'conf', 'config'],
    run: (source, context) => configuration(source.config, context),
  },
  {
    names: ['connections', 'cons'],
    run: (source) => ({
      connections: [...source.connections()].map((c) => connectionFull(c)),
      secure_connections: [],
    }),
  },
  {
    names: ['monitor', 'mntr'],
    run: (source) => Object.fromEntries(monitorEntries(source)),
    serverRequired: false,
  },
  {
    names: ['watch_summary', 'wchs'],
    run: (source) => {
      const metrics = source.metrics();
      return {
        num_connections: metrics.watcherCount,
        num_paths: metrics.watchedPathCount,
        num_total_watches: metrics.dataWatchCount,
      };
    },
  },
  {
    names: ['watches', 'wchc'],
    run: (source) => ({ session_id_to_watched_paths: keyedByString(source.watchesBySession()) }),
  },
  {
    names: ['watches_by_path', 'wchp'],
    run: (source) => ({ path_to_session_ids: keyedByString(source.watchesByPath()) }),
  },
  { names: ['dump'], run: (source) => dump(source) },
  {
    names: ['environment', 'envi', 'env'],
    run: () => Object.fromEntries(environmentEntries()),
    serverRequired: false,
  },
  { names: ['is_read_only', 'isro'], run: (source) => ({ read_only: source.mode === 'read-only' }) },
  { names: ['leader', 'lead'], run: (source) => leaderView(source) },
  { names: ['voting_view'], run: (source) => ({ current_config: votingView(source) }) },
  {
    names: ['dirs'],
    run: (source) => {
      const sizes = dataDirSizes(source.config);
      return { datadir_size: sizes.dataDirBytes, logdir_size: sizes.dataLogDirBytes };
    },
  },
];

const BY_NAME = new Map(COMMANDS.flatMap((command) => command.names.map((name) => [name, command])));

/** The primary names, sorted, as the command listing shows them. */
export function adminCommandNames(): string[] {
  return COMMANDS.map((command) => command.names[0]).sort();
}

/** Runs `name`; an unknown name answers as Apache's does: `"error": "Unknown command: <name>"`. */
export function runAdminCommand(
  name: string,
  source: FourLetterWordSource,
  context: AdminContext,
): CommandBody {
  const command = BY_NAME.get(name);
  if (command === undefined) return { command: name, error: `Unknown command: ${name}` };
  if (source.mode === 'not serving' && command.serverRequired !== false) {
    // As Apache's Commands.runCommand: the name as asked, HTTP 200, nothing else.
    return { command: name, error: NOT_SERVING_ANSWER.trimEnd() };
  }
  try {
    return { ...command.run(source, context), command: command.names[0], error: null };
  } catch (error) {
    return { command: command.names[0], error: error instanceof Error ? error.message : String(error) };
  }
}

function serverStats(source: FourLetterWordSource): CommandBody {
  const { stats } = source;
  const metrics = source.metrics();
  const clientResponse = { last_buffer_size: -1, min_buffer_size: -1, max_buffer_size: -1 };
  const sizes = dataDirSizes(source.config);
  const proposals = proposalSizes(source);
  return {
    version: ZOOKEEPER_VERSION,
    read_only: source.mode === 'read-only',
    server_stats: {
      packets_sent: stats.packetsSent,
      packets_received: stats.packetsReceived,
      fsync_threshold_exceed_count: stats.fsyncThresholdExceeded,
      client_response_stats: clientResponse,
      provider_null: false,
      data_dir_size: sizes.dataDirBytes,
      log_dir_size: sizes.dataLogDirBytes,
      server_state: source.mode ?? 'standalone',
      last_processed_zxid: metrics.lastProcessedZxid,
      outstanding_requests: source.outstandingRequests(),
      avg_latency: stats.latency.avgMs,
      max_latency: stats.latency.maxMs,
      min_latency: stats.latency.minMs,
      num_alive_client_connections: count(source.connections()),
      uptime: Date.now() - stats.startedAtMs,
      auth_failed_count: stats.authFailed,
      non_mtlsremote_conn_count: 0,
      non_mtlslocal_conn_count: 0,
    },
    client_response: clientResponse,
    // Apache's leader adds its proposals' BufferStats.
    ...(proposals === undefined
      ? {}
      : {
          proposal_stats: {
            last_buffer_size: proposals.last,
            min_buffer_size: proposals.min,
            max_buffer_size: proposals.max,
          },
        }),
    node_count: metrics.nodeCount,
  };
}

function connectionBrief(c: ConnectionView): CommandBody {
  return {
    remote_socket_address: `${c.remoteAddress}:${c.remotePort}`,
    interest_ops: 1,
    outstanding_requests: c.outstanding,
    packets_received: c.stats.received,
    packets_sent: c.stats.sent,
  };
}

function connectionFull(c: ConnectionView): CommandBody {
  const s = c.stats;
  if (!c.isOpen) return connectionBrief(c);
  return {
    ...connectionBrief(c),
    session_id: c.sessionId,
    last_operation: s.lastOp,
    established: s.establishedMs,
    session_timeout: c.sessionTimeoutMs,
    last_cxid: s.lastCxid,
    last_zxid: s.lastZxid,
    last_response_time: s.lastResponseMs,
    last_latency: s.lastLatencyMs,
    min_latency: s.latency.minMs,
    avg_latency: Math.round(s.latency.avgMs),
    max_latency: s.latency.maxMs,
  };
}

function configuration(config: ServerConfig, context: AdminContext): CommandBody {
  return {
    client_port: context.clientPort,
    data_dir: config.dataDir === undefined ? '' : `${config.dataDir}/version-2`,
    data_log_dir: config.dataLogDir === undefined ? '' : `${config.dataLogDir}/version-2`,
    tick_time: config.tickTimeMs,
    max_client_cnxns: config.maxClientConnectionsPerIp,
    min_session_timeout: config.minSessionTimeoutMs,
    max_session_timeout: config.maxSessionTimeoutMs,
    server_id: config.serverId ?? 0n,
    client_port_listen_backlog: config.clientPortListenBacklog,
  };
}

/** Expiry time → session ids, and session id → ephemeral paths (ids as JSON numbers, as Apache's). */
function dump(source: FourLetterWordSource): CommandBody {
  const expiry: Record<string, bigint[]> = {};
  for (const bucket of source.sessionExpiryBuckets()) expiry[String(bucket.expiryMs)] = bucket.sessionIds;
  const ephemerals: Record<string, string[]> = {};
  for (const [sessionId, paths] of source.ephemeralsBySession()) ephemerals[String(sessionId)] = paths;
  return { expiry_time_to_session_ids: expiry, session_id_to_ephemeral_paths: ephemerals };
}

/** A map as a JSON object: bigint keys as their decimal text, as Jackson writes long map keys. */
function keyedByString<K, V>(entries: Map<K, V>): Record<string, V> {
  const out: Record<string, V> = {};
  for (const [key, value] of entries) out[String(key)] = value;
  return out;
}

function count(items: Iterable<unknown>): number {
  let n = 0;
  for (const _ of items) n++;
  return n;
}

/** leader: this member's view of the leader (Apache answers a standalone server with an error). */
function leaderView(source: FourLetterWordSource): CommandBody {
  const leaderId = source.quorumLeader?.();
  if (leaderId === undefined) throw new Error('server is not initialized');
  const leader = source.config.servers.find((server) => Number(server.id) === leaderId);
  return { is_leader: source.mode === 'leader', leader_id: leaderId, leader_ip: leader?.host ?? '' };
}

/** voting_view: each voter as its server.N value (host:quorum:election:participant[;client]). */
function votingView(source: FourLetterWordSource): Record<string, string> {
  const view: Record<string, string> = {};
  for (const server of source.config.servers) {
    if (server.role !== 'participant') continue;
    let value = `${server.host}:${server.quorumPort}:${server.electionPort}:participant`;
    if (server.clientPort !== undefined) value += `;${server.clientHost ?? '0.0.0.0'}:${server.clientPort}`;
    view[String(server.id)] = value;
  }
  return view;
}
