// What a quorum peer takes in and gives out. The runtime (or the simulator) feeds inputs to
// `QuorumPeer.step` one at a time and carries out the returned outputs in list order, following the
// rule documented on each output. Nothing here touches a socket, a disk or a clock.

import type { Membership } from './membership.js';
import type { PeerMessage, PeerState, RequestId, Txn, ZabPacket } from './messages.js';

/** Names of the timers a peer asks for; setting a timer replaces the one of the same name. */
export type TimerName = 'election' | 'finalize' | 'tick';

export type PeerInput =
  /** First input after construction: the peer starts LOOKING. */
  | { readonly type: 'start' }
  /** A message from peer `from` (duplicates, losses and reordering are tolerated). */
  | { readonly type: 'message'; readonly from: number; readonly message: PeerMessage }
  /** A timer set by a `setTimer` output fired; stale tokens are ignored, so late firings are harmless. */
  | { readonly type: 'timeout'; readonly timer: TimerName; readonly token: number }
  /** Every txn appended by `appendTxns` outputs up to and including zxid is now durable (fsynced). */
  | { readonly type: 'logged'; readonly zxid: bigint }
  /** Leader only: propose a prepared txn (opaque bytes); answered by `proposed` or `refused`. */
  | { readonly type: 'propose'; readonly requestId: RequestId; readonly payload: Uint8Array }
  /** A client write to hand to the leader (forwarded by a learner; a leader hands it to itself). */
  | { readonly type: 'forward'; readonly requestId: RequestId; readonly request: Uint8Array }
  /** A client sync: answered by `syncDone` once this peer applied all the leader had committed. */
  | { readonly type: 'sync'; readonly requestId: RequestId }
  /** Learner only: session touches (opaque) to carry to the leader on the next ping reply. */
  | { readonly type: 'touchSessions'; readonly payload: Uint8Array }
  /**
   * The connection carrying ZAB packets with peer `peer` broke (its process died, the network reset
   * it). A learner of that leader looks again at once, as Apache's follower does on a socket error,
   * instead of waiting syncLimit; a leader drops that learner and steps down only if the learners
   * left no longer make a quorum. Spurious or late reports are safe: they act like a lost packet.
   */
  | { readonly type: 'linkLost'; readonly peer: number };

/**
 * Outputs, in the order the shell must carry them out. Two kinds of persistence:
 * - `appendTxns` is asynchronous: the shell writes in order and later reports durability with a
 *   `logged` input; the peer never acknowledges a txn before that input (group commit is free).
 * - `flushLog`, `persistEpoch`, `truncateLog` and `installSnapshot` are barriers: they and every
 *   earlier append must be durable before the shell carries out any later output of the same list.
 */
export type PeerOutput =
  /** Send to peer `to`. Carry out after every earlier barrier in the list is durable. */
  | { readonly kind: 'send'; readonly to: number; readonly message: PeerMessage }
  /**
   * Send a `snap` packet whose `snapshot` field the shell fills with its serialized state. The state
   * must be exactly as of `message.body.zxid`: the outputs before this one bring it there and no later
   * `deliver` may be applied first.
   */
  | { readonly kind: 'sendSnapshot'; readonly to: number; readonly message: ZabPacket }
  /** Append txns to the log in order (not yet durable); report with `logged` when fsynced. */
  | { readonly kind: 'appendTxns'; readonly txns: readonly Txn[] }
  /** Barrier: make every appended txn durable. */
  | { readonly kind: 'flushLog' }
  /** Barrier: durably record acceptedEpoch or currentEpoch. */
  | {
      readonly kind: 'persistEpoch';
      readonly which: 'acceptedEpoch' | 'currentEpoch';
      readonly epoch: bigint;
    }
  /** Barrier: durably drop every logged txn with a zxid above `zxid`. */
  | { readonly kind: 'truncateLog'; readonly zxid: bigint }
  /**
   * Barrier: replace the applied state with `snapshot` (state as of `zxid`), store it durably, and drop
   * the whole log; later txns arrive as appends.
   */
  | { readonly kind: 'installSnapshot'; readonly zxid: bigint; readonly snapshot: Uint8Array }
  /**
   * Apply a committed txn to the state (data tree). Delivered exactly once per incarnation, in zxid
   * order, only after the txn is durable here and committed by a quorum. The shell replies to the
   * client that sent it, if that client is connected here.
   */
  | { readonly kind: 'deliver'; readonly txn: Txn }
  /** Leader only: a write from server `from`'s client; prepare it and answer with a `propose` input. */
  | {
      readonly kind: 'request';
      readonly from: number;
      readonly requestId: RequestId;
      readonly request: Uint8Array;
    }
  /** Leader only: the propose input `requestId` became the proposal `zxid`. */
  | { readonly kind: 'proposed'; readonly requestId: RequestId; readonly zxid: bigint }
  /** A propose, forward or sync input this peer cannot take now (not serving, no leader, limits). */
  | { readonly kind: 'refused'; readonly requestId: RequestId; readonly reason: string }
  /** A client sync is complete: every earlier `deliver` output reflects what the leader had committed. */
  | { readonly kind: 'syncDone'; readonly requestId: RequestId }
  /** Leader only: session touches reported by a learner. */
  | { readonly kind: 'sessionTouches'; readonly from: number; readonly payload: Uint8Array }
  /** Arm timer `timer` to fire once after `delayMs` with `token`, replacing any earlier one of that name. */
  | { readonly kind: 'setTimer'; readonly timer: TimerName; readonly delayMs: number; readonly token: number }
  /** The peer's state changed (election result, back to LOOKING). `leader` is -1 while LOOKING. */
  | { readonly kind: 'role'; readonly state: PeerState; readonly leader: number; readonly reason: string }
  /**
   * The peer serves clients from here on: a leader whose epoch a quorum acknowledged (NEWLEADER),
   * or a learner that received UPTODATE. Until the next `role` output.
   */
  | { readonly kind: 'serving'; readonly epoch: bigint; readonly leader: number }
  /**
   * The configs this peer respects changed (a reconfig was proposed, committed, truncated or learned
   * in a sync): `active` is the committed one, `pending` those proposed on top. The shell connects to
   * the members of all of them and records `active` (Apache's dynamic config file). Not a barrier.
   */
  | { readonly kind: 'membership'; readonly active: Membership; readonly pending: readonly Membership[] };

/** What a peer recovers from disk at start (a restart after a crash starts from this). */
export interface DurableState {
  readonly acceptedEpoch: bigint;
  readonly currentEpoch: bigint;
  /** The zxid the shell's state reflects when starting (its snapshot); 0 for an empty state. */
  readonly appliedZxid: bigint;
  /** Logged txns with zxids above appliedZxid, in order (the shell does not apply them itself). */
  readonly log: readonly Txn[];
  /**
   * The latest config this peer activated (the `active` of its last `membership` output, Apache's
   * dynamic config file), or its state's if newer; default: the static one of QuorumConfig. Reconfig
   * txns of the log at or below its version count as committed.
   */
  readonly membership?: Membership;
}

export const emptyDurableState: DurableState = {
  acceptedEpoch: 0n, currentEpoch: 0n, appliedZxid: 0n, log: [],
};
