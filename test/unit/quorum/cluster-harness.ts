// A scripted, deterministic ensemble for scenario tests: messages are delivered in FIFO order with no
// delay, fsyncs complete at once, timers fire in virtual-time order, and the test cuts links, crashes
// and restarts peers by hand. The randomized counterpart is test/simulation/simulator.ts.

import assert from 'node:assert/strict';
import {
  QuorumPeer, quorumConfig, type DurableState, type PeerInput, type PeerMessage, type PeerOutput,
  type PeerStatus, type QuorumConfigInput, type TimerName, type Txn, type ZabBody,
} from '../../../server/quorum/index.js';

export interface HarnessNode {
  readonly id: number;
  peer: QuorumPeer | undefined;
  incarnation: number;
  disk: { acceptedEpoch: bigint; currentEpoch: bigint; snapshotZxid: bigint; snapshot: string[]; log: Txn[] };
  /** Writes applied to this node's state, in order. */
  applied: string[];
  timers: Map<TimerName, { token: number; atMs: number }>;
  /** ZAB sync packets this node received (diff / trunc / snap), in order. */
  syncs: ZabBody['type'][];
  roles: string[];
}

interface DueTimer {
  node: HarnessNode;
  timer: TimerName;
  token: number;
  atMs: number;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export class Cluster {
  readonly nodes = new Map<number, HarnessNode>();
  nowMs = 0;
  private readonly inflight: { from: number; to: number; message: PeerMessage }[] = [];
  private readonly cut = new Set<string>();
  private requestCount = 0;
  /** Request ids whose `syncDone` came out. */
  readonly syncsDone = new Set<number>();
  /** Every established leader: epoch → id. */
  readonly leaders = new Map<bigint, number>();

  constructor(
    readonly voters: number[],
    readonly observers: number[] = [],
    readonly overrides: Partial<QuorumConfigInput> = {},
  ) {
    for (const id of [...voters, ...observers]) {
      this.nodes.set(id, {
        id, peer: undefined, incarnation: 0, applied: [], timers: new Map(), syncs: [], roles: [],
        disk: { acceptedEpoch: 0n, currentEpoch: 0n, snapshotZxid: 0n, snapshot: [], log: [] },
      });
    }
  }

  node(id: number): HarnessNode {
    const node = this.nodes.get(id);
    assert.ok(node !== undefined, `no node ${id}`);
    return node;
  }

  status(id: number): PeerStatus {
    const peer = this.node(id).peer;
    assert.ok(peer !== undefined, `node ${id} is down`);
    return peer.status();
  }

  /** Seeds a node's disk before it starts: a log of txns (their payloads are write names). */
  seedDisk(id: number, state: { acceptedEpoch?: bigint; currentEpoch?: bigint; log?: [bigint, string][] }) {
    const disk = this.node(id).disk;
    disk.acceptedEpoch = state.acceptedEpoch ?? disk.acceptedEpoch;
    disk.currentEpoch = state.currentEpoch ?? disk.currentEpoch;
    disk.log = (state.log ?? []).map(([zxid, write]) => ({ zxid, payload: encoder.encode(write) }));
  }

  start(...ids: number[]): void {
    for (const id of ids.length > 0 ? ids : [...this.nodes.keys()]) {
      const node = this.node(id);
      node.incarnation++;
      node.timers.clear();
      node.applied = [...node.disk.snapshot];
      const config = quorumConfig({
        myId: id, voters: this.voters, observers: this.observers, tickMs: 100, initLimitTicks: 10,
        syncLimitTicks: 5, ...this.overrides,
      });
      const durable: DurableState = {
        acceptedEpoch: node.disk.acceptedEpoch, currentEpoch: node.disk.currentEpoch,
        appliedZxid: node.disk.snapshotZxid, log: [...node.disk.log],
      };
      node.peer = new QuorumPeer(config, durable, String(node.incarnation));
      this.step(node, { type: 'start' });
    }
  }

  crash(id: number): void {
    const node = this.node(id);
    node.peer = undefined; // this harness fsyncs at once, so the disk loses nothing
  }

  /** `id`'s transport reports that its connection with `peer` broke (a linkLost input). */
  linkLost(id: number, peer: number): void {
    const node = this.node(id);
    if (node.peer !== undefined) this.step(node, { type: 'linkLost', peer });
  }

  /** Crashes `id` and tells every live peer its connections to it broke, as TCP does for a killed process. */
  kill(id: number): void {
    this.crash(id);
    for (const other of this.nodes.keys()) if (other !== id) this.linkLost(other, id);
  }

  /** Cuts both directions between every node of `side` and every node not in it. */
  isolate(side: number[]): void {
    for (const a of side) {
      for (const b of this.nodes.keys()) if (!side.includes(b)) this.cut.add(`${a}-${b}`).add(`${b}-${a}`);
    }
  }

  heal(): void {
    this.cut.clear();
  }

  /** A client write at node `id`: proposed if it leads, forwarded otherwise. */
  write(id: number, write: string): void {
    const node = this.node(id);
    const payload = encoder.encode(write);
    const requestId = ++this.requestCount;
    if (this.status(id).state === 'LEADING') this.step(node, { type: 'propose', requestId, payload });
    else this.step(node, { type: 'forward', requestId, request: payload });
  }

  /** A client sync at node `id`; returns its request id (see syncsDone). */
  sync(id: number): number {
    const requestId = ++this.requestCount;
    this.step(this.node(id), { type: 'sync', requestId });
    return requestId;
  }

  /** Lets virtual time pass: messages first, then the earliest due timer, until `ms` have passed. */
  advance(ms: number): void {
    const until = this.nowMs + ms;
    for (;;) {
      this.deliverAll();
      const due = this.earliestTimer(until);
      if (due === undefined) break;
      this.nowMs = due.atMs;
      due.node.timers.delete(due.timer);
      this.step(due.node, { type: 'timeout', timer: due.timer, token: due.token });
    }
    this.nowMs = until;
  }

  /** Advances until `done` holds, checking every 10 ms of virtual time; fails after `maxMs`. */
  runUntil(done: () => boolean, maxMs = 20_000): void {
    const deadline = this.nowMs + maxMs;
    while (!done()) {
      assert.ok(this.nowMs < deadline, `condition not reached within ${maxMs} ms`);
      this.advance(10);
    }
  }

  /** The id of the serving leader, if exactly one serves. */
  servingLeader(): number | undefined {
    const leaders = [...this.nodes.values()].filter((n) => {
      const status = n.peer?.status();
      return status?.serving === true && status.state === 'LEADING';
    });
    return leaders.length === 1 ? leaders[0]!.id : undefined;
  }

  allServing(ids: number[]): boolean {
    return ids.every((id) => this.node(id).peer?.status().serving === true);
  }

  private deliverAll(): void {
    for (let steps = 0; this.inflight.length > 0; steps++) {
      assert.ok(steps < 1_000_000, 'message storm');
      const { from, to, message } = this.inflight.shift()!;
      const node = this.nodes.get(to); // undefined: a server a reconfig named that does not run here
      if (node?.peer === undefined || this.cut.has(`${from}-${to}`)) continue;
      const body = message.type === 'zab' ? message.body : undefined;
      if (body?.type === 'diff' || body?.type === 'trunc' || body?.type === 'snap') {
        node.syncs.push(body.type);
      }
      this.step(node, { type: 'message', from, message });
    }
  }

  private earliestTimer(until: number): DueTimer | undefined {
    let best: DueTimer | undefined;
    for (const node of this.nodes.values()) {
      if (node.peer === undefined) continue;
      for (const [timer, { token, atMs }] of node.timers) {
        if (atMs <= until && (best === undefined || atMs < best.atMs)) best = { node, timer, token, atMs };
      }
    }
    return best;
  }

  private step(node: HarnessNode, input: PeerInput): void {
    const outputs = node.peer!.step(input);
    let appended: bigint | undefined;
    for (const output of outputs) {
      const zxid = this.carryOut(node, output);
      if (zxid !== undefined) appended = zxid;
    }
    // fsync completes at once
    if (appended !== undefined && node.peer !== undefined) {
      this.step(node, { type: 'logged', zxid: appended });
    }
  }

  private carryOut(node: HarnessNode, output: PeerOutput): bigint | undefined {
    const { disk } = node;
    switch (output.kind) {
      case 'send':
        if (this.cut.has(`${node.id}-${output.to}`)) return undefined; // lost in the partition
        this.inflight.push({ from: node.id, to: output.to, message: output.message });
        return undefined;
      case 'sendSnapshot': {
        const body = output.message.body;
        assert.ok(body.type === 'snap');
        const snapshot = encoder.encode(JSON.stringify(node.applied));
        const message = { ...output.message, body: { ...body, snapshot } };
        this.inflight.push({ from: node.id, to: output.to, message });
        return undefined;
      }
      case 'appendTxns':
        disk.log.push(...output.txns);
        return output.txns.at(-1)!.zxid;
      case 'persistEpoch':
        disk[output.which] = output.epoch;
        return undefined;
      case 'truncateLog':
        disk.log = disk.log.filter((txn) => txn.zxid <= output.zxid);
        return undefined;
      case 'installSnapshot':
        node.applied = JSON.parse(decoder.decode(output.snapshot)) as string[];
        disk.snapshot = [...node.applied];
        disk.snapshotZxid = output.zxid;
        disk.log = [];
        return undefined;
      case 'deliver':
        node.applied.push(decoder.decode(output.txn.payload));
        return undefined;
      case 'request':
        this.step(node, { type: 'propose', requestId: output.requestId, payload: output.request });
        return undefined;
      case 'setTimer':
        node.timers.set(output.timer, { token: output.token, atMs: this.nowMs + output.delayMs });
        return undefined;
      case 'role':
        node.roles.push(output.state);
        return undefined;
      case 'syncDone':
        this.syncsDone.add(output.requestId);
        return undefined;
      case 'serving':
        if (output.leader === node.id) {
          assert.equal(this.leaders.get(output.epoch), undefined, `epoch ${output.epoch} established twice`);
          this.leaders.set(output.epoch, node.id);
        }
        return undefined;
      default:
        return undefined;
    }
  }
}
