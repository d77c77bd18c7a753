// The ensemble as one peer sees it: who votes, who observes, and the time limits of election and ZAB.

import { InvalidArgumentError } from '../../src/protocol/errors.js';
import type { Membership, MembershipChange } from './membership.js';
import { ZXID_COUNTER_MASK } from './zxid.js';

export interface QuorumConfig {
  /** This peer's server id (myid). */
  readonly myId: number;
  /** Server ids of the participants; only they vote, lead and count towards a quorum. */
  readonly voters: readonly number[];
  /** Server ids of the observers: they learn committed txns and never vote. */
  readonly observers: readonly number[];
  /** Length of one ZAB tick; the shell's 'tick' timer fires this often while following or leading. */
  readonly tickMs: number;
  /** Ticks a leader may spend in discovery and synchronization, and a learner before it is up to date. */
  readonly initLimitTicks: number;
  /** Ticks of silence after which a leader drops a learner and a learner gives up on its leader. */
  readonly syncLimitTicks: number;
  /** How long an election waits for a better vote once a quorum agrees (Apache: 200 ms). */
  readonly finalizeWaitMs: number;
  /** First interval between election rebroadcasts; doubles up to the max (Apache: 200 ms, 60 s). */
  readonly notificationIntervalMinMs: number;
  readonly notificationIntervalMaxMs: number;
  /** Committed proposals a peer keeps in memory to sync learners by DIFF (Apache: 500). */
  readonly committedLogMax: number;
  /** Highest zxid counter a leader may use before it must step down for a new epoch. */
  readonly zxidCounterMax: bigint;
  /** Uncommitted proposals (and pending syncs) a peer accepts before refusing more (a bound on memory). */
  readonly outstandingProposalsMax: number;
  /** Version of the config `voters` and `observers` describe (0 for a static config). */
  readonly configVersion: bigint;
  /** The shell's text of that config (its addresses), carried opaquely with it. */
  readonly configText?: string;
  /**
   * Recognizes a reconfig txn and reads the config it makes (dynamic reconfiguration); undefined:
   * no txn is a reconfig. Must be pure: every peer reads the same payload the same way.
   */
  readonly reconfigOf?: (payload: Uint8Array) => MembershipChange | undefined;
}

export const quorumDefaults = {
  tickMs: 2000,
  initLimitTicks: 10,
  syncLimitTicks: 5,
  finalizeWaitMs: 200,
  notificationIntervalMinMs: 200,
  notificationIntervalMaxMs: 60_000,
  committedLogMax: 500,
  zxidCounterMax: ZXID_COUNTER_MASK - 1n,
  outstandingProposalsMax: 10_000,
  configVersion: 0n,
} as const;

export type QuorumConfigInput = Pick<QuorumConfig, 'myId' | 'voters'> & Partial<QuorumConfig>;

/** Fills defaults and checks the config; each mistake gets one plain sentence. */
export function quorumConfig(input: QuorumConfigInput): QuorumConfig {
  const config: QuorumConfig = { observers: [], ...quorumDefaults, ...input };
  const problem = configProblem(config);
  if (problem !== undefined) throw new InvalidArgumentError(`quorum config: ${problem}`);
  return config;
}

function configProblem(c: QuorumConfig): string | undefined {
  const all = [...c.voters, ...c.observers];
  if (c.voters.length === 0) return 'there must be at least one voter';
  if (new Set(all).size !== all.length) return 'a server id is listed twice';
  if (!all.every((id) => Number.isInteger(id) && id >= 0)) return 'server ids must be non-negative integers';
  if (!all.includes(c.myId)) return `myId ${c.myId} is neither a voter nor an observer`;
  if (!(c.tickMs > 0)) return 'tickMs must be positive';
  if (!(c.syncLimitTicks >= 2)) return 'syncLimitTicks must be at least 2';
  if (!(c.initLimitTicks >= c.syncLimitTicks)) return 'initLimitTicks must be at least syncLimitTicks';
  if (!(c.finalizeWaitMs >= 0)) return 'finalizeWaitMs must not be negative';
  if (!(c.notificationIntervalMinMs > 0)) return 'notificationIntervalMinMs must be positive';
  if (!(c.notificationIntervalMaxMs >= c.notificationIntervalMinMs)) {
    return 'notificationIntervalMaxMs must be at least notificationIntervalMinMs';
  }
  if (!(c.committedLogMax >= 0)) return 'committedLogMax must not be negative';
  if (c.zxidCounterMax < 1n || c.zxidCounterMax >= ZXID_COUNTER_MASK) {
    return 'zxidCounterMax must be between 1 and 0xfffffffe';
  }
  if (!(c.outstandingProposalsMax >= 1)) return 'outstandingProposalsMax must be at least 1';
  return undefined;
}

/** The membership `voters` and `observers` describe. */
export function staticMembership(config: QuorumConfig): Membership {
  const { configVersion: version, voters, observers, configText: text } = config;
  return text === undefined ? { version, voters, observers } : { version, voters, observers, text };
}

export function isVoter(config: QuorumConfig, id: number): boolean {
  return config.voters.includes(id);
}

export function isMember(config: QuorumConfig, id: number): boolean {
  return config.voters.includes(id) || config.observers.includes(id);
}

/** Majority quorum: strictly more than half of the voters are among `ids` (non-voters ignored). */
export function isQuorum(config: QuorumConfig, ids: Iterable<number>): boolean {
  let count = 0;
  for (const id of new Set(ids)) if (isVoter(config, id)) count++;
  return count * 2 > config.voters.length;
}
