// The tree digest each prepared txn will leave behind, known before it is applied: Apache 3.8 logs it
// after the txn (TxnDigest) and so must we, but a txn is persisted before it is applied and writes
// pipeline, so the digest is forecast from the tree plus the prepared-but-unapplied txns. Only the
// nodes a txn touches are looked at (no tree walk); their states after the outstanding txns are kept
// here until those txns apply. The effects mirror DataTree's apply exactly (create, delete, setData,
// setACL, closeSession, multi). Pure.

import {
  CONTAINER_EPHEMERAL_OWNER,
  OpCode,
  records as R,
  type StatPersisted,
} from '../../src/protocol/index.js';
import { addToTreeDigest, nodeDigest, TREE_DIGEST_VERSION } from '../persistence/digest.js';
import { newStat, ttlOwner, type DataTree } from '../tree/data-tree.js';
import type { Txn } from './api.js';
import { txnCodecFor } from './prepare.js';

/** What the digest needs of a node: its data and persisted stat (null: no node), and its digest. */
interface NodeState {
  readonly data: Buffer | null;
  readonly stat: StatPersisted;
  digest?: bigint;
}

/** One forecast txn: its zxid and how to take it back (the states it replaced, the digest before). */
interface Forecast {
  readonly zxid: bigint;
  readonly digestBefore: bigint;
  readonly replaced: Array<{ path: string; previous: Pending | undefined }>;
}

interface Pending {
  readonly state: NodeState | null;
  readonly zxid: bigint;
}

/** The ephemeralOwner a create txn of `type` gives its node (as DataTree's apply sets it). */
export function createdOwner(type: number, record: { ephemeral?: boolean; ttl?: bigint }, clientId: bigint) {
  if (type === OpCode.createContainer) return CONTAINER_EPHEMERAL_OWNER;
  if (type === OpCode.createTTL) return ttlOwner(BigInt(record.ttl ?? 0n));
  return record.ephemeral ? clientId : 0n;
}

function parentOf(path: string): string {
  const slash = path.lastIndexOf('/');
  return slash <= 0 ? '/' : path.slice(0, slash);
}

export class DigestForecast {
  /** Node states after every forecast txn, for the nodes those txns touch. */
  private readonly pending = new Map<string, Pending>();
  private readonly forecasts: Forecast[] = [];
  private forecastHead = 0;
  /** The digest after the newest forecast txn (meaningful only while one is outstanding). */
  private digestAfter = 0n;

  constructor(private readonly tree: DataTree) {}

  /** The digest the tree will have once every forecast txn is applied. */
  get currentDigest(): bigint {
    return this.outstanding > 0 ? this.digestAfter : this.tree.digest;
  }

  private get outstanding(): number {
    return this.forecasts.length - this.forecastHead;
  }

  /** Forecasts `txn` (the next in zxid order) and returns it with its TxnDigest. */
  withDigest(txn: Txn): Txn {
    const forecast: Forecast = { zxid: txn.header.zxid, digestBefore: this.currentDigest, replaced: [] };
    this.digestAfter = forecast.digestBefore;
    this.forecasts.push(forecast);
    this.effects(txn.header.type, txn.record, txn.header, forecast);
    return { ...txn, digest: { version: TREE_DIGEST_VERSION, treeDigest: this.digestAfter } };
  }

  /**
   * Txns up to `zxid` were applied: the tree itself now holds what they changed. Returns whether txn
   * `zxid` itself was forecast here (so its digest can be checked against the tree).
   */
  applied(zxid: bigint): boolean {
    let forecastHere = false;
    while (this.forecastHead < this.forecasts.length && this.forecasts[this.forecastHead]!.zxid <= zxid) {
      if (this.forecasts[this.forecastHead]!.zxid === zxid) forecastHere = true;
      for (const { path } of this.forecasts[this.forecastHead]!.replaced) {
        const entry = this.pending.get(path);
        if (entry !== undefined && entry.zxid <= zxid) this.pending.delete(path);
      }
      this.forecastHead++;
    }
    if (this.forecastHead === this.forecasts.length) {
      this.forecasts.length = 0;
      this.forecastHead = 0;
    } else if (this.forecastHead > 1024 && this.forecastHead * 2 > this.forecasts.length) {
      this.forecasts.splice(0, this.forecastHead);
      this.forecastHead = 0;
    }
    return forecastHere;
  }

  /** Forgets every outstanding forecast (their txns will never apply). */
  reset(): void {
    this.pending.clear();
    this.forecasts.length = 0;
    this.forecastHead = 0;
  }

  /** Takes back the newest forecast txn, if it is `zxid`. */
  withdraw(zxid: bigint): void {
    const newest = this.forecasts[this.forecasts.length - 1];
    if (newest === undefined || this.forecasts.length === this.forecastHead || newest.zxid !== zxid) return;
    this.forecasts.pop();
    for (let i = newest.replaced.length - 1; i >= 0; i--) {
      const { path, previous } = newest.replaced[i]!;
      if (previous === undefined) this.pending.delete(path);
      else this.pending.set(path, previous);
    }
    this.digestAfter = newest.digestBefore;
  }

  private stateOf(path: string): NodeState | null {
    const pending = this.pending.get(path);
    if (pending !== undefined) return pending.state;
    return this.tree.getNode(path) ?? null;
  }

  private change(forecast: Forecast, path: string, next: NodeState | null): void {
    const before = this.stateOf(path);
    // Tree nodes and pending states carry their digest: only the new state is computed.
    const digestOf = (node: NodeState) => (node.digest ??= nodeDigest(path, node.data, node.stat));
    if (before !== null) this.digestAfter = addToTreeDigest(this.digestAfter, digestOf(before), -1);
    if (next !== null) this.digestAfter = addToTreeDigest(this.digestAfter, digestOf(next));
    forecast.replaced.push({ path, previous: this.pending.get(path) });
    this.pending.set(path, { state: next, zxid: forecast.zxid });
  }

  private effects(type: number, record: any, header: R.TxnHeader, forecast: Forecast): void {
    const { zxid, time, clientId } = header;
    switch (type) {
      case OpCode.create:
      case OpCode.create2:
      case OpCode.createContainer:
      case OpCode.createTTL: {
        const parentPath = parentOf(record.path);
        const parent = this.stateOf(parentPath);
        if (parent === null || this.stateOf(record.path) !== null) return; // apply fails: no change
        const cversion = record.parentCVersion === -1 ? parent.stat.cversion + 1 : record.parentCVersion;
        if (cversion > parent.stat.cversion) {
          const stat = { ...parent.stat, cversion, pzxid: zxid };
          this.change(forecast, parentPath, { data: parent.data, stat });
        }
        const owner = createdOwner(type, record, clientId);
        this.change(forecast, record.path, { data: record.data, stat: newStat(zxid, time, owner) });
        return;
      }
      case OpCode.delete:
      case OpCode.deleteContainer:
        this.forecastDelete(forecast, record.path, zxid);
        return;
      case OpCode.closeSession:
        for (const path of (record?.paths2Delete ?? []) as string[]) {
          if (this.stateOf(path) !== null) this.forecastDelete(forecast, path, zxid); // as killSession
        }
        return;
      case OpCode.setData:
      case OpCode.reconfig: {
        const node = this.stateOf(record.path);
        if (node === null) return;
        const stat = { ...node.stat, mtime: time, mzxid: zxid, version: record.version };
        this.change(forecast, record.path, { data: record.data, stat });
        return;
      }
      case OpCode.setACL: {
        const node = this.stateOf(record.path);
        if (node === null) return;
        const stat = { ...node.stat, aversion: record.version };
        this.change(forecast, record.path, { data: node.data, stat });
        return;
      }
      case OpCode.multi: {
        const txns = record.txns as Array<{ type: number; data: Buffer }>;
        if (txns.some((txn) => txn.type === OpCode.error)) return; // a failed multi changes nothing
        for (const txn of txns) {
          this.effects(txn.type, txnCodecFor(txn.type).decode(txn.data), header, forecast);
        }
        return;
      }
      default:
        return; // createSession, error, check: the tree does not change
    }
  }

  private forecastDelete(forecast: Forecast, path: string, zxid: bigint): void {
    const parentPath = parentOf(path);
    const parent = this.stateOf(parentPath);
    if (parent === null) return;
    if (zxid > parent.stat.pzxid) {
      this.change(forecast, parentPath, { data: parent.data, stat: { ...parent.stat, pzxid: zxid } });
    }
    if (this.stateOf(path) !== null) this.change(forecast, path, null);
  }
}
