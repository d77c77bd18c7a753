// Goal: the metric names our /metrics shares with Apache 3.8's Prometheus provider exist on both with
// the same type. Debian's zookeeper package does not ship that provider (no
// org.apache.zookeeper.metrics.prometheus classes, no simpleclient jars), so Apache's side is read as
// far as this machine allows: each metric's type from the bytecode of the installed zookeeper.jar
// (ServerMetrics' counters and summaries, the servers' registered gauges: what the provider exports),
// and its presence from a live Apache 3-member ensemble's mntr (the same registry, dumped), beside a
// scrape of our in-process 3-member ensemble.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { describe, it } from 'mocha';
import { ZooKeeperClient } from '../../../src/index.js';
import { startEnsemble as startInProcess, type RunningMember } from '../../../server/ensemble/server.js';
import { PROMETHEUS_PROVIDER_CLASS } from '../../../server/metrics/index.js';
import { APACHE_JAR, apacheAvailable } from '../../support/apache.js';
import { startEnsemble } from '../../support/ensemble.js';
import { fourLetterWord } from '../../support/ports.js';

type Kind = 'counter' | 'gauge' | 'summary';

/** The names we claim to share with Apache, and their Prometheus type. */
const SHARED: Record<string, Kind> = {
  readlatency: 'summary', updatelatency: 'summary', fsynctime: 'summary', election_time: 'summary',
  follower_sync_time: 'summary', observer_sync_time: 'summary', unavailable_time: 'summary',
  leader_unavailable_time: 'summary',
  outstanding_requests: 'gauge', znode_count: 'gauge', watch_count: 'gauge', ephemerals_count: 'gauge',
  approximate_data_size: 'gauge', global_sessions: 'gauge', local_sessions: 'gauge',
  num_alive_connections: 'gauge', packets_sent: 'gauge', packets_received: 'gauge', avg_latency: 'gauge',
  min_latency: 'gauge', max_latency: 'gauge', uptime: 'gauge', auth_failed_count: 'gauge',
  open_file_descriptor_count: 'gauge', max_file_descriptor_count: 'gauge',
  quorum_size: 'gauge', learners: 'gauge', synced_followers: 'gauge', synced_non_voting_followers: 'gauge',
  synced_observers: 'gauge', pending_syncs: 'gauge', leader_uptime: 'gauge', last_proposal_size: 'gauge',
  min_proposal_size: 'gauge', max_proposal_size: 'gauge',
  proposal_count: 'counter', commit_count: 'counter', looking_count: 'counter', diff_count: 'counter',
  snap_count: 'counter', learner_proposal_received_count: 'counter', learner_commit_received_count: 'counter',
  connection_rejected: 'counter', digest_mismatches_count: 'counter', stale_sessions_expired: 'counter',
};

const JAVAP = '/usr/bin/javap';
const METRIC_CLASSES = [
  'org.apache.zookeeper.server.ServerMetrics',
  'org.apache.zookeeper.server.ZooKeeperServer',
  'org.apache.zookeeper.server.quorum.QuorumZooKeeperServer',
  'org.apache.zookeeper.server.quorum.LeaderZooKeeperServer',
  'org.apache.zookeeper.server.quorum.FollowerZooKeeperServer',
];

/**
 * Apache's metrics and their types, from the installed jar's bytecode: a string constant followed by
 * MetricsContext.getCounter/getSummary/getSummarySet/getCounterSet or registerGauge names a metric.
 */
function apacheMetricKinds(): Map<string, Kind> {
  const kinds = new Map<string, Kind>();
  const text = execFileSync(JAVAP, ['-c', '-p', '-cp', APACHE_JAR, ...METRIC_CLASSES], { encoding: 'utf8' });
  let name: string | undefined;
  for (const line of text.split('\n')) {
    const constant = /\/\/ String ([a-z0-9_]+)\s*$/.exec(line);
    if (constant !== null) {
      name = constant[1];
      continue;
    }
    if (name === undefined) continue;
    const kind = /MetricsContext\.get(Counter|Summary)(Set)?:/.exec(line)?.[1]
      ?? (line.includes('registerGauge') ? 'Gauge' : undefined);
    if (kind !== undefined && !kinds.has(name)) kinds.set(name, kind.toLowerCase() as Kind);
    if (line.includes('invoke')) name = undefined;
  }
  return kinds;
}

/** What Apache's mntr shows of `name`: summaries as avg_/min_/max_/cnt_/sum_<name>. */
function inMntr(mntr: ReadonlySet<string>, name: string, kind: Kind): boolean {
  return kind === 'summary' ? mntr.has(`avg_${name}`) && mntr.has(`cnt_${name}`) : mntr.has(name);
}

async function mntrNames(port: number): Promise<Set<string>> {
  const text = await fourLetterWord(port, 'mntr');
  return new Set(text.split('\n').filter((l) => l.startsWith('zk_')).map((l) => l.slice(3).split('\t')[0]!));
}

/** `# TYPE name type` lines of a scrape. */
async function scrapeTypes(member: RunningMember): Promise<Map<string, string>> {
  const text = await (await fetch(`http://127.0.0.1:${member.metricsPort}/metrics`)).text();
  const types = new Map<string, string>();
  for (const match of text.matchAll(/^# TYPE (\S+) (\S+)$/gm)) types.set(match[1]!, match[2]!);
  return types;
}

async function someTraffic(connectString: string): Promise<void> {
  const client = new ZooKeeperClient({ connectString, sessionTimeoutMs: 6_000 });
  try {
    await client.connect({ timeoutMs: 10_000 });
    await client.create(`/n${Math.random().toString(36).slice(2)}`, 'x', { mode: 'EPHEMERAL' });
    await client.sync('/');
  } finally {
    await client.close();
  }
}

describe('Prometheus metric names, Apache 3.8 and ours side by side', function () {
  this.timeout(90_000);

  it('has every shared name on both, with Apache\'s type', async function () {
    if (!apacheAvailable() || !existsSync(JAVAP)) this.skip();
    const apacheKinds = apacheMetricKinds();
    assert.equal(apacheKinds.get('readlatency'), 'summary', 'javap parse: readlatency');
    assert.equal(apacheKinds.get('znode_count'), 'gauge', 'javap parse: znode_count');

    const apacheMntr = new Set<string>();
    {
      await using apache = await startEnsemble({ kind: 'apache', voters: 3, observers: 1, config: {
        '4lw.commands.whitelist': '*',
      } });
      const leader = await apache.leader();
      await someTraffic(apache.connectString);
      for (const member of apache.members) {
        for (const name of await mntrNames(member.clientPort)) apacheMntr.add(name);
      }
      assert.ok(leader.id > 0);
    }

    await using ours = await startInProcess({
      size: 3,
      observers: 1,
      serverOptions: {
        metricsProviderClassName: PROMETHEUS_PROVIDER_CLASS,
        metricsHttpHost: '127.0.0.1',
        metricsHttpPort: 0,
      },
    });
    await ours.settled();
    await someTraffic(ours.connectString);
    const ourTypes = new Map<string, string>();
    for (const member of ours.members.values()) {
      for (const [name, type] of await scrapeTypes(member)) ourTypes.set(name, type);
    }

    const problems: string[] = [];
    for (const [name, kind] of Object.entries(SHARED)) {
      if (apacheKinds.get(name) !== kind) problems.push(`${name}: Apache's jar has ${apacheKinds.get(name)}`);
      if (!inMntr(apacheMntr, name, kind)) problems.push(`${name}: not in Apache's mntr`);
      if (ourTypes.get(name) !== kind) problems.push(`${name}: ours is ${ourTypes.get(name) ?? 'absent'}`);
    }
    // Every name both have must agree on its type, claimed or not.
    for (const [name, type] of ourTypes) {
      const theirs = apacheKinds.get(name);
      if (theirs !== undefined && theirs !== type) problems.push(`${name}: ours ${type}, Apache's ${theirs}`);
    }
    assert.deepEqual(problems, []);
  });
});
