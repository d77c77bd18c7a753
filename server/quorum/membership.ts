// Who belongs to the ensemble, over time: dynamic reconfiguration. A reconfig is a txn like any other
// (the shell recognizes it with `QuorumConfig.reconfigOf`); from the moment a peer holds it, it is
// *pending*, and every quorum the peer counts (election, epoch, NEWLEADER, commits, the leader's synced
// set) must be a quorum of the active config AND of each pending one. Once committed it is *active*.
// This is Apache's pair of quorum verifiers (QuorumVerifier, lastSeenQuorumVerifier) as a pure log.

/** A txn as this module needs it (messages.ts's Txn; not imported, as messages.ts imports us). */
interface Txn {
  readonly zxid: bigint;
  readonly payload: Uint8Array;
}

/** The members of one configuration. */
export interface Membership {
  /** The zxid of the reconfig txn that made it (Apache's config version); a static config's own. */
  readonly version: bigint;
  /** Server ids of the participants: they vote, lead and count towards a quorum. */
  readonly voters: readonly number[];
  /** Server ids of the observers. */
  readonly observers: readonly number[];
  /** The shell's own form of it (the config text, with addresses); opaque to consensus. */
  readonly text?: string;
}

/** What a reconfig txn says, as the shell's `reconfigOf` reads it; its version is the txn's zxid. */
export type MembershipChange = Omit<Membership, 'version'>;

/** The configs a peer must respect now: the active one and the pending ones (zxid order). */
export interface MembershipView {
  readonly active: Membership;
  readonly pending: readonly Membership[];
}

export function isVoterOf(m: Membership, id: number): boolean {
  return m.voters.includes(id);
}

export function isMemberOf(m: Membership, id: number): boolean {
  return m.voters.includes(id) || m.observers.includes(id);
}

/** Majority of one config's voters among `ids`. */
export function isQuorumOf(m: Membership, ids: Iterable<number>): boolean {
  let count = 0;
  for (const id of new Set(ids)) if (m.voters.includes(id)) count++;
  return count * 2 > m.voters.length;
}

/** Every config of the view. */
export function configsOf(view: MembershipView): Membership[] {
  return [view.active, ...view.pending];
}

/** A quorum of the active config and of every pending one (old AND new, as Apache's qvAcksetPairs). */
export function isJointQuorum(view: MembershipView, ids: Iterable<number>): boolean {
  const set = [...ids];
  return configsOf(view).every((m) => isQuorumOf(m, set));
}

/** The voters of any config of the view, ascending. */
export function jointVoters(view: MembershipView): number[] {
  const ids = new Set<number>();
  for (const m of configsOf(view)) for (const id of m.voters) ids.add(id);
  return [...ids].sort((a, b) => a - b);
}

/**
 * Whether a config another peer has committed should replace ours: newer than our committed one, and
 * not older than the newest we saw proposed (if it is that one, it committed meanwhile).
 */
export function isNewerCommitted(view: MembershipView, config: Membership): boolean {
  const latest = view.pending.at(-1) ?? view.active;
  return config.version > view.active.version && config.version >= latest.version;
}

export function sameMembers(a: Membership, b: Membership): boolean {
  const same = (x: readonly number[], y: readonly number[]) =>
    x.length === y.length && [...x].sort().every((id, i) => id === [...y].sort()[i]);
  return same(a.voters, b.voters) && same(a.observers, b.observers);
}

/**
 * The configs along a peer's txn history: the one in force at the history's base, then one per
 * reconfig txn held. Kept in step with TxnHistory (append, truncate, snapshot, trim).
 */
export class MembershipLog {
  private baseConfig: Membership;
  /** Reconfig txns held, zxid-ascending. */
  private readonly changes: Membership[] = [];

  constructor(
    base: Membership,
    private readonly reconfigOf: ((payload: Uint8Array) => MembershipChange | undefined) | undefined,
  ) {
    this.baseConfig = base;
  }

  get latest(): Membership {
    return this.changes.at(-1) ?? this.baseConfig;
  }

  /** The config in force after the txn `zxid` (the latest change at or below it). */
  at(zxid: bigint): Membership {
    for (let i = this.changes.length - 1; i >= 0; i--) {
      if (this.changes[i]!.version <= zxid) return this.changes[i]!;
    }
    return this.baseConfig;
  }

  /** Active: the latest committed change; pending: those above the commit point. */
  view(committedZxid: bigint): MembershipView {
    const active = this.at(committedZxid);
    return { active, pending: this.changes.filter((m) => m.version > committedZxid) };
  }

  /** The config a txn makes, if it is a reconfig. */
  changeOf(txn: Txn): Membership | undefined {
    const change = this.reconfigOf?.(txn.payload);
    return change === undefined ? undefined : { ...change, version: txn.zxid };
  }

  onAppend(txn: Txn): void {
    const change = this.changeOf(txn);
    // A change at or below the base's version is in it already (a restart with the activated config).
    if (change !== undefined && change.version > this.latest.version) this.changes.push(change);
  }

  truncateAfter(zxid: bigint): void {
    while (this.changes.length > 0 && this.changes.at(-1)!.version > zxid) this.changes.pop();
  }

  /**
   * The leader's committed config as of a learner's sync base (where their histories agree): it
   * becomes the base; changes at or below its version are in it. A joining server may have started
   * with a config of its own; from here it has the ensemble's.
   */
  adopt(config: Membership): void {
    // A newer committed config (taken from the votes of an ensemble that moved on) stays: older is stale.
    if (config.version < this.baseConfig.version) return;
    while (this.changes.length > 0 && this.changes[0]!.version <= config.version) this.changes.shift();
    this.baseConfig = config;
  }

  /**
   * The leader's committed config replaces ours and every pending change: they are reconfigs of a
   * failed leader that the leader lacks, and its sync will truncate them from our log.
   */
  replace(config: Membership): void {
    this.changes.length = 0;
    this.baseConfig = config;
  }

  /** The history forgot the txns at or below `baseZxid`: fold their changes into the base. */
  trim(baseZxid: bigint): void {
    while (this.changes.length > 0 && this.changes[0]!.version <= baseZxid) {
      this.baseConfig = this.changes.shift()!;
    }
  }
}
