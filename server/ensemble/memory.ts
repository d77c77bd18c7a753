// In-process seams for ensemble members: a network of peers inside one process (with optional loss and
// partitions) and a storage that keeps the "disk" in memory (it survives a member's restart when the
// same MemoryDisk is handed to the new storage). For tests and the in-process startEnsemble().

import { ClosedError } from '../../src/protocol/errors.js';
import type { ServerCore } from '../core/server-core.js';
import type { DurableState, Membership, PeerMessage, Txn } from '../quorum/index.js';
import type { PeerStorage, PeerTransport } from './seams.js';
import { encodeCoreSnapshot, restoreCoreSnapshot } from './snapshot-bytes.js';

export interface MemoryNetworkOptions {
  /** Probability that a message is lost (0 by default). */
  readonly dropRate?: number;
  /** Source of randomness for losses; Math.random by default. */
  readonly random?: () => number;
}

/** Peers in one process. Messages arrive asynchronously, in order per sender and receiver. */
export class MemoryNetwork {
  private readonly receivers = new Map<number, (from: number, message: PeerMessage) => void>();
  /** Peer id → its partition group; peers in different groups cannot talk. Empty: everyone can. */
  private readonly groups = new Map<number, number>();
  private readonly dropRate: number;
  private readonly random: () => number;
  delivered = 0;
  dropped = 0;

  constructor(options: MemoryNetworkOptions = {}) {
    this.dropRate = options.dropRate ?? 0;
    this.random = options.random ?? Math.random;
  }

  /** The transport of peer `id`. */
  transport(id: number): PeerTransport {
    return new MemoryTransport(this, id);
  }

  /** Splits the peers into groups that only hear each other; peers not listed form one more group. */
  partition(...groups: readonly (readonly number[])[]): void {
    this.groups.clear();
    groups.forEach((group, index) => group.forEach((id) => this.groups.set(id, index + 1)));
  }

  /** Cuts one peer off from all the others. */
  isolate(id: number): void {
    this.partition([id]);
  }

  heal(): void {
    this.groups.clear();
  }

  canTalk(from: number, to: number): boolean {
    return (this.groups.get(from) ?? 0) === (this.groups.get(to) ?? 0);
  }

  attach(id: number, receive: (from: number, message: PeerMessage) => void): void {
    if (this.receivers.has(id)) throw new Error(`peer ${id} is already on the network`);
    this.receivers.set(id, receive);
  }

  detach(id: number, receive: (from: number, message: PeerMessage) => void): void {
    if (this.receivers.get(id) === receive) this.receivers.delete(id);
  }

  send(from: number, to: number, message: PeerMessage): void {
    if (!this.canTalk(from, to) || (this.dropRate > 0 && this.random() < this.dropRate)) {
      this.dropped++;
      return;
    }
    // setImmediate keeps FIFO order per sender/receiver and never delivers inside the sender's step.
    setImmediate(() => {
      const receive = this.receivers.get(to);
      if (receive === undefined || !this.canTalk(from, to)) {
        this.dropped++;
        return;
      }
      this.delivered++;
      receive(from, message);
    });
  }
}

class MemoryTransport implements PeerTransport {
  private receive: ((from: number, message: PeerMessage) => void) | undefined;
  private closed = false;

  constructor(
    private readonly network: MemoryNetwork,
    private readonly id: number,
  ) {}

  async start(onMessage: (from: number, message: PeerMessage) => void): Promise<void> {
    if (this.closed) throw new ClosedError('the transport is closed');
    this.receive = (from, message) => {
      if (!this.closed) onMessage(from, message);
    };
    this.network.attach(this.id, this.receive);
  }

  send(to: number, message: PeerMessage): void {
    if (this.closed || this.receive === undefined) return;
    this.network.send(this.id, to, message);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.receive !== undefined) this.network.detach(this.id, this.receive);
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}

/** What a member's disk holds; hand the same object to a new MemoryStorage to restart the member. */
export class MemoryDisk {
  acceptedEpoch = 0n;
  currentEpoch = 0n;
  /** Durable txns above the snapshot, in zxid order. */
  log: Txn[] = [];
  snapshot: { zxid: bigint; bytes: Uint8Array } | undefined;
  /** The config this member last activated (Apache's dynamic config file); undefined: the static one. */
  membership: Membership | undefined;
}

export interface MemoryStorageOptions {
  /** Txns kept in the log before a snapshot replaces them (like snapCount); default 10 000. */
  readonly snapCount?: number;
}

/** A PeerStorage in memory: appends become durable on the next turn of the event loop (group commit). */
export class MemoryStorage implements PeerStorage {
  onLogged: (zxid: bigint) => void = () => {};
  private pending: Txn[] = [];
  private flushing: Promise<void> | undefined;
  private closed = false;
  private readonly snapCount: number;

  constructor(
    readonly disk: MemoryDisk = new MemoryDisk(),
    options: MemoryStorageOptions = {},
  ) {
    this.snapCount = options.snapCount ?? 10_000;
  }

  async open(core: ServerCore): Promise<DurableState> {
    const { disk } = this;
    const appliedZxid = disk.snapshot?.zxid ?? 0n;
    if (disk.snapshot !== undefined) restoreCoreSnapshot(core, appliedZxid, disk.snapshot.bytes, Date.now());
    const log = disk.log.filter((txn) => txn.zxid > appliedZxid);
    return {
      acceptedEpoch: disk.acceptedEpoch, currentEpoch: disk.currentEpoch, appliedZxid, log,
      ...(disk.membership !== undefined && { membership: disk.membership }),
    };
  }

  /** Keeps a newly activated config, so a restarted member comes back with it (not the static one). */
  recordMembership(active: Membership): void {
    if (this.closed || active.version <= (this.disk.membership?.version ?? 0n)) return;
    this.disk.membership = active;
  }

  append(txns: readonly Txn[]): void {
    if (this.closed) return;
    this.pending.push(...txns);
    this.flushing ??= new Promise<void>((resolve) =>
      setImmediate(() => {
        this.flushing = undefined;
        this.sync();
        resolve();
      }),
    );
  }

  private sync(): void {
    if (this.pending.length === 0 || this.closed) return;
    const txns = this.pending;
    this.pending = [];
    this.disk.log.push(...txns);
    this.onLogged(txns[txns.length - 1]!.zxid);
  }

  async flush(): Promise<void> {
    await this.flushing;
  }

  async persistEpoch(which: 'acceptedEpoch' | 'currentEpoch', epoch: bigint): Promise<void> {
    await this.flush();
    this.disk[which] = epoch;
  }

  async truncate(zxid: bigint): Promise<void> {
    await this.flush();
    this.disk.log = this.disk.log.filter((txn) => txn.zxid <= zxid);
  }

  serializeSnapshot(core: ServerCore): Uint8Array {
    return encodeCoreSnapshot(core);
  }

  async installSnapshot(core: ServerCore, zxid: bigint, snapshot: Uint8Array): Promise<void> {
    await this.flush();
    restoreCoreSnapshot(core, zxid, snapshot, Date.now());
    this.disk.snapshot = { zxid, bytes: snapshot };
    this.disk.log = [];
  }

  applied(core: ServerCore, zxid: bigint): void {
    // Like snapCount: a snapshot of the applied state lets the log before it go.
    const { disk } = this;
    if (disk.log.length < this.snapCount || zxid !== core.lastProcessedZxid) return;
    disk.snapshot = { zxid, bytes: encodeCoreSnapshot(core) };
    disk.log = disk.log.filter((txn) => txn.zxid > zxid);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    await this.flush();
    this.closed = true;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}
