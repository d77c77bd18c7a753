// Goal: fast leader election picks the peer Apache would, by (peerEpoch, zxid, server id), re-elects
// after a leader crash, lets a peer join a settled ensemble, and never counts an observer's vote.
// Method: scripted ensembles of the real QuorumPeer in the deterministic cluster harness.

import assert from 'node:assert/strict';
import { makeZxid, quorumConfig, voteBeats } from '../../../server/quorum/index.js';
import { Cluster } from './cluster-harness.js';

function settled(cluster: Cluster, ids: number[]): boolean {
  return cluster.servingLeader() !== undefined && cluster.allServing(ids);
}

describe('quorum: fast leader election', () => {
  it('orders votes by peerEpoch, then zxid, then server id, and never for an observer', () => {
    const config = quorumConfig({ myId: 1, voters: [1, 2, 3], observers: [4] });
    const vote = (leader: number, peerEpoch: bigint, zxid: bigint) => ({ leader, peerEpoch, zxid });
    assert.ok(voteBeats(config, vote(1, 2n, 0n), vote(3, 1n, 99n)), 'epoch first');
    assert.ok(voteBeats(config, vote(1, 1n, 5n), vote(3, 1n, 4n)), 'then zxid');
    assert.ok(voteBeats(config, vote(3, 1n, 5n), vote(2, 1n, 5n)), 'then id');
    assert.ok(!voteBeats(config, vote(4, 9n, 9n), vote(1, 0n, 0n)), 'an observer never wins');
  });

  it('elects the highest server id among three empty peers', () => {
    const cluster = new Cluster([1, 2, 3]);
    cluster.start();
    cluster.runUntil(() => settled(cluster, [1, 2, 3]));
    assert.equal(cluster.servingLeader(), 3);
    assert.equal(cluster.status(1).state, 'FOLLOWING');
    assert.equal(cluster.status(1).leader, 3);
    assert.equal(cluster.status(3).epoch, 1n);
  });

  it('prefers a higher zxid over a higher server id', () => {
    const cluster = new Cluster([1, 2, 3]);
    const shared: [bigint, string][] = [[makeZxid(1n, 1n), 'a']];
    for (const id of [1, 2, 3]) cluster.seedDisk(id, { acceptedEpoch: 1n, currentEpoch: 1n, log: shared });
    cluster.seedDisk(1, { log: [...shared, [makeZxid(1n, 2n), 'b']] });
    cluster.start();
    cluster.runUntil(() => settled(cluster, [1, 2, 3]));
    assert.equal(cluster.servingLeader(), 1);
    for (const id of [1, 2, 3]) assert.deepEqual(cluster.node(id).applied, ['a', 'b']);
  });

  it('prefers a higher currentEpoch over a higher zxid, among five peers', () => {
    const cluster = new Cluster([1, 2, 3, 4, 5]);
    for (const id of [1, 2, 3, 5]) {
      const log: [bigint, string][] = [[makeZxid(1n, 1n), 'a'], [makeZxid(1n, 2n), 'b']];
      cluster.seedDisk(id, { acceptedEpoch: 1n, currentEpoch: 1n, log });
    }
    cluster.seedDisk(4, { acceptedEpoch: 2n, currentEpoch: 2n, log: [[makeZxid(1n, 1n), 'a']] });
    cluster.start();
    cluster.runUntil(() => settled(cluster, [1, 2, 3, 4, 5]));
    assert.equal(cluster.servingLeader(), 4);
    assert.equal(cluster.status(4).epoch, 3n, 'new epoch = max acceptedEpoch + 1');
    // 1.2 was never committed by the epoch-2 leader's history: every peer drops it.
    for (const id of [1, 2, 3, 4, 5]) assert.deepEqual(cluster.node(id).applied, ['a']);
  });

  it('re-elects the best remaining peer after the leader crashes, and keeps committed writes', () => {
    const cluster = new Cluster([1, 2, 3, 4, 5]);
    cluster.start();
    cluster.runUntil(() => settled(cluster, [1, 2, 3, 4, 5]));
    assert.equal(cluster.servingLeader(), 5);
    cluster.write(2, 'before');
    cluster.runUntil(() => [1, 2, 3, 4, 5].every((id) => cluster.node(id).applied.includes('before')));
    cluster.crash(5);
    cluster.runUntil(() => settled(cluster, [1, 2, 3, 4]));
    assert.equal(cluster.servingLeader(), 4);
    assert.equal(cluster.status(4).epoch, 2n);
    cluster.write(1, 'after');
    cluster.runUntil(() => [1, 2, 3, 4].every((id) => cluster.node(id).applied.includes('after')));
    assert.deepEqual(cluster.node(1).applied, ['before', 'after']);
  });

  it('lets a restarted peer join the settled ensemble as a follower of the current leader', () => {
    const cluster = new Cluster([1, 2, 3]);
    cluster.start(1, 2);
    cluster.runUntil(() => settled(cluster, [1, 2]));
    assert.equal(cluster.servingLeader(), 2);
    cluster.write(1, 'x');
    cluster.runUntil(() => cluster.node(2).applied.includes('x'));
    cluster.start(3); // the highest id, but it must follow the leader a quorum reports
    cluster.runUntil(() => settled(cluster, [1, 2, 3]));
    assert.equal(cluster.servingLeader(), 2);
    assert.equal(cluster.status(3).leader, 2);
    assert.deepEqual(cluster.node(3).applied, ['x']);
  });

  it('never counts an observer towards a quorum: one voter and an observer elect no one', () => {
    const cluster = new Cluster([1, 2, 3], [4]);
    cluster.start(1, 4);
    cluster.advance(10_000);
    assert.equal(cluster.status(1).state, 'LOOKING');
    assert.equal(cluster.status(4).state, 'LOOKING');
    cluster.start(2);
    cluster.runUntil(() => settled(cluster, [1, 2, 4]));
    assert.equal(cluster.servingLeader(), 2);
    assert.equal(cluster.status(4).state, 'OBSERVING');
  });
});
