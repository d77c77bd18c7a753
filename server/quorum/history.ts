// A peer's view of its txn log: the txns it holds in memory and how far they are durable, committed
// and applied. Entries above `appliedZxid` are always held; applied ones are kept up to a bound so a
// leader can sync learners by DIFF (the committed-proposal buffer).

import assert from 'node:assert/strict';
import type { MembershipLog } from './membership.js';
import type { Txn } from './messages.js';

export class TxnHistory {
  /** zxid of the last txn before `entries` (everything at or below it is applied and not held). */
  baseZxid: bigint;
  /** Held txns, zxid-ascending, all above baseZxid. */
  readonly entries: Txn[] = [];
  /** Highest zxid whose txn and all before it are durable here. */
  durableZxid: bigint;
  /** Highest zxid known committed by a quorum (only raised once it is certain). */
  committedZxid: bigint;
  /** Highest zxid delivered to the shell's state. */
  appliedZxid: bigint;

  /** @param memberships follows the reconfig txns appended, truncated and trimmed here, if given. */
  constructor(appliedZxid: bigint, log: readonly Txn[], readonly memberships?: MembershipLog) {
    this.baseZxid = appliedZxid;
    this.appliedZxid = appliedZxid;
    this.committedZxid = appliedZxid;
    for (const txn of log) this.append(txn);
    this.durableZxid = this.lastZxid;
  }

  get lastZxid(): bigint {
    return this.entries.at(-1)?.zxid ?? this.baseZxid;
  }

  append(txn: Txn): void {
    assert.ok(txn.zxid > this.lastZxid, 'txns are appended in zxid order');
    this.entries.push(txn);
    this.memberships?.onAppend(txn);
  }

  /** Index of the first entry with a zxid above `zxid` (entries.length if none). */
  indexAfter(zxid: bigint): number {
    let low = 0;
    let high = this.entries.length;
    while (low < high) {
      const mid = (low + high) >>> 1;
      if (this.entries[mid]!.zxid <= zxid) low = mid + 1;
      else high = mid;
    }
    return low;
  }

  /** True if this history holds a txn with exactly this zxid, or zxid is the base. */
  holds(zxid: bigint): boolean {
    if (zxid === this.baseZxid) return true;
    const index = this.indexAfter(zxid) - 1;
    return index >= 0 && this.entries[index]!.zxid === zxid;
  }

  /** Drops every txn above `zxid`; the shell's truncation is a barrier, so what is left is durable. */
  truncateAfter(zxid: bigint): void {
    assert.ok(zxid >= this.appliedZxid, `truncation to ${zxid} below the applied ${this.appliedZxid}`);
    this.entries.length = this.indexAfter(zxid);
    this.memberships?.truncateAfter(zxid);
    this.durableZxid = this.lastZxid;
    if (this.committedZxid > this.lastZxid) this.committedZxid = this.lastZxid;
  }

  /** Replaces everything with a snapshot as of `zxid`. */
  resetToSnapshot(zxid: bigint): void {
    assert.ok(zxid >= this.appliedZxid, 'a snapshot never moves the applied state backwards');
    this.entries.length = 0;
    this.memberships?.truncateAfter(-1n); // the learner adopts the leader's config as of zxid
    this.baseZxid = zxid;
    this.appliedZxid = zxid;
    this.committedZxid = zxid;
    this.durableZxid = zxid;
  }

  markDurable(zxid: bigint): void {
    const through = zxid < this.lastZxid ? zxid : this.lastZxid;
    if (through > this.durableZxid) this.durableZxid = through;
  }

  markCommitted(zxid: bigint): void {
    if (zxid > this.committedZxid) this.committedZxid = zxid;
  }

  /** The txns now deliverable (committed and durable, not yet applied), marked applied. */
  takeDeliverable(): Txn[] {
    const limit = this.committedZxid < this.durableZxid ? this.committedZxid : this.durableZxid;
    const ready: Txn[] = [];
    for (let i = this.indexAfter(this.appliedZxid); i < this.entries.length; i++) {
      const txn = this.entries[i]!;
      if (txn.zxid > limit) break;
      ready.push(txn);
      this.appliedZxid = txn.zxid;
    }
    return ready;
  }

  /** Forgets the oldest applied txns beyond `appliedMax` of them. */
  trim(appliedMax: number): void {
    const applied = this.indexAfter(this.appliedZxid);
    const excess = applied - appliedMax;
    if (excess <= 0) return;
    this.baseZxid = this.entries[excess - 1]!.zxid;
    this.entries.splice(0, excess);
    this.memberships?.trim(this.baseZxid);
  }
}
