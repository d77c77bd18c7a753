// Dynamic reconfiguration at the ensemble runtime: the config text of /zookeeper/config (Apache's
// `server.N=host:quorumPort:electionPort:role[;clientHost:clientPort]` lines and `version=<hex>`),
// the leader's preparation of a reconfig request into a txn (Apache's checks, in Apache's order), the
// core's `reconfigOf` (which txns are reconfigs) and the dynamic config file written on activation.

import { ErrorCode, OpCode } from '../../src/protocol/index.js';
import { parseServerLine, type QuorumServerConfig } from '../config/zoo-cfg.js';
import type { RequestContext, Txn as CoreTxn } from '../core/api.js';
import type { ServerCore } from '../core/server-core.js';
import { decodeTxnPayload } from '../persistence/txn-format.js';
import type { Membership, MembershipChange, QuorumPeer } from '../quorum/index.js';
import type { PeerAddress } from './seams.js';

export const CONFIG_PATH = '/zookeeper/config';

/** A config: its server lines and version (Apache's QuorumVerifier.toString()). */
export interface EnsembleConfig {
  readonly servers: readonly QuorumServerConfig[];
  readonly version: bigint;
}

/** `server.N=...` of one server, as Apache prints it in /zookeeper/config. */
export function serverLine(server: QuorumServerConfig): string {
  const host = (h: string) => (h.includes(':') ? `[${h}]` : h);
  const { id, quorumPort, electionPort, role, clientPort } = server;
  let line = `server.${id}=${host(server.host)}:${quorumPort}:${electionPort}:${role}`;
  if (clientPort !== undefined) line += `;${host(server.clientHost ?? '0.0.0.0')}:${clientPort}`;
  return line;
}

/** The text of /zookeeper/config and of a dynamic config file. */
export function configText(config: EnsembleConfig): string {
  return [...config.servers.map(serverLine), `version=${config.version.toString(16)}`].join('\n');
}

/** Reads config text (server lines, optional version=hex); throws ConfigError on a bad line. */
export function parseConfigText(text: string): EnsembleConfig {
  const servers: QuorumServerConfig[] = [];
  let version = 0n;
  for (const [index, raw] of text.split(/[\n,]/).entries()) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const equals = line.indexOf('=');
    const key = line.slice(0, equals).trim();
    const value = line.slice(equals + 1).trim();
    if (key === 'version' && /^[0-9a-fA-F]+$/.test(value)) {
      version = BigInt(`0x${value}`);
    } else if (equals > 0 && key.startsWith('server.')) {
      servers.push(parseServerLine({ key, value, line: index + 1 }));
    } else {
      throw new ReconfigArgumentError(`not a server line: ${line}`);
    }
  }
  return { servers, version };
}

export function membershipOf(config: EnsembleConfig): Membership {
  const ids = (role: string) => config.servers.filter((s) => s.role === role).map((s) => Number(s.id));
  return {
    version: config.version, voters: ids('participant'), observers: ids('observer'), text: configText(config),
  };
}

/** The peer addresses of every config in force (the transport connects to all of them). */
export function peerAddressesOf(configs: readonly Membership[]): PeerAddress[] {
  const byId = new Map<number, PeerAddress>();
  for (const membership of configs) {
    if (membership.text === undefined) continue;
    for (const s of parseConfigText(membership.text).servers) {
      const id = Number(s.id);
      byId.set(id, { id, host: s.host, quorumPort: s.quorumPort, electionPort: s.electionPort });
    }
  }
  return [...byId.values()];
}

/** txn header: clientId (8), cxid (4), zxid (8), time (8), then the type (4). */
const TXN_TYPE_OFFSET = 28;

/**
 * The core's `reconfigOf`: a reconfig txn's config (the SetDataTxn data of /zookeeper/config). Only
 * reconfig txns are decoded; every other payload is recognized by its type field alone.
 */
export function reconfigOfPayload(payload: Uint8Array): MembershipChange | undefined {
  if (payload.length < TXN_TYPE_OFFSET + 4) return undefined;
  const view = new DataView(payload.buffer, payload.byteOffset, payload.byteLength);
  if (view.getInt32(TXN_TYPE_OFFSET) !== OpCode.reconfig) return undefined;
  const txn = decodeTxnPayload(Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength));
  const data = (txn.record as { data?: Uint8Array } | undefined)?.data;
  if (data === undefined) return undefined;
  const { version: _ignored, ...change } = membershipOf(parseConfigText(Buffer.from(data).toString('utf8')));
  return change;
}

class ReconfigArgumentError extends Error {}

/** A reconfig request (ReconfigRequest). */
export interface ReconfigRequest {
  readonly joiningServers?: string | null;
  readonly leavingServers?: string | null;
  readonly newMembers?: string | null;
  readonly curConfigId: bigint;
}

/** The servers after an incremental (joining / leaving) or a full (newMembers) change. */
function nextServers(current: EnsembleConfig, request: ReconfigRequest): QuorumServerConfig[] {
  if (request.newMembers != null) return [...parseConfigText(request.newMembers).servers];
  const next = new Map(current.servers.map((s) => [s.id, s]));
  for (const leaving of (request.leavingServers ?? '').split(',').map((s) => s.trim()).filter(Boolean)) {
    if (!/^\d+$/.test(leaving)) throw new ReconfigArgumentError(`bad server id ${leaving}`);
    next.delete(BigInt(leaving));
  }
  for (const joining of (request.joiningServers ?? '').split(',').map((s) => s.trim()).filter(Boolean)) {
    const equals = joining.indexOf('=');
    if (equals < 0) throw new ReconfigArgumentError('Wrong format of server string');
    const key = joining.slice(0, equals).trim();
    const server = parseServerLine({ key, value: joining.slice(equals + 1).trim() });
    if (server.clientPort === undefined) {
      throw new ReconfigArgumentError('a joining server needs its client port too');
    }
    next.set(server.id, server);
  }
  return [...next.values()].sort((a, b) => (a.id < b.id ? -1 : 1));
}

/**
 * Leader: turns a reconfig request into its txn, or an error txn, with Apache's checks in Apache's
 * order: disabled, session, another reconfig in progress, version, arguments, voters, a synced quorum
 * of the new config, then WRITE on /zookeeper/config (super or skipACL, else NoAuth).
 */
export function prepareReconfig(options: {
  core: ServerCore;
  peer: QuorumPeer;
  ctx: RequestContext;
  request: ReconfigRequest;
  reconfigEnabled: boolean;
  standaloneEnabled: boolean;
  nowMs: number;
}): CoreTxn {
  const { core, peer, ctx, request, nowMs } = options;
  const refuse = (err: number) => core.prepareError(ctx, err, nowMs);
  if (!options.reconfigEnabled) return refuse(ErrorCode.RECONFIG_DISABLED);
  if (core.sessionTimeoutMs(ctx.sessionId) === undefined) return refuse(ErrorCode.SESSION_EXPIRED);
  const status = peer.status();
  if (status.lastSeenConfigVersion !== status.configVersion) return refuse(ErrorCode.RECONFIG_IN_PROGRESS);
  if (request.curConfigId !== -1n && request.curConfigId !== status.lastSeenConfigVersion) {
    return refuse(ErrorCode.BAD_VERSION);
  }
  const current = peer.view().active;
  let servers: QuorumServerConfig[];
  try {
    servers = nextServers(parseConfigText(current.text ?? ''), request);
  } catch {
    return refuse(ErrorCode.BAD_ARGUMENTS);
  }
  const voters = servers.filter((s) => s.role === 'participant').length;
  if (voters < (options.standaloneEnabled ? 2 : 1)) return refuse(ErrorCode.BAD_ARGUMENTS);
  const next = membershipOf({ servers, version: 0n });
  const problem = peer.reconfigProblem(next);
  if (problem === 'inProgress') return refuse(ErrorCode.RECONFIG_IN_PROGRESS);
  if (problem !== undefined) return refuse(ErrorCode.NEW_CONFIG_NO_QUORUM);
  // The ACL check, session check and zxid of a setData on the config node; then it becomes the reconfig.
  const setData = { path: CONFIG_PATH, data: Buffer.alloc(0), version: -1 };
  const placeholder = core.prepare(ctx, OpCode.setData, setData, nowMs);
  if (placeholder.header.type !== OpCode.setData) return placeholder;
  const data = Buffer.from(configText({ servers, version: placeholder.header.zxid }));
  return {
    ...placeholder,
    header: { ...placeholder.header, type: OpCode.reconfig },
    record: { path: CONFIG_PATH, data, version: -1 },
  };
}
