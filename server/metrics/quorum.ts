// Quorum metrics for a replicated member, with the names Apache's ServerMetrics and its leader and
// follower servers register (learners, synced_followers, election_time, diff_count, ...). Values are
// read from the member's own counters at each scrape; only election_time is fed as elections end.

import { Counter, Gauge, Summary, type Registry } from 'prom-client';

/** The gauges registered here, which an ensemble member's mntr also reports (while leading, some). */
export const QUORUM_GAUGE_NAMES: ReadonlySet<string> = new Set([
  'quorum_size', 'learners', 'synced_followers', 'synced_non_voting_followers', 'synced_observers',
  'pending_syncs', 'leader_uptime', 'last_proposal_size', 'min_proposal_size', 'max_proposal_size',
]);

/** What the member counts (server/ensemble's MemberQuorumStats; declared here so metrics stays below). */
export interface QuorumStatsView {
  readonly lookingCount: number;
  readonly syncsSent: { readonly DIFF: number; readonly TRUNC: number; readonly SNAP: number };
  readonly proposalCount: number;
  readonly commitCount: number;
  readonly learnerProposalReceivedCount: number;
  readonly learnerCommitReceivedCount: number;
  readonly electionTimesMs: readonly number[];
  onElectionTime: ((elapsedMs: number) => void) | undefined;
  onSyncTime: ((role: 'follower' | 'observer', elapsedMs: number) => void) | undefined;
  onUnavailableTime: ((elapsedMs: number, leading: boolean) => void) | undefined;
}

export interface QuorumMetricsSource {
  readonly quorumStats: QuorumStatsView;
  /** mntr's quorum entries (QUORUM_GAUGE_NAMES); the leader's are absent elsewhere and read as 0 here. */
  monitorEntries(): Array<[string, number]>;
}

/** Registers the quorum metrics on `registry`; the returned function stops feeding election_time. */
export function registerQuorumMetrics(registry: Registry, source: QuorumMetricsSource): () => void {
  const stats = source.quorumStats;
  const gauge = (name: string, help: string, read: () => number) =>
    new Gauge({ name, help, registers: [registry], collect() { this.set(read()); } });
  const counter = (name: string, help: string, read: () => number) =>
    new Counter({
      name,
      help,
      registers: [registry],
      collect() {
        this.reset();
        this.inc(read());
      },
    });
  for (const name of QUORUM_GAUGE_NAMES) {
    const read = () => source.monitorEntries().find(([key]) => key === name)?.[1] ?? 0;
    gauge(name, `${name}, as mntr reports it (0 where Apache has no such gauge)`, read);
  }
  counter('looking_count', 'Times this server started looking for a leader', () => stats.lookingCount);
  counter('diff_count', 'Learner syncs by DIFF sent as leader', () => stats.syncsSent.DIFF);
  counter('snap_count', 'Learner syncs by SNAP sent as leader', () => stats.syncsSent.SNAP);
  // Apache counts no TRUNC syncs; the name follows diff_count and snap_count.
  counter('trunc_count', 'Learner syncs by TRUNC sent as leader', () => stats.syncsSent.TRUNC);
  counter('proposal_count', 'Proposals made as leader', () => stats.proposalCount);
  counter('commit_count', 'Proposals committed as leader', () => stats.commitCount);
  counter('learner_proposal_received_count', 'Proposals received as learner',
    () => stats.learnerProposalReceivedCount);
  counter('learner_commit_received_count', 'Commits (and informs) received as learner',
    () => stats.learnerCommitReceivedCount);

  const electionTime = new Summary({
    name: 'election_time',
    help: 'Time from looking for a leader to a settled vote, in milliseconds',
    registers: [registry],
  });
  for (const elapsedMs of stats.electionTimesMs) electionTime.observe(elapsedMs); // before registration
  const observe = (elapsedMs: number) => electionTime.observe(elapsedMs);
  stats.onElectionTime = observe;
  const summary = (name: string, help: string) => new Summary({ name, help, registers: [registry] });
  const syncTimes = {
    follower: summary('follower_sync_time', 'Time from following a leader to serving, in milliseconds'),
    observer: summary('observer_sync_time', 'Time from observing a leader to serving, in milliseconds'),
  };
  const observeSync = (role: 'follower' | 'observer', elapsedMs: number) =>
    syncTimes[role].observe(elapsedMs);
  stats.onSyncTime = observeSync;
  const unavailable = summary('unavailable_time',
    'Time from looking for a leader to serving, in milliseconds');
  const leaderUnavailable = summary('leader_unavailable_time',
    'Time from looking for a leader to serving as the leader, in milliseconds');
  const observeUnavailable = (elapsedMs: number, leading: boolean) => {
    unavailable.observe(elapsedMs);
    if (leading) leaderUnavailable.observe(elapsedMs);
  };
  stats.onUnavailableTime = observeUnavailable;
  return () => {
    if (stats.onElectionTime === observe) stats.onElectionTime = undefined;
    if (stats.onSyncTime === observeSync) stats.onSyncTime = undefined;
    if (stats.onUnavailableTime === observeUnavailable) stats.onUnavailableTime = undefined;
  };
}
