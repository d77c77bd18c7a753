// zoo.cfg, as Apache ZooKeeper 3.8 reads it (QuorumPeerConfig.parseProperties): the keys it honours,
// their defaults, and the relations it checks. Apache turns any key it does not know into the system
// property `zookeeper.<key>`; that is how 4lw.commands.whitelist, extendedTypesEnabled, the super
// digest and the container settings are set from the file, so those are recognised here too.
// A malformed value is a ConfigError naming the key, the value and the reason; a key nobody knows is
// a warning, never an error. Pure: text in, typed config out (the myid file is read in load.ts).

import { InvalidArgumentError } from '../../src/protocol/index.js';
import { FRAME_BYTES_MAX_DEFAULT } from '../../src/protocol/index.js';
import { PropertiesSyntaxError, parseProperties, type PropertyEntry } from './properties.js';

/** A config mistake: which key, which value, and why it is wrong. */
export class ConfigError extends InvalidArgumentError {
  constructor(
    readonly key: string,
    readonly value: string,
    readonly reason: string,
    readonly line?: number,
  ) {
    super(`${line === undefined ? '' : `line ${line}: `}${key}=${value}: ${reason}`);
    this.name = 'ConfigError';
  }
}

/** One `server.N` line. */
export interface QuorumServerConfig {
  readonly id: bigint;
  readonly host: string;
  readonly quorumPort: number;
  readonly electionPort: number;
  readonly role: 'participant' | 'observer';
  readonly clientHost?: string;
  readonly clientPort?: number;
}

/** Every four-letter word Apache 3.8 knows. */
export const FOUR_LETTER_WORDS = [
  'conf', 'cons', 'crst', 'dirs', 'dump', 'envi', 'gtmk', 'stmk', 'ruok', 'srst', 'srvr', 'stat',
  'wchc', 'wchp', 'wchs', 'mntr', 'isro', 'hash',
] as const;

/** The server's configuration, with units in the names. Fields mirror zoo.cfg keys (named in each doc). */
export interface ServerConfig {
  /** tickTime: the session-expiry granularity and the unit of initLimit/syncLimit. */
  readonly tickTimeMs: number;
  /** dataDir; undefined only in process (in-memory server). */
  readonly dataDir: string | undefined;
  /** dataLogDir; defaults to dataDir. */
  readonly dataLogDir: string | undefined;
  /** clientPort; 0 in process means "any free port". */
  readonly clientPort: number;
  /** clientPortAddress; undefined = all interfaces. */
  readonly clientPortAddress: string | undefined;
  /** clientPortListenBacklog; -1 = the platform default. */
  readonly clientPortListenBacklog: number;
  /** maxClientCnxns: concurrent connections per client IP, 0 = unlimited. */
  readonly maxClientConnectionsPerIp: number;
  /** minSessionTimeout (default 2 × tickTime). */
  readonly minSessionTimeoutMs: number;
  /** maxSessionTimeout (default 20 × tickTime). */
  readonly maxSessionTimeoutMs: number;
  /** initLimit / syncLimit, in ticks; 0 = not set (required only for an ensemble). */
  readonly initLimitTicks: number;
  readonly syncLimitTicks: number;
  /** jute.maxbuffer: the largest frame accepted from a client. */
  readonly frameBytesMax: number;
  /** extendedTypesEnabled: TTL nodes. */
  readonly extendedTypesEnabled: boolean;
  /** 4lw.commands.whitelist, resolved: srvr always, isro with read-only mode, "*" = all. */
  readonly fourLetterWordsEnabled: ReadonlySet<string>;
  readonly standaloneEnabled: boolean;
  readonly reconfigEnabled: boolean;
  /** readonlymode.enabled */
  readonly readOnlyModeEnabled: boolean;
  /** localSessionsEnabled: an ensemble member's new sessions stay its own until they need the leader. */
  readonly localSessionsEnabled: boolean;
  /** localSessionsUpgradingEnabled: a local session creating an ephemeral becomes global (default no). */
  readonly localSessionsUpgradingEnabled: boolean;
  /** DigestAuthenticationProvider.superDigest ("super:<base64 sha1>"). */
  readonly superDigest: string | undefined;
  /** znode.container.checkIntervalMs / maxPerMinute / maxNeverUsedIntervalMs */
  readonly containerCheckIntervalMs: number;
  readonly containerMaxPerMinute: number;
  readonly containerMaxNeverUsedIntervalMs: number;
  /** zookeeper.enforceQuota: hard quotas answer QuotaExceeded. */
  readonly enforceQuota: boolean;
  /** skipACL=yes disables every ACL check. */
  readonly skipAcl: boolean;
  /**
   * menagerie.watchesPerSessionMax (ours, not Apache's): watches one connection may hold, data and
   * child tables counted as mntr counts them; 0 (the default, as Apache) = unlimited.
   */
  readonly watchesPerSessionMax: number;
  readonly autopurgeSnapRetainCount: number;
  readonly autopurgePurgeIntervalHours: number;
  readonly snapCount: number;
  readonly preAllocSizeKb: number;
  /** globalOutstandingLimit: requests in flight across all connections before reads pause. */
  readonly globalOutstandingLimit: number;
  readonly forceSync: boolean;
  /** fsync.warningthresholdms (zookeeper.fsync.warningthresholdms): a slower log fsync is warned about. */
  readonly fsyncWarningThresholdMs: number;
  /** server.N lines (the ensemble; parsed and validated, not yet run). */
  readonly servers: readonly QuorumServerConfig[];
  readonly peerType: 'participant' | 'observer';
  /** The id in dataDir/myid, when that file exists. */
  readonly serverId: bigint | undefined;
  /** dynamicConfigFile: where the server lines came from (loadZooCfg reads it); see dynamic-config.ts. */
  readonly dynamicConfigFile?: string;
  /** The version of the membership (the `version=` line of the dynamic config file; 0 for static). */
  readonly configVersion?: bigint;
  /** The zoo.cfg this config was loaded from (a reconfig rewrites it, as Apache does). */
  readonly configFile?: string;
  /** More than one voting member, or standaloneEnabled=false. */
  readonly distributed: boolean;
  /** admin.enableServer / admin.serverAddress / admin.serverPort / admin.commandURL: the HTTP AdminServer. */
  readonly adminServerEnabled: boolean;
  readonly adminServerAddress: string;
  readonly adminServerPort: number;
  readonly adminCommandUrl: string;
  /** metricsProvider.className; the Prometheus class name turns the /metrics endpoint on. */
  readonly metricsProviderClassName: string | undefined;
  /** metricsProvider.httpHost / metricsProvider.httpPort: where /metrics is served. */
  readonly metricsHttpHost: string;
  readonly metricsHttpPort: number;
}

/** The defaults of every field for a given tickTime, as Apache sets them. */
export function defaultConfig(tickTimeMs = 3000): ServerConfig {
  return {
    tickTimeMs,
    dataDir: undefined,
    dataLogDir: undefined,
    clientPort: 0,
    clientPortAddress: undefined,
    clientPortListenBacklog: -1,
    maxClientConnectionsPerIp: 60,
    minSessionTimeoutMs: 2 * tickTimeMs,
    maxSessionTimeoutMs: 20 * tickTimeMs,
    initLimitTicks: 0,
    syncLimitTicks: 0,
    frameBytesMax: FRAME_BYTES_MAX_DEFAULT,
    extendedTypesEnabled: false,
    fourLetterWordsEnabled: new Set(['srvr']),
    standaloneEnabled: true,
    reconfigEnabled: false,
    readOnlyModeEnabled: false,
    localSessionsEnabled: false,
    localSessionsUpgradingEnabled: false,
    superDigest: undefined,
    containerCheckIntervalMs: 60_000,
    containerMaxPerMinute: 10_000,
    containerMaxNeverUsedIntervalMs: 0,
    enforceQuota: false,
    skipAcl: false,
    watchesPerSessionMax: 0,
    autopurgeSnapRetainCount: 3,
    autopurgePurgeIntervalHours: 0,
    snapCount: 100_000,
    preAllocSizeKb: 65_536,
    globalOutstandingLimit: 1000,
    forceSync: true,
    fsyncWarningThresholdMs: 1000,
    servers: [],
    peerType: 'participant',
    serverId: undefined,
    distributed: false,
    adminServerEnabled: true,
    adminServerAddress: '0.0.0.0',
    adminServerPort: 8080,
    adminCommandUrl: '/commands',
    metricsProviderClassName: undefined,
    metricsHttpHost: '0.0.0.0',
    metricsHttpPort: 7000,
  };
}

// ----- value parsers: each returns the value or throws a ConfigError for (key, value) -----

type Parsed = { key: string; value: string; line?: number };

function fail(entry: Parsed, reason: string): never {
  throw new ConfigError(entry.key, entry.value, reason, entry.line);
}

/** Java's Integer.parseInt: optional sign, decimal digits, 32-bit range. */
export function parseInt32(entry: Parsed, min = -(2 ** 31), max = 2 ** 31 - 1): number {
  if (!/^[+-]?\d+$/.test(entry.value)) fail(entry, 'not an integer');
  const n = Number(entry.value);
  if (n < -(2 ** 31) || n > 2 ** 31 - 1) fail(entry, 'out of the 32-bit integer range');
  if (n < min) fail(entry, `must be at least ${min}`);
  if (n > max) fail(entry, `must be at most ${max}`);
  return n;
}

/** Java's Long.parseLong, 64-bit range. */
export function parseInt64(entry: Parsed, min = -(2n ** 63n)): bigint {
  if (!/^[+-]?\d+$/.test(entry.value)) fail(entry, 'not an integer');
  const n = BigInt(entry.value);
  if (n < -(2n ** 63n) || n > 2n ** 63n - 1n) fail(entry, 'out of the 64-bit integer range');
  if (n < min) fail(entry, `must be at least ${min}`);
  return n;
}

/** Apache's parseBoolean: "true" or "false", any case; anything else is refused. */
export function parseBool(entry: Parsed): boolean {
  const v = entry.value.toLowerCase();
  if (v === 'true') return true;
  if (v === 'false') return false;
  return fail(entry, "must be 'true' or 'false'");
}

/** The yes/no keys (skipACL, forceSync, leaderServes). */
function parseYesNo(entry: Parsed): boolean {
  const v = entry.value.toLowerCase();
  if (v === 'yes') return true;
  if (v === 'no') return false;
  return fail(entry, "must be 'yes' or 'no'");
}

function parsePort(entry: Parsed): number {
  return parseInt32(entry, 0, 65535);
}

function parseWhitelist(entry: Parsed, warnings: string[]): Set<string> {
  const words = new Set<string>();
  for (const raw of entry.value.split(',')) {
    const word = raw.trim();
    if (word === '*') return new Set(FOUR_LETTER_WORDS);
    if (word === '') continue;
    if (!(FOUR_LETTER_WORDS as readonly string[]).includes(word)) {
      warnings.push(`${entry.key}: "${word}" is not a four-letter word; ignored`);
      continue;
    }
    words.add(word);
  }
  return words;
}

/** host:port:port[:participant|observer][;[clientHost:]clientPort], host may be [IPv6]. */
export function parseServerLine(entry: Parsed): QuorumServerConfig {
  const idText = entry.key.slice('server.'.length);
  const id = parseInt64({ ...entry, value: idText }, 0n);
  const [serverPart, clientPart, ...extra] = entry.value.split(';');
  const shape =
    'must look like host:quorumPort:electionPort[:participant|observer][;[clientHost:]clientPort]';
  if (extra.length > 0 || serverPart === undefined) fail(entry, shape);
  if (serverPart.includes('|')) fail(entry, 'multiple addresses per server are not supported');
  const parts = splitHostPorts(serverPart.trim());
  if (parts === undefined || parts.length < 3 || parts.length > 4) fail(entry, shape);
  const [host, quorumText, electionText, roleText] = parts;
  const quorumPort = parsePort({ ...entry, value: quorumText });
  const electionPort = parsePort({ ...entry, value: electionText });
  let role: 'participant' | 'observer' = 'participant';
  if (roleText !== undefined) {
    const r = roleText.toLowerCase();
    if (r !== 'participant' && r !== 'observer') fail(entry, `unrecognised peer type "${roleText}"`);
    role = r;
  }
  if (host === '') fail(entry, 'the host is empty');
  const server: QuorumServerConfig = { id, host, quorumPort, electionPort, role };
  if (clientPart === undefined) return server;
  const client = splitHostPorts(clientPart.trim());
  if (client === undefined || client.length < 1 || client.length > 2) fail(entry, shape);
  const clientPort = parsePort({ ...entry, value: client[client.length - 1] });
  return client.length === 2 ? { ...server, clientHost: client[0], clientPort } : { ...server, clientPort };
}

/** Splits on ':' but keeps a bracketed IPv6 host whole (without its brackets). */
function splitHostPorts(text: string): string[] | undefined {
  if (!text.startsWith('[')) return text.split(':');
  const close = text.indexOf(']');
  if (close < 0) return undefined;
  const host = text.slice(1, close);
  const rest = text.slice(close + 1);
  if (rest !== '' && !rest.startsWith(':')) return undefined;
  return [host, ...(rest === '' ? [] : rest.slice(1).split(':'))];
}

// ----- the key table -----

/** Mutable config under construction, plus what the file said explicitly. */
interface Draft {
  config: { -readonly [K in keyof ServerConfig]: ServerConfig[K] };
  explicit: Set<string>;
  warnings: string[];
}

type KeyHandler = (draft: Draft, entry: Parsed) => void;

/** Keys Apache accepts whose effect this server does not have (yet); accepted with a warning. */
const ACCEPTED_WITHOUT_EFFECT = new Set([
  'observerMasterPort',
  'connectToLearnerMasterLimit',
  'quorumListenOnAllIPs', 'syncEnabled', 'sslQuorum', 'portUnification',
  'sslQuorumReloadCertFiles', 'quorum.cnxn.threads.size', 'multiAddress.enabled',
  'multiAddress.reachabilityCheckTimeoutMs', 'multiAddress.reachabilityCheckEnabled', 'oraclePath',
  'secureClientPortAddress', 'leaderServes', 'electionPortBindRetry',
  'admin.idleTimeout',
  'serverCnxnFactory', 'snapshot.trust.empty', 'closeSessionTxn.enabled', 'digest.enabled',
  'commitLogCount', 'snapSizeLimitInKb', 'txnLogSizeLimitInKb', 'maxCnxns', 'cnxTimeout',
  'maxResponseCacheSize',
  'maxGetChildrenResponseCacheSize', 'flushDelay', 'maxWriteQueuePollTime', 'maxBatchSize',
  'requestThrottleLimit', 'requestThrottleStallTime', 'requestThrottleDropStale', 'learner.asyncSending',
  'audit.enable', 'jute.maxbuffer.extrasize', 'fips-mode', 'authProvider.1', 'sasl.enabled',
  'ssl.clientAuth', 'ssl.keyStore.location', 'ssl.trustStore.location', 'ssl.quorum.keyStore.location',
  'ssl.quorum.trustStore.location', 'client.secure', 'standaloneEnabled.warn',
]);

function int32Key(set: (d: Draft, n: number) => void, min?: number, max?: number): KeyHandler {
  return (d, e) => set(d, parseInt32(e, min, max));
}

const handlers: ReadonlyMap<string, KeyHandler> = new Map<string, KeyHandler>([
  ['tickTime', int32Key((d, n) => (d.config.tickTimeMs = n), 1)],
  ['dataDir', (d, e) => (d.config.dataDir = nonEmpty(e))],
  ['dataLogDir', (d, e) => (d.config.dataLogDir = nonEmpty(e))],
  ['clientPort', (d, e) => (d.config.clientPort = parsePort(e))],
  ['clientPortAddress', (d, e) => (d.config.clientPortAddress = nonEmpty(e))],
  ['clientPortListenBacklog', int32Key((d, n) => (d.config.clientPortListenBacklog = n), -1)],
  ['secureClientPort', (d, e) => refuseSecurePort(e)],
  ['maxClientCnxns', int32Key((d, n) => (d.config.maxClientConnectionsPerIp = n), 0)],
  ['minSessionTimeout', int32Key((d, n) => (d.config.minSessionTimeoutMs = n), -1)],
  ['maxSessionTimeout', int32Key((d, n) => (d.config.maxSessionTimeoutMs = n), -1)],
  ['initLimit', int32Key((d, n) => (d.config.initLimitTicks = n), 0)],
  ['syncLimit', int32Key((d, n) => (d.config.syncLimitTicks = n), 0)],
  ['electionAlg', (d, e) => parseInt32(e, 3, 3)],
  ['peerType', (d, e) => (d.config.peerType = parsePeerType(e))],
  ['standaloneEnabled', (d, e) => (d.config.standaloneEnabled = parseBool(e))],
  ['reconfigEnabled', (d, e) => (d.config.reconfigEnabled = parseBool(e))],
  ['dynamicConfigFile', (d, e) => (d.config.dynamicConfigFile = nonEmpty(e))],
  ['autopurge.snapRetainCount', int32Key((d, n) => (d.config.autopurgeSnapRetainCount = n))],
  ['autopurge.purgeInterval', int32Key((d, n) => (d.config.autopurgePurgeIntervalHours = n))],
  ['snapCount', int32Key((d, n) => (d.config.snapCount = n), 2)],
  ['preAllocSize', int32Key((d, n) => (d.config.preAllocSizeKb = n), 1)],
  ['globalOutstandingLimit', int32Key((d, n) => (d.config.globalOutstandingLimit = n), 1)],
  ['forceSync', (d, e) => (d.config.forceSync = parseYesNo(e))],
  ['fsync.warningthresholdms', int32Key((d, n) => (d.config.fsyncWarningThresholdMs = n), 0)],
  ['skipACL', (d, e) => (d.config.skipAcl = parseYesNo(e))],
  // System-property keys (Apache reads them as zookeeper.<key>; the bare property names work too).
  ['jute.maxbuffer', int32Key((d, n) => (d.config.frameBytesMax = n), 1)],
  ['extendedTypesEnabled', (d, e) => (d.config.extendedTypesEnabled = parseBool(e))],
  ['4lw.commands.whitelist', (d, e) => (d.config.fourLetterWordsEnabled = parseWhitelist(e, d.warnings))],
  ['readonlymode.enabled', (d, e) => (d.config.readOnlyModeEnabled = parseBool(e))],
  ['localSessionsEnabled', (d, e) => (d.config.localSessionsEnabled = parseBool(e))],
  ['localSessionsUpgradingEnabled', (d, e) => (d.config.localSessionsUpgradingEnabled = parseBool(e))],
  ['DigestAuthenticationProvider.superDigest', (d, e) => (d.config.superDigest = parseSuperDigest(e))],
  ['znode.container.checkIntervalMs', int32Key((d, n) => (d.config.containerCheckIntervalMs = n), 1)],
  ['znode.container.maxPerMinute', int32Key((d, n) => (d.config.containerMaxPerMinute = n), 1)],
  [
    'znode.container.maxNeverUsedIntervalMs',
    int32Key((d, n) => (d.config.containerMaxNeverUsedIntervalMs = n), 0),
  ],
  ['enforceQuota', (d, e) => (d.config.enforceQuota = parseBool(e))],
  ['menagerie.watchesPerSessionMax', int32Key((d, n) => (d.config.watchesPerSessionMax = n), 0)],
  ['admin.enableServer', (d, e) => (d.config.adminServerEnabled = parseBool(e))],
  ['admin.serverAddress', (d, e) => (d.config.adminServerAddress = nonEmpty(e))],
  ['admin.serverPort', (d, e) => (d.config.adminServerPort = parsePort(e))],
  ['admin.commandURL', (d, e) => (d.config.adminCommandUrl = parseUrlPath(e))],
  ['metricsProvider.className', (d, e) => (d.config.metricsProviderClassName = nonEmpty(e))],
  ['metricsProvider.httpHost', (d, e) => (d.config.metricsHttpHost = nonEmpty(e))],
  ['metricsProvider.httpPort', (d, e) => (d.config.metricsHttpPort = parsePort(e))],
]);

function parseUrlPath(entry: Parsed): string {
  if (!/^\/[\w\-./]*$/.test(entry.value)) fail(entry, 'must be a URL path starting with "/"');
  return entry.value;
}

function nonEmpty(entry: Parsed): string {
  if (entry.value === '') fail(entry, 'must not be empty');
  return entry.value;
}

function refuseSecurePort(entry: Parsed): never {
  return fail(entry, 'TLS client connections (secureClientPort) are not supported by this server; remove it');
}

function parsePeerType(entry: Parsed): 'participant' | 'observer' {
  const v = entry.value.toLowerCase();
  if (v === 'participant' || v === 'observer') return v;
  return fail(entry, "unrecognised peer type: must be 'participant' or 'observer'");
}

function parseSuperDigest(entry: Parsed): string {
  if (!/^[^:]+:[A-Za-z0-9+/]{27}=$/.test(entry.value)) {
    fail(entry, 'must be "user:base64(sha1(user:password))" (28 base64 characters after the colon)');
  }
  return entry.value;
}

/** The key Apache would see: "zookeeper.X" written in the file means the system property X. */
function canonicalKey(key: string): string {
  if (key.startsWith('zookeeper.') && handlers.has(key.slice('zookeeper.'.length))) {
    return key.slice('zookeeper.'.length);
  }
  return key;
}

export interface ParsedConfig {
  readonly config: ServerConfig;
  /** Unknown keys and accepted-but-ignored keys, one sentence each. Never fatal. */
  readonly warnings: readonly string[];
}

/** The file's entries; a malformed escape is a ConfigError too, so callers see one error type. */
function readEntries(text: string): PropertyEntry[] {
  try {
    return parseProperties(text);
  } catch (error) {
    if (!(error instanceof PropertiesSyntaxError)) throw error;
    const reason = 'malformed: \\u must be followed by 4 hex digits';
    throw new ConfigError('\\u escape', error.escape, reason, error.line);
  }
}

/** Parses zoo.cfg text. Throws ConfigError on the first malformed value or invalid combination. */
export function parseZooCfg(text: string): ParsedConfig {
  const entries = readEntries(text);
  const draft: Draft = { config: { ...defaultConfig() }, explicit: new Set(), warnings: [] };
  const servers: QuorumServerConfig[] = [];
  for (const entry of entries) applyEntry(draft, entry, servers);
  if (!draft.explicit.has('dataDir')) throw new ConfigError('dataDir', '', 'dataDir is not set');
  draft.config.servers = servers;
  return { config: finish(draft), warnings: draft.warnings };
}

function applyEntry(draft: Draft, entry: PropertyEntry, servers: QuorumServerConfig[]): void {
  const key = canonicalKey(entry.key);
  const parsed: Parsed = { key: entry.key, value: entry.value, line: entry.line };
  const handler = handlers.get(key);
  if (handler !== undefined) {
    handler(draft, parsed);
    draft.explicit.add(key);
  } else if (key.startsWith('server.')) {
    const server = parseServerLine(parsed);
    if (servers.some((s) => s.id === server.id)) fail(parsed, `server id ${server.id} is given twice`);
    servers.push(server);
  } else if (key.startsWith('group') || key.startsWith('weight')) {
    draft.warnings.push(`${entry.key}: hierarchical quorums are not supported; ignored`);
  } else if (ACCEPTED_WITHOUT_EFFECT.has(key) || key.startsWith('metricsProvider.')) {
    draft.warnings.push(`${entry.key}: accepted, but has no effect in this server`);
  } else {
    draft.warnings.push(`${entry.key}: unknown key; ignored`);
  }
}

/** Fills the defaults that depend on other keys, then checks how the values relate. */
function finish(draft: Draft): ServerConfig {
  const c = draft.config;
  const tick = c.tickTimeMs;
  if (!draft.explicit.has('minSessionTimeout') || c.minSessionTimeoutMs === -1) {
    c.minSessionTimeoutMs = 2 * tick;
  }
  if (!draft.explicit.has('maxSessionTimeout') || c.maxSessionTimeoutMs === -1) {
    c.maxSessionTimeoutMs = 20 * tick;
  }
  if (c.dataLogDir === undefined) c.dataLogDir = c.dataDir;
  if (c.autopurgeSnapRetainCount < 3) {
    draft.warnings.push(`autopurge.snapRetainCount=${c.autopurgeSnapRetainCount} is below 3; using 3`);
    c.autopurgeSnapRetainCount = 3;
  }
  if (c.readOnlyModeEnabled) c.fourLetterWordsEnabled = new Set([...c.fourLetterWordsEnabled, 'isro']);
  // srvr is always enabled: zkServer.sh status depends on it.
  c.fourLetterWordsEnabled = new Set([...c.fourLetterWordsEnabled, 'srvr']);
  const voters = c.servers.filter((s) => s.role === 'participant');
  c.distributed = !c.standaloneEnabled || voters.length > 1;
  if (c.clientPortAddress !== undefined && !draft.explicit.has('clientPort')) {
    const reason = 'clientPortAddress is set but clientPort is not set';
    throw new ConfigError('clientPortAddress', c.clientPortAddress, reason);
  }
  return validateConfig(c);
}

/**
 * Checks the relations between values (shared by zoo.cfg parsing and in-process options) and returns
 * the config frozen. Throws ConfigError naming the offending key.
 */
export function validateConfig(c: ServerConfig): ServerConfig {
  if (c.tickTimeMs <= 0) throw new ConfigError('tickTime', String(c.tickTimeMs), 'must be positive');
  if (c.minSessionTimeoutMs > c.maxSessionTimeoutMs) {
    throw new ConfigError(
      'minSessionTimeout',
      String(c.minSessionTimeoutMs),
      `must not be larger than maxSessionTimeout (${c.maxSessionTimeoutMs})`,
    );
  }
  const voters = c.servers.filter((s) => s.role === 'participant');
  const observers = c.servers.length - voters.length;
  if (voters.length === 0 && !c.standaloneEnabled) {
    const reason = 'with standaloneEnabled=false at least one server.N is needed';
    throw new ConfigError('standaloneEnabled', 'false', reason);
  }
  if (voters.length === 0 && observers > 0) {
    const reason = 'observers without participants is an invalid configuration';
    throw new ConfigError('peerType', 'observer', reason);
  }
  if (voters.length === 1 && c.standaloneEnabled && observers > 0) {
    throw new ConfigError('peerType', 'observer', 'observers without a quorum is an invalid configuration');
  }
  if (c.distributed) {
    if (c.initLimitTicks === 0) {
      throw new ConfigError('initLimit', '0', 'initLimit is not set (needed for an ensemble)');
    }
    if (c.syncLimitTicks === 0) {
      throw new ConfigError('syncLimit', '0', 'syncLimit is not set (needed for an ensemble)');
    }
  }
  if (c.extendedTypesEnabled) {
    const big = c.servers.find((s) => s.id > 254n);
    if (big) {
      const reason = 'server ids must be at most 254 when extendedTypesEnabled=true';
      throw new ConfigError(`server.${big.id}`, big.host, reason);
    }
  }
  return Object.freeze({ ...c, servers: Object.freeze([...c.servers]) });
}
