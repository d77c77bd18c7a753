// The seams between persistence and the rest of the server: what a transaction is, what a snapshot
// reads from the data tree and writes into a fresh one, and the errors persistence reports. The
// data tree implements `SnapshotSource` and `RecoveryTarget`; nothing here depends on it.

import { MenagerieError } from '../../src/protocol/errors.js';
import type { records } from '../../src/protocol/index.js';

type ACL = records.ACL;
type StatPersisted = records.StatPersisted;
type TxnHeader = records.TxnHeader;
type TxnDigest = records.TxnDigest;

/**
 * A transaction as the log stores it; the same shape as `server/core/api.ts`'s `Txn`, plus the
 * optional digest Apache 3.8 appends (`zookeeper.digest.enabled`, on by default).
 */
export interface Txn {
  readonly header: TxnHeader;
  /**
   * The txn record `header.type` names (see `txnRecordFor`): CreateTxn, DeleteTxn, SetDataTxn, ...,
   * MultiTxn. Null only for a closeSession written before CloseSessionTxn existed (pre-3.6 logs).
   */
  readonly record: unknown;
  /** The tree digest after this txn; written after the record when present, as Apache does. */
  readonly digest?: TxnDigest;
}

/** A session as a snapshot stores it. */
export interface SessionEntry {
  readonly id: bigint;
  readonly timeoutMs: number;
}

/** One entry of the ACL cache: a reference number and the ACL list it stands for. */
export interface AclEntry {
  readonly ref: bigint;
  readonly acl: readonly ACL[];
}

/** A znode as a snapshot stores it: the root's path is "" (Apache's convention), others are absolute. */
export interface SnapshotNode {
  readonly path: string;
  readonly data: Buffer | null;
  /** A key of the ACL cache, or -1: OPEN_ACL_UNSAFE without an entry (Apache's OPEN_UNSAFE_ACL_ID). */
  readonly aclRef: bigint;
  readonly stat: StatPersisted;
}

/** What 3.8 writes after the tree: the digest of the tree at a zxid (zxid 0 when unknown). */
export interface ZxidDigest {
  readonly zxid: bigint;
  readonly digestVersion: number;
  readonly digest: bigint;
}

/**
 * The data tree as a snapshot reads it. A snapshot is fuzzy, as in Apache: the writer calls
 * `sessions()` and `aclEntries()` first, then pulls `nodes()` a chunk at a time, yielding to the
 * event loop between chunks while transactions keep being applied to the live tree. Each node must
 * be a consistent copy as of the moment it is yielded; nodes created or deleted during the walk may
 * or may not appear. Replaying the log from `zxid` afterwards repairs the difference, because every
 * txn carries its resulting values.
 */
export interface SnapshotSource {
  /** The last zxid applied to the tree when the snapshot starts; the snapshot file is named by it. */
  readonly zxid: bigint;
  sessions(): Iterable<SessionEntry>;
  aclEntries(): Iterable<AclEntry>;
  /** Pre-order (a parent before its children), starting with the root at path "". */
  nodes(): Iterator<SnapshotNode>;
  /**
   * ACL lists for references first seen during the walk (a node created or re-ACLed meanwhile);
   * undefined if the tree no longer has it.
   */
  aclFor(ref: bigint): readonly ACL[] | undefined;
  /** Called after the walk: the tree's digest at its last applied zxid; undefined writes none (zxid 0). */
  digest?(): ZxidDigest | undefined;
}

/** A fresh data tree being filled from a snapshot and then from the log. */
export interface RecoveryTarget {
  addSession(session: SessionEntry): void;
  addAcl(entry: AclEntry): void;
  /** Nodes arrive in pre-order, the root first; the parent of every other node has arrived. */
  addNode(node: SnapshotNode): void;
  /** Called once the snapshot is complete and its checksum verified. */
  snapshotLoaded(info: { zxid: bigint; digest: ZxidDigest | undefined }): void;
  /** Replays one logged txn (zxid greater than the snapshot's), including session create and close. */
  applyTxn(txn: Txn): void;
}

/** Something persistence could not read or write; names the file when there is one. */
export class PersistenceError extends MenagerieError {
  constructor(
    message: string,
    readonly file?: string,
    options?: { cause?: unknown },
  ) {
    super(file === undefined ? message : `${file}: ${message}`, options);
  }
}

/** A file that is not what its name says, or of a format version we do not know. */
export class UnsupportedFormatError extends PersistenceError {}

/** A log whose content is damaged before its end (not a torn tail): replaying past it would lose data. */
export class CorruptLogError extends PersistenceError {}

/** A snapshot that fails to parse or whose checksum or seal does not verify. */
export class CorruptSnapshotError extends PersistenceError {}

/** The log failed to write or sync and refuses appends until `resume()` succeeds. */
export class TxnLogFailedError extends PersistenceError {}
