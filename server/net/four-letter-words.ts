// Four-letter words on the client port, in the shapes Apache 3.8 prints (checked against a running
// 3.8.0): each is answered and the connection closed. Only whitelisted words run; the others get
// "<cmd> is not executed because it is not in the whitelist.\n". `srvr` is always allowed
// (zkServer.sh status needs it).

import { readdirSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { ServerConfig } from '../config/index.js';
import type { CoreMetrics } from '../core/server-core.js';
import type { ConnectionStats } from './connection.js';
import { hexId, javaDouble, type ServerStats } from './stats.js';

/** The version every 4lw reports. Clients parse `zookeeper.version=X.Y.Z-` out of envi. */
export const ZOOKEEPER_VERSION = '3.8.4-menagerie-0.1.0, built on 2026-11-25 00:00 UTC';

/** A connection as the 4lw see it. */
export interface ConnectionView {
  readonly remoteAddress: string;
  readonly remotePort: number;
  readonly sessionId: bigint;
  readonly sessionTimeoutMs: number;
  readonly outstanding: number;
  readonly isOpen: boolean;
  readonly stats: ConnectionStats;
  resetStats(): void;
}

/** What srvr/stat/mntr report; 'not serving' is an ensemble member without an established leader. */
export type ServerModeView =
  'standalone' | 'leader' | 'follower' | 'observer' | 'read-only' | 'not serving';

/** Apache's answer to most words while the server does not serve clients. */
export const NOT_SERVING_ANSWER = 'This ZooKeeper instance is not currently serving requests\n';

/**
 * The words Apache 3.8 answers while not serving (checked on a member of a 3-member ensemble whose
 * two peers were killed): every other word gets NOT_SERVING_ANSWER; isro then says "null".
 */
const ANSWERED_WHEN_NOT_SERVING: ReadonlySet<string> = new Set(['ruok', 'isro', 'envi', 'gtmk', 'stmk']);

/** What the 4lw read from the running server. */
export interface FourLetterWordSource {
  readonly config: ServerConfig;
  /** Absent: standalone. */
  readonly mode?: ServerModeView;
  readonly stats: ServerStats;
  connections(): Iterable<ConnectionView>;
  metrics(): CoreMetrics;
  outstandingRequests(): number;
  /** wchc: session id → watched paths. */
  watchesBySession(): Map<bigint, string[]>;
  /** wchp: path → session ids. */
  watchesByPath(): Map<string, bigint[]>;
  ephemeralsBySession(): Map<bigint, string[]>;
  /** Which sessions expire at which tick, in time order. */
  sessionExpiryBuckets(): Array<{ expiryMs: number; sessionIds: bigint[] }>;
  /** localSessionsEnabled: the same for the sessions local to this member. */
  localSessionExpiryBuckets?(): Array<{ expiryMs: number; sessionIds: bigint[] }>;
  /** Global sessions and their timeouts (a learner's dump lists these). */
  sessionTimeouts?(): Array<{ sessionId: bigint; timeoutMs: number }>;
  /** The client port actually bound (config.clientPort may be 0); conf prints it. */
  boundClientPort?(): number;
  /** An ensemble member's entries after the standalone ones (Apache's quorum and leader gauges). */
  quorumMonitorEntries?(): Array<[string, number]>;
  /** An ensemble member's leader id (-1 while looking); undefined standalone. */
  quorumLeader?(): number | undefined;
}

/** Apache's default trace mask (ZooTrace's text trace level), what gtmk answers until stmk changes it. */
export const DEFAULT_TRACE_MASK = 306n;

/** stmk reads its mask as the 8 bytes (a signed big-endian long) right after the word, as Apache. */
const TRACE_MASK_BYTES = 8;

/** The trace mask per server (Apache keeps one per JVM); stmk sets it, gtmk reads it. */
const traceMasks = new WeakMap<FourLetterWordSource, bigint>();

/** The answer for `word` (already known to be a four-letter word). */
export function answerFourLetterWord(
  word: string,
  source: FourLetterWordSource,
  caller: ConnectionView,
  extra: Buffer = Buffer.alloc(0),
): string {
  if (!source.config.fourLetterWordsEnabled.has(word)) {
    return `${word} is not executed because it is not in the whitelist.\n`;
  }
  if (source.mode === 'not serving' && !ANSWERED_WHEN_NOT_SERVING.has(word)) return NOT_SERVING_ANSWER;
  switch (word) {
    case 'ruok':
      return 'imok';
    case 'isro':
      if (source.mode === 'not serving') return 'null'; // Apache: no ZooKeeperServer to ask
      return source.mode === 'read-only' ? 'ro' : 'rw';
    case 'srvr':
      return `Zookeeper version: ${ZOOKEEPER_VERSION}\n${serverSummary(source)}`;
    case 'stat':
      return (
        `Zookeeper version: ${ZOOKEEPER_VERSION}\nClients:\n${clientLines(source, caller, false)}\n` +
        serverSummary(source)
      );
    case 'cons':
      return `${clientLines(source, caller, true)}\n`;
    case 'conf':
      return configuration(source.config, source.boundClientPort?.() ?? source.config.clientPort);
    case 'crst':
      for (const connection of source.connections()) connection.resetStats();
      return 'Connection stats reset.\n';
    case 'srst':
      source.stats.reset();
      return 'Server stats reset.\n';
    case 'envi':
      return environment();
    case 'mntr':
      return monitor(source);
    case 'wchs':
      return watchSummary(source);
    case 'wchc':
      return listing(source.watchesBySession(), (id) => hexId(id), (path) => path);
    case 'wchp':
      return listing(source.watchesByPath(), (path) => path, (id) => hexId(id));
    case 'dump':
      return dump(source);
    case 'dirs': {
      const sizes = dataDirSizes(source.config);
      return `datadir_size: ${sizes.dataDirBytes}\nlogdir_size: ${sizes.dataLogDirBytes}\n`;
    }
    case 'gtmk':
      return String(traceMasks.get(source) ?? DEFAULT_TRACE_MASK);
    case 'stmk':
      return setTraceMask(source, extra);
    case 'hash':
      return '';
    default:
      return '';
  }
}

function serverSummary(source: FourLetterWordSource): string {
  const { latency } = source.stats;
  const metrics = source.metrics();
  return [
    `Latency min/avg/max: ${latency.minMs}/${javaDouble(latency.avgMs)}/${latency.maxMs}`,
    `Received: ${source.stats.packetsReceived}`,
    `Sent: ${source.stats.packetsSent}`,
    `Connections: ${count(source.connections())}`,
    `Outstanding: ${source.outstandingRequests()}`,
    `Zxid: ${hexId(metrics.lastProcessedZxid)}`,
    `Mode: ${source.mode ?? 'standalone'}`,
    `Node count: ${metrics.nodeCount}`,
    ...proposalSizesLine(source),
    '',
  ].join('\n');
}

/** A leader's sizes of its proposals in bytes, -1 before the first; undefined elsewhere. */
export function proposalSizes(
  source: FourLetterWordSource,
): { last: number; min: number; max: number } | undefined {
  if (source.mode !== 'leader') return undefined;
  const entries = new Map(source.quorumMonitorEntries?.() ?? []);
  const [last, min, max] = ['last', 'min', 'max'].map((k) => entries.get(`${k}_proposal_size`));
  if (last === undefined || min === undefined || max === undefined) return undefined;
  return { last, min, max };
}

/** Apache 3.8's leader adds "Proposal sizes last/min/max: 48/48/1087" after the node count. */
function proposalSizesLine(source: FourLetterWordSource): string[] {
  const sizes = proposalSizes(source);
  return sizes === undefined ? [] : [`Proposal sizes last/min/max: ${sizes.last}/${sizes.min}/${sizes.max}`];
}

function count(items: Iterable<unknown>): number {
  let n = 0;
  for (const _ of items) n++;
  return n;
}

/** ` /ip:port[interest](queued=..,recved=..,sent=..[,sid=..,...])` per connection. */
function clientLines(source: FourLetterWordSource, caller: ConnectionView, full: boolean): string {
  let out = '';
  for (const c of source.connections()) {
    const s = c.stats;
    const interest = c === caller ? 0 : 1;
    let line =
      ` /${c.remoteAddress}:${c.remotePort}[${interest}]` +
      `(queued=${c.outstanding},recved=${s.received},sent=${s.sent}`;
    if (full && c.isOpen) {
      line +=
        `,sid=${hexId(c.sessionId)},lop=${s.lastOp},est=${s.establishedMs},to=${c.sessionTimeoutMs}` +
        `,lcxid=0x${(s.lastCxid >>> 0).toString(16)},lzxid=${hexId(s.lastZxid)},lresp=${s.lastResponseMs}` +
        `,llat=${s.lastLatencyMs},minlat=${s.latency.minMs},avglat=${Math.round(s.latency.avgMs)}` +
        `,maxlat=${s.latency.maxMs}`;
    }
    out += `${line})\n`;
  }
  return out;
}

/**
 * stmk: the mask is the next 8 bytes of the connection. With fewer, Apache's read of the long fails, it
 * logs the exception and closes without an answer: we throw, and the connection logs and answers ''.
 */
function setTraceMask(source: FourLetterWordSource, extra: Buffer): string {
  if (extra.length < TRACE_MASK_BYTES) {
    throw new Error(`stmk needs an ${TRACE_MASK_BYTES}-byte mask after the word, got ${extra.length} bytes`);
  }
  const mask = extra.readBigInt64BE(0);
  traceMasks.set(source, mask);
  return String(mask);
}

/**
 * dirs / conf: bytes of every file under `<dataDir>/version-2` and `<dataLogDir>/version-2` (recursive,
 * preallocated log files count at their full length), as Apache's getDataDirSize / getLogDirSize.
 * An in-memory server has none: 0.
 */
export function dataDirSizes(config: ServerConfig): { dataDirBytes: number; dataLogDirBytes: number } {
  const sizeOf = (dir: string | undefined) => (dir === undefined ? 0 : directoryBytes(versionDir(dir)));
  const dataLogDir = config.dataLogDir ?? config.dataDir;
  return { dataDirBytes: sizeOf(config.dataDir), dataLogDirBytes: sizeOf(dataLogDir) };
}

function versionDir(dir: string): string {
  return path.join(dir, 'version-2');
}

/** Sum of file sizes below `dir`; a missing or unreadable entry counts 0 (as Java's File.length()). */
function directoryBytes(dir: string): number {
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return 0;
  }
  let total = 0;
  for (const entry of entries) {
    const child = path.join(dir, entry.name);
    if (entry.isDirectory()) {
      total += directoryBytes(child);
      continue;
    }
    try {
      total += statSync(child).size;
    } catch {
      // removed meanwhile (purge): counts 0
    }
  }
  return total;
}

function configuration(config: ServerConfig, clientPort: number): string {
  const dataDir = config.dataDir === undefined ? '' : versionDir(config.dataDir);
  const logDir = config.dataLogDir ?? config.dataDir;
  const dataLogDir = logDir === undefined ? '' : versionDir(logDir);
  const sizes = dataDirSizes(config);
  return [
    `clientPort=${clientPort}`,
    'secureClientPort=-1',
    `dataDir=${dataDir}`,
    `dataDirSize=${sizes.dataDirBytes}`,
    `dataLogDir=${dataLogDir}`,
    `dataLogSize=${sizes.dataLogDirBytes}`,
    `tickTime=${config.tickTimeMs}`,
    `maxClientCnxns=${config.maxClientConnectionsPerIp}`,
    `minSessionTimeout=${config.minSessionTimeoutMs}`,
    `maxSessionTimeout=${config.maxSessionTimeoutMs}`,
    `clientPortListenBacklog=${config.clientPortListenBacklog}`,
    `serverId=${config.serverId ?? 0n}`,
    '',
  ].join('\n');
}

function environment(): string {
  const lines = environmentEntries().map(([key, value]) => `${key}=${value}`);
  return ['Environment:', ...lines, ''].join('\n');
}

/** envi's key/value pairs, shared with the admin server's `environment` command. */
export function environmentEntries(): Array<[string, string]> {
  const memory = process.memoryUsage();
  const mb = (bytes: number) => `${Math.round(bytes / (1024 * 1024))}MB`;
  return [
    ['zookeeper.version', ZOOKEEPER_VERSION],
    ['host.name', os.hostname()],
    ['node.version', process.version],
    ['os.name', os.type()],
    ['os.arch', os.arch()],
    ['os.version', os.release()],
    ['user.name', safeUserName()],
    ['user.home', os.homedir()],
    ['user.dir', process.cwd()],
    ['os.memory.free', mb(memory.heapTotal - memory.heapUsed)],
    ['os.memory.max', mb(os.totalmem())],
    ['os.memory.total', mb(memory.heapTotal)],
  ];
}

function safeUserName(): string {
  try {
    return os.userInfo().username;
  } catch {
    return '<NA>';
  }
}

function monitor(source: FourLetterWordSource): string {
  return monitorEntries(source)
    .map(([key, value]) => `zk_${key}\t${key === 'avg_latency' ? javaDouble(Number(value)) : value}\n`)
    .join('');
}

/**
 * mntr's values by Apache's metric names without the `zk_` prefix (the admin server's `monitor` and the
 * Prometheus endpoint use the same names); avg_latency is a plain number here;
 * mntr prints it the Java way.
 */
export function monitorEntries(source: FourLetterWordSource): Array<[string, string | number]> {
  const metrics = source.metrics();
  const { latency } = source.stats;
  return [
    ['version', ZOOKEEPER_VERSION],
    ['server_state', source.mode ?? 'standalone'],
    ...peerState(source),
    ['ephemerals_count', metrics.ephemeralsCount],
    ['num_alive_connections', count(source.connections())],
    ['avg_latency', latency.avgMs],
    ['outstanding_requests', source.outstandingRequests()],
    ['znode_count', metrics.nodeCount],
    ['global_sessions', metrics.sessionCount],
    ['packets_sent', source.stats.packetsSent],
    ['packets_received', source.stats.packetsReceived],
    ['watch_count', metrics.watchCount],
    ['auth_failed_count', source.stats.authFailed],
    ['min_latency', latency.minMs],
    ['max_latency', latency.maxMs],
    ['approximate_data_size', metrics.approximateDataSize],
    ['local_sessions', metrics.localSessionCount],
    ['uptime', Date.now() - source.stats.startedAtMs],
    ['connection_rejected', source.stats.connectionsRejected],
    ['digest_mismatches_count', metrics.digestMismatches],
    ['stale_sessions_expired', source.stats.sessionsExpired],
    ['open_file_descriptor_count', count(source.connections()) + 1],
    ['max_file_descriptor_count', 0],
    ...(source.quorumMonitorEntries?.() ?? []),
  ];
}

/** A member's "<peer state> - <zab phase>", as Apache's getDetailedPeerState (serving: broadcast). */
const PEER_STATES: Partial<Record<ServerModeView, string>> = {
  leader: 'leading - broadcast',
  follower: 'following - broadcast',
  observer: 'observing - broadcast',
  'read-only': 'looking - election',
};

function peerState(source: FourLetterWordSource): Array<[string, string]> {
  const state = source.mode === undefined ? undefined : PEER_STATES[source.mode];
  return state === undefined ? [] : [['peer_state', state]];
}

function watchSummary(source: FourLetterWordSource): string {
  const metrics = source.metrics();
  return (
    `${metrics.watcherCount} connections watching ${metrics.watchedPathCount} paths\n` +
    `Total watches:${metrics.dataWatchCount}\n`
  );
}

/** wchc / wchp: a key line, then one tab-indented line per value, then a blank line at the end. */
function listing<K, V>(entries: Map<K, V[]>, key: (k: K) => string, value: (v: V) => string): string {
  let out = '';
  for (const [k, values] of entries) {
    out += `${key(k)}\n`;
    for (const v of values) out += `\t${value(v)}\n`;
  }
  return `${out}\n`;
}

/** Java's Date.toString() in UTC: "Wed Nov 25 07:51:25 UTC 2026". */
export function javaDate(ms: number): string {
  const date = new Date(ms);
  const [day, dayOfMonth, month, year, time] = date.toUTCString().replace(',', '').split(' ');
  return `${day} ${month} ${dayOfMonth} ${time} UTC ${year}`;
}

/** "Session Sets (buckets)/(sessions):" and each bucket's sessions (Apache's SessionTrackerImpl). */
function sessionSets(buckets: Array<{ expiryMs: number; sessionIds: bigint[] }>): string {
  const sessionCount = buckets.reduce((sum, bucket) => sum + bucket.sessionIds.length, 0);
  let out = `Session Sets (${buckets.length})/(${sessionCount}):\n`;
  for (const bucket of buckets) {
    out += `${bucket.sessionIds.length} expire at ${javaDate(bucket.expiryMs)}:\n`;
    for (const sessionId of bucket.sessionIds) out += `\t${hexId(sessionId)}\n`;
  }
  return out;
}

/**
 * dump's session part as Apache's trackers print it: standalone and leader the expiry sets; a
 * learner (which does not expire global sessions) lists them with their timeouts; with local
 * sessions, "Local " sets come first and a leader's global sets say "Global ".
 */
function sessionTrackerDump(source: FourLetterWordSource): string {
  const learner = source.mode === 'follower' || source.mode === 'observer';
  const local = source.config.localSessionsEnabled && (learner || source.mode === 'leader');
  let out = 'SessionTracker dump:\n';
  if (local) out += `Local ${sessionSets(source.localSessionExpiryBuckets?.() ?? [])}`;
  if (!learner || source.sessionTimeouts === undefined) {
    return out + (local ? 'Global ' : '') + sessionSets(source.sessionExpiryBuckets());
  }
  const sessions = source.sessionTimeouts().sort((a, b) => {
    const [x, y] = [BigInt.asIntN(64, a.sessionId), BigInt.asIntN(64, b.sessionId)];
    return x < y ? -1 : x > y ? 1 : 0;
  });
  out += `Global Sessions(${sessions.length}):\n`;
  for (const { sessionId, timeoutMs } of sessions) out += `${hexId(sessionId)}\t${timeoutMs}ms\n`;
  return out;
}

function dump(source: FourLetterWordSource): string {
  let out = sessionTrackerDump(source);
  const ephemerals = source.ephemeralsBySession();
  out += `ephemeral nodes dump:\nSessions with Ephemerals (${ephemerals.size}):\n`;
  for (const [sessionId, paths] of ephemerals) {
    out += `${hexId(sessionId)}:\n`;
    for (const path of paths) out += `\t${path}\n`;
  }
  const connections = [...source.connections()];
  out += `Connections dump:\nConnections Sets (1)/(${connections.length}):\n`;
  out += `${connections.length} expire at ${javaDate(Date.now())}:\n`;
  for (const c of connections) {
    out += `\tip: /${c.remoteAddress}:${c.remotePort} sessionId: ${hexId(c.sessionId)}\n`;
  }
  return out;
}
