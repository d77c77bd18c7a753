// Goal: the `linkLost` input (a transport saw the connection to a peer break) makes a learner leave its
// leader at once, as Apache's follower does on a socket error, and makes a leader drop that learner and
// step down only when the learners left are no quorum; reports about other peers change nothing.
// Method: scripted ensembles in the deterministic harness (virtual time), plus single steps.

import assert from 'node:assert/strict';
import { Cluster } from './cluster-harness.js';

function settle(cluster: Cluster, ids: number[]): number {
  cluster.runUntil(() => cluster.servingLeader() !== undefined && cluster.allServing(ids));
  return cluster.servingLeader()!;
}

function writeAll(cluster: Cluster, at: number, names: string[], appliedOn: number[]): void {
  for (const name of names) cluster.write(at, name);
  cluster.runUntil(() => appliedOn.every((id) => names.every((n) => cluster.node(id).applied.includes(n))));
}

describe('quorum: broken connections (linkLost)', () => {
  it('a follower whose leader link broke looks again at once, without waiting for syncLimit', () => {
    const cluster = new Cluster([1, 2, 3]);
    cluster.start();
    const leader = settle(cluster, [1, 2, 3]);
    const [a, b] = [1, 2, 3].filter((id) => id !== leader) as [number, number];
    writeAll(cluster, a, ['before'], [1, 2, 3]);
    cluster.kill(leader);
    // No virtual time has passed: the report alone moved both followers.
    assert.equal(cluster.status(a).state, 'LOOKING');
    assert.equal(cluster.status(b).state, 'LOOKING');
    // tickMs 100 × syncLimit 5: the silent-leader timeout alone would take over 500 ms.
    const startMs = cluster.nowMs;
    settle(cluster, [a, b]);
    const tookMs = cluster.nowMs - startMs;
    assert.ok(tookMs < 500, `re-elected after ${tookMs} ms of virtual time`);
    writeAll(cluster, a, ['after'], [a, b]);
    assert.deepEqual(cluster.node(b).applied, ['before', 'after']);
  });

  it('an election decides without the finalize wait once every voter not known down agrees', () => {
    const finalizeWaitMs = 3_000;
    const reported = new Cluster([1, 2, 3], [], { finalizeWaitMs });
    reported.start();
    const leader = settle(reported, [1, 2, 3]);
    const survivors = [1, 2, 3].filter((id) => id !== leader);
    reported.kill(leader);
    const startMs = reported.nowMs;
    settle(reported, survivors);
    assert.ok(reported.nowMs - startMs < finalizeWaitMs, `took ${reported.nowMs - startMs} ms`);
    // The same crash unreported: the followers notice by timeout and the election waits in full.
    const silent = new Cluster([1, 2, 3], [], { finalizeWaitMs });
    silent.start();
    const silentLeader = settle(silent, [1, 2, 3]);
    silent.crash(silentLeader);
    const silentStartMs = silent.nowMs;
    settle(silent, [1, 2, 3].filter((id) => id !== silentLeader));
    assert.ok(silent.nowMs - silentStartMs >= finalizeWaitMs, `took ${silent.nowMs - silentStartMs} ms`);
  });

  it('a learner ignores reports about other peers than its leader; a looking peer ignores all', () => {
    const cluster = new Cluster([1, 2, 3]);
    cluster.start();
    const leader = settle(cluster, [1, 2, 3]);
    const [a, b] = [1, 2, 3].filter((id) => id !== leader) as [number, number];
    cluster.linkLost(a, b);
    cluster.linkLost(a, a);
    cluster.linkLost(a, 99);
    assert.equal(cluster.status(a).state, 'FOLLOWING');
    assert.ok(cluster.status(a).serving);
    const lonely = new Cluster([1, 2, 3]);
    lonely.start(1);
    lonely.linkLost(1, 2);
    assert.equal(lonely.status(1).state, 'LOOKING');
  });

  it('a leader that loses one learner of three keeps leading and committing; the learner rejoins', () => {
    const cluster = new Cluster([1, 2, 3]);
    cluster.start();
    const leader = settle(cluster, [1, 2, 3]);
    const [a, b] = [1, 2, 3].filter((id) => id !== leader) as [number, number];
    const epoch = cluster.status(leader).epoch;
    // The connection between the leader and `a` resets: both ends hear of it.
    cluster.linkLost(leader, a);
    assert.equal(cluster.status(leader).state, 'LEADING');
    assert.ok(cluster.status(leader).serving);
    writeAll(cluster, leader, ['with-b'], [leader, b]);
    cluster.linkLost(a, leader);
    assert.equal(cluster.status(a).state, 'LOOKING');
    settle(cluster, [1, 2, 3]);
    assert.equal(cluster.servingLeader(), leader, 'the same leader leads on');
    assert.equal(cluster.status(leader).epoch, epoch, 'no new epoch was needed');
    writeAll(cluster, a, ['from-a'], [1, 2, 3]);
    assert.deepEqual(cluster.node(a).applied, ['with-b', 'from-a']);
  });

  it('a leader steps down at once when the learners it still has are no quorum', () => {
    const cluster = new Cluster([1, 2, 3, 4, 5]);
    cluster.start();
    const leader = settle(cluster, [1, 2, 3, 4, 5]);
    const others = [1, 2, 3, 4, 5].filter((id) => id !== leader);
    cluster.linkLost(leader, others[0]!);
    assert.equal(cluster.status(leader).state, 'LEADING', 'four of five still synced');
    cluster.linkLost(leader, others[1]!);
    assert.equal(cluster.status(leader).state, 'LEADING', 'three of five still synced');
    cluster.linkLost(leader, others[2]!);
    assert.equal(cluster.status(leader).state, 'LOOKING', 'two of five are no quorum');
    // The connections come back (they were only reset): the ensemble settles and commits again.
    settle(cluster, [1, 2, 3, 4, 5]);
    writeAll(cluster, others[3]!, ['again'], [1, 2, 3, 4, 5]);
  });

  it('an observer whose leader link broke looks again; a leader losing an observer leads on', () => {
    const cluster = new Cluster([1, 2, 3], [4]);
    cluster.start();
    const leader = settle(cluster, [1, 2, 3, 4]);
    cluster.linkLost(leader, 4);
    assert.ok(cluster.status(leader).serving);
    cluster.linkLost(4, leader);
    assert.equal(cluster.status(4).state, 'LOOKING');
    settle(cluster, [1, 2, 3, 4]);
    writeAll(cluster, 4, ['via-observer'], [1, 2, 3, 4]);
  });
});
