// Goal: ZAB synchronizes each kind of learner the way Apache's syncFollower does (DIFF for one a little
// behind, TRUNC for one holding an uncommitted txn of an old epoch, SNAP for one beyond the committed
// buffer), observers learn commits without voting, a minority cannot commit, and the persist / ack
// ordering rules hold. Method: scripted ensembles in the deterministic harness, plus single peers
// stepped by hand to read their output lists.

import assert from 'node:assert/strict';
import {
  QuorumPeer, emptyDurableState, makeZxid, quorumConfig, type PeerOutput, type ZabPacket,
} from '../../../server/quorum/index.js';
import { Cluster } from './cluster-harness.js';

function writes(prefix: string, count: number): string[] {
  return Array.from({ length: count }, (_, i) => `${prefix}${i}`);
}

function writeAll(cluster: Cluster, at: number, names: string[], appliedOn: number[]): void {
  for (const name of names) cluster.write(at, name);
  cluster.runUntil(() => appliedOn.every((id) => names.every((n) => cluster.node(id).applied.includes(n))));
}

function settle(cluster: Cluster, ids: number[]): number {
  cluster.runUntil(() => cluster.servingLeader() !== undefined && cluster.allServing(ids));
  return cluster.servingLeader()!;
}

describe('quorum: ZAB synchronization and broadcast', () => {
  it('brings a follower that is a little behind up to date with DIFF', () => {
    const cluster = new Cluster([1, 2, 3]);
    cluster.start();
    settle(cluster, [1, 2, 3]);
    writeAll(cluster, 1, ['a', 'b'], [1, 2, 3]);
    cluster.crash(1);
    writeAll(cluster, 2, ['c', 'd'], [2, 3]);
    cluster.node(1).syncs.length = 0;
    cluster.start(1);
    settle(cluster, [1, 2, 3]);
    assert.deepEqual(cluster.node(1).syncs, ['diff']);
    assert.deepEqual(cluster.node(1).applied, ['a', 'b', 'c', 'd']);
  });

  it('truncates an uncommitted txn of an old epoch with TRUNC', () => {
    const cluster = new Cluster([1, 2, 3]);
    cluster.start();
    assert.equal(settle(cluster, [1, 2, 3]), 3);
    writeAll(cluster, 3, ['a'], [1, 2, 3]);
    // The leader logs a proposal no follower receives, then dies.
    cluster.isolate([3]);
    cluster.write(3, 'lost');
    assert.equal(cluster.status(3).lastZxid, makeZxid(1n, 2n));
    cluster.crash(3);
    cluster.heal();
    settle(cluster, [1, 2]);
    writeAll(cluster, 1, ['b'], [1, 2]);
    cluster.start(3);
    settle(cluster, [1, 2, 3]);
    assert.equal(cluster.servingLeader(), 2);
    assert.deepEqual(cluster.node(3).syncs, ['trunc']);
    assert.deepEqual(cluster.node(3).applied, ['a', 'b']);
    const lost = makeZxid(1n, 2n);
    assert.ok(!cluster.node(3).disk.log.some((t) => t.zxid === lost), 'the lost txn left the log');
  });

  it('sends a snapshot to a follower beyond the committed-proposal buffer (SNAP)', () => {
    const cluster = new Cluster([1, 2, 3], [], { committedLogMax: 3 });
    cluster.start();
    settle(cluster, [1, 2, 3]);
    writeAll(cluster, 1, ['a'], [1, 2, 3]);
    cluster.crash(1);
    writeAll(cluster, 2, writes('w', 10), [2, 3]);
    cluster.node(1).syncs.length = 0;
    cluster.start(1);
    settle(cluster, [1, 2, 3]);
    assert.deepEqual(cluster.node(1).syncs, ['snap']);
    assert.deepEqual(cluster.node(1).applied, ['a', ...writes('w', 10)]);
    writeAll(cluster, 1, ['after'], [1, 2, 3]);
  });

  it('delivers commits to observers, which never vote', () => {
    const cluster = new Cluster([1, 2, 3], [4, 5]);
    cluster.start();
    settle(cluster, [1, 2, 3, 4, 5]);
    assert.equal(cluster.status(4).state, 'OBSERVING');
    writeAll(cluster, 4, ['from-observer'], [1, 2, 3, 4, 5]);
    // Two voters down: the leader's quorum is gone, observers do not replace it.
    cluster.crash(1);
    cluster.crash(2);
    cluster.advance(5_000);
    assert.equal(cluster.servingLeader(), undefined);
    cluster.write(4, 'refused');
    cluster.advance(5_000);
    assert.ok(!cluster.node(3).applied.includes('refused'));
  });

  it('never commits in a minority partition; the majority elects a leader and goes on', () => {
    const cluster = new Cluster([1, 2, 3, 4, 5]);
    cluster.start();
    assert.equal(settle(cluster, [1, 2, 3, 4, 5]), 5);
    writeAll(cluster, 1, ['a'], [1, 2, 3, 4, 5]);
    cluster.isolate([4, 5]);
    cluster.write(5, 'minority');
    cluster.advance(3_000);
    for (const id of [1, 2, 3, 4, 5]) assert.ok(!cluster.node(id).applied.includes('minority'));
    assert.notEqual(cluster.status(5).state, 'LEADING', 'the old leader abdicates without a quorum');
    const leader = settle(cluster, [1, 2, 3]);
    assert.ok([1, 2, 3].includes(leader));
    writeAll(cluster, 1, ['majority'], [1, 2, 3]);
    cluster.heal();
    cluster.runUntil(() => [4, 5].every((id) => cluster.node(id).applied.includes('majority')));
    for (const id of [1, 2, 3, 4, 5]) assert.deepEqual(cluster.node(id).applied, ['a', 'majority']);
  });

  it('answers sync on a follower only after it applied what the leader had committed', () => {
    const cluster = new Cluster([1, 2, 3]);
    cluster.start();
    settle(cluster, [1, 2, 3]);
    writeAll(cluster, 3, ['a'], [1, 2, 3]);
    // A write is in flight (proposed, not yet committed) when the sync arrives at the leader.
    cluster.write(3, 'b');
    const requestId = cluster.sync(1);
    assert.ok(!cluster.syncsDone.has(requestId));
    cluster.runUntil(() => cluster.syncsDone.has(requestId));
    assert.deepEqual(cluster.node(1).applied, ['a', 'b']);
  });

  it('steps a leader down when its zxid counter is exhausted, and the next epoch goes on', () => {
    const cluster = new Cluster([1, 2, 3], [], { zxidCounterMax: 3n });
    cluster.start();
    settle(cluster, [1, 2, 3]);
    writeAll(cluster, 3, ['a', 'b', 'c'], [1, 2, 3]);
    cluster.write(3, 'd'); // refused: counter 3 is the last of epoch 1
    settle(cluster, [1, 2, 3]);
    assert.equal(cluster.status(cluster.servingLeader()!).epoch, 2n);
    writeAll(cluster, 1, ['d'], [1, 2, 3]);
    assert.deepEqual(cluster.node(2).applied, ['a', 'b', 'c', 'd']);
  });
});

describe('quorum: output ordering of a single learner', () => {
  function learner(durable = emptyDurableState): QuorumPeer {
    const config = quorumConfig({ myId: 1, voters: [1, 2, 3], finalizeWaitMs: 0 });
    const peer = new QuorumPeer(config, durable, 'test');
    peer.step({ type: 'start' });
    // Peers 2 and 3 both report following 3, and 3 says it leads: peer 1 joins as a follower.
    const vote = { type: 'notification', leader: 3, zxid: 0n, electionEpoch: 1n, peerEpoch: 0n } as const;
    peer.step({ type: 'message', from: 3, message: { ...vote, state: 'LEADING' } });
    peer.step({ type: 'message', from: 2, message: { ...vote, state: 'FOLLOWING' } });
    assert.equal(peer.status().state, 'FOLLOWING');
    return peer;
  }

  function fromLeader(peer: QuorumPeer, seq: number, body: ZabPacket['body']): PeerOutput[] {
    const message = { type: 'zab', link: '1/test/0', leaderSession: '3/a/0', seq, body } as const;
    return peer.step({ type: 'message', from: 3, message });
  }

  it('persists acceptedEpoch before ACKEPOCH; synced txns, then currentEpoch, before NEWLEADER ack', () => {
    const peer = learner();
    const epochOutputs = fromLeader(peer, 0, { type: 'leaderInfo', epoch: 1n });
    assert.deepEqual(epochOutputs.map((o) => o.kind), ['persistEpoch', 'send']);
    fromLeader(peer, 1, { type: 'diff', zxid: 0n });
    const txn = { zxid: makeZxid(0n, 1n), payload: new Uint8Array([1]) };
    assert.deepEqual(fromLeader(peer, 2, { type: 'proposal', txn }), [], 'sync proposals wait for NEWLEADER');
    fromLeader(peer, 3, { type: 'commit', zxid: txn.zxid });
    const newLeader = { type: 'newLeader', zxid: makeZxid(1n, 0n), committedZxid: txn.zxid } as const;
    const outputs = fromLeader(peer, 4, newLeader);
    assert.deepEqual(outputs.map((o) => o.kind), ['appendTxns', 'flushLog', 'persistEpoch', 'send']);
    const ack = outputs[3]!;
    assert.ok(ack.kind === 'send' && ack.message.type === 'zab' && ack.message.body.type === 'ack');
    // Nothing is delivered before UPTODATE; then the synced txn is.
    const upToDate = fromLeader(peer, 5, { type: 'upToDate' });
    assert.deepEqual(upToDate.map((o) => o.kind), ['deliver', 'serving']);
  });

  it('acks a broadcast proposal only after the shell reports it durable', () => {
    const peer = learner();
    fromLeader(peer, 0, { type: 'leaderInfo', epoch: 1n });
    fromLeader(peer, 1, { type: 'diff', zxid: 0n });
    fromLeader(peer, 2, { type: 'newLeader', zxid: makeZxid(1n, 0n), committedZxid: 0n });
    fromLeader(peer, 3, { type: 'upToDate' });
    const txn = { zxid: makeZxid(1n, 1n), payload: new Uint8Array([7]) };
    assert.deepEqual(fromLeader(peer, 4, { type: 'proposal', txn }).map((o) => o.kind), ['appendTxns']);
    const logged = peer.step({ type: 'logged', zxid: txn.zxid });
    assert.deepEqual(logged.map((o) => o.kind), ['send']);
    assert.deepEqual(fromLeader(peer, 5, { type: 'commit', zxid: txn.zxid }).map((o) => o.kind), ['deliver']);
  });

  it('delivers after a DIFF only what the leader had committed, not the rest of its own log', () => {
    // Found by simulation seed 28091: the learner rejoined holding a proposal still outstanding.
    const log = [1n, 2n].map((counter) => ({ zxid: makeZxid(1n, counter), payload: new Uint8Array([1]) }));
    const peer = learner({ acceptedEpoch: 1n, currentEpoch: 1n, appliedZxid: 0n, log });
    const vote = { type: 'notification', leader: 3, zxid: 0n, electionEpoch: 1n, peerEpoch: 1n } as const;
    peer.step({ type: 'message', from: 3, message: { ...vote, state: 'LEADING' } });
    fromLeader(peer, 0, { type: 'leaderInfo', epoch: 1n });
    fromLeader(peer, 1, { type: 'diff', zxid: log[1]!.zxid });
    fromLeader(peer, 2, { type: 'newLeader', zxid: makeZxid(1n, 0n), committedZxid: log[0]!.zxid });
    const delivered = fromLeader(peer, 3, { type: 'upToDate' }).filter((o) => o.kind === 'deliver');
    assert.deepEqual(delivered.map((o) => o.kind === 'deliver' && o.txn.zxid), [log[0]!.zxid]);
    const later = fromLeader(peer, 4, { type: 'commit', zxid: log[1]!.zxid });
    assert.deepEqual(later.map((o) => o.kind === 'deliver' && o.txn.zxid), [log[1]!.zxid]);
  });

  it('drops a link when a new leadership answers it (the leader restarted after answering)', () => {
    // Found by simulation seed 148995: a resent hello reached the leader's next term on the same link.
    const peer = learner();
    fromLeader(peer, 0, { type: 'leaderInfo', epoch: 1n });
    const body = { type: 'ping' } as const;
    const message = { type: 'zab', link: '1/test/0', leaderSession: '3/b/0', seq: 0, body } as const;
    peer.step({ type: 'message', from: 3, message });
    assert.equal(peer.status().state, 'LOOKING');
  });

  it('joins its leader in a new election round at once, and answers older rounds with its vote', () => {
    const peer = learner();
    const looking = { type: 'notification', state: 'LOOKING', leader: 3, zxid: 0n, peerEpoch: 0n } as const;
    const answer = peer.step({ type: 'message', from: 3, message: { ...looking, electionEpoch: 1n } });
    assert.equal(peer.status().state, 'FOLLOWING', 'a stale LOOKING vote of the leader changes nothing');
    const told = answer.find((o) => o.kind === 'send' && o.message.type === 'notification');
    const toldMessage = told?.kind === 'send' ? told.message : undefined;
    assert.equal(toldMessage?.type === 'notification' && toldMessage.state, 'FOLLOWING');
    peer.step({ type: 'message', from: 3, message: { ...looking, electionEpoch: 2n } });
    assert.equal(peer.status().state, 'LOOKING');
    assert.equal(peer.status().electionEpoch, 2n);
  });

  it('treats a gap in the leader stream as a broken connection and looks again', () => {
    const peer = learner();
    fromLeader(peer, 0, { type: 'leaderInfo', epoch: 1n });
    const outputs = fromLeader(peer, 2, { type: 'diff', zxid: 0n });
    assert.equal(peer.status().state, 'LOOKING');
    assert.ok(outputs.some((o) => o.kind === 'role' && o.state === 'LOOKING'));
  });
});
