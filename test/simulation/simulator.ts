// A seeded simulation of a whole ensemble: the unchanged QuorumPeer code on N peers, a network that
// delays, drops, duplicates, reorders and partitions (and reports broken connections, as a
// transport's connection-lost callback does), disks that lose whatever was not fsynced when a
// peer crashes, and a virtual clock. After every step it checks the safety invariants; after the
// faults stop it checks that the healed ensemble elects a leader, commits and converges in bounded time.
// With reconfigs on, the leader also changes the membership during the faults (adds a spare server or
// a removed one, removes a voter, turns a voter into an observer); spares start with a config of
// their own that lists themselves, as Apache's procedure for adding a server has it.

import {
  QuorumPeer, describeMessage, isMemberOf, describeZxid, epochOf, counterOf, quorumConfig,
  type Membership, type MembershipChange, type PeerInput, type PeerMessage, type PeerOutput,
  type QuorumConfig, type TimerName, type Txn,
} from '../../server/quorum/index.js';
import { EventQueue } from './event-queue.js';
import { Prng } from './prng.js';

/** Everything a run depends on; derived from the seed by `paramsForSeed`. */
export interface SimParams {
  readonly seed: number;
  readonly voters: number;
  readonly observers: number;
  /** Faults happen in [0, chaosMs); then the network heals and crashed peers restart. */
  readonly chaosMs: number;
  /** After healing, a newly submitted write must be acknowledged within this. */
  readonly livenessBoundMs: number;
  /** After that, every peer must have applied the same history within this. */
  readonly convergeBoundMs: number;
  readonly chaosStepMs: number;
  readonly crashChance: number;
  /** Chance, per step during the faults, that the peer crashes partway through carrying out its outputs. */
  readonly midStepCrashChance: number;
  readonly partitionChance: number;
  /** Chance per chaos step of cutting one direction of one link (an asymmetric partition). */
  readonly oneWayCutChance: number;
  /** Each peer's timers run at a rate in [1 - drift, 1 + drift] of virtual time. */
  readonly clockDrift: number;
  /**
   * Chance that a crash, or a partition between two peers, is reported to the peers on the other end
   * as a broken connection (`linkLost`), as TCP does for a killed process; otherwise only timeouts tell.
   */
  readonly linkLossReportChance: number;
  /** Chance per chaos step that the connection between two live peers resets (both ends told). */
  readonly linkResetChance: number;
  readonly healChance: number;
  readonly dropRate: number;
  readonly duplicateRate: number;
  readonly reorderRate: number;
  readonly delayMinMs: number;
  readonly delayMaxMs: number;
  readonly fsyncMinMs: number;
  readonly fsyncMaxMs: number;
  readonly writeIntervalMs: number;
  readonly snapshotIntervalMs: number;
  readonly committedLogMax: number;
  readonly zxidCounterMax: bigint;
  /** Chance per chaos step that the leader proposes a membership change (0: never). */
  readonly reconfigChance: number;
  /** Servers outside the initial config that a reconfig may add. */
  readonly spares: number;
}

export function paramsForSeed(seed: number, overrides: Partial<SimParams> = {}): SimParams {
  const rng = new Prng(seed ^ 0x5eed);
  const voters = rng.pick([3, 3, 5, 5, 1, 7]);
  return {
    seed,
    voters,
    observers: rng.pick([0, 0, 1, 2]),
    chaosMs: rng.int(3_000, 12_000),
    livenessBoundMs: 30_000,
    convergeBoundMs: 20_000,
    chaosStepMs: rng.int(100, 600),
    crashChance: rng.pick([0, 0.03, 0.08, 0.15]),
    midStepCrashChance: rng.pick([0, 0.001, 0.01, 0.03]),
    partitionChance: rng.pick([0, 0.03, 0.08]),
    healChance: rng.pick([0.1, 0.3]),
    dropRate: rng.pick([0, 0.002, 0.01, 0.05]),
    duplicateRate: rng.pick([0, 0.01, 0.05]),
    reorderRate: rng.pick([0, 0.002, 0.02]),
    delayMinMs: 1,
    delayMaxMs: rng.pick([5, 20, 80]),
    fsyncMinMs: 1,
    fsyncMaxMs: rng.pick([2, 10, 40]),
    writeIntervalMs: rng.pick([20, 60, 200]),
    snapshotIntervalMs: rng.pick([300, 1500, 1e9]),
    committedLogMax: rng.pick([4, 50, 500]),
    zxidCounterMax: rng.pick([0xfffffffen, 0xfffffffen, 40n]),
    oneWayCutChance: rng.pick([0, 0, 0.05, 0.2]),
    clockDrift: rng.pick([0, 0.1, 0.4]),
    linkLossReportChance: rng.pick([0, 0.5, 0.9, 1]),
    linkResetChance: rng.pick([0, 0, 0.05, 0.2]),
    reconfigChance: rng.pick([0, 0, 0.05, 0.2]),
    spares: rng.pick([0, 1, 2]),
    ...overrides,
  };
}

/** One txn as the simulated state machine sees it: its zxid and the client write it carries. */
interface Entry {
  readonly zxid: bigint;
  readonly write: string;
}

interface Disk {
  acceptedEpoch: bigint;
  currentEpoch: bigint;
  snapshot: { zxid: bigint; entries: Entry[] };
  /** Txns written to the log file; only the first durableCount survive a crash. */
  log: Txn[];
  durableCount: number;
  /** The config last activated (the shell's dynamic config file). */
  activeConfig?: Membership;
}

interface Node {
  readonly id: number;
  readonly observer: boolean;
  readonly config: QuorumConfig;
  peer: QuorumPeer | undefined;
  incarnation: number;
  disk: Disk;
  /** The state machine: every txn delivered since the state was last loaded. */
  applied: Entry[];
  timerTokens: Map<TimerName, number>;
  fsyncScheduled: boolean;
  /** How fast this peer's timers run relative to virtual time. */
  readonly clockRate: number;
  /** Outside the initial config (a server a reconfig may add). */
  readonly spare: boolean;
}

type SimEvent =
  | { type: 'message'; from: number; to: number; message: PeerMessage }
  | { type: 'timer'; node: number; incarnation: number; timer: TimerName; token: number }
  | { type: 'fsync'; node: number; incarnation: number }
  /** `node`'s transport reports that its connection with `peer` broke. */
  | { type: 'linkLost'; node: number; incarnation: number; peer: number }
  | { type: 'propose'; node: number; incarnation: number; write: string }
  | { type: 'write' }
  | { type: 'snapshot' }
  | { type: 'chaos' }
  | { type: 'heal' }
  | { type: 'check' };

export class InvariantViolation extends Error {}

export interface SimStats {
  elections: number;
  established: number;
  writesSubmitted: number;
  writesAcked: number;
  committedTxns: number;
  crashes: number;
  partitions: number;
  /** linkLost inputs delivered to a live peer. */
  linkLosses: number;
  diffs: number;
  truncs: number;
  snaps: number;
  /** Reconfig txns committed (applied somewhere). */
  reconfigs: number;
  messages: number;
  steps: number;
  healedAtMs: number;
  livenessAtMs: number;
  convergedAtMs: number;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export class Simulation {
  readonly rng: Prng;
  readonly nodes: Node[] = [];
  readonly stats: SimStats = {
    elections: 0, established: 0, writesSubmitted: 0, writesAcked: 0, committedTxns: 0, crashes: 0,
    partitions: 0, linkLosses: 0, diffs: 0, truncs: 0, snaps: 0, reconfigs: 0, messages: 0, steps: 0,
    healedAtMs: -1,
    livenessAtMs: -1, convergedAtMs: -1,
  };
  nowMs = 0;
  private readonly queue = new EventQueue<SimEvent>();
  /** The longest history any peer applied; every peer's applied history must be a prefix of it. */
  private readonly canonical: Entry[] = [];
  private readonly canonicalWrites = new Set<string>();
  private readonly leaderOfEpoch = new Map<bigint, number>();
  private readonly pendingWrites = new Map<string, { node: number; incarnation: number; atMs: number }>();
  private readonly ackedWrites = new Set<string>();
  private readonly group = new Map<number, number>();
  /** Directed links cut one way ("a>b"). */
  private readonly cutLinks = new Set<string>();
  private readonly linkClearMs = new Map<string, number>();
  private healed = false;
  private writeCount = 0;
  private requestCount = 0;
  private finished = false;
  private reconfigCount = 0;
  /** Draws of the reconfig faults, apart from the main stream so that seeds without them replay as before. */
  private readonly reconfigRng: Prng;
  private readonly initialMembership: Membership;
  readonly trace: string[] | undefined;

  constructor(readonly params: SimParams, options: { trace?: boolean } = {}) {
    this.rng = new Prng(params.seed);
    this.trace = options.trace ? [] : undefined;
    this.reconfigRng = new Prng(params.seed ^ 0xc0ff1);
    const voters = Array.from({ length: params.voters }, (_, i) => i + 1);
    const observers = Array.from({ length: params.observers }, (_, i) => params.voters + i + 1);
    const spares = params.reconfigChance > 0 ? params.spares : 0;
    const spareIds = Array.from({ length: spares }, (_, i) => params.voters + params.observers + i + 1);
    this.initialMembership = { version: 0n, voters, observers };
    for (const id of [...voters, ...observers, ...spareIds]) {
      const spare = spareIds.includes(id);
      const config = quorumConfig({
        myId: id, voters: spare ? [...voters, id] : voters, observers, tickMs: 100, initLimitTicks: 10,
        syncLimitTicks: 5, notificationIntervalMinMs: 50, notificationIntervalMaxMs: 1600,
        committedLogMax: params.committedLogMax, zxidCounterMax: params.zxidCounterMax, reconfigOf,
      });
      const disk: Disk = {
        acceptedEpoch: 0n, currentEpoch: 0n, snapshot: { zxid: 0n, entries: [] }, log: [], durableCount: 0,
      };
      const rng = spare ? this.reconfigRng : this.rng;
      this.nodes.push({
        id, observer: id > params.voters, config, peer: undefined, incarnation: 0, disk, applied: [],
        timerTokens: new Map(), fsyncScheduled: false, spare,
        clockRate: 1 + (rng.float() * 2 - 1) * params.clockDrift,
      });
      this.group.set(id, 0);
    }
  }

  /** Runs to the end; throws InvariantViolation on the first broken invariant. */
  run(): SimStats {
    for (const node of this.nodes) this.boot(node);
    const p = this.params;
    this.queue.push(p.chaosStepMs, { type: 'chaos' });
    this.queue.push(p.writeIntervalMs, { type: 'write' });
    this.queue.push(p.snapshotIntervalMs, { type: 'snapshot' });
    this.queue.push(p.chaosMs, { type: 'heal' });
    while (!this.finished) {
      const next = this.queue.pop();
      if (next === undefined) throw new InvariantViolation('the agenda ran dry');
      this.nowMs = next.at;
      this.handle(next.event);
    }
    return this.stats;
  }

  private handle(event: SimEvent): void {
    const p = this.params;
    switch (event.type) {
      case 'message':
        return this.deliverMessage(event.from, event.to, event.message);
      case 'timer': {
        const node = this.nodes[event.node - 1]!;
        if (node.incarnation !== event.incarnation) return;
        if (node.timerTokens.get(event.timer) !== event.token) return;
        return this.step(node, { type: 'timeout', timer: event.timer, token: event.token });
      }
      case 'fsync':
        return this.onFsync(this.nodes[event.node - 1]!, event.incarnation);
      case 'linkLost': {
        const node = this.nodes[event.node - 1]!;
        if (node.peer === undefined || node.incarnation !== event.incarnation) return;
        this.stats.linkLosses++;
        return this.step(node, { type: 'linkLost', peer: event.peer });
      }
      case 'propose': {
        const node = this.nodes[event.node - 1]!;
        if (node.peer === undefined || node.incarnation !== event.incarnation) return;
        const payload = encoder.encode(event.write);
        return this.step(node, { type: 'propose', requestId: ++this.requestCount, payload });
      }
      case 'write':
        this.submitWrite();
        this.queue.push(this.nowMs + this.rng.int(1, 2 * p.writeIntervalMs), { type: 'write' });
        return;
      case 'snapshot':
        for (const node of this.nodes) {
          if (node.peer !== undefined && this.rng.chance(0.5)) this.takeSnapshot(node);
        }
        this.queue.push(this.nowMs + p.snapshotIntervalMs, { type: 'snapshot' });
        return;
      case 'chaos':
        if (this.healed) return;
        this.chaosStep();
        this.queue.push(this.nowMs + p.chaosStepMs, { type: 'chaos' });
        return;
      case 'heal':
        return this.heal();
      case 'check':
        this.checkProgress();
        if (!this.finished) this.queue.push(this.nowMs + 500, { type: 'check' });
        return;
    }
  }

  // Peers, steps and outputs

  private boot(node: Node): void {
    const { disk } = node;
    node.incarnation++;
    node.timerTokens.clear();
    node.fsyncScheduled = false;
    node.applied = [...disk.snapshot.entries];
    const log = disk.log.slice(0, disk.durableCount);
    node.peer = new QuorumPeer(node.config, {
      acceptedEpoch: disk.acceptedEpoch,
      currentEpoch: disk.currentEpoch,
      appliedZxid: disk.snapshot.zxid,
      log,
      membership: newer(disk.activeConfig, membershipOfEntries(disk.snapshot.entries)),
    }, String(node.incarnation));
    this.step(node, { type: 'start' });
  }

  private crash(node: Node): void {
    if (node.peer === undefined) return;
    this.note(node, 'CRASH');
    this.stats.crashes++;
    node.peer = undefined;
    node.incarnation++;
    // Whatever was not fsynced is gone.
    node.disk.log.length = node.disk.durableCount;
    // The killed process's connections end; the peers that can still hear it usually notice.
    for (const other of this.nodes) {
      if (other === node || !this.connected(node.id, other.id)) continue;
      if (this.rng.chance(this.params.linkLossReportChance)) this.reportLinkLost(other, node.id);
    }
  }

  /** `node`'s transport tells it, after a network delay, that its connection with `peer` broke. */
  private reportLinkLost(node: Node, peer: number): void {
    if (node.peer === undefined) return;
    const at = this.nowMs + this.rng.int(this.params.delayMinMs, this.params.delayMaxMs);
    this.queue.push(at, { type: 'linkLost', node: node.id, incarnation: node.incarnation, peer });
  }

  /** The connection between two peers broke: each end that is up hears of it. */
  private breakConnection(a: Node, b: Node): void {
    this.reportLinkLost(a, b.id);
    this.reportLinkLost(b, a.id);
  }

  private step(node: Node, input: PeerInput): void {
    const peer = node.peer!;
    this.stats.steps++;
    if (this.trace !== undefined && input.type !== 'message') this.note(node, `<- ${describeInput(input)}`);
    const outputs = peer.step(input);
    // Sometimes the process dies halfway through a batch: the barriers' order must make that safe.
    const crashAt = !this.healed && outputs.length > 0 && this.rng.chance(this.params.midStepCrashChance)
      ? this.rng.int(0, outputs.length - 1) : -1;
    for (let i = 0; i < outputs.length; i++) {
      if (i === crashAt) return this.crash(node);
      this.carryOut(node, outputs[i]!);
    }
  }

  private carryOut(node: Node, output: PeerOutput): void {
    const { disk } = node;
    switch (output.kind) {
      case 'send':
        this.checkSendOrdering(node, output.message);
        return this.send(node.id, output.to, output.message);
      case 'sendSnapshot': {
        const body = output.message.body;
        if (body.type !== 'snap') throw new InvariantViolation('sendSnapshot without a snap packet');
        this.expect(appliedZxidOf(node) === body.zxid,
          `${node.id} snapshot at ${describeZxid(body.zxid)}, state at ${describeZxid(appliedZxidOf(node))}`);
        const snapshot = encodeEntries(node.applied);
        return this.send(node.id, output.to, { ...output.message, body: { ...body, snapshot } });
      }
      case 'appendTxns':
        disk.log.push(...output.txns);
        if (!node.fsyncScheduled) {
          node.fsyncScheduled = true;
          const delay = this.rng.int(this.params.fsyncMinMs, this.params.fsyncMaxMs);
          const fsync = { type: 'fsync', node: node.id, incarnation: node.incarnation } as const;
          this.queue.push(this.nowMs + delay, fsync);
        }
        return;
      case 'flushLog':
        disk.durableCount = disk.log.length;
        return;
      case 'persistEpoch':
        disk[output.which] = output.epoch;
        this.expect(disk.currentEpoch <= disk.acceptedEpoch, `${node.id}: currentEpoch above acceptedEpoch`);
        return;
      case 'truncateLog':
        this.stats.truncs++;
        this.note(node, `truncate after ${describeZxid(output.zxid)}`);
        this.expect(output.zxid >= appliedZxidOf(node), `${node.id} truncates below its applied state`);
        disk.log = disk.log.filter((txn) => txn.zxid <= output.zxid);
        disk.durableCount = disk.log.length;
        return;
      case 'installSnapshot': {
        this.stats.snaps++;
        this.note(node, `install snapshot ${describeZxid(output.zxid)}`);
        const entries = decodeEntries(output.snapshot);
        this.expect(isPrefix(node.applied, entries), `${node.id}'s snapshot does not extend its history`);
        entries.forEach((entry, i) => this.checkCanonical(node, i, entry));
        node.applied = entries;
        disk.snapshot = { zxid: output.zxid, entries: [...entries] };
        disk.log = [];
        disk.durableCount = 0;
        return;
      }
      case 'deliver':
        return this.onDeliver(node, output.txn);
      case 'request':
        this.queue.push(this.nowMs, {
          type: 'propose', node: node.id, incarnation: node.incarnation,
          write: decoder.decode(output.request),
        });
        return;
      case 'setTimer':
        node.timerTokens.set(output.timer, output.token);
        this.queue.push(this.nowMs + Math.round(output.delayMs * node.clockRate), {
          type: 'timer', node: node.id, incarnation: node.incarnation,
          timer: output.timer, token: output.token,
        });
        return;
      case 'role':
        if (output.state === 'LOOKING') this.stats.elections++;
        // A sync base the learner cannot apply means the leader's plan and the learner's log disagree.
        this.expect(!/^(TRUNC|DIFF) /.test(output.reason), `${node.id} gave up a sync: ${output.reason}`);
        this.note(node, `role ${output.state} leader=${output.leader} (${output.reason})`);
        return;
      case 'serving':
        return this.onServing(node, output.epoch, output.leader);
      case 'membership':
        disk.activeConfig = output.active;
        this.note(node, `membership active v${describeZxid(output.active.version)} ` +
          `${output.active.voters}|${output.active.observers} pending ${output.pending.length}`);
        return;
      case 'proposed':
      case 'refused':
      case 'syncDone':
      case 'sessionTouches':
        return;
    }
  }

  private onFsync(node: Node, incarnation: number): void {
    if (node.peer === undefined || node.incarnation !== incarnation) return;
    node.fsyncScheduled = false;
    const { disk } = node;
    disk.durableCount = disk.log.length;
    const last = disk.log.at(-1);
    if (last !== undefined) this.step(node, { type: 'logged', zxid: last.zxid });
  }

  private takeSnapshot(node: Node): void {
    const { disk } = node;
    const zxid = appliedZxidOf(node);
    disk.snapshot = { zxid, entries: [...node.applied] };
    const kept = disk.log.filter((txn) => txn.zxid > zxid);
    disk.durableCount -= disk.log.length - kept.length;
    if (disk.durableCount < 0) disk.durableCount = 0;
    disk.log = kept;
  }

  // Invariants

  private expect(condition: boolean, message: string): void {
    if (!condition) throw new InvariantViolation(`${message} (at ${this.nowMs} ms)`);
  }

  /** Position i of any applied history must equal position i of every other. */
  private checkCanonical(node: Node, index: number, entry: Entry): void {
    const known = this.canonical[index];
    if (known === undefined) {
      this.expect(index === this.canonical.length, 'applied histories have a gap');
      this.expect(!this.canonicalWrites.has(entry.write), `write ${entry.write} was committed twice`);
      this.canonical.push(entry);
      this.canonicalWrites.add(entry.write);
      this.stats.committedTxns++;
      if (reconfigOf(encoder.encode(entry.write)) !== undefined) this.stats.reconfigs++;
      return;
    }
    this.expect(known.zxid === entry.zxid && known.write === entry.write,
      `peer ${node.id} applied ${describeZxid(entry.zxid)}=${entry.write} at position ${index}, ` +
      `others applied ${describeZxid(known.zxid)}=${known.write}`);
  }

  private onDeliver(node: Node, txn: Txn): void {
    const entry = { zxid: txn.zxid, write: decoder.decode(txn.payload) };
    const what = `${node.id} delivered ${describeZxid(entry.zxid)}`;
    this.expect(entry.zxid > appliedZxidOf(node), `${what} out of order`);
    this.expect(this.isDurable(node, entry.zxid), `${what} before it was durable`);
    this.checkCanonical(node, node.applied.length, entry);
    node.applied.push(entry);
    const pending = this.pendingWrites.get(entry.write);
    if (pending !== undefined && pending.node === node.id && pending.incarnation === node.incarnation) {
      this.pendingWrites.delete(entry.write);
      this.ackedWrites.add(entry.write);
      this.stats.writesAcked++;
      if (this.healed && this.stats.livenessAtMs < 0 && pending.atMs >= this.stats.healedAtMs) {
        this.stats.livenessAtMs = this.nowMs;
      }
    }
  }

  private isDurable(node: Node, zxid: bigint): boolean {
    const { disk } = node;
    if (zxid <= disk.snapshot.zxid) return true;
    let low = 0;
    let high = disk.durableCount;
    while (low < high) {
      const mid = (low + high) >>> 1;
      if (disk.log[mid]!.zxid < zxid) low = mid + 1;
      else high = mid;
    }
    return low < disk.durableCount && disk.log[low]!.zxid === zxid;
  }

  /** At most one established leader per epoch, and it holds every txn anyone ever applied. */
  private onServing(node: Node, epoch: bigint, leader: number): void {
    this.note(node, `serving epoch ${epoch} leader ${leader}`);
    if (leader !== node.id) return;
    this.stats.established++;
    const earlier = this.leaderOfEpoch.get(epoch);
    this.expect(earlier === undefined, `epoch ${epoch} established twice (by ${earlier} and ${node.id})`);
    this.leaderOfEpoch.set(epoch, node.id);
    // Every txn committed in an earlier epoch is in its history (primary integrity). A leader of a
    // stale epoch may still establish from NEWLEADER acks its learners gave before moving on; its
    // history is then a prefix of the later epochs' and it cannot commit anything new.
    let earlierCommitted = this.canonical.length;
    while (earlierCommitted > 0 && epochOf(this.canonical[earlierCommitted - 1]!.zxid) >= epoch) {
      earlierCommitted--;
    }
    this.expect(node.applied.length >= earlierCommitted,
      `leader ${node.id} of epoch ${epoch} lacks committed txns: has ${node.applied.length}, ` +
      `${earlierCommitted} of earlier epochs were applied somewhere`);
  }

  /** The ordering rules of io.ts, checked on the disk as the shell sees it when a packet leaves. */
  private checkSendOrdering(node: Node, message: PeerMessage): void {
    if (message.type !== 'zab') return;
    const { body } = message;
    const { disk } = node;
    if (body.type === 'ack') {
      if (counterOf(body.zxid) === 0n) {
        const what = `${node.id} acked NEWLEADER before`;
        this.expect(disk.currentEpoch === epochOf(body.zxid), `${what} currentEpoch was durable`);
        this.expect(disk.acceptedEpoch >= epochOf(body.zxid), `${what} it had accepted that epoch`);
        this.expect(disk.durableCount === disk.log.length, `${what} its synced txns were durable`);
      } else {
        const what = `${node.id} acked ${describeZxid(body.zxid)}`;
        this.expect(this.isDurable(node, body.zxid), `${what} before it was durable`);
      }
    }
  }

  // Network

  private send(from: number, to: number, message: PeerMessage): void {
    const p = this.params;
    this.stats.messages++;
    if (!this.connected(from, to)) return;
    if (!this.healed && this.rng.chance(p.dropRate)) return;
    const copies = !this.healed && this.rng.chance(p.duplicateRate) ? 2 : 1;
    for (let copy = 0; copy < copies; copy++) {
      let at = this.nowMs + this.rng.int(p.delayMinMs, p.delayMaxMs);
      const key = `${from}>${to}`;
      if (this.healed || !this.rng.chance(p.reorderRate)) {
        // Links are FIFO unless this message is picked to overtake.
        at = Math.max(at, this.linkClearMs.get(key) ?? 0);
        this.linkClearMs.set(key, at);
      }
      this.queue.push(at, { type: 'message', from, to, message });
    }
  }

  private deliverMessage(from: number, to: number, message: PeerMessage): void {
    const node = this.nodes[to - 1]!;
    if (node.peer === undefined || !this.connected(from, to)) return;
    if (this.trace !== undefined) this.note(node, `<- ${from}: ${describeMessage(message)}`);
    if (message.type === 'zab' && message.body.type === 'diff') this.stats.diffs++;
    this.step(node, { type: 'message', from, message });
  }

  private connected(a: number, b: number): boolean {
    return this.group.get(a) === this.group.get(b) && !this.cutLinks.has(`${a}>${b}`);
  }

  // Faults, clients, healing

  private chaosStep(): void {
    const p = this.params;
    for (const node of this.nodes) {
      if (node.peer !== undefined && this.rng.chance(p.crashChance)) this.crash(node);
      else if (node.peer === undefined && this.rng.chance(0.3)) this.boot(node);
    }
    if (this.rng.chance(p.partitionChance)) {
      this.stats.partitions++;
      const groups = this.rng.int(2, 3);
      const before = new Map(this.group);
      for (const node of this.nodes) this.group.set(node.id, this.rng.int(0, groups - 1));
      this.reportPartition(before);
      if (this.trace !== undefined) this.trace.push(`${this.nowMs} partition ${[...this.group].join(' ')}`);
    } else if (this.rng.chance(p.healChance)) {
      for (const node of this.nodes) this.group.set(node.id, 0);
      this.cutLinks.clear();
    }
    if (this.rng.chance(p.oneWayCutChance)) {
      const from = this.rng.pick(this.nodes).id;
      const to = this.rng.pick(this.nodes).id;
      if (from !== to) this.cutLinks.add(`${from}>${to}`);
      if (from !== to && this.rng.chance(p.linkLossReportChance)) {
        this.breakConnection(this.nodes[from - 1]!, this.nodes[to - 1]!);
      }
    }
    if (this.rng.chance(p.linkResetChance)) {
      const a = this.rng.pick(this.nodes);
      const b = this.rng.pick(this.nodes);
      if (a !== b) this.breakConnection(a, b);
    }
    if (p.reconfigChance > 0 && this.reconfigRng.chance(p.reconfigChance)) this.proposeReconfig();
  }

  /** The serving leader, if any, proposes a membership change it may propose now. */
  private proposeReconfig(): void {
    const rng = this.reconfigRng;
    const leader = this.nodes.find((n) => n.peer?.status().state === 'LEADING' && n.peer.status().serving);
    if (leader === undefined) return;
    const peer = leader.peer!;
    const view = peer.view();
    const latest = view.pending.at(-1) ?? view.active;
    const voters = new Set(latest.voters);
    const observers = new Set(latest.observers);
    const others = this.nodes.map((n) => n.id).filter((id) => !voters.has(id));
    const kind = rng.pick(['add', 'add', 'remove', 'remove', 'observe']);
    if (kind === 'add' && others.length > 0) {
      const id = rng.pick(others);
      observers.delete(id);
      voters.add(id);
    } else if (voters.size > 1) {
      const id = rng.pick([...voters]);
      voters.delete(id);
      if (kind === 'observe') observers.add(id);
    } else {
      return;
    }
    const sorted = (ids: Set<number>) => [...ids].sort((a, b) => a - b);
    const change = { voters: sorted(voters), observers: sorted(observers) };
    if (peer.reconfigProblem(change) !== undefined) return;
    const write = `cfg#${++this.reconfigCount}:${change.voters.join(',')}|${change.observers.join(',')}`;
    this.note(leader, `reconfig ${write}`);
    this.step(leader, { type: 'propose', requestId: ++this.requestCount, payload: encoder.encode(write) });
  }

  /** Peers a new partition separated: their connections may break (keepalive, a reset). */
  private reportPartition(before: Map<number, number>): void {
    for (const a of this.nodes) {
      for (const b of this.nodes) {
        if (a.id >= b.id || before.get(a.id) !== before.get(b.id)) continue;
        if (this.group.get(a.id) === this.group.get(b.id)) continue;
        if (this.rng.chance(this.params.linkLossReportChance)) this.breakConnection(a, b);
      }
    }
  }

  private heal(): void {
    this.healed = true;
    this.stats.healedAtMs = this.nowMs;
    if (this.trace !== undefined) this.trace.push(`${this.nowMs} HEAL`);
    for (const node of this.nodes) this.group.set(node.id, 0);
    this.cutLinks.clear();
    for (const node of this.nodes) if (node.peer === undefined) this.boot(node);
    this.queue.push(this.nowMs + 500, { type: 'check' });
  }

  private submitWrite(): void {
    if (this.stats.livenessAtMs >= 0 && this.healed) {
      // After liveness is shown, let the ensemble quiesce so convergence can be checked.
      if (this.nowMs > this.stats.livenessAtMs + 1000) return;
    }
    const node = this.rng.pick(this.nodes);
    if (node.peer === undefined || !node.peer.status().serving) return;
    const write = `w${++this.writeCount}`;
    this.stats.writesSubmitted++;
    this.pendingWrites.set(write, { node: node.id, incarnation: node.incarnation, atMs: this.nowMs });
    const payload = encoder.encode(write);
    if (node.peer.status().state === 'LEADING') {
      this.step(node, { type: 'propose', requestId: ++this.requestCount, payload });
    } else {
      this.step(node, { type: 'forward', requestId: ++this.requestCount, request: payload });
    }
  }

  /** Liveness and convergence after healing, each within its bound. */
  private checkProgress(): void {
    const p = this.params;
    const sinceHeal = this.nowMs - this.stats.healedAtMs;
    if (this.stats.livenessAtMs < 0) {
      this.expect(sinceHeal <= p.livenessBoundMs,
        `no write acknowledged within ${p.livenessBoundMs} ms of healing (${this.describeStates()})`);
      return;
    }
    if (this.converged()) {
      this.stats.convergedAtMs = this.nowMs;
      this.finished = true;
      return;
    }
    this.expect(this.nowMs - this.stats.livenessAtMs <= p.convergeBoundMs,
      `peers did not converge within ${p.convergeBoundMs} ms (${this.describeStates()})`);
  }

  private converged(): boolean {
    // Servers a reconfig left out (or never took in) stay looking for good.
    const final = membershipOfEntries(this.canonical) ?? this.initialMembership;
    for (const node of this.nodes) {
      if (!isMemberOf(final, node.id)) continue;
      const status = node.peer?.status();
      if (status === undefined || !status.serving) return false;
      if (node.applied.length !== this.canonical.length) return false;
    }
    for (const write of this.ackedWrites) if (!this.canonicalWrites.has(write)) return false;
    return true;
  }

  describeStates(): string {
    return this.nodes.map((node) => {
      const s = node.peer?.status();
      if (s === undefined) return `${node.id}:down`;
      return `${node.id}:${s.state}${s.serving ? '*' : ''}(leader ${s.leader}, e${s.currentEpoch}, ` +
        `last ${describeZxid(s.lastZxid)}, applied ${node.applied.length})`;
    }).join(' ') + ` canonical=${this.canonical.length}`;
  }

  private note(node: Node, text: string): void {
    this.trace?.push(`${this.nowMs} [${node.id}] ${text}`);
  }
}

function describeInput(input: PeerInput): string {
  switch (input.type) {
    case 'timeout':
      return `timeout ${input.timer}`;
    case 'logged':
      return `logged ${describeZxid(input.zxid)}`;
    case 'linkLost':
      return `linkLost ${input.peer}`;
    default:
      return input.type;
  }
}

/** Reads a reconfig write `cfg#n:voters|observers`. */
function reconfigOf(payload: Uint8Array): MembershipChange | undefined {
  const text = decoder.decode(payload);
  const match = /^cfg#\d+:([\d,]*)\|([\d,]*)$/.exec(text);
  if (match === null) return undefined;
  const ids = (list: string) => (list === '' ? [] : list.split(',').map(Number));
  return { voters: ids(match[1]!), observers: ids(match[2]!) };
}

/** The config the last reconfig among `entries` made, if any. */
function membershipOfEntries(entries: readonly Entry[]): Membership | undefined {
  for (let i = entries.length - 1; i >= 0; i--) {
    const change = reconfigOf(encoder.encode(entries[i]!.write));
    if (change !== undefined) return { ...change, version: entries[i]!.zxid };
  }
  return undefined;
}

function newer(a: Membership | undefined, b: Membership | undefined): Membership | undefined {
  if (a === undefined || b === undefined) return a ?? b;
  return a.version >= b.version ? a : b;
}

function appliedZxidOf(node: Node): bigint {
  return node.applied.at(-1)?.zxid ?? node.disk.snapshot.zxid;
}

function isPrefix(shorter: readonly Entry[], longer: readonly Entry[]): boolean {
  if (shorter.length > longer.length) return false;
  return shorter.every((e, i) => e.zxid === longer[i]!.zxid && e.write === longer[i]!.write);
}

function encodeEntries(entries: readonly Entry[]): Uint8Array {
  return encoder.encode(JSON.stringify(entries.map((e) => [e.zxid.toString(), e.write])));
}

function decodeEntries(bytes: Uint8Array): Entry[] {
  const rows = JSON.parse(decoder.decode(bytes)) as [string, string][];
  return rows.map(([zxid, write]) => ({ zxid: BigInt(zxid), write }));
}
