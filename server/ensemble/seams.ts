// The seams of the ensemble runtime: what the member (server/ensemble/member.ts) needs of the network
// between peers and of the disk. The pure QuorumPeer (server/quorum) decides; these carry its outputs
// out. Each has a TCP/disk implementation and an in-memory one for in-process tests.

import type { ServerCore } from '../core/server-core.js';
import type { DurableState, PeerMessage, Txn as QuorumTxn } from '../quorum/index.js';

/** Where a peer listens: `server.N=host:quorumPort:electionPort` of zoo.cfg. */
export interface PeerAddress {
  readonly id: number;
  readonly host: string;
  /** ZAB packets (the learner ↔ leader conversation). */
  readonly quorumPort: number;
  /** Election notifications. */
  readonly electionPort: number;
}

/**
 * Messages between peers. Delivery is best effort: a message to a peer that is down or unreachable
 * is dropped (the quorum protocol tolerates loss, duplicates and reordering), and `send` never throws
 * or blocks. Messages from one peer on one port arrive in the order sent while the connection lasts.
 */
export interface PeerTransport extends AsyncDisposable {
  /**
   * Binds this peer's ports and starts delivering received messages to `onMessage`. A transport that
   * can tell calls `onLinkLost(peer)` when an established connection carrying ZAB packets with `peer`
   * ended (a killed peer closes them at once), so the member need not wait for a protocol timeout.
   */
  start(
    onMessage: (from: number, message: PeerMessage) => void,
    onLinkLost?: (peer: number) => void,
  ): Promise<void>;
  send(to: number, message: PeerMessage): void;
  /** Closes every connection and listener; idempotent. */
  close(): Promise<void>;
}

/**
 * A peer's durable state: the txn log (Apache's format), snapshots and the epoch files of dataDir.
 * Quorum txn payloads are Apache txn log payloads (TxnHeader + record, `encodeTxnPayload`), so the
 * log is the same file Apache writes and `zk-server dump-log` reads.
 */
export interface PeerStorage extends AsyncDisposable {
  /**
   * Recovers dataDir into `core` (a fresh core): loads the newest valid snapshot only (the log is not
   * replayed into the tree; the peer delivers logged txns once it knows they are committed), and
   * returns the epochs and the logged txns above the snapshot. A torn log tail is truncated.
   */
  open(core: ServerCore): Promise<DurableState>;
  /** Appends txns in zxid order (group commit); `onLogged(zxid)` fires once durable through zxid. */
  append(txns: readonly QuorumTxn[]): void;
  /** Called with the highest fsynced zxid after appends become durable. Set before the first append. */
  onLogged: (zxid: bigint) => void;
  /** Resolves once every earlier append is durable. */
  flush(): Promise<void>;
  persistEpoch(which: 'acceptedEpoch' | 'currentEpoch', epoch: bigint): Promise<void>;
  /** Drops every logged txn above `zxid`, durably. */
  truncate(zxid: bigint): Promise<void>;
  /**
   * Serializes `core`'s state exactly as it is now (as of core.lastProcessedZxid) for a `snap` sync;
   * synchronous, so no delivery can slip in between.
   */
  serializeSnapshot(core: ServerCore): Uint8Array;
  /** Replaces `core`'s state with `snapshot` (as of `zxid`), writes it as a snapshot file and drops the log. */
  installSnapshot(core: ServerCore, zxid: bigint, snapshot: Uint8Array): Promise<void>;
  /**
   * Tells the storage a txn was applied to `core` (for snapCount-driven background snapshots and
   * autopurge, as the standalone store does).
   */
  applied(core: ServerCore, zxid: bigint): void;
  close(): Promise<void>;
}
