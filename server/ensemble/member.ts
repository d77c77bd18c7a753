// An ensemble member's runtime: one QuorumPeer driven one input at a time, its outputs carried out in
// list order through one serialized queue (barriers wait for the storage, later outputs wait behind
// them), and the client side of replication: writes and new sessions forwarded to the leader, the
// leader preparing them into proposals, committed txns applied to the core and answered to the
// connection that asked. It is the RequestGateway of the member's client listener.

import type { Logger } from 'pino';
import { ErrorCode, OpCode, createModeTraits } from '../../src/protocol/index.js';
import type { Reply, RequestContext, Txn as CoreTxn } from '../core/api.js';
import { ServerCore } from '../core/server-core.js';
import type { ClientWrite, RequestGateway, ServerMode, StartedSession } from '../net/pipeline.js';
import { decodeTxnPayload, encodeTxnPayload } from '../persistence/txn-format.js';
import {
  QuorumPeer,
  describeZxid,
  type Membership,
  type PeerInput,
  type PeerOutput,
  type PeerState,
  type PeerStatus,
  type QuorumConfig,
  type RequestId,
  type TimerName,
  type ZabBody,
} from '../quorum/index.js';
import {
  ForwardedRequest,
  SESSION_OWNER_TYPE,
  decodeForwarded,
  decodeSessionTouches,
  encodeSessionTouches,
  forwardedBody,
} from './forwarded.js';
import { prepareReconfig, type ReconfigRequest } from './reconfig.js';
import type { PeerStorage, PeerTransport } from './seams.js';

/** What the member tells the client listener around it. */
export interface MemberHost {
  /** Stopped serving: every client connection goes (sessions live on; clients move elsewhere). */
  dropConnections(): void;
  /** A session's close was applied: its connection here, if any, closes. */
  sessionClosed(sessionId: bigint, reason: string): void;
  /** Sessions may expire sooner (this member started leading). */
  sessionsChanged(): void;
  /** Serving clients (or read-only ones) again: ConnectRequests held while electing are answered now. */
  startedServing?(): void;
}

export interface EnsembleMemberOptions {
  readonly quorum: QuorumConfig;
  readonly core: ServerCore;
  readonly transport: PeerTransport;
  readonly storage: PeerStorage;
  readonly log: Logger;
  /** Different on every start of this member (links never repeat); default: the start time. */
  readonly incarnation?: string;
  /** The member cannot go on (storage failed, a broken invariant): the server around it stops. */
  readonly onFatal?: (error: unknown) => void;
  /**
   * readonlymode.enabled: after this long without a leader the member serves reads to clients that
   * allow it (Apache waits max(2 s, tickTime)). Undefined: never.
   */
  readonly readOnlyAfterMs?: number;
  /** Dynamic reconfiguration (reconfigEnabled); absent: reconfig requests answer ReconfigDisabled. */
  readonly reconfig?: MemberReconfigOptions;
}

export interface MemberReconfigOptions {
  readonly enabled: boolean;
  /** standaloneEnabled: a new config then needs at least 2 voters (Apache's rule). */
  readonly standaloneEnabled: boolean;
  /** The configs in force changed: connect to their members, record the active one. */
  readonly onMembership?: (active: Membership, pending: readonly Membership[]) => void;
}

/** A client write or new session waiting for its txn to be applied here. */
interface PendingWrite {
  readonly requestId: RequestId;
  readonly key: string;
  readonly onReply: (reply: Reply) => void;
  readonly onRefused: (reason: string) => void;
}

interface PendingSync {
  readonly onDone: () => void;
  readonly onRefused: (reason: string) => void;
}

/** A txn this leader prepared and proposed; `onApplied` for the server's own writes (expiry). */
interface OwnProposal {
  readonly txn: CoreTxn;
  readonly onApplied?: (reply: Reply) => void;
}

/** Outputs that must be durable before any later output is carried out. */
const BARRIERS: ReadonlySet<PeerOutput['kind']> = new Set([
  'flushLog', 'persistEpoch', 'truncateLog', 'installSnapshot',
]);

/** Client writes waiting here at once; beyond this, new ones are refused (the client retries). */
const PENDING_WRITES_MAX = 100_000;

/** Leader: writes held while the proposals in flight are at their limit; beyond this they are dropped. */
const BACKLOG_MAX = 100_000;

const writeKey = (sessionId: bigint, cxid: number) => `${sessionId}:${cxid}`;

/** Apache's EphemeralOnLocalSession: a local session may not own an ephemeral without upgrading. */
const EPHEMERAL_ON_LOCAL = ErrorCode.EPHEMERAL_ON_LOCAL_SESSION;

/** create / create2 / multi with an ephemeral create (Apache's checkUpgradeSession looks at these). */
function createsEphemeral(opcode: number, request: unknown): boolean {
  const ephemeral = (flags: unknown) =>
    typeof flags === 'number' && createModeTraits(flags)?.ephemeral === true;
  if (opcode === OpCode.create || opcode === OpCode.create2) {
    return ephemeral((request as { flags?: unknown } | undefined)?.flags);
  }
  if (opcode !== OpCode.multi) return false;
  const ops = (request as { ops?: Array<{ type: number; request: { flags?: unknown } }> } | undefined)?.ops;
  return (ops ?? []).some((op) => (op.type === OpCode.create || op.type === OpCode.create2) &&
    ephemeral(op.request.flags));
}

/**
 * What a member counts for the metrics endpoint (Apache's ServerMetrics names in the comments).
 * Counters only grow (the learner gauges are read from the peer: EnsembleMember.monitorEntries).
 */
export class MemberQuorumStats {
  /** looking_count: times this member started looking for a leader. */
  lookingCount = 0;
  /** diff_count / snap_count (and TRUNC, which Apache does not count): syncs this leader sent. */
  readonly syncsSent = { DIFF: 0, TRUNC: 0, SNAP: 0 };
  /** proposal_count: proposals this member made as leader. */
  proposalCount = 0;
  /** commit_count: proposals this member committed as leader. */
  commitCount = 0;
  /**
   * Bytes of this leader's proposals (the txn as replicated, digest included): the latest, the
   * smallest and the largest since it started leading; -1 before the first (Apache's BufferStats).
   */
  readonly proposalSizes = { last: -1, min: -1, max: -1 };
  /** learner_proposal_received_count, learner_commit_received_count (INFORM counts as a commit). */
  learnerProposalReceivedCount = 0;
  learnerCommitReceivedCount = 0;
  /** The latest elections' durations in ms (from LOOKING to a settled vote), oldest first, bounded. */
  readonly electionTimesMs: number[] = [];
  /** election_time: called with each election's duration as it ends. */
  onElectionTime: ((elapsedMs: number) => void) | undefined;
  /** follower_sync_time / observer_sync_time: from following a leader to serving, as each ends. */
  onSyncTime: ((role: 'follower' | 'observer', elapsedMs: number) => void) | undefined;
  /** unavailable_time (and leader_unavailable_time when it leads): from looking to serving again. */
  onUnavailableTime: ((elapsedMs: number, leading: boolean) => void) | undefined;

  recordProposalSize(bytes: number): void {
    const sizes = this.proposalSizes;
    sizes.last = bytes;
    if (sizes.min === -1 || bytes < sizes.min) sizes.min = bytes;
    if (bytes > sizes.max) sizes.max = bytes;
  }

  /** A new term as leader starts counting afresh (Apache makes a new Leader). */
  resetProposalSizes(): void {
    Object.assign(this.proposalSizes, { last: -1, min: -1, max: -1 });
  }

  recordElection(elapsedMs: number): void {
    this.electionTimesMs.push(elapsedMs);
    if (this.electionTimesMs.length > ELECTION_TIMES_KEPT) this.electionTimesMs.shift();
    this.onElectionTime?.(elapsedMs);
  }
}

const ELECTION_TIMES_KEPT = 32;

export class EnsembleMember implements RequestGateway {
  readonly core: ServerCore;
  private readonly options: EnsembleMemberOptions;
  private peer: QuorumPeer | undefined;
  private host: MemberHost | undefined;
  private readonly queue: PeerOutput[] = [];
  private draining = false;
  private barrier: Promise<void> | undefined;
  private readonly timers = new Map<TimerName, NodeJS.Timeout>();
  private stateValue: PeerState = 'LOOKING';
  private leaderId = -1;
  private serving = false;
  /** Cut off from the quorum with read-only mode on: serving reads to read-only clients. */
  private readOnly = false;
  private readOnlyTimer: NodeJS.Timeout | undefined;
  /** Sessions created while read-only: known to this member only, never replicated (as Apache's). */
  private readonly localSessions = new Map<bigint, number>();
  /** localSessionsEnabled: when the earliest local session may expire (the core tracks them). */
  private localExpiryTimer: NodeJS.Timeout | undefined;
  private localExpiryAtMs = Infinity;
  private closed = false;
  private fatal: unknown;
  private nextRequestId = 1;
  private readonly forwards = new Map<RequestId, PendingWrite>();
  private readonly waiting = new Map<string, PendingWrite>();
  private readonly syncs = new Map<RequestId, PendingSync>();
  private readonly proposals = new Map<RequestId, OwnProposal>();
  private readonly ownApplied = new Map<bigint, (reply: Reply) => void>();
  /** Leader: writes waiting for room among the proposals in flight, in arrival order. */
  private backlog: Array<() => void> = [];
  /** Leader: the member each session's client is connected to, as far as this leader knows. */
  private readonly sessionOwners = new Map<bigint, number>();
  /** Sessions heard from since the last ping reply (learners report them to the leader). */
  private readonly touched = new Set<bigint>();
  private idleWaiters: Array<() => void> = [];
  private roleListeners: Array<() => void> = [];
  /** When this member last started looking (the election clock); undefined once settled. */
  private lookingSinceMs: number | undefined;
  /** When this member started following (sync time) or serving as leader (leader_uptime). */
  private roleSinceMs = 0;
  /** When this member last stopped serving (started looking); undefined while serving. */
  private unavailableSinceMs: number | undefined;
  readonly quorumStats = new MemberQuorumStats();

  constructor(options: EnsembleMemberOptions) {
    this.options = options;
    this.core = options.core;
  }

  get myId(): number {
    return this.options.quorum.myId;
  }

  /** Recovers the storage into the core, binds the transport and starts looking for a leader. */
  async start(host: MemberHost): Promise<void> {
    this.host = host;
    const { storage, transport, quorum } = this.options;
    const durable = await storage.open(this.core);
    storage.onLogged = (zxid) => this.input({ type: 'logged', zxid });
    this.peer = new QuorumPeer(quorum, durable, this.options.incarnation ?? String(Date.now()));
    await transport.start(
      (from, message) => this.input({ type: 'message', from, message }),
      // A broken ZAB connection: a follower of that leader looks again now, not after syncLimit.
      (peer) => this.input({ type: 'linkLost', peer }),
    );
    this.log().info({ myId: quorum.myId, appliedZxid: describeZxid(durable.appliedZxid) }, 'member started');
    this.lookingSinceMs = Date.now();
    this.unavailableSinceMs = this.lookingSinceMs;
    this.quorumStats.lookingCount++;
    this.input({ type: 'start' });
  }

  // ----- status -----

  get state(): PeerState {
    return this.stateValue;
  }

  get leader(): number {
    return this.leaderId;
  }

  get mode(): ServerMode | undefined {
    if (!this.serving) return this.readOnly ? 'read-only' : undefined;
    if (this.stateValue === 'LEADING') return 'leader';
    return this.stateValue === 'OBSERVING' ? 'observer' : 'follower';
  }

  get leads(): boolean {
    return this.serving && this.stateValue === 'LEADING';
  }

  get failed(): boolean {
    return this.fatal !== undefined || this.closed;
  }

  status(): PeerStatus | undefined {
    return this.peer?.status();
  }

  /** mntr's quorum entries: quorum_size everywhere, and the learner gauges on a serving leader (Apache's). */
  monitorEntries(): Array<[string, number]> {
    const entries: Array<[string, number]> = [['quorum_size', this.options.quorum.voters.length]];
    if (!this.leads) return entries;
    entries.push(['leader_uptime', Date.now() - this.roleSinceMs]);
    // As Apache's leader counts them: learners connected, those the broadcast goes to (synced),
    // and the distinct zxids that learners' syncs wait for.
    const status = this.peer?.status();
    const learners = status?.learners ?? [];
    const voters = new Set(this.options.quorum.voters);
    const forwarding = learners.filter((l) => l.forwarding && !l.observer);
    entries.push(
      ['learners', learners.length],
      ['synced_followers', forwarding.length],
      ['synced_non_voting_followers', forwarding.filter((l) => !voters.has(l.id)).length],
      ['synced_observers', learners.filter((l) => l.forwarding && l.observer).length],
      ['pending_syncs', status?.pendingSyncs ?? 0],
      ['last_proposal_size', this.quorumStats.proposalSizes.last],
      ['min_proposal_size', this.quorumStats.proposalSizes.min],
      ['max_proposal_size', this.quorumStats.proposalSizes.max],
    );
    return entries;
  }

  /** Resolves the next time the role or serving state changes. */
  roleChanged(): Promise<void> {
    return new Promise((resolve) => this.roleListeners.push(resolve));
  }

  // ----- driving the peer -----

  private log(): Logger {
    return this.options.log;
  }

  /** Feeds one input; outputs that answer requests are handled now, the rest queue in order. */
  private input(input: PeerInput): void {
    if (this.closed || this.peer === undefined) return;
    if (input.type === 'message' && input.message.type === 'zab') {
      this.noteSync(input.from, input.message.body);
      this.noteReceived(input.message.body);
    }
    let outputs: PeerOutput[];
    try {
      outputs = this.peer.step(input);
    } catch (error) {
      this.fail(error);
      return;
    }
    for (const output of outputs) {
      switch (output.kind) {
        case 'proposed':
          this.quorumStats.proposalCount++;
          this.onProposed(output.requestId, output.zxid);
          break;
        case 'refused':
          this.onRefused(output.requestId, output.reason);
          break;
        case 'setTimer':
          this.setTimer(output.timer, output.delayMs, output.token);
          break;
        default:
          // The peer took our touches for this ping reply: start collecting the next batch.
          if (output.kind === 'send' && output.message.type === 'zab') {
            const { body } = output.message;
            if (body.type === 'pingReply' && body.sessionTouches !== undefined) this.touched.clear();
            this.noteSent(output.to, body);
          } else if (output.kind === 'sendSnapshot') {
            this.noteSent(output.to, output.message.body);
          }
          this.queue.push(output);
      }
    }
    void this.drain();
  }

  /** Logs how the leader brings this learner in line (as Apache's "Getting a diff from the leader"). */
  private noteSync(from: number, body: ZabBody): void {
    if (body.type !== 'diff' && body.type !== 'trunc' && body.type !== 'snap') return;
    const mode = body.type.toUpperCase();
    this.log().info({ leader: from, mode, zxid: describeZxid(body.zxid) }, `sync with the leader: ${mode}`);
  }

  /** Learner: proposals and commits received, for the metrics. */
  private noteReceived(body: ZabBody): void {
    const stats = this.quorumStats;
    if (body.type === 'proposal') {
      stats.learnerProposalReceivedCount++;
    } else if (body.type === 'commit' || body.type === 'inform') {
      stats.learnerCommitReceivedCount++;
    }
  }

  /** Leader: logs and counts how each learner is brought in line, and when it is up to date. */
  private noteSent(to: number, body: ZabBody): void {
    if (body.type !== 'diff' && body.type !== 'trunc' && body.type !== 'snap') return;
    const mode = body.type === 'diff' ? 'DIFF' : body.type === 'trunc' ? 'TRUNC' : 'SNAP';
    this.quorumStats.syncsSent[mode]++;
    this.log().info({ learner: to, mode, zxid: describeZxid(body.zxid) }, `sync of learner ${to}: ${mode}`);
  }

  private async drain(): Promise<void> {
    if (this.draining) return;
    this.draining = true;
    try {
      while (this.queue.length > 0 && !this.closed) {
        const output = this.queue.shift()!;
        if (BARRIERS.has(output.kind)) {
          this.barrier = this.carryOutBarrier(output);
          await this.barrier;
          this.barrier = undefined;
        } else {
          this.carryOut(output);
        }
      }
    } catch (error) {
      this.fail(error);
    } finally {
      this.draining = false;
    }
  }

  private async carryOutBarrier(output: PeerOutput): Promise<void> {
    const { storage } = this.options;
    switch (output.kind) {
      case 'flushLog':
        return await storage.flush();
      case 'persistEpoch':
        return await storage.persistEpoch(output.which, output.epoch);
      case 'truncateLog':
        return await storage.truncate(output.zxid);
      case 'installSnapshot':
        await storage.installSnapshot(this.core, output.zxid, output.snapshot);
        this.log().info({ zxid: describeZxid(output.zxid) }, 'installed a snapshot from the leader');
        return;
      default:
        throw new Error(`${output.kind} is not a barrier`);
    }
  }

  private carryOut(output: PeerOutput): void {
    switch (output.kind) {
      case 'send':
        return this.options.transport.send(output.to, output.message);
      case 'sendSnapshot': {
        const { message } = output;
        if (message.body.type !== 'snap') throw new Error('sendSnapshot without a snap packet');
        const zxid = message.body.zxid;
        if (this.core.lastProcessedZxid !== zxid) {
          throw new Error(`snapshot for ${describeZxid(zxid)} but the state is at ` +
            describeZxid(this.core.lastProcessedZxid));
        }
        const snapshot = this.options.storage.serializeSnapshot(this.core);
        this.options.transport.send(output.to, { ...message, body: { ...message.body, snapshot } });
        return;
      }
      case 'appendTxns':
        return this.options.storage.append(output.txns);
      case 'deliver':
        return this.deliver(output.txn.zxid, output.txn.payload);
      case 'request':
        return this.prepareForwarded(output.from, output.request);
      case 'syncDone': {
        const sync = this.syncs.get(output.requestId);
        this.syncs.delete(output.requestId);
        if (sync !== undefined) this.guarded(() => sync.onDone());
        return;
      }
      case 'sessionTouches':
        for (const sessionId of decodeSessionTouches(output.payload)) {
          this.core.touchSession(sessionId, Date.now());
        }
        return;
      case 'role':
        return this.onRole(output.state, output.leader, output.reason);
      case 'serving':
        return this.onServing(output.epoch);
      case 'membership':
        this.log().info({ version: describeZxid(output.active.version), pending: output.pending.length },
          'configs in force changed');
        return this.options.reconfig?.onMembership?.(output.active, output.pending);
      default:
        throw new Error(`unexpected output ${output.kind} in the queue`);
    }
  }

  private setTimer(timer: TimerName, delayMs: number, token: number): void {
    const previous = this.timers.get(timer);
    if (previous !== undefined) clearTimeout(previous);
    if (this.closed) return;
    this.timers.set(timer, setTimeout(() => this.input({ type: 'timeout', timer, token }), delayMs));
  }

  // ----- roles -----

  private onRole(state: PeerState, leader: number, reason: string): void {
    const wasServing = this.serving;
    const wasLeading = this.stateValue === 'LEADING';
    this.stateValue = state;
    this.leaderId = leader;
    this.serving = false;
    this.log().info({ state, leader, reason }, 'role changed');
    this.timeElection(state, leader);
    this.roleSinceMs = Date.now();
    if (state === 'LEADING') this.quorumStats.resetProposalSizes();
    if (wasLeading) {
      this.core.dropOutstanding();
      this.backlog = []; // the learners that sent them drop their clients too
    }
    if (wasServing) this.stopServing('this member stopped serving');
    this.leaveReadOnly();
    const delayMs = this.options.readOnlyAfterMs;
    if (state === 'LOOKING' && delayMs !== undefined) {
      this.readOnlyTimer = setTimeout(() => this.enterReadOnly(), delayMs);
    }
    this.notifyRole();
  }

  /** Starts the election clock on LOOKING; logs and reports the election when a vote settles. */
  private timeElection(state: PeerState, leader: number): void {
    const nowMs = Date.now();
    if (state === 'LOOKING') {
      this.unavailableSinceMs ??= nowMs;
      if (this.lookingSinceMs === undefined) this.quorumStats.lookingCount++;
      this.lookingSinceMs ??= nowMs;
      return;
    }
    if (this.lookingSinceMs === undefined) return;
    const electionMs = nowMs - this.lookingSinceMs;
    this.lookingSinceMs = undefined;
    this.log().info({ state, leader, electionMs }, 'election finished');
    this.quorumStats.recordElection(electionMs);
  }

  private enterReadOnly(): void {
    this.readOnlyTimer = undefined;
    if (this.closed || this.stateValue !== 'LOOKING') return;
    this.readOnly = true;
    this.log().info('no quorum: serving read-only clients');
    // ConnectRequests held while electing are answered now: read-only ones get a session, the
    // others are refused (they look for a read-write member) rather than waiting out the hold.
    this.host?.startedServing?.();
    this.notifyRole();
  }

  /** Back with a quorum (or still looking): read-only clients go and find a read-write server. */
  private leaveReadOnly(): void {
    if (this.readOnlyTimer !== undefined) clearTimeout(this.readOnlyTimer);
    this.readOnlyTimer = undefined;
    if (!this.readOnly) return;
    this.readOnly = false;
    this.localSessions.clear();
    this.host?.dropConnections();
  }

  /** Local sessions end with the serving term (Apache starts a new server, with a new tracker). */
  private dropLocalSessions(): void {
    if (this.localExpiryTimer !== undefined) clearTimeout(this.localExpiryTimer);
    this.localExpiryTimer = undefined;
    this.localExpiryAtMs = Infinity;
    const dropped = this.core.dropLocalSessions();
    if (dropped.length > 0) this.log().info({ count: dropped.length }, 'local sessions dropped');
  }

  private onServing(epoch: bigint): void {
    this.serving = true;
    const nowMs = Date.now();
    if (this.stateValue === 'FOLLOWING' || this.stateValue === 'OBSERVING') {
      const role = this.stateValue === 'FOLLOWING' ? 'follower' : 'observer';
      this.quorumStats.onSyncTime?.(role, nowMs - this.roleSinceMs);
    }
    this.roleSinceMs = nowMs;
    if (this.unavailableSinceMs !== undefined) {
      this.quorumStats.onUnavailableTime?.(nowMs - this.unavailableSinceMs, this.stateValue === 'LEADING');
      this.unavailableSinceMs = undefined;
    }
    if (this.stateValue === 'LEADING') {
      // Proposal zxids are the peer's (epoch, counter); the core's preparer must hand out the same.
      this.core.beginEpoch(epoch, Date.now());
      this.sessionOwners.clear(); // learned again from each session's next request
      this.host?.sessionsChanged();
    }
    this.log().info({ epoch: String(epoch), mode: this.mode, leader: this.leaderId }, 'serving clients');
    this.host?.startedServing?.();
    this.notifyRole();
  }

  private notifyRole(): void {
    const listeners = this.roleListeners;
    this.roleListeners = [];
    for (const wake of listeners) wake();
  }

  /** Refuses everything in flight and drops the clients: they reconnect to a serving member. */
  private stopServing(reason: string): void {
    const writes = [...this.forwards.values()];
    const syncs = [...this.syncs.values()];
    this.forwards.clear();
    this.waiting.clear();
    this.syncs.clear();
    this.proposals.clear();
    this.ownApplied.clear();
    this.touched.clear();
    for (const write of writes) write.onRefused(reason);
    for (const sync of syncs) sync.onRefused(reason);
    this.dropLocalSessions();
    this.host?.dropConnections();
    this.wakeIdle();
  }

  // ----- the leader: forwarded requests become proposals -----

  /**
   * Runs `run` (which proposes) now, or once the proposals ahead of it commit: the peer refuses more
   * than outstandingProposalsMax in flight, and a refused write of another member's client could not
   * be answered. Everything keeps its arrival order. `needsRoom` false: it proposes nothing.
   */
  private whenRoom(run: () => void, needsRoom = true): void {
    if (this.backlog.length === 0 && (!needsRoom || this.hasRoom())) return run();
    if (this.backlog.length >= BACKLOG_MAX) {
      this.log().warn({ held: this.backlog.length }, 'too many writes held for proposal: dropping one');
      return;
    }
    this.backlog.push(run);
  }

  private hasRoom(): boolean {
    const status = this.peer?.status();
    if (status === undefined) return false;
    return status.lastZxid - status.committedZxid < BigInt(this.options.quorum.outstandingProposalsMax);
  }

  /** Proposals committed: held writes go out while there is room. */
  private drainBacklog(): void {
    while (this.backlog.length > 0 && this.leads && this.hasRoom()) this.backlog.shift()!();
  }

  private prepareForwarded(from: number, bytes: Uint8Array): void {
    let request: ForwardedRequest;
    try {
      request = decodeForwarded(bytes);
    } catch (error) {
      this.log().warn({ from, err: error }, 'dropping a forwarded request that does not decode');
      return;
    }
    if (request.type === SESSION_OWNER_TYPE) {
      const { sessionId } = request;
      // The client's new timeout counts from now on the leader too (Apache's REVALIDATE carries it).
      const claim = () => {
        const passwd = ServerCore.sessionPassword(sessionId);
        if (this.core.reopenSession(sessionId, passwd, request.timeoutMs, Date.now()) === undefined) return;
        this.sessionOwners.set(sessionId, from);
        this.host?.sessionsChanged();
      };
      return this.whenRoom(claim, false);
    }
    this.whenRoom(() => this.proposeForwarded(from, request));
  }

  private proposeForwarded(from: number, request: ForwardedRequest): void {
    const { sessionId, type } = request;
    const nowMs = Date.now();
    const ctx: RequestContext = { sessionId, cxid: request.cxid, authIds: request.authIds };
    if (type === OpCode.createSession) {
      this.sessionOwners.set(sessionId, from);
      const timeoutMs = this.core.negotiateTimeout(request.timeoutMs);
      this.propose({ txn: this.core.prepareCreateSession(sessionId, timeoutMs, nowMs) });
      return;
    }
    const owner = this.sessionOwners.get(sessionId);
    if (owner === undefined) this.sessionOwners.set(sessionId, from);
    // Apache checks the owner for every write but closeSession (the session's last request).
    const moved = owner !== undefined && owner !== from && type !== OpCode.closeSession;
    const txn = moved
      ? this.core.prepareError(ctx, ErrorCode.SESSION_MOVED, nowMs)
      : type === OpCode.reconfig && this.options.reconfig !== undefined && this.peer !== undefined
        ? prepareReconfig({
          core: this.core, peer: this.peer, ctx, request: forwardedBody(request) as ReconfigRequest, nowMs,
          reconfigEnabled: this.options.reconfig.enabled,
          standaloneEnabled: this.options.reconfig.standaloneEnabled,
        })
        : this.core.prepare(ctx, type, forwardedBody(request), nowMs);
    this.propose({ txn });
  }

  /** Proposes a txn the core just prepared; the peer's zxid for it must be the core's. */
  private propose(proposal: OwnProposal): void {
    const requestId = this.nextRequestId++;
    this.proposals.set(requestId, proposal);
    const payload = encodeTxnPayload(proposal.txn);
    this.quorumStats.recordProposalSize(payload.length);
    this.input({ type: 'propose', requestId, payload });
  }

  private onProposed(requestId: RequestId, zxid: bigint): void {
    const proposal = this.proposals.get(requestId);
    this.proposals.delete(requestId);
    if (proposal === undefined) return;
    if (proposal.txn.header.zxid !== zxid) {
      // The core and the peer disagree on zxids: a bug. Stop rather than apply a wrong history.
      const core = describeZxid(proposal.txn.header.zxid);
      this.fail(new Error(`proposal zxid ${describeZxid(zxid)} differs from the prepared ${core}`));
      return;
    }
    if (proposal.onApplied !== undefined) this.ownApplied.set(zxid, proposal.onApplied);
  }

  private onRefused(requestId: RequestId, reason: string): void {
    const proposal = this.proposals.get(requestId);
    if (proposal !== undefined) {
      this.proposals.delete(requestId);
      // Refused at once, so it is still the newest prepared txn.
      this.core.withdraw(proposal.txn, Date.now());
      const { clientId, cxid } = proposal.txn.header;
      const write = this.waiting.get(writeKey(clientId, cxid));
      if (write !== undefined) this.refuseWrite(write, reason);
      return;
    }
    const write = this.forwards.get(requestId);
    if (write !== undefined) return this.refuseWrite(write, reason);
    const sync = this.syncs.get(requestId);
    if (sync !== undefined) {
      this.syncs.delete(requestId);
      sync.onRefused(reason);
    }
  }

  private refuseWrite(write: PendingWrite, reason: string): void {
    this.forwards.delete(write.requestId);
    this.waiting.delete(write.key);
    write.onRefused(reason);
    this.wakeIdleIfDone();
  }

  // ----- every member: committed txns -----

  private deliver(zxid: bigint, payload: Uint8Array): void {
    const txn = decodeTxnPayload(Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength));
    if (txn.header.zxid !== zxid) {
      throw new Error(`txn ${describeZxid(zxid)} carries zxid ${describeZxid(txn.header.zxid)}`);
    }
    let reply = this.core.apply(txn, Date.now());
    if (txn.header.type === OpCode.reconfig && reply.err === ErrorCode.OK) {
      // A reconfig answers with the new config and its stat (GetDataResponse), as getConfig would.
      const { stat } = reply.response as { stat: unknown };
      reply = { err: reply.err, response: { data: (txn.record as { data: Uint8Array }).data, stat } };
    }
    this.options.storage.applied(this.core, zxid);
    if (this.stateValue === 'LEADING') this.quorumStats.commitCount++;
    const { clientId, cxid, type } = txn.header;
    const own = this.ownApplied.get(zxid);
    if (own !== undefined) {
      this.ownApplied.delete(zxid);
      this.guarded(() => own(reply));
    }
    // Matched by (session, cxid), as Apache's CommitProcessor matches its queued requests.
    if (type === OpCode.closeSession) this.sessionOwners.delete(clientId);
    if (type === OpCode.createSession || type === OpCode.closeSession) {
      const what = type === OpCode.createSession ? 'session created' : 'session closed';
      this.log().info({ sessionId: clientId.toString(16), zxid: describeZxid(zxid) }, what);
    }
    const write = this.waiting.get(writeKey(clientId, cxid));
    if (write !== undefined) {
      this.waiting.delete(write.key);
      this.forwards.delete(write.requestId);
      // Apache answers SessionMoved by closing the connection: the client is connected elsewhere.
      if (reply.err === ErrorCode.SESSION_MOVED) {
        this.guarded(() => write.onRefused('session moved elsewhere'));
      } else {
        this.guarded(() => write.onReply(reply));
      }
      this.wakeIdleIfDone();
    } else if (type === OpCode.closeSession) {
      this.host?.sessionClosed(clientId, 'session closed');
    }
    if (this.backlog.length > 0) this.drainBacklog();
    // A session created through another member: the leader's expiry timer must know of it.
    if (type === OpCode.createSession && this.leads) this.host?.sessionsChanged();
  }

  // ----- RequestGateway: what client connections ask -----

  write(write: ClientWrite, onReply: (reply: Reply) => void, onRefused: (reason: string) => void): void {
    const { ctx, opcode, frame } = write;
    if (this.readOnly) {
      // Closing a session is answered (a local one is forgotten); every change is NotReadOnly.
      if (opcode !== OpCode.closeSession) return onReply({ err: ErrorCode.NOT_READ_ONLY });
      this.localSessions.delete(ctx.sessionId);
      return onReply({ err: ErrorCode.OK });
    }
    let answer = onReply;
    if (this.core.isLocalSession(ctx.sessionId)) {
      if (opcode === OpCode.closeSession && !this.core.isUpgradingSession(ctx.sessionId)) {
        this.core.closeLocalSession(ctx.sessionId);
        this.log().info({ sessionId: ctx.sessionId.toString(16) }, 'local session closed');
        return onReply({ err: ErrorCode.OK });
      }
      if (createsEphemeral(opcode, write.request)) {
        if (this.core.localSessionsUpgradingEnabled) {
          this.upgradeSession(ctx.sessionId);
        } else if (opcode !== OpCode.multi) {
          // As Apache: the leader refuses the ephemeral (no global session); the client hears why.
          answer = (reply) => onReply(reply.err === ErrorCode.OK ? reply : { err: EPHEMERAL_ON_LOCAL });
        }
      }
    }
    const request = {
      sessionId: ctx.sessionId, cxid: ctx.cxid, type: opcode, authIds: [...ctx.authIds], timeoutMs: 0, frame,
    };
    this.forward(request, answer, onRefused);
  }

  /**
   * A local session is about to create an ephemeral: a createSession for it goes to the leader
   * first (Apache's upgrade), so every member knows it as global when the create applies.
   */
  private upgradeSession(sessionId: bigint): void {
    if (!this.serving) return; // the write behind it is refused too
    const timeoutMs = this.core.beginUpgrade(sessionId);
    if (timeoutMs === undefined) return; // already on its way
    this.log().info({ sessionId: sessionId.toString(16) }, 'upgrading a local session to a global one');
    const request = { sessionId, cxid: 0, type: OpCode.createSession, authIds: [], timeoutMs, frame: null };
    const bytes = ForwardedRequest.encode(request);
    this.input({ type: 'forward', requestId: this.nextRequestId++, request: bytes });
  }

  /** Expires local sessions on this member (the leader never hears of them). */
  private armLocalExpiry(): void {
    const next = this.core.nextLocalSessionExpiryMs();
    if (next === undefined || next >= this.localExpiryAtMs || this.closed) return;
    if (this.localExpiryTimer !== undefined) clearTimeout(this.localExpiryTimer);
    this.localExpiryAtMs = next;
    this.localExpiryTimer = setTimeout(() => this.expireLocalSessions(), Math.max(0, next - Date.now()));
  }

  private expireLocalSessions(): void {
    this.localExpiryTimer = undefined;
    this.localExpiryAtMs = Infinity;
    for (const sessionId of this.core.expiredLocalSessions(Date.now())) {
      this.log().info({ sessionId: sessionId.toString(16) }, 'local session expired');
      this.host?.sessionClosed(sessionId, 'session expired');
    }
    this.armLocalExpiry();
  }

  createSession(
    requestedTimeoutMs: number,
    onCreated: (session: StartedSession) => void,
    onRefused: (reason: string) => void,
  ): void {
    if (!this.serving && !this.readOnly) return onRefused('not serving');
    const timeoutMs = this.core.negotiateTimeout(requestedTimeoutMs);
    const sessionId = this.core.allocateSessionId(Date.now());
    if (this.readOnly) {
      this.localSessions.set(sessionId, timeoutMs);
      return onCreated({ sessionId, timeoutMs });
    }
    if (this.core.localSessionsEnabled) {
      // Apache's local session: no txn, known here only, until it needs the leader (an ephemeral).
      this.core.createLocalSession(sessionId, timeoutMs, Date.now());
      this.armLocalExpiry();
      this.log().info({ sessionId: sessionId.toString(16), timeoutMs }, 'local session created');
      return onCreated({ sessionId, timeoutMs });
    }
    const request = { sessionId, cxid: 0, type: OpCode.createSession, authIds: [], timeoutMs, frame: null };
    const onReply = (reply: Reply) => {
      if (reply.err !== ErrorCode.OK) onRefused(`createSession failed with ${reply.err}`);
      else onCreated({ sessionId, timeoutMs });
    };
    this.forward(request, onReply, onRefused);
  }

  private forward(
    request: ForwardedRequest,
    onReply: (reply: Reply) => void,
    onRefused: (reason: string) => void,
  ): void {
    if (!this.serving) return onRefused('not serving');
    const key = writeKey(request.sessionId, request.cxid);
    if (this.waiting.has(key)) return onRefused(`request ${key} is already in flight`);
    if (this.waiting.size >= PENDING_WRITES_MAX) return onRefused('too many writes in flight');
    const requestId = this.nextRequestId++;
    const pending: PendingWrite = { requestId, key, onReply, onRefused };
    this.forwards.set(requestId, pending);
    this.waiting.set(key, pending);
    this.input({ type: 'forward', requestId, request: ForwardedRequest.encode(request) });
  }

  resumeSession(
    sessionId: bigint,
    passwd: Uint8Array,
    requestedTimeoutMs: number,
    onResumed: (timeoutMs: number | undefined) => void,
    onRefused: (reason: string) => void,
  ): void {
    if (!this.serving && !this.readOnly) return onRefused('not serving');
    if (!ServerCore.sessionPassword(sessionId).equals(Buffer.from(passwd))) return onResumed(undefined);
    if (this.readOnly) {
      const known = this.localSessions.has(sessionId) || this.core.sessionTimeoutMs(sessionId) !== undefined;
      return onResumed(known ? this.core.negotiateTimeout(requestedTimeoutMs) : undefined);
    }
    if (this.core.isLocalSession(sessionId)) {
      // A local session resumes on its own member only (elsewhere it is unknown: SessionExpired).
      this.core.touchSession(sessionId, Date.now());
      return onResumed(this.core.negotiateTimeout(requestedTimeoutMs));
    }
    const reopen = () => {
      const timeoutMs = this.core.reopenSession(sessionId, passwd, requestedTimeoutMs, Date.now());
      if (timeoutMs !== undefined) this.touchSession(sessionId, Date.now());
      onResumed(timeoutMs);
    };
    // As Apache revalidates with the leader: the leader hears that this member holds the session,
    // and the answer waits for a round trip to it, which also brings in a session created through
    // another member. A member whose leader is gone never answers; the client moves on.
    this.claimSession(sessionId, this.core.negotiateTimeout(requestedTimeoutMs));
    this.requestSync(reopen, onRefused);
  }

  /** Tells the leader this member holds the session now (ahead of the session's next write). */
  private claimSession(sessionId: bigint, timeoutMs: number): void {
    if (!this.serving) return;
    const request = { sessionId, cxid: 0, type: SESSION_OWNER_TYPE, authIds: [], timeoutMs, frame: null };
    const bytes = ForwardedRequest.encode(request);
    this.input({ type: 'forward', requestId: this.nextRequestId++, request: bytes });
  }

  sync(
    _ctx: RequestContext,
    path: string,
    onReply: (reply: Reply) => void,
    onRefused: (reason: string) => void,
  ): void {
    if (this.readOnly) return onReply({ err: ErrorCode.NOT_READ_ONLY });
    this.requestSync(() => onReply({ err: ErrorCode.OK, response: { path } }), onRefused);
  }

  private requestSync(onDone: () => void, onRefused: (reason: string) => void): void {
    if (!this.serving) return onRefused('not serving');
    const requestId = this.nextRequestId++;
    this.syncs.set(requestId, { onDone, onRefused });
    this.input({ type: 'sync', requestId });
  }

  touchSession(sessionId: bigint, nowMs: number): void {
    this.core.touchSession(sessionId, nowMs);
    if (!this.serving || this.stateValue === 'LEADING' || sessionId === 0n) return;
    if (this.touched.has(sessionId) || this.core.isLocalSession(sessionId)) return;
    this.touched.add(sessionId);
    this.input({ type: 'touchSessions', payload: encodeSessionTouches(this.touched) });
  }

  submitInternal(prepare: (nowMs: number) => CoreTxn, onApplied?: (reply: Reply) => void): void {
    if (!this.leads) return;
    this.whenRoom(() => this.propose({ txn: prepare(Date.now()), onApplied }));
  }

  async idle(): Promise<void> {
    if (this.waiting.size === 0 || !this.serving) return; // not serving: nothing in flight completes
    await new Promise<void>((resolve) => this.idleWaiters.push(resolve));
  }

  private wakeIdleIfDone(): void {
    if (this.waiting.size === 0) this.wakeIdle();
  }

  private wakeIdle(): void {
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const wake of waiters) wake();
  }

  /** A connection's callback failing is that connection's bug: logged, never the member's end. */
  private guarded(callback: () => void): void {
    try {
      callback();
    } catch (error) {
      this.log().error({ err: error }, 'a reply callback failed');
    }
  }

  // ----- the end -----

  private fail(error: unknown): void {
    if (this.fatal !== undefined || this.closed) return;
    this.fatal = error ?? new Error('member failed');
    this.log().error({ err: error }, 'ensemble member failed: stopping');
    this.options.onFatal?.(error);
  }

  /** Stops the peer, its timers and seams; what is in flight is refused. Idempotent. */
  async stop(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
    if (this.readOnlyTimer !== undefined) clearTimeout(this.readOnlyTimer);
    if (this.localExpiryTimer !== undefined) clearTimeout(this.localExpiryTimer);
    this.readOnly = false;
    if (this.serving) {
      this.serving = false;
      this.stopServing('the member is stopping');
    }
    this.notifyRole();
    await this.options.transport.close();
    await this.barrier?.catch(() => {});
    await this.options.storage.close();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }
}

