// The seam between the server's pure core (data tree, sessions, request preparation) and its shells
// (the client network layer, persistence, replication). The core does no I/O and reads no clock:
// time comes in as arguments, and watch events go out through the `Watcher` each connection gives.
//
// A write flows: shell decodes a request → core.prepare() turns it into a Txn (validation, ACL checks,
// zxid assignment; a failing write becomes an error txn, as in Apache) → the persist seam makes the txn
// durable (txn log, or a quorum in an ensemble) → core.apply() changes the tree, fires watches, and
// returns the reply body → the shell replies. Reads go straight to core.read().

import type { records } from '../../src/protocol/index.js';

type Id = records.Id;
type TxnHeader = records.TxnHeader;
type TxnDigest = records.TxnDigest;
type WatcherEvent = records.WatcherEvent;

/** Who is asking: the session and what it has authenticated as. */
export interface RequestContext {
  readonly sessionId: bigint;
  /** The request's xid, recorded in the txn header as cxid. */
  readonly cxid: number;
  /** The connection's ids: `ip:<address>` always, plus every id added by a successful addauth. */
  readonly authIds: readonly Id[];
}

/** A transaction: what the log stores and every replica applies. */
export interface Txn {
  readonly header: TxnHeader;
  /**
   * The txn record for `header.type`: CreateTxn, CreateTTLTxn, CreateContainerTxn, DeleteTxn, SetDataTxn,
   * SetACLTxn, CheckVersionTxn, MultiTxn, CreateSessionTxn, CloseSessionTxn or ErrorTxn (the opcode
   * table's `txn` column says which).
   */
  readonly record: unknown;
  /**
   * Apache 3.8's TxnDigest: the tree digest once this txn is applied. The core sets it on every txn it
   * prepares; the log writes it after the record; apply() checks it when present.
   */
  readonly digest?: TxnDigest;
}

/**
 * A connection's watch sink. The core calls `process` synchronously while applying a txn (or answering
 * setWatches); the shell must queue the event on the connection before the reply to any later request.
 */
export interface Watcher {
  /** Events are filtered by the READ permission of the node at delivery time, so the core needs the ids. */
  readonly authIds: readonly Id[];
  process(event: WatcherEvent, zxid: bigint): void;
}

/** The reply to one request: an error code, or 0 and the response record the opcode table names. */
export interface Reply {
  readonly err: number;
  readonly response?: unknown;
}

/** Persist seam: resolves once the txn is durable (standalone: fsynced; ensemble: on a quorum). */
export interface TxnPersister {
  persist(txn: Txn): Promise<void>;
}
