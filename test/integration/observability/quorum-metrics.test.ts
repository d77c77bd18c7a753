// Goal: an in-process ensemble with the Prometheus provider on serves Apache's quorum metric names on
// each member's /metrics with values that match what happened (the leader's learners and synced
// followers and observers, elections timed, proposals made and commits received), mntr shows the
// leader's learner entries as Apache 3.8 names them, the AdminServer answers leader and voting_view,
// and the members log each election's result and time and each learner's sync mode.
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { describe, it } from 'mocha';
import { pino } from 'pino';
import { ZooKeeperClient } from '../../../src/index.js';
import { startEnsemble, type RunningMember } from '../../../server/ensemble/server.js';
import { PROMETHEUS_PROVIDER_CLASS } from '../../../server/metrics/index.js';
import { fourLetterWord } from '../../support/ports.js';

/** mntr's lines as name → value (without the zk_ prefix). */
async function mntr(member: RunningMember): Promise<Map<string, string>> {
  const text = await fourLetterWord(member.port, 'mntr');
  return new Map(text.split('\n').filter((l) => l.startsWith('zk_')).map((l) => {
    const [name, value] = l.split('\t');
    return [name!.slice(3), value ?? ''];
  }));
}

/** Every unlabelled sample (and summary _count/_sum) of a scrape, by name. */
async function scrape(member: RunningMember): Promise<Map<string, number>> {
  assert.ok(member.metricsPort !== undefined, `member ${member.myId} serves no /metrics`);
  const response = await fetch(`http://127.0.0.1:${member.metricsPort}/metrics`);
  assert.equal(response.status, 200);
  const samples = new Map<string, number>();
  for (const line of (await response.text()).split('\n')) {
    const match = /^([a-z_][a-z0-9_]*) (\S+)$/.exec(line);
    if (match !== null) samples.set(match[1]!, Number(match[2]));
  }
  return samples;
}

async function adminCommand(member: RunningMember, name: string): Promise<Record<string, unknown>> {
  assert.ok(member.adminPort !== undefined, `member ${member.myId} runs no admin server`);
  const response = await fetch(`http://127.0.0.1:${member.adminPort}/commands/${name}`);
  assert.equal(response.status, 200);
  return (await response.json()) as Record<string, unknown>;
}

function sample(samples: Map<string, number>, name: string): number {
  const value = samples.get(name);
  assert.ok(value !== undefined, `no ${name} in the scrape`);
  return value;
}

describe('quorum metrics and logs of an ensemble member', function () {
  this.timeout(20_000);

  it('scrapes learners, synced followers and observers, election_time and proposal counts', async () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        lines.push(...String(chunk).split('\n').filter((l) => l !== ''));
        done();
      },
    });
    await using ensemble = await startEnsemble({
      size: 3,
      observers: 1,
      logger: pino({ level: 'info' }, sink),
      serverOptions: {
        metricsProviderClassName: PROMETHEUS_PROVIDER_CLASS,
        metricsHttpHost: '127.0.0.1',
        metricsHttpPort: 0,
        fourLetterWordsEnabled: new Set(['srvr', 'mntr']),
        adminServerEnabled: true,
        adminServerAddress: '127.0.0.1',
        adminServerPort: 0,
      },
    });
    const leader = await ensemble.settled();
    const others = [...ensemble.members.values()].filter((m) => m !== leader);
    const follower = others.find((m) => m.mode === 'follower')!;

    const writes = 5;
    {
      await using client = new ZooKeeperClient({ connectString: follower.connectString });
      await client.connect();
      for (let i = 0; i < writes; i++) await client.create(`/m${i}`, 'x');
      await client.sync('/');
    }

    const onLeader = await scrape(leader);
    assert.equal(sample(onLeader, 'quorum_size'), 3);
    assert.equal(sample(onLeader, 'learners'), 3);
    assert.equal(sample(onLeader, 'synced_followers'), 2);
    assert.equal(sample(onLeader, 'synced_observers'), 1);
    assert.ok(sample(onLeader, 'election_time_count') >= 1, 'no election timed on the leader');
    // createSession, the creates, closeSession: all proposed by the leader.
    assert.ok(sample(onLeader, 'proposal_count') >= writes + 1);
    assert.ok(sample(onLeader, 'commit_count') >= writes + 1, 'commits counted as the proposals');
    assert.ok(sample(onLeader, 'leader_unavailable_time_count') >= 1);
    assert.ok(sample(onLeader, 'leader_uptime') >= 0);
    const syncs = ['diff_count', 'snap_count', 'trunc_count'].map((n) => sample(onLeader, n));
    assert.equal(syncs.reduce((a, b) => a + b, 0), 3, 'one sync per learner');

    const onFollower = await scrape(follower);
    assert.equal(sample(onFollower, 'learners'), 0);
    assert.equal(sample(onFollower, 'proposal_count'), 0);
    assert.ok(sample(onFollower, 'election_time_count') >= 1);
    assert.ok(sample(onFollower, 'learner_proposal_received_count') >= writes);
    assert.ok(sample(onFollower, 'learner_commit_received_count') >= writes);
    assert.equal(sample(onFollower, 'commit_count'), 0);
    assert.ok(sample(onFollower, 'follower_sync_time_count') >= 1, 'the follower\'s sync timed');
    assert.ok(sample(onFollower, 'unavailable_time_count') >= 1);
    assert.equal(sample(onFollower, 'leader_unavailable_time_count'), 0);

    // mntr: the leader's learner gauges as Apache's (zk_learners ...), quorum_size everywhere.
    const leaderMntr = await mntr(leader);
    assert.equal(leaderMntr.get('learners'), '3');
    assert.equal(leaderMntr.get('synced_followers'), '2');
    assert.equal(leaderMntr.get('synced_observers'), '1');
    assert.equal(leaderMntr.get('pending_syncs'), '0');
    assert.equal(leaderMntr.get('quorum_size'), '3');
    assert.ok(leaderMntr.has('leader_uptime'));
    const followerMntr = await mntr(follower);
    assert.equal(followerMntr.get('quorum_size'), '3');
    assert.equal(followerMntr.has('learners'), false);

    // AdminServer: leader and voting_view as Apache's (voters only), mntr with the leader's entries.
    const leaderView = await adminCommand(leader, 'leader');
    assert.deepEqual(leaderView, {
      is_leader: true, leader_id: leader.myId, leader_ip: '127.0.0.1', command: 'leader', error: null,
    });
    const followerView = await adminCommand(follower, 'lead');
    assert.equal(followerView['is_leader'], false);
    assert.equal(followerView['leader_id'], leader.myId);
    const voting = (await adminCommand(follower, 'voting_view'))['current_config'] as Record<string, string>;
    assert.deepEqual(Object.keys(voting).sort(), ['1', '2', '3']);
    assert.match(voting['1']!, /^127\.0\.0\.1:\d+:\d+:participant$/);
    assert.equal((await adminCommand(leader, 'mntr'))['synced_followers'], 2);

    const records = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    const elections = records.filter((r) => r['msg'] === 'election finished');
    assert.ok(elections.length >= 4, 'an election line per member');
    for (const r of elections) assert.equal(typeof r['electionMs'], 'number');
    assert.ok(elections.some((r) => r['state'] === 'LEADING' && r['leader'] === leader.myId));
    // What the real-process suite greps for: "sync" and the mode on one line, leader and learner side.
    const syncLines = lines.filter((l) => /sync[^\n]*\b(DIFF|SNAP|TRUNC)\b/i.test(l));
    assert.ok(syncLines.some((l) => /"myId":\d+.*"learner":\d+/.test(l)), 'no leader-side sync line');
    assert.ok(syncLines.some((l) => /sync with the leader/.test(l)), 'no learner-side sync line');
    assert.ok(records.some((r) => r['msg'] === 'session created'));
  });
});
