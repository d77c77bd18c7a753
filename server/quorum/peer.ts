// A quorum peer: fast leader election and ZAB behind one `step(input) → outputs` function.
// The runtime owns sockets, disk and timers and carries the outputs out in order (see io.ts); the
// simulator drives the same class with a seeded network, disk and clock.

import assert from 'node:assert/strict';
import { staticMembership, type QuorumConfig } from './config.js';
import type { PeerContext } from './context.js';
import { Election, type ElectionResult } from './election.js';
import { TxnHistory } from './history.js';
import type { DurableState, PeerInput, PeerOutput, TimerName } from './io.js';
import { LeaderRole } from './leader.js';
import { LearnerRole } from './learner.js';
import {
  MembershipLog, isJointQuorum, isNewerCommitted, isMemberOf, isQuorumOf, isVoterOf, jointVoters, configsOf,
  type Membership, type MembershipChange, type MembershipView,
} from './membership.js';
import type { Notification, PeerMessage, PeerState, RequestId } from './messages.js';

export interface PeerStatus {
  readonly state: PeerState;
  /** The leader followed or led (-1 while LOOKING). */
  readonly leader: number;
  /** True while serving clients: an established leader, or a learner after UPTODATE. */
  readonly serving: boolean;
  /** The epoch being led or followed (-1 while LOOKING or before it is known). */
  readonly epoch: bigint;
  readonly electionEpoch: bigint;
  readonly acceptedEpoch: bigint;
  readonly currentEpoch: bigint;
  readonly lastZxid: bigint;
  readonly durableZxid: bigint;
  readonly committedZxid: bigint;
  readonly appliedZxid: bigint;
  /** Leader only: its learners (hello received), forwarding once their sync started (metrics). */
  readonly learners?: ReadonlyArray<{ id: number; observer: boolean; forwarding: boolean }>;
  /** Leader only: distinct zxids learners' syncs wait for (Apache's pending_syncs). */
  readonly pendingSyncs?: number;
  /** Version (zxid) of the committed config, and of the newest one proposed (equal when none is pending). */
  readonly configVersion: bigint;
  readonly lastSeenConfigVersion: bigint;
}

/** Why a leader cannot propose a reconfig to `next` now (Apache's errors), or undefined. */
export type ReconfigProblem = 'notLeader' | 'inProgress' | 'noQuorum';

export class QuorumPeer implements PeerContext {
  readonly history: TxnHistory;
  acceptedEpoch: bigint;
  currentEpoch: bigint;
  ticks = 0;
  private state: PeerState = 'LOOKING';
  private started = false;
  private serving = false;
  private servingEpoch = -1n;
  private readonly election: Election;
  private role: LeaderRole | LearnerRole | undefined;
  /** The vote reported while FOLLOWING, LEADING or OBSERVING. */
  private settledVote: ElectionResult | undefined;
  private out: PeerOutput[] = [];
  private readonly timerTokens = new Map<TimerName, number>();
  private nextTimerToken = 1;
  private rolesStarted = 0;
  private abandonReason: string | undefined;
  private pendingSyncs: { requestId: RequestId; zxid: bigint }[] = [];
  private readonly memberships: MembershipLog;
  /** The view last reported in a `membership` output (by versions). */
  private reportedView = '';

  constructor(
    readonly config: QuorumConfig,
    durable: DurableState,
    /** Opaque name of this incarnation (boot counter, start time): links never repeat across restarts. */
    readonly incarnation: string,
  ) {
    this.memberships = new MembershipLog(durable.membership ?? staticMembership(config), config.reconfigOf);
    this.history = new TxnHistory(durable.appliedZxid, durable.log, this.memberships);
    this.reportedView = viewKey(this.view());
    this.acceptedEpoch = durable.acceptedEpoch;
    this.currentEpoch = durable.currentEpoch;
    this.election = new Election(this);
  }

  /** Handles one input; the shell carries out the returned outputs in order. */
  step(input: PeerInput): PeerOutput[] {
    this.out = [];
    this.dispatch(input);
    this.checkMembership();
    while (this.abandonReason !== undefined) {
      const reason = this.abandonReason;
      this.abandonReason = undefined;
      this.startLooking(reason);
    }
    return this.out;
  }

  status(): PeerStatus {
    const h = this.history;
    return {
      state: this.state, leader: this.settledVote?.leader ?? -1, serving: this.serving,
      epoch: this.role instanceof LeaderRole ? this.role.epoch ?? -1n : this.servingEpoch,
      electionEpoch: this.election.logicalClock,
      acceptedEpoch: this.acceptedEpoch,
      currentEpoch: this.currentEpoch,
      lastZxid: h.lastZxid,
      durableZxid: h.durableZxid,
      committedZxid: h.committedZxid,
      appliedZxid: h.appliedZxid,
      ...(this.role instanceof LeaderRole
        ? { learners: this.role.learnerViews(), pendingSyncs: this.role.pendingSyncCount }
        : {}),
      configVersion: this.view().active.version,
      lastSeenConfigVersion: this.memberships.latest.version,
    };
  }

  /** The configs in force: the committed one, and the ones proposed on top. */
  view(): MembershipView {
    return this.memberships.view(this.history.committedZxid);
  }

  /**
   * Leader only: whether a reconfig to `next` could be proposed now. Apache refuses one while another
   * is in progress, and one whose config has no quorum among the leader and its synced learners.
   */
  reconfigProblem(next: MembershipChange): ReconfigProblem | undefined {
    if (!(this.role instanceof LeaderRole) || this.role.phase !== 'broadcast') return 'notLeader';
    if (this.view().pending.length > 0) return 'inProgress';
    const synced = [this.config.myId, ...this.role.syncedLearners({ voting: true })];
    if (!isQuorumOf({ ...next, version: 0n }, synced)) return 'noQuorum';
    return undefined;
  }

  private dispatch(input: PeerInput): void {
    switch (input.type) {
      case 'start':
        if (!this.started) {
          this.started = true;
          this.startLooking('start');
        }
        return;
      case 'message':
        if (!this.started || input.from === this.config.myId) return;
        if (input.message.type === 'notification' && input.message.config !== undefined) {
          this.learnConfig(input.message.config);
        }
        if (this.isMember(input.from)) {
          this.election.heardFrom(input.from);
          this.onMessage(input.from, input.message);
        } else if (input.message.type === 'zab' && this.role instanceof LeaderRole &&
          this.role.keepsRemovedLearner(input.from)) {
          this.onMessage(input.from, input.message); // a removed server following on
        }
        return;
      case 'timeout':
        if (this.timerTokens.get(input.timer) === input.token) this.onTimeout(input.timer);
        return;
      case 'logged':
        this.history.markDurable(input.zxid);
        // Txns already committed apply first: a learner's client is answered before the ACK's socket
        // write (Apache's follower applies and acks on separate threads). Then our acks, or on a
        // leader our own ack, which may commit (and deliver) more.
        this.deliverCommitted();
        this.role?.onLogged();
        return;
      case 'propose':
        if (this.role instanceof LeaderRole) this.role.propose(input.requestId, input.payload);
        else this.refuse(input.requestId, 'not the leader');
        return;
      case 'forward':
        if (this.role === undefined) this.refuse(input.requestId, 'no leader');
        else this.role.forward(input.requestId, input.request);
        return;
      case 'sync':
        if (this.role === undefined) this.refuse(input.requestId, 'no leader');
        else this.role.sync(input.requestId);
        return;
      case 'touchSessions':
        if (this.role instanceof LearnerRole) this.role.touchSessions(input.payload);
        return;
      case 'linkLost':
        if (!this.started || input.peer === this.config.myId) return;
        this.election.peerDown(input.peer);
        this.role?.onLinkLost(input.peer);
        return;
    }
  }

  private onMessage(from: number, message: PeerMessage): void {
    if (message.type === 'zab') {
      this.role?.onPacket(from, message);
      return;
    }
    if (this.state === 'LOOKING') {
      const result = this.election.onNotification(from, message);
      if (result !== undefined) this.settle(result);
    } else if (message.state === 'LOOKING') {
      this.send(from, this.settledNotification()); // tell a looking peer who leads
      // Our leader started a new round: it gave up leading, so join the round now rather than after
      // a timeout (otherwise the others may settle without us, on a leader that then rejects us).
      const vote = this.settledVote!;
      if (from === vote.leader && message.electionEpoch > vote.electionEpoch) {
        this.lookAgain('the leader is looking');
      }
    }
  }

  private onTimeout(timer: TimerName): void {
    if (timer === 'tick') {
      if (this.role === undefined) return;
      this.ticks++;
      this.role.onTick();
      if (this.abandonReason === undefined) this.setTimer('tick', this.config.tickMs);
      return;
    }
    if (this.state !== 'LOOKING') return;
    if (timer === 'election') this.election.onElectionTimeout();
    else {
      const result = this.election.onFinalizeTimeout();
      if (result !== undefined) this.settle(result);
    }
  }

  private startLooking(reason: string): void {
    this.role = undefined;
    this.serving = false;
    this.servingEpoch = -1n;
    this.settledVote = undefined;
    this.state = 'LOOKING';
    for (const { requestId } of this.pendingSyncs.splice(0)) this.refuse(requestId, 'lost the leader');
    this.emit({ kind: 'role', state: 'LOOKING', leader: -1, reason });
    const result = this.election.start();
    if (result !== undefined) this.settle(result);
  }

  private settle(result: ElectionResult): void {
    const { myId } = this.config;
    this.settledVote = result;
    if (result.leader === myId) {
      this.state = 'LEADING';
      this.emit({ kind: 'role', state: 'LEADING', leader: myId, reason: 'elected' });
      this.role = new LeaderRole(this, `${myId}/${this.incarnation}/${this.rolesStarted++}`);
      this.role.start();
      return;
    }
    const observer = !this.isVoter(myId);
    this.state = observer ? 'OBSERVING' : 'FOLLOWING';
    this.emit({ kind: 'role', state: this.state, leader: result.leader, reason: 'elected' });
    this.role = new LearnerRole(this, result.leader, observer, this.rolesStarted++);
    this.role.start();
  }

  private settledNotification(): Notification {
    assert.ok(this.settledVote !== undefined);
    return { type: 'notification', state: this.state, ...this.settledVote, config: this.view().active };
  }

  /**
   * A peer told us its committed config: unless we know a newer one, it is ours now (as Apache's election
   * processes a newer config a notification carries), so a server added back finds the ensemble.
   */
  private learnConfig(config: Membership): void {
    if (!isNewerCommitted(this.view(), config)) return;
    this.memberships.adopt(config);
    if (this.state !== 'LOOKING') return;
    const result = this.election.recheck();
    if (result !== undefined) this.settle(result);
  }

  /**
   * After each input: report a changed view to the shell, and leave a role the committed config no
   * longer allows (a removed leader steps down; a learner whose role changed registers again).
   */
  private checkMembership(): void {
    const view = this.view();
    const key = viewKey(view);
    if (key !== this.reportedView) {
      const activeChanged = key.split('/')[0] !== this.reportedView.split('/')[0];
      this.reportedView = key;
      this.emit({ kind: 'membership', active: view.active, pending: view.pending });
      if (activeChanged && this.role instanceof LeaderRole) {
        if (!this.isVoter(this.config.myId)) this.lookAgain('a reconfig removed this leader from the voters');
        else this.role.onMembershipChanged();
      }
    }
    // A learner judges its role once synced: during the sync its config may still be the base's.
    // A removed one keeps following as a non-voting learner, as Apache's (its leader keeps it too).
    if (this.role instanceof LearnerRole && this.role.phase === 'serving') {
      const { myId } = this.config;
      if (!this.isMember(myId)) return;
      if (this.role.observer ? !this.isObserver(myId) : !this.isVoter(myId)) {
        this.lookAgain('a reconfig changed this server\'s role');
      }
    }
  }

  // PeerContext

  isVoter(id: number): boolean {
    return configsOf(this.view()).some((m) => isVoterOf(m, id));
  }

  isObserver(id: number): boolean {
    return configsOf(this.view()).some((m) => m.observers.includes(id));
  }

  isMember(id: number): boolean {
    return configsOf(this.view()).some((m) => isMemberOf(m, id));
  }

  isQuorum(ids: Iterable<number>): boolean {
    return isJointQuorum(this.view(), ids);
  }

  voters(): number[] {
    return jointVoters(this.view());
  }

  membershipAt(zxid: bigint): Membership {
    return this.memberships.at(zxid);
  }

  adoptMembership(membership: Membership): void {
    this.memberships.adopt(membership);
  }

  dropPendingMembership(membership: Membership): void {
    this.memberships.replace(membership);
  }

  emit(output: PeerOutput): void {
    this.out.push(output);
  }

  send(to: number, message: PeerMessage): void {
    this.out.push({ kind: 'send', to, message });
  }

  setTimer(timer: TimerName, delayMs: number): void {
    const token = this.nextTimerToken++;
    this.timerTokens.set(timer, token);
    this.out.push({ kind: 'setTimer', timer, delayMs, token });
  }

  persistEpoch(which: 'acceptedEpoch' | 'currentEpoch', epoch: bigint): void {
    this[which] = epoch;
    this.out.push({ kind: 'persistEpoch', which, epoch });
  }

  startServing(epoch: bigint, leader: number): void {
    this.serving = true;
    this.servingEpoch = epoch;
    // Report the epoch we serve in, so a joining peer sees one vote from all of us (ZOOKEEPER-1732).
    if (this.settledVote !== undefined) this.settledVote = { ...this.settledVote, peerEpoch: epoch };
    this.deliverCommitted();
    this.out.push({ kind: 'serving', epoch, leader });
  }

  deliverCommitted(): void {
    if (!this.serving) return;
    for (const txn of this.history.takeDeliverable()) this.out.push({ kind: 'deliver', txn });
    this.history.trim(this.config.committedLogMax);
    const applied = this.history.appliedZxid;
    while (this.pendingSyncs.length > 0 && this.pendingSyncs[0]!.zxid <= applied) {
      this.out.push({ kind: 'syncDone', requestId: this.pendingSyncs.shift()!.requestId });
    }
  }

  awaitApplied(requestId: RequestId, zxid: bigint): void {
    if (this.pendingSyncs.length >= this.config.outstandingProposalsMax) {
      return this.refuse(requestId, 'too many syncs');
    }
    this.pendingSyncs.push({ requestId, zxid });
    this.deliverCommitted();
  }

  lookAgain(reason: string): void {
    this.abandonReason ??= reason;
  }

  private refuse(requestId: RequestId, reason: string): void {
    this.out.push({ kind: 'refused', requestId, reason });
  }
}

/** A view by its versions: `active/pending,pending`. */
function viewKey(view: MembershipView): string {
  return `${view.active.version}/${view.pending.map((m) => m.version).join(',')}`;
}
