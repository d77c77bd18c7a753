// ZAB, learner side (follower or observer): register with the leader, promise its epoch (acceptedEpoch
// durable before ACKEPOCH), sync (DIFF / TRUNC / SNAP, then: synced txns durable, then currentEpoch,
// then ACK of NEWLEADER), serve after UPTODATE, log and ack proposals once durable, apply commits.

import type { PeerContext } from './context.js';
import { isNewerCommitted, type Membership } from './membership.js';
import type { RequestId, Txn, ZabBody, ZabPacket } from './messages.js';
import { epochOf } from './zxid.js';

type LearnerPhase = 'connecting' | 'epochAcked' | 'syncing' | 'synced' | 'serving';

export class LearnerRole {
  phase: LearnerPhase = 'connecting';
  readonly link: string;
  private sendSeq = 0;
  /** The leadership this link talks to, learned from its first packet. */
  private leaderSession = '';
  private recvSeq = 0;
  private epoch = -1n;
  private newLeaderZxid = -1n;
  /** Proposals of the sync stream, logged when NEWLEADER arrives (Apache's packetsNotCommitted). */
  private readonly pendingSync: Txn[] = [];
  /** Commit point learned during sync (NEWLEADER, COMMITs); it becomes real only at UPTODATE. */
  private syncCommittedZxid = -1n;
  /** Highest zxid acknowledged to the leader. */
  private ackedZxid = -1n;
  private heardTick: number;
  private readonly startTick: number;
  private sessionTouches: Uint8Array | undefined;
  private syncsInFlight = 0;
  /** The leader's config at the sync base, announced just before it. */
  private syncMembership: Membership | undefined;

  constructor(
    private readonly ctx: PeerContext,
    readonly leader: number,
    readonly observer: boolean,
    linkNumber: number,
  ) {
    this.link = `${ctx.config.myId}/${ctx.incarnation}/${linkNumber}`;
    this.heardTick = ctx.ticks;
    this.startTick = ctx.ticks;
  }

  start(): void {
    this.sendHello();
    this.ctx.setTimer('tick', this.ctx.config.tickMs);
  }

  private sendHello(): void {
    const { acceptedEpoch } = this.ctx;
    const body = { type: 'followerInfo', acceptedEpoch, observer: this.observer } as const;
    this.ctx.send(this.leader, this.packet(0, body));
    if (this.sendSeq === 0) this.sendSeq = 1;
  }

  onPacket(from: number, packet: ZabPacket): void {
    if (from !== this.leader || packet.link !== this.link) return;
    if (this.leaderSession === '') this.leaderSession = packet.leaderSession;
    // Our hello reached a new leadership after the old one answered: this conversation is over.
    if (packet.leaderSession !== this.leaderSession) return this.ctx.lookAgain('the leader restarted');
    if (packet.seq < this.recvSeq) return;
    if (packet.seq > this.recvSeq) return this.ctx.lookAgain('a packet from the leader was lost');
    this.recvSeq++;
    this.heardTick = this.ctx.ticks;
    this.onBody(packet.body);
  }

  private onBody(body: ZabBody): void {
    switch (body.type) {
      case 'leaderInfo':
        return this.onLeaderInfo(body.epoch);
      case 'config':
        if (this.phase === 'epochAcked') this.syncMembership = body.membership;
        else if (this.phase === 'connecting') this.onRoleRefused(body.membership);
        return;
      case 'diff':
      case 'trunc':
      case 'snap':
        return this.onSyncBase(body);
      case 'proposal':
        return this.onProposal(body.txn);
      case 'commit':
        return this.onCommit(body.zxid);
      case 'inform':
        // A follower turned observer by a reconfig may hold it already, from when it was a follower.
        if (!this.ctx.history.holds(body.txn.zxid)) this.onProposal(body.txn);
        return this.onCommit(body.txn.zxid);
      case 'newLeader':
        return this.onNewLeader(body.zxid, body.committedZxid);
      case 'upToDate':
        return this.onUpToDate();
      case 'ping':
        this.send({ type: 'pingReply', ...(this.sessionTouches && { sessionTouches: this.sessionTouches }) });
        this.sessionTouches = undefined;
        return;
      case 'syncReply':
        this.syncsInFlight--;
        return this.ctx.awaitApplied(body.requestId, body.zxid);
      default:
        return; // nothing else travels from leader to learner
    }
  }

  private onLeaderInfo(epoch: bigint): void {
    if (this.phase !== 'connecting') return;
    const { acceptedEpoch, currentEpoch, history } = this.ctx;
    if (epoch < acceptedEpoch) {
      return this.ctx.lookAgain(`leader proposed epoch ${epoch} below our accepted ${acceptedEpoch}`);
    }
    const promised = epoch > acceptedEpoch;
    if (promised) this.ctx.persistEpoch('acceptedEpoch', epoch); // durable before ACKEPOCH
    this.epoch = epoch;
    this.send({ type: 'ackEpoch', lastZxid: history.lastZxid, currentEpoch: promised ? currentEpoch : -1n });
    this.phase = 'epochAcked';
  }

  /**
   * The leader refused our role and sent its committed config: unless we know a newer one, it is
   * ours now (committed configs are safe to take); we elect again with the role it gives us.
   */
  private onRoleRefused(membership: Membership): void {
    const view = this.ctx.view();
    if (isNewerCommitted(view, membership)) {
      this.ctx.adoptMembership(membership);
      this.ctx.lookAgain('the leader has a newer config with another role for us');
    } else if (membership.version >= view.active.version && view.pending.length > 0) {
      // Our role comes from a reconfig the leader does not have: it failed with its leader and the
      // sync will truncate it. Meanwhile we join as what the leader's config makes us.
      this.ctx.dropPendingMembership(membership);
      this.ctx.lookAgain('our pending reconfig is not the leader\'s');
    }
  }

  private onSyncBase(body: Extract<ZabBody, { type: 'diff' | 'trunc' | 'snap' }>): void {
    if (this.phase !== 'epochAcked') return;
    const { history } = this.ctx;
    if (body.type === 'diff') {
      if (history.lastZxid !== body.zxid) return this.ctx.lookAgain('DIFF from a zxid we do not end at');
    } else if (body.type === 'trunc') {
      if (!history.holds(body.zxid)) return this.ctx.lookAgain('TRUNC to a zxid we do not hold');
      this.ctx.emit({ kind: 'truncateLog', zxid: body.zxid });
      history.truncateAfter(body.zxid);
    } else {
      this.ctx.emit({ kind: 'installSnapshot', zxid: body.zxid, snapshot: body.snapshot });
      history.resetToSnapshot(body.zxid);
    }
    if (this.syncMembership !== undefined) this.ctx.adoptMembership(this.syncMembership);
    this.phase = 'syncing';
  }

  private onProposal(txn: Txn): void {
    if (this.phase === 'syncing') {
      this.pendingSync.push(txn);
      return;
    }
    if (this.phase !== 'synced' && this.phase !== 'serving') return;
    this.ctx.history.append(txn);
    this.ctx.emit({ kind: 'appendTxns', txns: [txn] });
  }

  private onCommit(zxid: bigint): void {
    if (this.phase === 'serving') {
      this.ctx.history.markCommitted(zxid);
      this.ctx.deliverCommitted();
    } else if (zxid > this.syncCommittedZxid) {
      this.syncCommittedZxid = zxid;
    }
  }

  /** Synced txns durable, then currentEpoch, then ACK: in exactly this order (ZOOKEEPER-3911 and kin). */
  private onNewLeader(zxid: bigint, committedZxid: bigint): void {
    if (this.phase !== 'syncing') return;
    // Not the DIFF base: a learner may hold proposals the leader has not committed yet.
    if (committedZxid > this.syncCommittedZxid) this.syncCommittedZxid = committedZxid;
    const { history } = this.ctx;
    if (this.pendingSync.length > 0) {
      for (const txn of this.pendingSync) history.append(txn);
      this.ctx.emit({ kind: 'appendTxns', txns: this.pendingSync.splice(0) });
    }
    this.ctx.emit({ kind: 'flushLog' });
    history.markDurable(history.lastZxid);
    this.ctx.persistEpoch('currentEpoch', epochOf(zxid));
    this.send({ type: 'ack', zxid });
    this.newLeaderZxid = zxid;
    this.ackedZxid = zxid;
    this.phase = 'synced';
    this.ackDurable();
  }

  private onUpToDate(): void {
    if (this.phase !== 'synced') return;
    this.phase = 'serving';
    this.ctx.history.markCommitted(this.syncCommittedZxid);
    this.ctx.startServing(this.epoch, this.leader);
  }

  /** Our log is durable further: ack the proposals of this epoch that now are. */
  onLogged(): void {
    this.ackDurable();
  }

  private ackDurable(): void {
    if (this.observer || (this.phase !== 'synced' && this.phase !== 'serving')) return;
    const { history } = this.ctx;
    for (let i = history.indexAfter(this.ackedZxid); i < history.entries.length; i++) {
      const zxid = history.entries[i]!.zxid;
      if (zxid > history.durableZxid) break;
      this.send({ type: 'ack', zxid });
      this.ackedZxid = zxid;
    }
  }

  forward(requestId: RequestId, request: Uint8Array): void {
    if (this.phase !== 'serving') return this.refuse(requestId, 'not connected to an established leader');
    this.send({ type: 'request', requestId, request });
  }

  sync(requestId: RequestId): void {
    if (this.phase !== 'serving') return this.refuse(requestId, 'not connected to an established leader');
    // Bounds the leader's queue of sync replies for us.
    if (this.syncsInFlight >= this.ctx.config.outstandingProposalsMax) {
      return this.refuse(requestId, 'too many syncs');
    }
    this.syncsInFlight++;
    this.send({ type: 'syncRequest', requestId });
  }

  touchSessions(payload: Uint8Array): void {
    this.sessionTouches = payload;
  }

  /**
   * The connection to a peer broke: if it is our leader, this conversation is over (Apache's Follower
   * leaves FOLLOWING on the socket error, long before syncLimit would notice the silence).
   */
  onLinkLost(peer: number): void {
    if (peer === this.leader) this.ctx.lookAgain('the connection to the leader broke');
  }

  /** Every tick: give up on a silent leader; keep knocking while the hello may have been lost. */
  onTick(): void {
    const { config, ticks } = this.ctx;
    const limit = this.phase === 'serving' ? config.syncLimitTicks : config.initLimitTicks;
    if (ticks - this.heardTick > limit) return this.ctx.lookAgain('the leader went silent');
    if (this.phase !== 'serving' && ticks - this.startTick > config.initLimitTicks) {
      return this.ctx.lookAgain('not up to date within initLimit');
    }
    if (this.phase === 'connecting' && this.recvSeq === 0) this.sendHello(); // it may have been lost
  }

  private refuse(requestId: RequestId, reason: string): void {
    this.ctx.emit({ kind: 'refused', requestId, reason });
  }

  private send(body: ZabBody): void {
    this.ctx.send(this.leader, this.packet(this.sendSeq++, body));
  }

  private packet(seq: number, body: ZabBody): ZabPacket {
    return { type: 'zab', link: this.link, leaderSession: this.leaderSession, seq, body };
  }
}
