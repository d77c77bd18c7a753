// The server's pure core: the data tree, sessions, watches, ACLs and request preparation behind one
// synchronous, I/O-free facade. Shells (network, persistence, replication) drive it: reads go to
// read(), writes go prepare() → persist → apply(), and timers call expiredSessions() and
// containersToDelete() with the time they read. Nothing here reads a clock, a socket or a file.

import type { ACL, Id, StatPersisted } from '../../src/protocol/index.js';
import type { Reply, RequestContext, Txn, Watcher } from './api.js';

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
  /** The data of /zookeeper/config (empty in standalone). */
  readonly configData?: Buffer;
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
  readonly nodeCount: number;
  readonly approximateDataSize: number;
  readonly ephemeralsCount: number;
  readonly watchCount: number;
  readonly watchedPathCount: number;
  readonly watcherCount: number;
  readonly sessionCount: number;
  readonly lastProcessedZxid: bigint;
}

/** The result of addauth: the ids to add to the connection, or AuthFailed (-115). */
export type AuthResult =
  | { readonly ok: true; readonly ids: readonly Id[] }
  | { readonly ok: false; readonly err: number };

/**
 * The standalone/replica state machine. Not thread-safe by design: every call is synchronous, so a
 * shell calls it from one event loop and everything a call checked still holds when it returns.
 */
export class ServerCore {
  constructor(options: ServerCoreOptions) {
    void options;
    throw new Error('todo');
  }

  // ----- reads -----

  /**
   * Answers a read-side request: exists(3), getData(4), getACL(6), getChildren(8), getChildren2(12),
   * sync(9, the local part: replies SyncResponse{path}), multiRead(22), getEphemerals(103),
   * getAllChildrenNumber(104), whoAmI(107), and the watch-management requests checkWatches(17),
   * removeWatches(18), setWatches(101), setWatches2(105), addWatch(106).
   * `request` is the decoded request record from the opcode table. With `watcher`, a request whose
   * `watch` flag is set registers a one-shot watch for it (exists on a missing node sets a data watch;
   * getData/getChildren on a missing node set nothing). Any other opcode → err -6 (Unimplemented).
   */
  read(ctx: RequestContext, opcode: number, request: unknown, watcher?: Watcher): Reply {
    void ctx, opcode, request, watcher;
    throw new Error('todo');
  }

  /** True for the opcodes that go through prepare() → persist → apply(). */
  static isWrite(opcode: number): boolean {
    void opcode;
    throw new Error('todo');
  }

  // ----- writes -----

  /**
   * Turns a write into a transaction with the next zxid: create(1), delete(2), setData(5), setACL(7),
   * multi(14), create2(15), reconfig(16), createContainer(19), deleteContainer(20, body {path}),
   * createTTL(21), closeSession(-11). Checks run in Apache's order; a failing write becomes an error
   * txn (type -1, ErrorTxn{err}) or, for multi, a MultiTxn of ErrorTxns (0 before the failing op, its
   * code, -2 after), still with a fresh zxid. The txn's header type is the request opcode (create2
   * stays 15), so apply() knows which reply to build. Prepared-but-unapplied txns are seen by later
   * prepares (outstanding changes), so the shell may prepare a pipeline of writes before applying.
   * `nowMs` becomes the txn time (ctime/mtime).
   */
  prepare(ctx: RequestContext, opcode: number, request: unknown, nowMs: number): Txn {
    void ctx, opcode, request, nowMs;
    throw new Error('todo');
  }

  /**
   * Applies a txn (from prepare(), or replayed from a log or a leader, in zxid order) and returns the
   * reply for the request that produced it: err 0 and the response record, or the error code. Fires
   * the watches the change triggers through each registered Watcher, filtered by READ permission.
   * A failed multi replies err 0 with the per-op error results, as Apache.
   */
  apply(txn: Txn): Reply {
    void txn;
    throw new Error('todo');
  }

  /** The zxid of the last applied txn (ReplyHeader.zxid of replies and pings). */
  get lastProcessedZxid(): bigint {
    throw new Error('todo');
  }

  // ----- sessions -----

  /** Starts a new session: id and password as Apache forms them, timeout clamped. Apply the txn. */
  createSession(requestedTimeoutMs: number, nowMs: number): NewSession {
    void requestedTimeoutMs, nowMs;
    throw new Error('todo');
  }

  /** The negotiated timeout for a requested one: clamped into [min, max]. */
  negotiateTimeout(requestedTimeoutMs: number): number {
    void requestedTimeoutMs;
    throw new Error('todo');
  }

  /** The password Apache gives session `sessionId` (16 bytes). */
  static sessionPassword(sessionId: bigint): Buffer {
    void sessionId;
    throw new Error('todo');
  }

  /** True when `passwd` is the session's password and the session is live (known, not closing). */
  checkSession(sessionId: bigint, passwd: Uint8Array): boolean {
    void sessionId, passwd;
    throw new Error('todo');
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
    void sessionId, passwd, requestedTimeoutMs, nowMs;
    throw new Error('todo');
  }

  /** Any packet from the client: pushes the session's expiry to the tick bucket after now + timeout. */
  touchSession(sessionId: bigint, nowMs: number): boolean {
    void sessionId, nowMs;
    throw new Error('todo');
  }

  /**
   * Sessions whose expiry bucket has passed; they are marked closing (no longer live, no new
   * ephemerals). The shell then prepares a closeSession for each (prepareCloseSession).
   */
  expiredSessions(nowMs: number): bigint[] {
    void nowMs;
    throw new Error('todo');
  }

  /** When expiredSessions() can next return something (the earliest bucket), or undefined if none. */
  nextSessionExpiryMs(): number | undefined {
    throw new Error('todo');
  }

  /** A closeSession txn (opcode -11) listing the session's ephemerals (incl. outstanding creates). */
  prepareCloseSession(sessionId: bigint, nowMs: number, cxid?: number): Txn {
    void sessionId, nowMs, cxid;
    throw new Error('todo');
  }

  /** Live sessions and their timeouts (for snapshots, cons and dump). */
  sessions(): Array<{ sessionId: bigint; timeoutMs: number }> {
    throw new Error('todo');
  }

  // ----- watches -----

  /** addWatch(106): mode 0 persistent, 1 persistent-recursive. Reply body ErrorResponse{err: 0}. */
  addWatch(watcher: Watcher, path: string, mode: number): Reply {
    void watcher, path, mode;
    throw new Error('todo');
  }

  /**
   * removeWatches(18) / checkWatches(17, checkOnly): type 1 children, 2 data, 3 any, 4 persistent,
   * 5 persistent-recursive. NoWatcher (-121) when nothing of that type is registered on the path.
   */
  removeWatches(watcher: Watcher, path: string, type: number, checkOnly: boolean): Reply {
    void watcher, path, type, checkOnly;
    throw new Error('todo');
  }

  /**
   * setWatches / setWatches2 on reconnect: fires at once (zxid -1) what changed since relativeZxid
   * (NodeDeleted, NodeDataChanged, NodeCreated, NodeChildrenChanged) and registers the rest.
   */
  setWatches(watcher: Watcher, lists: WatchLists): void {
    void watcher, lists;
    throw new Error('todo');
  }

  /** Forgets every watch of a connection (on close). Idempotent. */
  dropWatcher(watcher: Watcher): void {
    void watcher;
    throw new Error('todo');
  }

  /** wchc: paths watched by each watcher. */
  watchesByWatcher(): Map<Watcher, string[]> {
    throw new Error('todo');
  }

  /** wchp: watchers of each path. */
  watchesByPath(): Map<string, Watcher[]> {
    throw new Error('todo');
  }

  // ----- auth -----

  /**
   * addauth: digest "user:password" → digest:user:base64(sha1) (plus super:"" when it matches the
   * super digest); ip → the connection's own ip id (`remoteAddress`); any other scheme → AuthFailed.
   */
  authenticate(scheme: string, auth: Uint8Array | null, remoteAddress?: string): AuthResult {
    void scheme, auth, remoteAddress;
    throw new Error('todo');
  }

  // ----- containers and TTL -----

  /**
   * Containers that had children and have none (and never-used ones past maxNeverUsedIntervalMs), and
   * childless TTL nodes whose mtime + ttl is before now; at most `limit`. The shell prepares a
   * deleteContainer (opcode 20, body {path}) for each, which re-checks emptiness.
   */
  containersToDelete(nowMs: number, limit: number): string[] {
    void nowMs, limit;
    throw new Error('todo');
  }

  // ----- introspection for four-letter words -----

  metrics(): CoreMetrics {
    throw new Error('todo');
  }

  /** dump: each session's ephemeral paths. */
  ephemeralsBySession(): Map<bigint, string[]> {
    throw new Error('todo');
  }

  // ----- persistence -----

  /** A consistent view of the tree for a snapshot writer (read it before applying more txns). */
  snapshot(): CoreSnapshot {
    throw new Error('todo');
  }

  /** Replaces the tree, ACL cache and sessions with a snapshot's (before any apply). */
  restore(snapshot: CoreSnapshot, nowMs: number): void {
    void snapshot, nowMs;
    throw new Error('todo');
  }
}
