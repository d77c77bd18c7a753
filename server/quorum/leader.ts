// ZAB, leader side: discovery (a new epoch from a quorum's acceptedEpochs), synchronization (DIFF,
// TRUNC or SNAP per learner, then NEWLEADER, serving once a quorum acknowledged it), broadcast
// (proposal, quorum of acks, commit in zxid order; observers get INFORM), pings and abdication.

import type { PeerContext } from './context.js';
import type { TxnHistory } from './history.js';
import type { RequestId, Txn, ZabBody, ZabPacket } from './messages.js';
import { counterOf, makeZxid } from './zxid.js';

/** How a learner whose last logged zxid is `peerLastZxid` is brought in line with the leader's log. */
export type SyncPlan =
  | { readonly mode: 'diff'; readonly zxid: bigint; readonly fromIndex: number }
  | { readonly mode: 'trunc'; readonly zxid: bigint; readonly fromIndex: number }
  | { readonly mode: 'snap'; readonly zxid: bigint; readonly fromIndex: number };

/**
 * Chooses DIFF, TRUNC or SNAP from the leader's in-memory log, as Apache's syncFollower does: equal
 * logs get an empty DIFF; a learner ahead is truncated to our last zxid; a learner inside our buffer
 * gets the txns after its last zxid, truncated first to the last common zxid if it diverged; anything
 * older gets our state as a snapshot plus the txns after it. `fromIndex` is the first entry to send.
 */
export function planSync(history: TxnHistory, peerLastZxid: bigint): SyncPlan {
  const last = history.lastZxid;
  if (peerLastZxid === last) return { mode: 'diff', zxid: last, fromIndex: history.entries.length };
  if (peerLastZxid > last) return { mode: 'trunc', zxid: last, fromIndex: history.entries.length };
  if (peerLastZxid < history.baseZxid) {
    const zxid = history.appliedZxid;
    return { mode: 'snap', zxid, fromIndex: history.indexAfter(zxid) };
  }
  const fromIndex = history.indexAfter(peerLastZxid);
  const previous = fromIndex === 0 ? history.baseZxid : history.entries[fromIndex - 1]!.zxid;
  if (previous === peerLastZxid) return { mode: 'diff', zxid: peerLastZxid, fromIndex };
  return { mode: 'trunc', zxid: previous, fromIndex };
}

type LinkPhase = 'info' | 'epochSent' | 'epochAcked' | 'syncing' | 'synced' | 'serving';

/** The leader's end of one learner's link. */
interface LearnerLink {
  readonly id: number;
  readonly link: string;
  readonly observer: boolean;
  readonly acceptedEpoch: bigint;
  phase: LinkPhase;
  sendSeq: number;
  recvSeq: number;
  lastZxid: bigint;
  heardTick: number;
}

/** Links that receive the broadcast stream (their sync stream has been queued). */
function isForwarding(link: LearnerLink): boolean {
  return link.phase === 'syncing' || link.phase === 'synced' || link.phase === 'serving';
}

export class LeaderRole {
  phase: 'discovery' | 'sync' | 'broadcast' = 'discovery';
  epoch: bigint | undefined;
  private readonly links = new Map<number, LearnerLink>();
  /** Each learner's last broken link: a late copy of its hello must not revive it. */
  private readonly brokenLinks = new Map<number, string>();
  private readonly epochAckers = new Set<number>();
  private readonly newLeaderAckers = new Set<number>();
  /** Uncommitted proposals in zxid order, each with the voters that acked it. */
  private readonly outstanding = new Map<bigint, Set<number>>();
  private readonly pendingSyncReplies: { to: number; requestId: RequestId; zxid: bigint }[] = [];
  private lastProposedZxid = 0n;
  private startTick = 0;

  /** @param session names this term of leadership; it must never repeat, even across restarts. */
  constructor(
    private readonly ctx: PeerContext,
    readonly session: string,
  ) {}

  start(): void {
    const { config, history } = this.ctx;
    this.startTick = this.ctx.ticks;
    // Our log decided the election; make all of it durable before anyone syncs from it.
    this.ctx.emit({ kind: 'flushLog' });
    history.markDurable(history.lastZxid);
    this.epochAckers.add(config.myId);
    this.newLeaderAckers.add(config.myId);
    this.ctx.setTimer('tick', config.tickMs);
    this.maybeDecideEpoch();
  }

  get newLeaderZxid(): bigint {
    return makeZxid(this.epoch ?? 0n, 0n);
  }

  onPacket(from: number, packet: ZabPacket): void {
    if (packet.body.type === 'followerInfo' && packet.seq === 0) {
      if (this.links.get(from)?.link === packet.link) return; // a resent hello
      if (this.brokenLinks.get(from) === packet.link) return;
      this.onFollowerInfo(from, packet.link, packet.body.acceptedEpoch, packet.body.observer);
      return;
    }
    const link = this.links.get(from);
    if (link === undefined || link.link !== packet.link || packet.leaderSession !== this.session) return;
    if (packet.seq < link.recvSeq) return;
    if (packet.seq > link.recvSeq) return this.dropLink(link); // a gap: the learner will time out
    link.recvSeq++;
    link.heardTick = this.ctx.ticks;
    this.onBody(link, packet.body);
  }

  private onBody(link: LearnerLink, body: ZabBody): void {
    switch (body.type) {
      case 'ackEpoch':
        return this.onAckEpoch(link, body.lastZxid, body.currentEpoch);
      case 'ack':
        return this.onAck(link, body.zxid);
      case 'pingReply':
        if (body.sessionTouches !== undefined) {
          this.ctx.emit({ kind: 'sessionTouches', from: link.id, payload: body.sessionTouches });
        }
        return;
      case 'request':
        if (link.phase !== 'serving') return;
        this.ctx.emit({ kind: 'request', from: link.id, requestId: body.requestId, request: body.request });
        return;
      case 'syncRequest':
        if (link.phase === 'serving') this.onSyncRequest(link.id, body.requestId);
        return;
      default:
        return; // nothing else travels from learner to leader
    }
  }

  private onFollowerInfo(from: number, linkName: string, acceptedEpoch: bigint, observer: boolean): void {
    if (!this.roleAllowed(from, observer)) {
      // It joins with an older config (a removed server added back): tell it ours; it then elects again.
      const body = { type: 'config', membership: this.ctx.view().active } as const;
      this.ctx.send(from, { type: 'zab', link: linkName, leaderSession: this.session, seq: 0, body });
      return;
    }
    const link: LearnerLink = {
      id: from, link: linkName, observer, acceptedEpoch, phase: 'info',
      sendSeq: 0, recvSeq: 1, lastZxid: -1n, heardTick: this.ctx.ticks,
    };
    this.links.set(from, link);
    this.epochAckers.delete(from);
    this.newLeaderAckers.delete(from);
    if (this.epoch === undefined) return this.maybeDecideEpoch();
    if (acceptedEpoch > this.epoch) {
      // It promised a later epoch (to a leader that failed) and can never join ours; Apache leaves it
      // out until the next election. We step down so that election's epoch lets it back in; each such
      // round raises a quorum's acceptedEpoch, so this cannot repeat without bound.
      this.ctx.lookAgain(`learner ${from} accepted epoch ${acceptedEpoch}, above ours (${this.epoch})`);
      return;
    }
    this.sendTo(link, { type: 'leaderInfo', epoch: this.epoch }, 'epochSent');
  }

  /** New epoch = max acceptedEpoch + 1 once a quorum (with us) has told us theirs. */
  private maybeDecideEpoch(): void {
    const { config } = this.ctx;
    const known = [config.myId, ...this.links.keys()];
    if (!this.ctx.isQuorum(known)) return;
    let epoch = this.ctx.acceptedEpoch;
    for (const link of this.links.values()) if (link.acceptedEpoch > epoch) epoch = link.acceptedEpoch;
    this.epoch = epoch + 1n;
    this.lastProposedZxid = this.newLeaderZxid;
    this.ctx.persistEpoch('acceptedEpoch', this.epoch);
    for (const link of this.links.values()) {
      this.sendTo(link, { type: 'leaderInfo', epoch: this.epoch }, 'epochSent');
    }
    if (this.ctx.isQuorum(this.epochAckers)) this.enterSync(); // a lone voter needs no one's promise
  }

  private onAckEpoch(link: LearnerLink, lastZxid: bigint, currentEpoch: bigint): void {
    if (link.phase !== 'epochSent') return;
    link.lastZxid = lastZxid;
    link.phase = 'epochAcked';
    if (this.phase === 'discovery' && currentEpoch !== -1n) {
      const { history } = this.ctx;
      const ours = this.ctx.currentEpoch;
      if (currentEpoch > ours || (currentEpoch === ours && lastZxid > history.lastZxid)) {
        this.ctx.lookAgain(`learner ${link.id} is more recent than this leader`);
        return;
      }
      if (this.ctx.isVoter(link.id)) this.epochAckers.add(link.id);
    }
    if (this.phase === 'discovery') {
      if (this.ctx.isQuorum(this.epochAckers)) this.enterSync();
      return;
    }
    this.startSync(link);
  }

  private enterSync(): void {
    this.phase = 'sync';
    this.ctx.persistEpoch('currentEpoch', this.epoch!);
    for (const link of this.links.values()) if (link.phase === 'epochAcked') this.startSync(link);
    if (this.ctx.isQuorum(this.newLeaderAckers)) this.establish();
  }

  /** Queues the learner's sync stream: base, txns (committed ones with COMMIT), then NEWLEADER. */
  private startSync(link: LearnerLink): void {
    const { history } = this.ctx;
    const plan = planSync(history, link.lastZxid);
    // Before we are established our whole log is the history this epoch will commit.
    const committedZxid = this.phase === 'broadcast' ? history.committedZxid : history.lastZxid;
    // The committed config at the base (a config proposed above our commit point stays pending there).
    const configZxid = plan.zxid < history.committedZxid ? plan.zxid : history.committedZxid;
    this.sendTo(link, { type: 'config', membership: this.ctx.membershipAt(configZxid) });
    if (plan.mode === 'snap') {
      const body = { type: 'snap', zxid: plan.zxid, snapshot: new Uint8Array(0) } as const;
      this.ctx.emit({ kind: 'sendSnapshot', to: link.id, message: this.packet(link, body) });
    } else {
      this.sendTo(link, { type: plan.mode, zxid: plan.zxid });
    }
    for (let i = plan.fromIndex; i < history.entries.length; i++) {
      const txn = history.entries[i]!;
      const committed = txn.zxid <= committedZxid;
      if (!committed && link.observer) break;
      this.sendTo(link, { type: 'proposal', txn });
      if (committed) this.sendTo(link, { type: 'commit', zxid: txn.zxid });
    }
    this.sendTo(link, { type: 'newLeader', zxid: this.newLeaderZxid, committedZxid }, 'syncing');
  }

  private onAck(link: LearnerLink, zxid: bigint): void {
    if (zxid === this.newLeaderZxid) {
      if (link.phase !== 'syncing') return;
      link.phase = 'synced';
      if (this.ctx.isVoter(link.id)) this.newLeaderAckers.add(link.id);
      if (this.phase === 'sync' && this.ctx.isQuorum(this.newLeaderAckers)) this.establish();
      else if (this.phase === 'broadcast') this.sendTo(link, { type: 'upToDate' }, 'serving');
      return;
    }
    if (link.observer) return;
    this.outstanding.get(zxid)?.add(link.id);
    this.tryCommit();
  }

  /** A quorum has our history: commit all of it, serve, and tell the synced learners. */
  private establish(): void {
    const { history } = this.ctx;
    this.phase = 'broadcast';
    history.markCommitted(history.lastZxid);
    this.ctx.startServing(this.epoch!, this.ctx.config.myId);
    for (const link of this.links.values()) {
      if (link.phase === 'synced') this.sendTo(link, { type: 'upToDate' }, 'serving');
    }
  }

  propose(requestId: RequestId, payload: Uint8Array): void {
    const { config, history } = this.ctx;
    if (this.phase !== 'broadcast') return this.refuse(requestId, 'the leader is not established yet');
    if (this.outstanding.size >= config.outstandingProposalsMax) {
      return this.refuse(requestId, 'too many proposals');
    }
    if (counterOf(this.lastProposedZxid) >= config.zxidCounterMax) {
      this.refuse(requestId, 'the zxid counter is exhausted; a new epoch is needed');
      this.ctx.lookAgain('zxid counter exhausted');
      return;
    }
    if (config.reconfigOf?.(payload) !== undefined && this.ctx.view().pending.length > 0) {
      return this.refuse(requestId, 'another reconfig is in progress');
    }
    const txn: Txn = { zxid: this.lastProposedZxid + 1n, payload };
    this.lastProposedZxid = txn.zxid;
    history.append(txn);
    this.ctx.emit({ kind: 'appendTxns', txns: [txn] });
    this.outstanding.set(txn.zxid, new Set());
    for (const link of this.links.values()) {
      if (isForwarding(link) && !link.observer) this.sendTo(link, { type: 'proposal', txn });
    }
    this.ctx.emit({ kind: 'proposed', requestId, zxid: txn.zxid });
  }

  /** Our own log write is durable through zxid: that is our ack. */
  onLogged(): void {
    const { config, history } = this.ctx;
    for (const [zxid, acks] of this.outstanding) {
      if (zxid > history.durableZxid) break;
      acks.add(config.myId);
    }
    this.tryCommit();
  }

  /** Commits the oldest proposals while each has a quorum of acks; commits never skip a zxid. */
  private tryCommit(): void {
    const { history } = this.ctx;
    const committed: Txn[] = [];
    for (const [zxid, acks] of this.outstanding) {
      if (!this.ctx.isQuorum(acks)) break;
      this.outstanding.delete(zxid);
      history.markCommitted(zxid);
      committed.push(history.entries[history.indexAfter(zxid) - 1]!);
    }
    if (committed.length === 0) return;
    // Apply (and answer our own clients) first: the decision is made, and Apache's leader applies and
    // sends COMMIT concurrently. The shell's writes of one step leave in output order, so a client of
    // the leader no longer waits behind a socket write per follower. (Entries are taken before
    // delivering, which may trim the history.)
    this.ctx.deliverCommitted();
    for (const txn of committed) {
      for (const link of this.links.values()) {
        if (!isForwarding(link)) continue;
        this.sendTo(link, link.observer ? { type: 'inform', txn } : { type: 'commit', zxid: txn.zxid });
      }
    }
    this.releaseSyncReplies();
  }

  private onSyncRequest(from: number, requestId: RequestId): void {
    const zxid = this.outstanding.size === 0 ? this.ctx.history.committedZxid : this.lastProposedZxid;
    this.pendingSyncReplies.push({ to: from, requestId, zxid });
    this.releaseSyncReplies();
  }

  private releaseSyncReplies(): void {
    const committed = this.ctx.history.committedZxid;
    while (this.pendingSyncReplies.length > 0 && this.pendingSyncReplies[0]!.zxid <= committed) {
      const { to, requestId, zxid } = this.pendingSyncReplies.shift()!;
      const link = this.links.get(to);
      if (link?.phase === 'serving') this.sendTo(link, { type: 'syncReply', requestId, zxid });
    }
  }

  forward(requestId: RequestId, request: Uint8Array): void {
    if (this.phase !== 'broadcast') return this.refuse(requestId, 'the leader is not established yet');
    this.ctx.emit({ kind: 'request', from: this.ctx.config.myId, requestId, request });
  }

  sync(requestId: RequestId): void {
    if (this.phase !== 'broadcast') return this.refuse(requestId, 'the leader is not established yet');
    const zxid = this.outstanding.size === 0 ? this.ctx.history.committedZxid : this.lastProposedZxid;
    this.ctx.awaitApplied(requestId, zxid);
  }

  /** Every tick: drop silent learners, ping the rest, and step down without a synced quorum. */
  onTick(): void {
    const { config, ticks } = this.ctx;
    for (const link of [...this.links.values()]) {
      const limit = link.phase === 'serving' ? config.syncLimitTicks : config.initLimitTicks;
      if (ticks - link.heardTick > limit) this.dropLink(link);
      else this.sendTo(link, { type: 'ping' });
    }
    if (this.phase !== 'broadcast') {
      if (ticks - this.startTick > config.initLimitTicks) {
        this.ctx.lookAgain('no quorum synced within initLimit');
      }
      return;
    }
    if (!this.ctx.isQuorum([config.myId, ...this.syncedLearners()])) {
      this.ctx.lookAgain('synced learners and leader are no longer a quorum');
    }
  }

  /**
   * The connection to a learner broke: drop its link at once (as Apache's LearnerHandler ends on the
   * socket error; the learner comes back with a new hello), and step down if the synced learners left
   * are no quorum (Apache notices that at its next half-tick check of the synced set).
   */
  onLinkLost(peer: number): void {
    const link = this.links.get(peer);
    if (link === undefined) return;
    this.dropLink(link);
    const { config } = this.ctx;
    if (this.phase === 'broadcast' && !this.ctx.isQuorum([config.myId, ...this.syncedLearners()])) {
      this.ctx.lookAgain(`lost the connection to learner ${peer}: no quorum synced`);
    }
  }

  /**
   * Every learner that said hello, and whether the broadcast stream goes to it (Apache's forwarding
   * followers and observing learners: from the start of its sync), for the metrics.
   */
  learnerViews(): Array<{ id: number; observer: boolean; forwarding: boolean }> {
    const views = [...this.links.values()];
    return views.map((l) => ({ id: l.id, observer: l.observer, forwarding: isForwarding(l) }));
  }

  /** Distinct zxids that learners' syncs wait to see committed (Apache's pendingSyncs.size()). */
  get pendingSyncCount(): number {
    return new Set(this.pendingSyncReplies.map((reply) => reply.zxid)).size;
  }

  /**
   * A reconfig committed: learners whose role changed are dropped (they register again as what they now
   * are). A serving learner in no config any more keeps following, as Apache's does until it restarts or
   * loses its leader: it gets every txn but counts towards no quorum. The leader steps down without a
   * synced quorum of the new config.
   */
  onMembershipChanged(): void {
    for (const link of [...this.links.values()]) {
      const removedButServing = link.phase === 'serving' && !this.ctx.isMember(link.id);
      if (!removedButServing && !this.roleAllowed(link.id, link.observer)) this.dropLink(link);
    }
    const { config } = this.ctx;
    if (this.phase === 'broadcast' && !this.ctx.isQuorum([config.myId, ...this.syncedLearners()])) {
      this.ctx.lookAgain('no synced quorum of the new config');
    }
  }

  /** Whether `id`, in no config any more, still follows this leader (its packets are heard). */
  keepsRemovedLearner(id: number): boolean {
    return this.links.get(id)?.phase === 'serving' && !this.ctx.isMember(id);
  }

  /**
   * A learner may be an observer if some config in force lists it as one, a follower if some lists it
   * as a voter (while a reconfig changes its role, either).
   */
  private roleAllowed(id: number, observer: boolean): boolean {
    return observer ? this.ctx.isObserver(id) : this.ctx.isVoter(id);
  }

  /** Learners currently synced or serving (`voting`: followers only, whose acks count). */
  syncedLearners(options: { voting?: boolean } = {}): number[] {
    const synced = [...this.links.values()].filter((l) => l.phase === 'serving' || l.phase === 'synced');
    return synced.filter((l) => !options.voting || !l.observer).map((l) => l.id);
  }

  private dropLink(link: LearnerLink): void {
    this.links.delete(link.id);
    this.brokenLinks.set(link.id, link.link);
  }

  private refuse(requestId: RequestId, reason: string): void {
    this.ctx.emit({ kind: 'refused', requestId, reason });
  }

  private packet(link: LearnerLink, body: ZabBody): ZabPacket {
    return { type: 'zab', link: link.link, leaderSession: this.session, seq: link.sendSeq++, body };
  }

  private sendTo(link: LearnerLink, body: ZabBody, phase?: LinkPhase): void {
    this.ctx.send(link.id, this.packet(link, body));
    if (phase !== undefined) link.phase = phase;
  }
}
