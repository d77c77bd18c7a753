// What the election and the ZAB roles may see and do of the peer that hosts them.

import type { QuorumConfig } from './config.js';
import type { TxnHistory } from './history.js';
import type { PeerOutput, TimerName } from './io.js';
import type { Membership, MembershipView } from './membership.js';
import type { PeerMessage, RequestId } from './messages.js';

export interface PeerContext {
  readonly config: QuorumConfig;
  readonly history: TxnHistory;
  readonly acceptedEpoch: bigint;
  readonly currentEpoch: bigint;
  /** ZAB ticks elapsed in this incarnation (advanced by the 'tick' timer). */
  readonly ticks: number;
  /** Opaque name of this incarnation, so links of a restarted peer never collide with old ones. */
  readonly incarnation: string;
  /** The configs in force: the committed one and those proposed on top (dynamic reconfiguration). */
  view(): MembershipView;
  /** A voter of any config in force (it may vote, lead, and its acks count where it is a voter). */
  isVoter(id: number): boolean;
  /** An observer of any config in force. */
  isObserver(id: number): boolean;
  /** A voter or observer of any config in force: we talk to it. */
  isMember(id: number): boolean;
  /** A quorum of every config in force (the old AND the new one while a reconfig is pending). */
  isQuorum(ids: Iterable<number>): boolean;
  /** The voters of every config in force. */
  voters(): number[];
  /** The config in force after txn `zxid`, for a learner synced from there. */
  membershipAt(zxid: bigint): Membership;
  /** The leader's committed config as of our sync base: ours from there on. */
  adoptMembership(membership: Membership): void;
  /** The leader's committed config replaces ours and our pending ones (which it lacks). */
  dropPendingMembership(membership: Membership): void;
  emit(output: PeerOutput): void;
  send(to: number, message: PeerMessage): void;
  setTimer(timer: TimerName, delayMs: number): void;
  /** Records an epoch durably (a barrier output) and remembers it. */
  persistEpoch(which: 'acceptedEpoch' | 'currentEpoch', epoch: bigint): void;
  /** Starts serving clients: delivers what is committed, then emits `serving`. */
  startServing(epoch: bigint, leader: number): void;
  /** Delivers whatever is committed and durable, if serving, and releases finished syncs. */
  deliverCommitted(): void;
  /** Releases `syncDone` for requestId once the applied state reaches zxid. */
  awaitApplied(requestId: RequestId, zxid: bigint): void;
  /** Gives up the current role: the peer goes back to LOOKING once the current input is handled. */
  lookAgain(reason: string): void;
}
