// What zk-cli prints, as pure functions: stats, dates, child lists, ACLs, watch events, quota
// records and error messages, each in the exact form Apache's zkCli.sh 3.8 prints it, so that
// scripts written against zkCli.sh keep parsing our output. No I/O, no clock.

import { ErrorCode, KeeperError, Perms, type ACL, type Stat } from '../protocol/index.js';

/** Long.toHexString: the 64-bit two's complement value in lower-case hex, no leading zeros. */
export function javaHex(value: bigint): string {
  return BigInt.asUintN(64, value).toString(16);
}

const weekdays = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const months = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/**
 * java.util.Date#toString: "EEE MMM dd HH:mm:ss zzz yyyy" in `timeZone` (an IANA name; the
 * process's zone when absent). Zones Java abbreviates but Intl does not (CET) print as GMT+1.
 */
export function javaDate(epochMs: number, timeZone?: string): string {
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone,
    hourCycle: 'h23',
    year: 'numeric',
    month: 'numeric',
    day: 'numeric',
    hour: 'numeric',
    minute: 'numeric',
    second: 'numeric',
    weekday: 'short',
    timeZoneName: 'short',
  }).formatToParts(new Date(epochMs));
  const part = (type: Intl.DateTimeFormatPartTypes) => parts.find((p) => p.type === type)?.value ?? '';
  const two = (type: Intl.DateTimeFormatPartTypes) => part(type).padStart(2, '0');
  const weekday = weekdays.includes(part('weekday')) ? part('weekday') : part('weekday').slice(0, 3);
  const month = months[Number(part('month')) - 1];
  const zone = part('timeZoneName') === 'GMT' ? 'GMT' : part('timeZoneName');
  const hour = two('hour') === '24' ? '00' : two('hour');
  const time = `${hour}:${two('minute')}:${two('second')}`;
  return `${weekday} ${month} ${two('day')} ${time} ${zone} ${part('year')}`;
}

/** StatPrinter: eleven "name = value" lines. */
export function formatStat(stat: Stat, timeZone?: string): string {
  return [
    `cZxid = 0x${javaHex(stat.czxid)}`,
    `ctime = ${javaDate(Number(stat.ctime), timeZone)}`,
    `mZxid = 0x${javaHex(stat.mzxid)}`,
    `mtime = ${javaDate(Number(stat.mtime), timeZone)}`,
    `pZxid = 0x${javaHex(stat.pzxid)}`,
    `cversion = ${stat.cversion}`,
    `dataVersion = ${stat.version}`,
    `aclVersion = ${stat.aversion}`,
    `ephemeralOwner = 0x${javaHex(stat.ephemeralOwner)}`,
    `dataLength = ${stat.dataLength}`,
    `numChildren = ${stat.numChildren}`,
  ]
    .map((line) => `${line}\n`)
    .join('');
}

/** `ls`: the children sorted by UTF-16 code units (Java's String order) in brackets. */
export function formatChildren(children: readonly string[]): string {
  return `[${[...children].sort(javaCompare).join(', ')}]\n`;
}

/** Java's String.compareTo order (UTF-16 code units), which is also JavaScript's default sort. */
export function javaCompare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** A List's toString: "[a, b]". */
export function javaList(items: readonly string[]): string {
  return `[${items.join(', ')}]`;
}

/** ZKUtil.getPermString: the letters of the granted permissions, in the order c d r w a. */
export function permString(perms: number): string {
  const letters: Array<[number, string]> = [
    [Perms.CREATE, 'c'],
    [Perms.DELETE, 'd'],
    [Perms.READ, 'r'],
    [Perms.WRITE, 'w'],
    [Perms.ADMIN, 'a'],
  ];
  return letters.map(([bit, letter]) => (perms & bit ? letter : '')).join('');
}

/** Jute's toString of a string field: a quote, then the text with , } % NUL CR LF escaped. */
function juteString(text: string): string {
  const escapes: Record<string, string> = {
    '\0': '%00',
    '\n': '%0A',
    '\r': '%0D',
    ',': '%2C',
    '}': '%7D',
    '%': '%25',
  };
  return `'${text.replace(/[\0\n\r,}%]/g, (c) => escapes[c]!)}`;
}

/** getAcl: each entry as Java prints `id + ": " + perms` (the Id record's toString ends in \n). */
export function formatAcl(acl: readonly ACL[]): string {
  return acl
    .map((entry) => {
      const id = `${juteString(entry.id.scheme)},${juteString(entry.id.id)}`;
      return `${id}\n: ${permString(entry.perms)}\n`;
    })
    .join('');
}

const permLetters: Readonly<Record<string, number>> = {
  r: Perms.READ,
  w: Perms.WRITE,
  c: Perms.CREATE,
  d: Perms.DELETE,
  a: Perms.ADMIN,
};

/** Parses "scheme:id:perms[,...]" as AclParser does; entries without two colons become warnings. */
export function parseAcl(text: string): { acl: ACL[]; warnings: string[] } {
  const acl: ACL[] = [];
  const warnings: string[] = [];
  for (const entry of text.split(',')) {
    const first = entry.indexOf(':');
    const last = entry.lastIndexOf(':');
    if (first === -1 || first === last) {
      warnings.push(`${entry} does not have the form scheme:id:perm`);
      continue;
    }
    let perms = 0;
    for (const letter of entry.slice(last + 1)) {
      const bit = permLetters[letter];
      if (bit === undefined) warnings.push(`Unknown perm type: ${letter}`);
      else perms |= bit;
    }
    acl.push({ perms, id: { scheme: entry.slice(0, first), id: entry.slice(first + 1, last) } });
  }
  return { acl, warnings };
}

/** Java's Watcher.Event.KeeperState names, as they appear in "WatchedEvent state:...". */
export type KeeperStateName =
  | 'SyncConnected'
  | 'Disconnected'
  | 'Expired'
  | 'AuthFailed'
  | 'ConnectedReadOnly'
  | 'Closed';

/** The block the default watcher prints: a blank line, WATCHER::, a blank line, the event. */
export function formatWatcherBlock(state: KeeperStateName, type: string, path: string | null): string {
  return `\nWATCHER::\n\nWatchedEvent state:${state} type:${type} path:${path ?? 'null'}\n`;
}

const eventTypeJavaNames: Record<string, string> = {
  nodeCreated: 'NodeCreated',
  nodeDeleted: 'NodeDeleted',
  nodeDataChanged: 'NodeDataChanged',
  nodeChildrenChanged: 'NodeChildrenChanged',
  dataWatchRemoved: 'DataWatchRemoved',
  childWatchRemoved: 'ChildWatchRemoved',
  persistentWatchRemoved: 'PersistentWatchRemoved',
};

/** Our client's event type ('nodeDataChanged') as Java's EventType name ('NodeDataChanged'). */
export function javaEventType(type: string): string {
  return eventTypeJavaNames[type] ?? type;
}

/** KeeperException.Code names as Java's getMessage uses them ("KeeperErrorCode = NoNode"). */
const javaCodeMessages: Record<number, string> = {
  [ErrorCode.SYSTEM_ERROR]: 'SystemError',
  [ErrorCode.RUNTIME_INCONSISTENCY]: 'RuntimeInconsistency',
  [ErrorCode.DATA_INCONSISTENCY]: 'DataInconsistency',
  [ErrorCode.CONNECTION_LOSS]: 'ConnectionLoss',
  [ErrorCode.MARSHALLING_ERROR]: 'MarshallingError',
  [ErrorCode.UNIMPLEMENTED]: 'Unimplemented',
  [ErrorCode.OPERATION_TIMEOUT]: 'OperationTimeout',
  [ErrorCode.BAD_ARGUMENTS]: 'BadArguments',
  [ErrorCode.UNKNOWN_SESSION]: 'Unknown error UNKNOWNSESSION', // Java has no message for it
  [ErrorCode.NEW_CONFIG_NO_QUORUM]: 'NewConfigNoQuorum',
  [ErrorCode.RECONFIG_IN_PROGRESS]: 'ReconfigInProgress',
  [ErrorCode.API_ERROR]: 'APIError',
  [ErrorCode.NO_NODE]: 'NoNode',
  [ErrorCode.NO_AUTH]: 'NoAuth',
  [ErrorCode.BAD_VERSION]: 'BadVersion',
  [ErrorCode.NO_CHILDREN_FOR_EPHEMERALS]: 'NoChildrenForEphemerals',
  [ErrorCode.NODE_EXISTS]: 'NodeExists',
  [ErrorCode.NOT_EMPTY]: 'Directory not empty',
  [ErrorCode.SESSION_EXPIRED]: 'Session expired',
  [ErrorCode.INVALID_CALLBACK]: 'Invalid callback',
  [ErrorCode.INVALID_ACL]: 'InvalidACL',
  [ErrorCode.AUTH_FAILED]: 'AuthFailed',
  [ErrorCode.SESSION_MOVED]: 'Session moved',
  [ErrorCode.NOT_READ_ONLY]: 'Not a read-only call',
  [ErrorCode.EPHEMERAL_ON_LOCAL_SESSION]: 'Ephemeral node on local session',
  [ErrorCode.NO_WATCHER]: 'No such watcher',
  [ErrorCode.REQUEST_TIMEOUT]: 'Unknown error REQUESTTIMEOUT',
  [ErrorCode.RECONFIG_DISABLED]: 'Reconfig is disabled',
  [ErrorCode.SESSION_CLOSED_REQUIRE_SASL_AUTH]: 'Session closed because client failed to authenticate',
  [ErrorCode.QUOTA_EXCEEDED]: 'Quota has exceeded',
  [ErrorCode.THROTTLED_OP]: 'Op throttled due to high load',
};

/** KeeperException#getMessage: "KeeperErrorCode = NoNode for /x". */
export function javaKeeperMessage(code: number, path: string | undefined): string {
  const name = javaCodeMessages[code] ?? `Unknown error ${code}`;
  return `KeeperErrorCode = ${name}${path === undefined || path === '' ? '' : ` for ${path}`}`;
}

/** CliWrapperException's message for a ZooKeeper error, word for word as zkCli.sh prints it. */
export function cliErrorMessage(error: KeeperError): string {
  const path = error.path ?? 'null';
  switch (error.code) {
    case ErrorCode.NO_NODE:
      return `Node does not exist: ${path}`;
    case ErrorCode.NO_CHILDREN_FOR_EPHEMERALS:
      return `Ephemerals cannot have children: ${path}`;
    case ErrorCode.NODE_EXISTS:
      return `Node already exists: ${path}`;
    case ErrorCode.NOT_EMPTY:
      return `Node not empty: ${path}`;
    case ErrorCode.NOT_READ_ONLY:
      return `Not a read-only call: ${path}`;
    case ErrorCode.INVALID_ACL:
      return `Acl is not valid : ${path}`;
    case ErrorCode.NO_AUTH:
      return `Insufficient permission : ${path}`;
    case ErrorCode.BAD_ARGUMENTS:
      return `Arguments are not valid : ${path}`;
    case ErrorCode.BAD_VERSION:
      return `version No is not valid : ${path}`;
    case ErrorCode.RECONFIG_IN_PROGRESS:
      return 'Another reconfiguration is in progress -- concurrent reconfigs not supported (yet)';
    case ErrorCode.NEW_CONFIG_NO_QUORUM:
      return (
        'No quorum of new config is connected and up-to-date with the leader of last commmitted ' +
        'config - try invoking reconfiguration after new servers are connected and synced'
      );
    case ErrorCode.QUOTA_EXCEEDED:
      return `Quota has exceeded : ${path}`;
    default:
      return javaKeeperMessage(error.code, error.path);
  }
}

/**
 * A quota record (StatsTrack) as text: "count=5,bytes=-1" followed, when hard limits are present,
 * by Java's odd "=;byteHardLimit=-1;countHardLimit=-1" tail, kept because zkCli.sh writes it.
 */
export function formatStatsTrack(stats: ReadonlyMap<string, bigint>): string {
  const get = (key: string) => stats.get(key) ?? -1n;
  let text = `count=${get('count')},bytes=${get('bytes')}`;
  const others = [...stats.keys()].filter((key) => key !== 'count' && key !== 'bytes').sort(javaCompare);
  if (others.length > 0) text += '=' + others.map((key) => `;${key}=${stats.get(key)}`).join('');
  return text;
}

/** Parses a StatsTrack's text (pairs split on , and ;, an empty value meaning -1). */
export function parseStatsTrack(text: string): Map<string, bigint> {
  const stats = new Map<string, bigint>();
  if (text === '') return stats;
  for (const pair of text.split(/[,;]+/)) {
    const [key, value] = pair.split('=');
    if (key === undefined || key === '') continue;
    const number = value === undefined || value === '' ? -1n : toBigInt(value);
    if (number !== undefined) stats.set(key, number);
  }
  return stats;
}

function toBigInt(text: string): bigint | undefined {
  return /^-?\d+$/.test(text.trim()) ? BigInt(text.trim()) : undefined;
}

/** The prompt zkCli.sh shows with JLine: "[zk: host:port(CONNECTED) 3] ". */
export function formatPrompt(host: string, state: string, commandCount: number): string {
  return `[zk: ${host}(${state}) ${commandCount}] `;
}
