// The server's pure core: the data tree, sessions, watches, ACLs and request preparation behind one
// synchronous, I/O-free facade. Shells (network, persistence, replication) drive it: reads go to
// read(), writes go prepare() → persist → apply(), and timers call expiredSessions() and
// containersToDelete() with the time they read. Nothing here reads a clock, a socket or a file.

import {
  AddWatchMode,
  CONTAINER_EPHEMERAL_OWNER,
  ErrorCode,
  EventType,
  KeeperState,
  OpCode,
  Perms,
  WatcherType,
  type ACL,
  type Id,
  type MultiRequest,
  type MultiResult,
  type StatPersisted,
} from '../../src/protocol/index.js';
import { authenticate, checkAcl, clientInfos, maskDigests } from '../auth/acl.js';
import { SessionTracker, sessionPassword } from '../sessions/session-tracker.js';
import { DataTree, TreeError, ttlOf, ttlOwner } from '../tree/data-tree.js';
import { WatchMode, type WatchTable } from '../tree/watch-table.js';
import type { Reply, RequestContext, Txn, Watcher } from './api.js';
import { RequestPreparer, txnCodecFor } from './prepare.js';
import { DigestForecast, createdOwner } from './digest-forecast.js';
import { TREE_DIGEST_VERSION } from '../persistence/digest.js';

/** The txn record codec for a txn header type (for txn logs and replication). */
export { txnCodecFor };

/** How the core is configured; the shell maps zoo.cfg keys and system properties onto these. */
export interface ServerCoreOptions {
  /** myid (1 in standalone); the top byte of every session id this server creates. */
  readonly serverId?: number;
  /** tickTime: the session expiry bucket width. */
  readonly tickTimeMs: number;
  /** Negotiated session timeouts are clamped into [min, max] (Apache: 2 and 20 tickTimes). */
  readonly minSessionTimeoutMs: number;
  readonly maxSessionTimeoutMs: number;
  /** extendedTypesEnabled: TTL nodes allowed (else createTTL and TTL modes answer Unimplemented). */
  readonly extendedTypesEnabled?: boolean;
  /** DigestAuthenticationProvider.superDigest ("super:<base64 sha1>"); a matching digest auth is super. */
  readonly superDigest?: string;
  /** skipACL: no permission check at all. */
  readonly skipACL?: boolean;
  /** zookeeper.enforceQuota: hard quota limits reject writes with QuotaExceeded (-125). */
  readonly enforceQuota?: boolean;
  /** reconfigEnabled; standalone answers reconfig with ReconfigDisabled, or Unimplemented when enabled. */
  readonly reconfigEnabled?: boolean;
  /** znode.container.maxNeverUsedIntervalMs; 0 (default) never deletes a never-used container. */
  readonly containerMaxNeverUsedIntervalMs?: number;
  /**
   * The time the server started, for the session id base (Apache computes it once at startup).
   * Absent: taken from the first createSession's nowMs.
   */
  readonly startTimeMs?: number;
  /**
   * menagerie.watchesPerSessionMax: watches one connection may hold (data and child tables counted
   * as mntr counts them); a registration past it answers QuotaExceeded (-125) and sets nothing.
   * 0 (the default) = unlimited, as Apache.
   */
  readonly watchesPerSessionMax?: number;
  /** The data of /zookeeper/config (empty in standalone). */
  readonly configData?: Buffer;
  /**
   * localSessionsEnabled (ensemble members only): new sessions are local to this server until
   * upgraded; writes of sessions the tracker does not know pass preparation when local here or
   * another server's (they may not create ephemerals: Apache's checkGlobalSession).
   */
  readonly localSessionsEnabled?: boolean;
  /** localSessionsUpgradingEnabled: a local session creating an ephemeral is made global first. */
  readonly localSessionsUpgradingEnabled?: boolean;
  /** Receives soft-quota warnings and other things Apache logs from the core. Must not throw. */
  readonly onWarning?: (message: string) => void;
}

/** The answer to a new session: the txn to persist and apply, and what the ConnectResponse carries. */
export interface NewSession {
  /** A createSession txn (opcode -10, CreateSessionTxn{timeOut}); apply() registers the session. */
  readonly txn: Txn;
  readonly sessionId: bigint;
  /** 16 bytes, as Apache derives them (java.util.Random seeded with sessionId ^ 0xB3415C00). */
  readonly passwd: Buffer;
  /** The requested timeout clamped into [minSessionTimeoutMs, maxSessionTimeoutMs]. */
  readonly timeoutMs: number;
}

/** Watch lists a reconnecting client sends (SetWatches; SetWatches2 adds the persistent lists). */
export interface WatchLists {
  readonly relativeZxid: bigint;
  readonly dataWatches: readonly string[];
  readonly existWatches: readonly string[];
  readonly childWatches: readonly string[];
  readonly persistentWatches?: readonly string[];
  readonly persistentRecursiveWatches?: readonly string[];
}

/** One znode as a snapshot stores it (Apache's DataNode: data, ACL cache reference, StatPersisted). */
export interface PersistedNode {
  readonly path: string;
  readonly data: Buffer | null;
  /** Key into the ACL cache (-1 = open ACL unsafe, Apache's OPEN_UNSAFE_ACL_ID). */
  readonly aclRef: bigint;
  /** cversion here is the stored create counter, not the client-visible value. */
  readonly stat: StatPersisted;
}

/** Everything a snapshot holds besides the header: sessions, the ACL cache and the nodes. */
export interface CoreSnapshot {
  readonly lastProcessedZxid: bigint;
  readonly sessions: ReadonlyArray<{ readonly sessionId: bigint; readonly timeoutMs: number }>;
  readonly acls: ReadonlyMap<bigint, readonly ACL[]>;
  /** Parents before children (pre-order), "/" first. */
  readonly nodes: Iterable<PersistedNode>;
}

/** Numbers the four-letter words (mntr, wchs, srvr) print. */
export interface CoreMetrics {
  /** As Apache counts it: its "" alias of the root counts too (a fresh server reports 5). */
  readonly nodeCount: number;
  readonly approximateDataSize: number;
  readonly ephemeralsCount: number;
  /** mntr's zk_watch_count: data and child watches together. */
  readonly watchCount: number;
  /**
   * wchs reports the data-watch table only (exists/getData/addWatch), as Apache does: "<watcherCount>
   * connections watching <watchedPathCount> paths", "Total watches:<dataWatchCount>".
   */
  readonly dataWatchCount: number;
  readonly watchedPathCount: number;
  readonly watcherCount: number;
  readonly sessionCount: number;
  /** Sessions local to this server (localSessionsEnabled). */
  readonly localSessionCount: number;
  /** Applied txns whose logged digest differed from the tree (Apache's digest_mismatches_count). */
  readonly digestMismatches: number;
  readonly lastProcessedZxid: bigint;
}

/** The result of addauth: the ids to add to the connection, or AuthFailed (-115). */
export type AuthResult =
  | { readonly ok: true; readonly ids: readonly Id[] }
  | { readonly ok: false; readonly err: number };

const WRITE_OPCODES: ReadonlySet<number> = new Set([
  OpCode.create, OpCode.delete, OpCode.setData, OpCode.setACL, OpCode.multi, OpCode.create2, OpCode.reconfig,
  OpCode.createContainer, OpCode.deleteContainer, OpCode.createTTL, OpCode.closeSession,
]);

const READS_WITH_BODY: ReadonlySet<number> = new Set([
  OpCode.exists, OpCode.getData, OpCode.getACL, OpCode.getChildren, OpCode.getChildren2, OpCode.sync,
  OpCode.multiRead, OpCode.getEphemerals, OpCode.getAllChildrenNumber, OpCode.checkWatches,
  OpCode.removeWatches, OpCode.setWatches, OpCode.setWatches2, OpCode.addWatch,
]);

const ok = (response?: unknown): Reply => (response === undefined ? { err: 0 } : { err: 0, response });
const fail = (err: number): Reply => ({ err });

/** A read's failure, carried out of the read handlers to read(). */
class ReadError extends Error {
  constructor(readonly code: number) {
    super(`read failed with ${code}`);
  }
}

/**
 * The standalone/replica state machine. Not thread-safe by design: every call is synchronous, so a
 * shell calls it from one event loop and everything a call checked still holds when it returns.
 * Every `nowMs` is milliseconds on one clock the shell chooses; prepare's and createSession's become
 * txn times (ctime/mtime), so Date.now() is the natural choice for all of them.
 */
export class ServerCore {
  private readonly tree: DataTree;
  private readonly sessionTracker: SessionTracker;
  /** localSessionsEnabled: sessions known to this server only (Apache's LocalSessionTracker). */
  private readonly localSessionTracker: SessionTracker;
  /** Local sessions whose createSession is on its way through the leader. */
  private readonly upgrading = new Set<bigint>();
  private readonly preparer: RequestPreparer;
  private readonly digests: DigestForecast;
  /** Applied txns whose logged TxnDigest differed from the tree after them (Apache logs each). */
  digestMismatches = 0;
  private readonly options: Required<Omit<ServerCoreOptions, 'superDigest' | 'startTimeMs' | 'configData'>> &
    ServerCoreOptions;
  private lastZxid = 0n;

  constructor(options: ServerCoreOptions) {
    if (!(options.tickTimeMs > 0)) {
      throw new RangeError(`tickTimeMs must be positive, got ${options.tickTimeMs}`);
    }
    if (!(options.minSessionTimeoutMs <= options.maxSessionTimeoutMs)) {
      throw new RangeError('minSessionTimeoutMs must not exceed maxSessionTimeoutMs');
    }
    if (options.extendedTypesEnabled && (options.serverId ?? 1) > 254) {
      // Apache refuses to start: a myid of 255 would make session ids that read as TTL owners.
      throw new RangeError('extendedTypesEnabled is true but serverId is larger than 254');
    }
    this.options = {
      serverId: 1,
      extendedTypesEnabled: false,
      skipACL: false,
      enforceQuota: false,
      reconfigEnabled: false,
      containerMaxNeverUsedIntervalMs: 0,
      localSessionsEnabled: false,
      localSessionsUpgradingEnabled: false,
      watchesPerSessionMax: 0,
      onWarning: () => {},
      ...options,
    };
    this.tree = new DataTree({
      configData: options.configData,
      extendedTypesEnabled: this.options.extendedTypesEnabled,
      watchFilter: (watcher, acl) => this.options.skipACL || checkAcl(acl, Perms.READ, watcher.authIds),
    });
    this.sessionTracker = new SessionTracker(this.options.serverId, options.tickTimeMs, options.startTimeMs);
    this.localSessionTracker = new SessionTracker(this.options.serverId, options.tickTimeMs);
    this.digests = new DigestForecast(this.tree);
    this.preparer = new RequestPreparer(this.tree, this.sessionTracker, {
      extendedTypesEnabled: this.options.extendedTypesEnabled,
      skipACL: this.options.skipACL,
      enforceQuota: this.options.enforceQuota,
      reconfigEnabled: this.options.reconfigEnabled,
      onWarning: this.options.onWarning,
      acceptsLocalSession: this.options.localSessionsEnabled
        ? (sessionId) => this.acceptsLocalSession(sessionId)
        : undefined,
    });
  }

  // ----- reads -----

  /**
   * Answers a read-side request: exists(3), getData(4), getACL(6), getChildren(8), getChildren2(12),
   * sync(9, the local part: replies SyncResponse{path}), multiRead(22), getEphemerals(103),
   * getAllChildrenNumber(104), whoAmI(107), and the watch-management requests checkWatches(17),
   * removeWatches(18), setWatches(101), setWatches2(105), addWatch(106) (these need `watcher`).
   * `request` is the decoded request record from the opcode table. With `watcher`, a request whose
   * `watch` flag is set registers a one-shot watch for it (exists on a missing node sets a data watch;
   * getData/getChildren on a missing node set nothing). READ is checked as Apache 3.8.0 does: exists
   * ignores it (the 3.8.4 ZOOKEEPER-2590 check is not our contract), so an exists watch is set on an
   * unreadable node too. multiRead allows only getData/getChildren, which need READ. Any other opcode
   * → err -6 (Unimplemented).
   */
  read(ctx: RequestContext, opcode: number, request: unknown, watcher?: Watcher): Reply {
    const body = request as any;
    // Decoded requests always carry their fields; a missing body is the shell's bug, answered as Apache
    // answers an undecodable request rather than thrown.
    if (READS_WITH_BODY.has(opcode) && (typeof body !== 'object' || body === null)) {
      return fail(ErrorCode.MARSHALLING_ERROR);
    }
    try {
      switch (opcode) {
        case OpCode.exists:
          return ok({ stat: this.readExists(body.path, body.watch ? watcher : undefined) });
        case OpCode.getData:
          return ok(this.readData(ctx, body.path, body.watch ? watcher : undefined));
        case OpCode.getACL:
          return ok(this.readAcl(ctx, body.path));
        case OpCode.getChildren: {
          const { children } = this.readChildren(ctx, body.path, body.watch ? watcher : undefined);
          return ok({ children });
        }
        case OpCode.getChildren2:
          return ok(this.readChildren(ctx, body.path, body.watch ? watcher : undefined));
        case OpCode.sync:
          return ok({ path: body.path });
        case OpCode.multiRead:
          return this.readMulti(ctx, body as MultiRequest, watcher);
        case OpCode.getEphemerals:
          return ok({ ephemerals: this.readEphemerals(ctx.sessionId, body.prefixPath) });
        case OpCode.getAllChildrenNumber: {
          this.readableNode(ctx, body.path);
          return ok({ totalNumber: this.tree.allChildrenNumber(body.path) });
        }
        case OpCode.whoAmI:
          return ok({ clientInfo: clientInfos(ctx.authIds) });
        case OpCode.checkWatches:
        case OpCode.removeWatches:
          if (watcher === undefined) return fail(ErrorCode.NO_WATCHER);
          return this.removeWatches(watcher, body.path, body.type, opcode === OpCode.checkWatches);
        case OpCode.setWatches:
        case OpCode.setWatches2:
        {
          if (watcher === undefined) return ok();
          const dropped = this.setWatches(watcher, body);
          if (dropped > 0) {
            this.options.onWarning(
              `session 0x${ctx.sessionId.toString(16)}: ${dropped} watches of setWatches not restored: ` +
                `menagerie.watchesPerSessionMax=${this.options.watchesPerSessionMax} reached`,
            );
          }
          return ok();
        }
        case OpCode.addWatch:
          if (watcher === undefined) return ok({ err: 0 });
          return this.addWatch(watcher, body.path, body.mode);
        default:
          return fail(ErrorCode.UNIMPLEMENTED);
      }
    } catch (error) {
      if (error instanceof ReadError) return fail(error.code);
      throw error;
    }
  }

  /** The node, after the READ check; NoNode / NoAuth as ReadError. */
  private readableNode(ctx: RequestContext, path: string) {
    const node = this.tree.getNode(path);
    if (node === undefined) throw new ReadError(ErrorCode.NO_NODE);
    if (!this.options.skipACL && !checkAcl(this.tree.aclOf(node), Perms.READ, ctx.authIds)) {
      throw new ReadError(ErrorCode.NO_AUTH);
    }
    return node;
  }

  /** No READ check: Apache 3.8.0 answers exists (and sets its watch) on any node. */
  private readExists(path: string, watcher: Watcher | undefined) {
    if (typeof path !== 'string' || path.includes('\0')) throw new ReadError(ErrorCode.BAD_ARGUMENTS);
    const node = this.tree.getNode(path);
    if (watcher !== undefined) this.addLimitedWatch(this.tree.dataWatches, path, watcher);
    if (node === undefined) throw new ReadError(ErrorCode.NO_NODE);
    return this.tree.statOf(node);
  }

  private readData(ctx: RequestContext, path: string, watcher: Watcher | undefined) {
    const node = this.readableNode(ctx, path);
    if (watcher !== undefined) this.addLimitedWatch(this.tree.dataWatches, path, watcher);
    return { data: node.data, stat: this.tree.statOf(node) };
  }

  private readAcl(ctx: RequestContext, path: string) {
    const node = this.tree.getNode(path);
    if (node === undefined) throw new ReadError(ErrorCode.NO_NODE);
    const acl = this.tree.aclOf(node);
    const permitted = (perm: number) => this.options.skipACL || checkAcl(acl, perm, ctx.authIds);
    if (!permitted(Perms.READ | Perms.ADMIN)) throw new ReadError(ErrorCode.NO_AUTH);
    const stat = this.tree.statOf(node);
    return { acl: permitted(Perms.ADMIN) ? acl.map((entry) => ({ ...entry })) : maskDigests(acl), stat };
  }

  private readChildren(ctx: RequestContext, path: string, watcher: Watcher | undefined) {
    const node = this.readableNode(ctx, path);
    if (watcher !== undefined) this.addLimitedWatch(this.tree.childWatches, path, watcher);
    return { children: [...node.children], stat: this.tree.statOf(node) };
  }

  private readMulti(ctx: RequestContext, multi: MultiRequest, watcher: Watcher | undefined): Reply {
    const results: MultiResult[] = [];
    for (const op of multi.ops) {
      const request = op.request as { path: string; watch?: boolean };
      const opWatcher = request.watch ? watcher : undefined;
      try {
        if (op.type === OpCode.getData) {
          results.push({ type: 4, response: this.readData(ctx, request.path, opWatcher) });
        } else if (op.type === OpCode.getChildren) {
          const { children } = this.readChildren(ctx, request.path, opWatcher);
          results.push({ type: 8, response: { children } });
        } else {
          return fail(ErrorCode.MARSHALLING_ERROR); // Apache: "Invalid type of readOp"
        }
      } catch (error) {
        if (!(error instanceof ReadError)) throw error;
        results.push({ type: -1, err: error.code });
      }
    }
    return ok({ results });
  }

  private readEphemerals(sessionId: bigint, prefix: string | null): string[] {
    const all = [...(this.tree.ephemerals.get(sessionId) ?? [])];
    const trimmed = (prefix ?? '').trim();
    if (trimmed.length === 0 || trimmed === '/') return all;
    return all.filter((path) => path.startsWith(prefix!));
  }

  /** True for the opcodes that go through prepare() → persist → apply(). */
  static isWrite(opcode: number): boolean {
    return WRITE_OPCODES.has(opcode);
  }

  // ----- writes -----

  /**
   * Turns a write into a transaction with the next zxid: create(1), delete(2), setData(5), setACL(7),
   * multi(14), create2(15), reconfig(16), createContainer(19), deleteContainer(20, body {path}),
   * createTTL(21), closeSession(-11). Checks run in Apache's order; a failing write becomes an error
   * txn (type -1, ErrorTxn{err}) or, for multi, a MultiTxn whose ops before the failing one keep their
   * txns, the failing op an ErrorTxn with its code and later ops ErrorTxn(-2), still with a fresh
   * zxid. The header type is the request opcode (create2 stays 15), so apply() knows which reply to
   * build. Prepared-but-unapplied txns are seen by later prepares (outstanding changes), so the shell
   * may prepare a pipeline of writes before applying them, in order. `nowMs` becomes the txn time
   * (ctime/mtime). closeSession also marks the session closing. check(13) on its own is prepared as
   * Apache 3.8.0 does (a CheckVersionTxn, or BadVersion/NoNode/NoAuth as an error txn); whether to
   * accept it outside a multi at all is the shell's call.
   */
  prepare(ctx: RequestContext, opcode: number, request: unknown, nowMs: number): Txn {
    return this.digests.withDigest(this.preparer.prepare(ctx, opcode, request, BigInt(Math.trunc(nowMs))));
  }

  /**
   * Applies a txn (from prepare(), or replayed from a log or a leader, in zxid order) and returns the
   * reply for the request that produced it: err 0 and the response record, or the error code. Fires
   * the watches the change triggers through each registered Watcher, filtered by READ permission.
   * A failed multi replies err 0 with the per-op error results, as Apache. `nowMs` (default: the txn
   * time) arms the expiry of a session this txn creates that the core does not know yet (replay).
   */
  apply(txn: Txn, nowMs?: number): Reply {
    const { header } = txn;
    let reply: Reply;
    try {
      reply = this.applyOne(header.type, txn.record, header.clientId, header.zxid, header.time, nowMs);
    } catch (error) {
      if (!(error instanceof TreeError)) throw error;
      reply = fail(error.code);
    }
    if (header.zxid > this.lastZxid) this.lastZxid = header.zxid;
    if (header.zxid > this.preparer.highestZxid) this.preparer.highestZxid = header.zxid;
    this.preparer.applied(header.zxid);
    if (this.digests.applied(header.zxid)) this.checkDigest(txn);
    return reply;
  }

  /** The tree digest now (Apache's DigestCalculator version 2), kept up to date with every change. */
  get treeDigest(): bigint {
    return this.tree.digest;
  }

  /**
   * A forecast digest that differs from the tree after its txn is reported (Apache logs its own
   * mismatches likewise). Replayed txns are not checked here: recovery compares the last one.
   */
  private checkDigest(txn: Txn): void {
    const { digest } = txn;
    if (digest === undefined || digest.version !== TREE_DIGEST_VERSION) return;
    if (digest.treeDigest === this.tree.digest) return;
    this.digestMismatches++;
    this.options.onWarning(
      `digest mismatch at zxid 0x${txn.header.zxid.toString(16)}: ` +
        `txn says ${digest.treeDigest}, the tree has ${this.tree.digest}`,
    );
  }

  private applyOne(
    type: number,
    record: any,
    clientId: bigint,
    zxid: bigint,
    time: bigint,
    nowMs?: number,
  ): Reply {
    switch (type) {
      case OpCode.createSession:
        this.sessionTracker.track(clientId, record.timeOut, nowMs ?? Number(time));
        // An upgraded local session is global from now on (Apache's commitSession).
        this.localSessionTracker.remove(clientId);
        this.upgrading.delete(clientId);
        return ok();
      case OpCode.closeSession:
        this.tree.killSession(clientId, record.paths2Delete, zxid);
        this.sessionTracker.remove(clientId);
        return ok();
      case OpCode.error:
        return fail(record.err);
      case OpCode.create:
      case OpCode.create2:
      case OpCode.createContainer:
      case OpCode.createTTL: {
        const owner = createdOwner(type, record, clientId);
        const { path, data, acl, parentCVersion } = record;
        const stat = this.tree.createNode(path, data, acl, owner, parentCVersion, zxid, time);
        return ok(type === OpCode.create ? { path: record.path } : { path: record.path, stat });
      }
      case OpCode.delete:
      case OpCode.deleteContainer:
        this.tree.deleteNode(record.path, zxid);
        return ok();
      case OpCode.setData:
      case OpCode.reconfig:
        return ok({ stat: this.tree.setData(record.path, record.data, record.version, zxid, time) });
      case OpCode.setACL:
        return ok({ stat: this.tree.setAcl(record.path, record.acl, record.version) });
      case OpCode.check:
        return ok();
      case OpCode.multi:
        return this.applyMulti(record, clientId, zxid, time, nowMs);
      default:
        throw new Error(`cannot apply txn type ${type}`);
    }
  }

  private applyMulti(record: any, clientId: bigint, zxid: bigint, time: bigint, nowMs?: number): Reply {
    const txns = record.txns as Array<{ type: number; data: Buffer }>;
    const failed = txns.some((txn) => txn.type === OpCode.error);
    let afterFailure = false;
    const results: MultiResult[] = [];
    for (const txn of txns) {
      let type = txn.type;
      let sub = txnCodecFor(type).decode(txn.data);
      if (type === OpCode.error) afterFailure = true;
      if (failed && type !== OpCode.error) {
        sub = { err: afterFailure ? ErrorCode.RUNTIME_INCONSISTENCY : ErrorCode.OK };
        type = OpCode.error;
      }
      let reply: Reply;
      try {
        reply = this.applyOne(type, sub, clientId, zxid, time, nowMs);
      } catch (error) {
        if (!(error instanceof TreeError)) throw error;
        reply = fail(error.code);
      }
      results.push(multiResult(type, reply));
    }
    return ok({ results });
  }

  /** The zxid of the last applied txn (ReplyHeader.zxid of replies and pings). */
  get lastProcessedZxid(): bigint {
    return this.lastZxid;
  }

  // ----- sessions -----

  /** Starts a new session: id and password as Apache forms them, timeout clamped. Apply the txn. */
  createSession(requestedTimeoutMs: number, nowMs: number): NewSession {
    const timeoutMs = this.negotiateTimeout(requestedTimeoutMs);
    const sessionId = this.sessionTracker.allocateSessionId(nowMs);
    this.sessionTracker.track(sessionId, timeoutMs, nowMs);
    const header = {
      clientId: sessionId,
      cxid: 0,
      zxid: this.preparer.nextZxid(),
      time: BigInt(Math.trunc(nowMs)),
      type: OpCode.createSession,
    };
    const txn = this.digests.withDigest({ header, record: { timeOut: timeoutMs } });
    return { txn, sessionId, passwd: sessionPassword(sessionId), timeoutMs };
  }

  // ----- sessions in an ensemble -----
  // The member a client connects to allocates the session id (its myid in the top byte) and forwards
  // the createSession to the leader, which prepares the txn; every member applies it.

  /** A new session id of this server's, not yet tracked (ensemble: the txn comes from the leader). */
  allocateSessionId(nowMs: number): bigint {
    return this.sessionTracker.allocateSessionId(nowMs);
  }

  /** Leader: a createSession txn (next zxid) for a session another member allocated; tracks it now. */
  prepareCreateSession(sessionId: bigint, timeoutMs: number, nowMs: number): Txn {
    this.sessionTracker.track(sessionId, timeoutMs, nowMs);
    const header = {
      clientId: sessionId,
      cxid: 0,
      zxid: this.preparer.nextZxid(),
      time: BigInt(Math.trunc(nowMs)),
      type: OpCode.createSession,
    };
    return this.digests.withDigest({ header, record: { timeOut: timeoutMs } });
  }

  /**
   * A leader starts serving epoch `epoch`: the next prepared zxid is the epoch's first (counter 1),
   * change records of an earlier term are dropped, and every session is re-armed with its full
   * timeout (one whose close never committed is live again), as Apache's new leader does.
   */
  beginEpoch(epoch: bigint, nowMs: number): void {
    this.preparer.reset(epoch << 32n);
    this.digests.reset();
    for (const session of this.sessionTracker.all()) {
      session.closing = false;
      this.sessionTracker.touch(session.sessionId, nowMs);
    }
  }

  /** Forgets every prepared-but-unapplied txn (this server stopped leading; they may never apply). */
  dropOutstanding(): void {
    this.preparer.reset(this.lastZxid);
    this.digests.reset();
  }

  /**
   * Takes back the newest prepared txn, which will never be applied (consensus refused it): its
   * change records go, its zxid is handed out again, and a closeSession's session is live again.
   */
  withdraw(txn: Txn, nowMs: number): void {
    this.preparer.withdraw(txn.header.zxid);
    this.digests.withdraw(txn.header.zxid);
    if (txn.header.type === OpCode.closeSession) {
      const session = this.sessionTracker.get(txn.header.clientId);
      if (session === undefined) return;
      session.closing = false;
      this.sessionTracker.touch(session.sessionId, nowMs);
    }
  }

  /** An error txn (next zxid) for a write refused before preparation (ensemble: SessionMoved). */
  prepareError(ctx: RequestContext, err: number, nowMs: number): Txn {
    const header = {
      clientId: ctx.sessionId,
      cxid: ctx.cxid,
      zxid: this.preparer.nextZxid(),
      time: BigInt(Math.trunc(nowMs)),
      type: OpCode.error,
    };
    return this.digests.withDigest({ header, record: { err } });
  }

  /** The session's negotiated timeout, if it is known and live. */
  sessionTimeoutMs(sessionId: bigint): number | undefined {
    const session = this.sessionTracker.get(sessionId);
    return session === undefined || session.closing ? undefined : session.timeoutMs;
  }

  /** The negotiated timeout for a requested one: clamped into [min, max]. */
  negotiateTimeout(requestedTimeoutMs: number): number {
    const { minSessionTimeoutMs, maxSessionTimeoutMs } = this.options;
    return Math.min(Math.max(requestedTimeoutMs, minSessionTimeoutMs), maxSessionTimeoutMs);
  }

  /** The password Apache gives session `sessionId` (16 bytes). */
  static sessionPassword(sessionId: bigint): Buffer {
    return sessionPassword(sessionId);
  }

  /** True when `passwd` is the session's password and the session is live (known, not closing). */
  checkSession(sessionId: bigint, passwd: Uint8Array): boolean {
    return sessionPassword(sessionId).equals(Buffer.from(passwd)) && this.sessionTracker.isLive(sessionId);
  }

  /**
   * Resumes a session on a new connection: re-arms its expiry with the new negotiated timeout.
   * Returns the negotiated timeout, or undefined when the password is wrong or the session is gone
   * (the shell then answers with timeout 0, session id 0 and 16 zero bytes, and closes).
   */
  reopenSession(
    sessionId: bigint,
    passwd: Uint8Array,
    requestedTimeoutMs: number,
    nowMs: number,
  ): number | undefined {
    if (!this.checkSession(sessionId, passwd)) return undefined;
    const timeoutMs = this.negotiateTimeout(requestedTimeoutMs);
    return this.sessionTracker.touch(sessionId, nowMs, timeoutMs) ? timeoutMs : undefined;
  }

  /** Any packet from the client: pushes the session's expiry to the tick bucket after now + timeout. */
  touchSession(sessionId: bigint, nowMs: number): boolean {
    return this.localSessionTracker.touch(sessionId, nowMs) || this.sessionTracker.touch(sessionId, nowMs);
  }

  // ----- local sessions (localSessionsEnabled) -----
  // A member's new sessions stay its own (no txn, not replicated) until one creates an ephemeral:
  // then the member sends a createSession through the leader first (the upgrade), and its apply
  // makes the session global everywhere. A local session lives and expires on its member only.

  get localSessionsEnabled(): boolean {
    return this.options.localSessionsEnabled;
  }

  get localSessionsUpgradingEnabled(): boolean {
    return this.options.localSessionsUpgradingEnabled;
  }

  /** Tracks a session allocated here as local (timeout already negotiated). */
  createLocalSession(sessionId: bigint, timeoutMs: number, nowMs: number): void {
    this.localSessionTracker.track(sessionId, timeoutMs, nowMs);
  }

  /** A live local session of this server (also while its upgrade is on its way). */
  isLocalSession(sessionId: bigint): boolean {
    return this.localSessionTracker.isLive(sessionId);
  }

  /** The local session's timeout, if it is one and live. */
  localSessionTimeoutMs(sessionId: bigint): number | undefined {
    const session = this.localSessionTracker.get(sessionId);
    return session === undefined || session.closing ? undefined : session.timeoutMs;
  }

  /**
   * Starts upgrading a local session: its timeout for the createSession to send to the leader, or
   * undefined when it is not local or already upgrading (send nothing then).
   */
  beginUpgrade(sessionId: bigint): number | undefined {
    if (this.upgrading.has(sessionId)) return undefined;
    const timeoutMs = this.localSessionTimeoutMs(sessionId);
    if (timeoutMs !== undefined) this.upgrading.add(sessionId);
    return timeoutMs;
  }

  /** A local session whose createSession is on its way through the leader. */
  isUpgradingSession(sessionId: bigint): boolean {
    return this.upgrading.has(sessionId);
  }

  /** A local session closed by its client or expired: forgotten (it has no ephemerals). */
  closeLocalSession(sessionId: bigint): void {
    this.localSessionTracker.remove(sessionId);
    this.upgrading.delete(sessionId);
  }

  /** Local sessions past their expiry: removed here and returned (the shell closes their connections). */
  expiredLocalSessions(nowMs: number): bigint[] {
    const expired = this.localSessionTracker.expire(nowMs).filter((id) => !this.upgrading.has(id));
    for (const sessionId of expired) this.closeLocalSession(sessionId);
    return expired;
  }

  nextLocalSessionExpiryMs(): number | undefined {
    return this.localSessionTracker.nextExpiryMs();
  }

  /** Forgets every local session (the member stopped serving: Apache's new server starts without). */
  dropLocalSessions(): bigint[] {
    const ids = this.localSessionTracker.all().map((session) => session.sessionId);
    for (const sessionId of ids) this.closeLocalSession(sessionId);
    return ids;
  }

  /** dump's local session sets. */
  localSessionExpiryBuckets(): Array<{ expiryMs: number; sessionIds: bigint[] }> {
    return this.localSessionTracker.expiryBuckets();
  }

  /** Leader's check for a session its tracker does not know: local here, or another server's. */
  private acceptsLocalSession(sessionId: bigint): boolean {
    if (this.localSessionTracker.isLive(sessionId)) return true;
    return Number(BigInt.asUintN(64, sessionId) >> 56n) !== this.options.serverId;
  }

  /**
   * Sessions whose expiry bucket has passed; they are marked closing (no longer live, no new
   * ephemerals). The shell then prepares a closeSession for each (prepareCloseSession).
   */
  expiredSessions(nowMs: number): bigint[] {
    return this.sessionTracker.expire(nowMs);
  }

  /** When expiredSessions() can next return something (the earliest bucket), or undefined if none. */
  nextSessionExpiryMs(): number | undefined {
    return this.sessionTracker.nextExpiryMs();
  }

  /** A closeSession txn (opcode -11) listing the session's ephemerals (incl. outstanding creates). */
  prepareCloseSession(sessionId: bigint, nowMs: number, cxid = 0): Txn {
    return this.prepare({ sessionId, cxid, authIds: [] }, OpCode.closeSession, {}, nowMs);
  }

  /** Live sessions and their timeouts (for snapshots, cons and dump). */
  sessions(): Array<{ sessionId: bigint; timeoutMs: number }> {
    return this.sessionTracker
      .all()
      .filter((session) => !session.closing)
      .map(({ sessionId, timeoutMs }) => ({ sessionId, timeoutMs }));
  }

  // ----- watches -----

  /** addWatch(106): mode 0 persistent, 1 persistent-recursive. Reply body ErrorResponse{err: 0}. */
  addWatch(watcher: Watcher, path: string, mode: number): Reply {
    const watchMode =
      mode === AddWatchMode.PERSISTENT_RECURSIVE ? WatchMode.PERSISTENT_RECURSIVE : WatchMode.PERSISTENT;
    if (mode !== AddWatchMode.PERSISTENT && mode !== AddWatchMode.PERSISTENT_RECURSIVE) {
      return fail(ErrorCode.MARSHALLING_ERROR); // Apache: WatcherMode.fromZooDef throws
    }
    if (!this.watchesFit(watcher, path, [this.tree.dataWatches, this.tree.childWatches])) {
      return fail(ErrorCode.QUOTA_EXCEEDED);
    }
    this.tree.dataWatches.add(path, watcher, watchMode);
    this.tree.childWatches.add(path, watcher, watchMode);
    return ok({ err: 0 });
  }

  /**
   * removeWatches(18) / checkWatches(17, checkOnly): type 1 children, 2 data, 3 any (each removes
   * that table's watch of any mode, persistent included, as 3.8). NoWatcher (-121) when nothing
   * matched; types 3.8 does not know (4, 5) fail with MarshallingError (-5), as 3.8's server does.
   * checkWatches keeps 3.8's quirks: it passes when any connection watches exactly that path, and a
   * path whose parents cannot be walked (a name without '/') fails with MarshallingError.
   */
  removeWatches(watcher: Watcher, path: string, type: number, checkOnly: boolean): Reply {
    const tables =
      type === WatcherType.CHILDREN
        ? [this.tree.childWatches]
        : type === WatcherType.DATA
          ? [this.tree.dataWatches]
          : type === WatcherType.ANY
            ? [this.tree.childWatches, this.tree.dataWatches]
            : undefined;
    if (tables === undefined) return fail(ErrorCode.MARSHALLING_ERROR);
    let found = false;
    for (const table of tables) {
      const matched = checkOnly ? table.contains(path, watcher) : table.remove(path, watcher);
      if (matched === 'invalid') return fail(ErrorCode.MARSHALLING_ERROR);
      if (matched) found = true;
    }
    return found ? ok() : fail(ErrorCode.NO_WATCHER);
  }

  /**
   * setWatches / setWatches2 on reconnect: fires at once (zxid -1) what changed since relativeZxid
   * (NodeDeleted, NodeDataChanged, NodeCreated, NodeChildrenChanged) and registers the rest.
   */
  setWatches(watcher: Watcher, lists: WatchLists): number {
    const fire = (type: number, path: string) =>
      watcher.process({ type, state: KeeperState.SYNC_CONNECTED, path }, -1n);
    let dropped = 0;
    const restore = (table: WatchTable, path: string) => {
      if (this.watchesFit(watcher, path, [table])) table.add(path, watcher);
      else dropped++;
    };
    for (const path of lists.dataWatches) {
      const node = this.tree.getNode(path);
      if (node === undefined) fire(EventType.NODE_DELETED, path);
      else if (node.stat.mzxid > lists.relativeZxid) fire(EventType.NODE_DATA_CHANGED, path);
      else restore(this.tree.dataWatches, path);
    }
    for (const path of lists.existWatches) {
      if (this.tree.getNode(path) !== undefined) fire(EventType.NODE_CREATED, path);
      else restore(this.tree.dataWatches, path);
    }
    for (const path of lists.childWatches) {
      const node = this.tree.getNode(path);
      if (node === undefined) fire(EventType.NODE_DELETED, path);
      else if (node.stat.pzxid > lists.relativeZxid) fire(EventType.NODE_CHILDREN_CHANGED, path);
      else restore(this.tree.childWatches, path);
    }
    const persistent = [
      ...(lists.persistentWatches ?? []).map((path) => [path, AddWatchMode.PERSISTENT] as const),
      ...(lists.persistentRecursiveWatches ?? []).map(
        (path) => [path, AddWatchMode.PERSISTENT_RECURSIVE] as const,
      ),
    ];
    for (const [path, mode] of persistent) {
      if (this.addWatch(watcher, path, mode).err !== 0) dropped++;
    }
    return dropped;
  }

  /**
   * Whether registering `path` in `tables` keeps the watcher within menagerie.watchesPerSessionMax
   * (re-registering a watch it already holds adds nothing, so it always fits).
   */
  private watchesFit(watcher: Watcher, path: string, tables: readonly WatchTable[]): boolean {
    const max = this.options.watchesPerSessionMax;
    if (max <= 0) return true;
    const added = tables.filter((table) => !table.has(path, watcher)).length;
    if (added === 0) return true;
    const held = this.tree.dataWatches.countOf(watcher) + this.tree.childWatches.countOf(watcher);
    return held + added <= max;
  }

  /** A one-shot watch from a read; QuotaExceeded (as ReadError) past menagerie.watchesPerSessionMax. */
  private addLimitedWatch(table: WatchTable, path: string, watcher: Watcher): void {
    if (!this.watchesFit(watcher, path, [table])) throw new ReadError(ErrorCode.QUOTA_EXCEEDED);
    table.add(path, watcher);
  }

  /** Forgets every watch of a connection (on close). Idempotent. */
  dropWatcher(watcher: Watcher): void {
    this.tree.dataWatches.removeWatcher(watcher);
    this.tree.childWatches.removeWatcher(watcher);
  }

  /** wchc: paths watched by each watcher; like Apache, the data-watch table only. */
  watchesByWatcher(): Map<Watcher, string[]> {
    return this.tree.dataWatches.pathsByWatcher();
  }

  /** wchp: watchers of each path; like Apache, the data-watch table only. */
  watchesByPath(): Map<string, Watcher[]> {
    return this.tree.dataWatches.watchersByPath();
  }

  // ----- auth -----

  /**
   * addauth: digest "user:password" → digest:user:base64(sha1) (plus super:"" when it matches the
   * super digest); ip → the connection's own ip id (`remoteAddress`); any other scheme → AuthFailed.
   */
  authenticate(scheme: string, auth: Uint8Array | null, remoteAddress?: string): AuthResult {
    return authenticate(scheme, auth, { superDigest: this.options.superDigest, remoteAddress });
  }

  // ----- containers and TTL -----

  /**
   * Containers that had children and have none (and never-used ones past maxNeverUsedIntervalMs), and
   * childless TTL nodes whose mtime + ttl is before now; at most `limit`. The shell prepares a
   * deleteContainer (opcode 20, body {path}) for each, which re-checks emptiness.
   */
  containersToDelete(nowMs: number, limit: number): string[] {
    const now = BigInt(Math.trunc(nowMs));
    const neverUsedMs = BigInt(this.options.containerMaxNeverUsedIntervalMs);
    const candidates: string[] = [];
    for (const path of this.tree.containers) {
      const node = this.tree.getNode(path);
      if (node === undefined || node.children.size > 0) continue;
      if (node.stat.cversion > 0) candidates.push(path);
      else if (neverUsedMs !== 0n && now - node.stat.mtime > neverUsedMs) candidates.push(path);
    }
    for (const path of this.tree.ttls) {
      const node = this.tree.getNode(path);
      if (node === undefined || node.children.size > 0) continue;
      if (this.tree.kindOf(node.stat.ephemeralOwner) !== 'ttl') continue;
      const ttlMs = ttlOf(node.stat.ephemeralOwner);
      if (ttlMs !== 0n && now - node.stat.mtime > ttlMs) candidates.push(path);
    }
    return candidates.slice(0, Math.max(0, limit));
  }

  // ----- introspection for four-letter words -----

  metrics(): CoreMetrics {
    let ephemeralsCount = 0;
    for (const paths of this.tree.ephemerals.values()) ephemeralsCount += paths.size;
    const { dataWatches, childWatches } = this.tree;
    return {
      // Apache's count includes its "" alias of the root (a fresh server reports 5).
      nodeCount: this.tree.nodes.size + 1,
      approximateDataSize: this.tree.approximateDataSize,
      ephemeralsCount,
      watchCount: dataWatches.watchCount + childWatches.watchCount,
      dataWatchCount: dataWatches.watchCount,
      watchedPathCount: dataWatches.pathCount,
      watcherCount: dataWatches.watcherCount,
      sessionCount: this.sessionTracker.size,
      localSessionCount: this.localSessionTracker.size,
      digestMismatches: this.digestMismatches,
      lastProcessedZxid: this.lastZxid,
    };
  }

  /** dump's session sets: which sessions expire at which tick (in time order, on the shell's clock). */
  sessionExpiryBuckets(): Array<{ expiryMs: number; sessionIds: bigint[] }> {
    return this.sessionTracker.expiryBuckets();
  }

  /** dump: each session's ephemeral paths. */
  ephemeralsBySession(): Map<bigint, string[]> {
    return new Map([...this.tree.ephemerals].map(([sessionId, paths]) => [sessionId, [...paths]]));
  }

  // ----- persistence -----

  /**
   * A view of the tree for a snapshot writer: read it fully before applying more txns. The root is
   * named "/" here (Apache's snapshot names it ""); nodes come parents first.
   */
  snapshot(): CoreSnapshot {
    const tree = this.tree;
    function* nodes(): Generator<PersistedNode> {
      for (const path of tree.subtree('/')) {
        const node = tree.getNode(path)!;
        yield { path, data: node.data, aclRef: node.aclRef, stat: { ...node.stat } };
      }
    }
    // Closing sessions stay until their closeSession txn applies, as in Apache's session map.
    const sessions = this.sessionTracker.all().map(({ sessionId, timeoutMs }) => ({ sessionId, timeoutMs }));
    return {
      lastProcessedZxid: this.lastZxid,
      sessions,
      acls: this.tree.acls.entries(),
      nodes: nodes(),
    };
  }

  /** Replaces the tree, ACL cache and sessions with a snapshot's (before any apply). */
  restore(snapshot: CoreSnapshot, nowMs: number): void {
    this.tree.clearForLoad(snapshot.acls);
    for (const node of snapshot.nodes) {
      this.tree.loadNode(node.path === '' ? '/' : node.path, node.data, node.aclRef, node.stat);
    }
    if (this.tree.getNode('/') === undefined) throw new Error('snapshot has no root node');
    this.tree.finishLoad();
    // A learner's SNAP sync replaces a state that had sessions of its own.
    for (const session of this.sessionTracker.all()) this.sessionTracker.remove(session.sessionId);
    for (const { sessionId, timeoutMs } of snapshot.sessions) {
      this.sessionTracker.track(sessionId, timeoutMs, nowMs);
    }
    this.lastZxid = snapshot.lastProcessedZxid;
    this.preparer.reset(snapshot.lastProcessedZxid);
    this.digests.reset();
  }
}

/** One multi result from a sub-op's reply (create2/createTTL/createContainer report as 15). */
function multiResult(type: number, reply: Reply): MultiResult {
  if (type === OpCode.error || reply.err !== 0) return { type: -1, err: reply.err };
  const response = reply.response as any;
  switch (type) {
    case OpCode.create:
      return { type: 1, response };
    case OpCode.create2:
    case OpCode.createTTL:
    case OpCode.createContainer:
      return { type: 15, response };
    case OpCode.delete:
    case OpCode.deleteContainer:
      return { type: 2 };
    case OpCode.setData:
      return { type: 5, response };
    case OpCode.check:
      return { type: 13 };
    default:
      throw new Error(`unexpected txn type ${type} in a multi`);
  }
}
