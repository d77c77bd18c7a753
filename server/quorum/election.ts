// Fast leader election as a state machine: the LOOKING part of a peer. Votes are ordered by
// (peerEpoch, zxid, server id); notifications carry the sender's state and logical clock; a peer
// joining a settled ensemble follows the leader a quorum reports once the leader itself says LEADING.
// Waiting (finalize, rebroadcast) is done by the shell's timers.

import { isVoter, type QuorumConfig } from './config.js';
import type { PeerContext } from './context.js';
import { isQuorumOf } from './membership.js';
import type { Notification, PeerState } from './messages.js';

export interface Vote {
  readonly leader: number;
  readonly zxid: bigint;
  readonly peerEpoch: bigint;
}

/** The outcome of an election: whom to follow (or lead), and the vote to report from now on. */
export interface ElectionResult {
  readonly leader: number;
  readonly zxid: bigint;
  readonly peerEpoch: bigint;
  readonly electionEpoch: bigint;
}

/**
 * True if candidate `a` is better than `b`; a non-voter is never a candidate (`voter`: the static
 * config's voters, or a peer's test that covers its pending configs too).
 */
export function voteBeats(voter: QuorumConfig | ((id: number) => boolean), a: Vote, b: Vote): boolean {
  const isCandidate = typeof voter === 'function' ? voter(a.leader) : isVoter(voter, a.leader);
  if (!isCandidate) return false;
  if (a.peerEpoch !== b.peerEpoch) return a.peerEpoch > b.peerEpoch;
  if (a.zxid !== b.zxid) return a.zxid > b.zxid;
  return a.leader > b.leader;
}

/** Vote equality as Apache counts it: full while anyone is LOOKING, else the leader and its epoch. */
function sameVote(a: Notification, b: Notification): boolean {
  if (a.state === 'LOOKING' || b.state === 'LOOKING') {
    return a.leader === b.leader && a.zxid === b.zxid && a.electionEpoch === b.electionEpoch &&
      a.peerEpoch === b.peerEpoch;
  }
  return a.leader === b.leader && a.peerEpoch === b.peerEpoch;
}

export class Election {
  logicalClock = 0n;
  proposal: Vote = { leader: -1, zxid: -1n, peerEpoch: -1n };
  /** Latest notification of each peer in this round. */
  private readonly received = new Map<number, Notification>();
  /** Latest FOLLOWING/LEADING notification of each peer, from any round. */
  private readonly outOfElection = new Map<number, Notification>();
  private finalizing = false;
  private intervalMs = 0;
  /** Voters whose connection broke (linkLost) and that have not been heard from since. */
  private readonly down = new Set<number>();

  constructor(private readonly ctx: PeerContext) {}

  /** Starts a new round with our own vote (observers have none). */
  start(): ElectionResult | undefined {
    this.logicalClock++;
    this.received.clear();
    this.outOfElection.clear();
    this.finalizing = false;
    this.intervalMs = this.ctx.config.notificationIntervalMinMs;
    this.proposal = this.initialVote();
    this.broadcast();
    this.ctx.setTimer('election', this.intervalMs);
    return this.checkQuorum();
  }

  /** The connection to `peer` broke: until it is heard from again, no vote is expected from it. */
  peerDown(peer: number): void {
    if (this.ctx.isVoter(peer)) this.down.add(peer);
  }

  /** A message came from `peer`: it is up. */
  heardFrom(peer: number): void {
    this.down.delete(peer);
  }

  /** Our vote as a notification, for answers to LOOKING peers. */
  notification(state: PeerState): Notification {
    const config = this.ctx.view().active;
    return { type: 'notification', state, ...this.proposal, electionEpoch: this.logicalClock, config };
  }

  onNotification(from: number, n: Notification): ElectionResult | undefined {
    if (!this.ctx.isVoter(from)) {
      // An observer asking: tell it what we think; its vote never counts.
      if (n.state === 'LOOKING') this.ctx.send(from, this.notification('LOOKING'));
      return undefined;
    }
    if (n.state === 'LOOKING') return this.onLookingVote(from, n);
    if (n.state === 'OBSERVING') return undefined;
    return this.onSettledVote(from, n);
  }

  onElectionTimeout(): void {
    this.broadcast();
    this.intervalMs = Math.min(this.intervalMs * 2, this.ctx.config.notificationIntervalMaxMs);
    this.ctx.setTimer('election', this.intervalMs);
  }

  /** The configs changed mid-round (a newer one learned from a vote): our vote may have a quorum now. */
  recheck(): ElectionResult | undefined {
    return this.checkQuorum();
  }

  /** The finalize wait ended without a better vote: decide if the quorum still holds. */
  onFinalizeTimeout(): ElectionResult | undefined {
    if (!this.finalizing) return undefined;
    this.finalizing = false;
    const target = this.notification('LOOKING');
    if (!this.hasQuorumFor(this.received, target)) return undefined;
    return { ...this.proposal, electionEpoch: this.logicalClock };
  }

  private onLookingVote(from: number, n: Notification): ElectionResult | undefined {
    if (n.electionEpoch < this.logicalClock) {
      // Help it catch up. An observer never answers: voters ignore it, and would answer back forever.
      if (this.ctx.isVoter(this.ctx.config.myId)) this.ctx.send(from, this.notification('LOOKING'));
      return undefined;
    }
    if (!this.ctx.isVoter(n.leader)) return undefined;
    const before = this.proposal;
    if (n.electionEpoch > this.logicalClock) {
      this.logicalClock = n.electionEpoch;
      this.received.clear();
      const initial = this.initialVote();
      this.proposal = voteBeats((id) => this.ctx.isVoter(id), n, initial) ? voteOf(n) : initial;
      this.broadcast();
    } else if (voteBeats((id) => this.ctx.isVoter(id), n, this.proposal)) {
      this.proposal = voteOf(n);
      this.broadcast();
    }
    if (before !== this.proposal) this.finalizing = false; // a better vote arrived: keep looking
    this.received.set(from, n);
    return this.checkQuorum();
  }

  private onSettledVote(from: number, n: Notification): ElectionResult | undefined {
    if (n.electionEpoch === this.logicalClock) {
      this.received.set(from, n);
      const agreed = this.hasQuorumFor(this.received, n, true);
      if (agreed && this.leaderConfirmed(this.received, n)) return resultOf(n);
    }
    this.outOfElection.set(from, n);
    if (this.hasQuorumFor(this.outOfElection, n, true) && this.leaderConfirmed(this.outOfElection, n)) {
      this.logicalClock = n.electionEpoch;
      return resultOf(n);
    }
    return undefined;
  }

  /**
   * When our own vote has a quorum, start the finalize wait (or decide at once if it is zero). The
   * wait is for a better vote from a voter not heard yet; when every voter has agreed except those
   * whose connection broke (a killed leader), there is none to wait for, and we decide now.
   */
  private checkQuorum(): ElectionResult | undefined {
    const target = this.notification('LOOKING');
    if (!this.hasQuorumFor(this.received, target)) return undefined;
    if (this.ctx.config.finalizeWaitMs === 0 || this.everyLiveVoterAgrees(target)) {
      this.finalizing = false;
      return { ...this.proposal, electionEpoch: this.logicalClock };
    }
    if (this.finalizing) return undefined;
    this.finalizing = true;
    this.ctx.setTimer('finalize', this.ctx.config.finalizeWaitMs);
    return undefined;
  }

  private everyLiveVoterAgrees(target: Notification): boolean {
    if (this.down.size === 0) return false; // nobody is known to be down: Apache's wait applies
    for (const id of this.ctx.voters()) {
      if (this.down.has(id)) continue;
      const vote = this.received.get(id);
      if (vote === undefined || !sameVote(vote, target)) return false;
    }
    return true;
  }

  /**
   * A quorum of every config in force agrees on `target`. To join a leader that is already
   * established (`settled`) a quorum of the committed config is enough: that leader was elected with
   * every quorum it needed, and a reconfig we hold but it lacks (proposed by a leader that failed)
   * is truncated when we sync; waiting for its quorum too could keep us out for good.
   */
  private hasQuorumFor(votes: Map<number, Notification>, target: Notification, settled = false): boolean {
    const agreeing: number[] = [];
    for (const [id, vote] of votes) if (sameVote(vote, target)) agreeing.push(id);
    return settled ? isQuorumOf(this.ctx.view().active, agreeing) : this.ctx.isQuorum(agreeing);
  }

  /** Apache's checkLeader: the leader itself must say LEADING (or, if it is us, be from our round). */
  private leaderConfirmed(votes: Map<number, Notification>, n: Notification): boolean {
    if (n.leader !== this.ctx.config.myId) return votes.get(n.leader)?.state === 'LEADING';
    return this.logicalClock === n.electionEpoch;
  }

  private initialVote(): Vote {
    const { config, history, currentEpoch } = this.ctx;
    if (!this.ctx.isVoter(config.myId)) return { leader: -1, zxid: -1n, peerEpoch: -1n };
    return { leader: config.myId, zxid: history.lastZxid, peerEpoch: currentEpoch };
  }

  private broadcast(): void {
    const { config } = this.ctx;
    const vote = this.notification('LOOKING');
    if (this.ctx.isVoter(config.myId)) this.received.set(config.myId, vote);
    for (const id of this.ctx.voters()) if (id !== config.myId) this.ctx.send(id, vote);
  }
}

function voteOf(n: Notification): Vote {
  return { leader: n.leader, zxid: n.zxid, peerEpoch: n.peerEpoch };
}

function resultOf(n: Notification): ElectionResult {
  return { leader: n.leader, zxid: n.zxid, peerEpoch: n.peerEpoch, electionEpoch: n.electionEpoch };
}
