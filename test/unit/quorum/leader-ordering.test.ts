// Goal: a leader sends each broadcast PROPOSAL to its followers in the same output list as the append
// to its own log, with no barrier in between (Apache's leader logs and sends in parallel), while its
// own ack still waits for the shell's `logged` report and COMMIT waits for a quorum of durable acks;
// once committed, the leader applies (answering its own client) before it writes the COMMITs, and a
// follower applies a txn committed before its own fsync ended ahead of writing its ACK.

import assert from 'node:assert/strict';
import {
  QuorumPeer, emptyDurableState, makeZxid, quorumConfig, type PeerOutput, type ZabBody,
} from '../../../server/quorum/index.js';

const BARRIERS = new Set(['flushLog', 'persistEpoch', 'truncateLog', 'installSnapshot']);

/** Leader 3 of voters 1..3, established with followers 1 and 2 by hand. */
type FromFollower = (id: number, body: ZabBody) => PeerOutput[];

function establishedLeader(): { peer: QuorumPeer; fromFollower: FromFollower } {
  const config = quorumConfig({ myId: 3, voters: [1, 2, 3], finalizeWaitMs: 0 });
  const peer = new QuorumPeer(config, emptyDurableState, 'test');
  peer.step({ type: 'start' });
  const vote = { type: 'notification', leader: 3, zxid: 0n, electionEpoch: 1n, peerEpoch: 0n } as const;
  peer.step({ type: 'message', from: 1, message: { ...vote, state: 'LOOKING' } });
  peer.step({ type: 'message', from: 2, message: { ...vote, state: 'LOOKING' } });
  assert.equal(peer.status().state, 'LEADING');
  let session = '';
  const seqs = new Map<number, number>();
  const fromFollower = (id: number, body: ZabBody): PeerOutput[] => {
    const seq = seqs.get(id) ?? 0;
    seqs.set(id, seq + 1);
    const message = { type: 'zab', link: `${id}/l`, leaderSession: session, seq, body } as const;
    const outputs = peer.step({ type: 'message', from: id, message });
    for (const output of outputs) {
      if (output.kind === 'send' && output.message.type === 'zab') session = output.message.leaderSession;
    }
    return outputs;
  };
  for (const id of [1, 2]) fromFollower(id, { type: 'followerInfo', acceptedEpoch: 0n, observer: false });
  for (const id of [1, 2]) fromFollower(id, { type: 'ackEpoch', lastZxid: 0n, currentEpoch: 0n });
  for (const id of [1, 2]) fromFollower(id, { type: 'ack', zxid: makeZxid(1n, 0n) });
  assert.equal(peer.status().serving, true);
  return { peer, fromFollower };
}

function bodies(outputs: readonly PeerOutput[], type: ZabBody['type']): number[] {
  return outputs.flatMap((o) =>
    o.kind === 'send' && o.message.type === 'zab' && o.message.body.type === type ? [o.to] : []);
}

describe('quorum: a leader proposes without waiting for its own log', () => {
  it('sends the PROPOSAL to every follower with no barrier before it, acking itself only once logged', () => {
    const { peer, fromFollower } = establishedLeader();
    const outputs = peer.step({ type: 'propose', requestId: 1, payload: new Uint8Array([1]) });
    const kinds = outputs.map((o) => o.kind);
    assert.deepEqual(kinds.filter((k) => BARRIERS.has(k)), [], 'no barrier in a proposal step');
    assert.ok(kinds.indexOf('appendTxns') >= 0);
    assert.deepEqual(bodies(outputs, 'proposal').sort(), [1, 2]);
    const zxid = makeZxid(1n, 1n);
    // One follower's durable ack alone is no quorum while our own log write is still running.
    assert.deepEqual(bodies(fromFollower(1, { type: 'ack', zxid }), 'commit'), []);
    const committed = peer.step({ type: 'logged', zxid });
    assert.deepEqual(bodies(committed, 'commit').sort(), [1, 2]);
    // Our own client's answer (the deliver) comes before the socket writes of the COMMITs.
    const kindsAfter = committed.map((o) => o.kind);
    const deliverAt = kindsAfter.indexOf('deliver');
    assert.ok(deliverAt >= 0 && deliverAt < kindsAfter.indexOf('send'));
  });

  it('commits on two followers\' acks even before its own log write is durable', () => {
    const { peer, fromFollower } = establishedLeader();
    peer.step({ type: 'propose', requestId: 1, payload: new Uint8Array([1]) });
    const zxid = makeZxid(1n, 1n);
    fromFollower(1, { type: 'ack', zxid });
    assert.deepEqual(bodies(fromFollower(2, { type: 'ack', zxid }), 'commit').sort(), [1, 2]);
  });
});

describe('quorum: a follower answers a committed txn before it acks', () => {
  it('delivers a txn whose COMMIT came before its own fsync ahead of the ACK, and acks it still', () => {
    const config = quorumConfig({ myId: 1, voters: [1, 2, 3], finalizeWaitMs: 0 });
    const peer = new QuorumPeer(config, emptyDurableState, 'test');
    peer.step({ type: 'start' });
    const vote = { type: 'notification', leader: 3, zxid: 0n, electionEpoch: 1n, peerEpoch: 0n } as const;
    peer.step({ type: 'message', from: 3, message: { ...vote, state: 'LEADING' } });
    peer.step({ type: 'message', from: 2, message: { ...vote, state: 'FOLLOWING' } });
    let seq = 0;
    const fromLeader = (body: ZabBody) => {
      const message = { type: 'zab', link: '1/test/0', leaderSession: '3/a/0', seq: seq++, body } as const;
      return peer.step({ type: 'message', from: 3, message });
    };
    fromLeader({ type: 'leaderInfo', epoch: 1n });
    fromLeader({ type: 'diff', zxid: 0n });
    fromLeader({ type: 'newLeader', zxid: makeZxid(1n, 0n), committedZxid: 0n });
    fromLeader({ type: 'upToDate' });
    const txn = { zxid: makeZxid(1n, 1n), payload: new Uint8Array([7]) };
    fromLeader({ type: 'proposal', txn });
    // The leader committed with its own ack and the other follower's before our fsync finished.
    const early = fromLeader({ type: 'commit', zxid: txn.zxid });
    assert.deepEqual(early, [], 'nothing applies before it is durable');
    const logged = peer.step({ type: 'logged', zxid: txn.zxid });
    assert.deepEqual(logged.map((o) => o.kind), ['deliver', 'send']);
    assert.deepEqual(bodies(logged, 'ack'), [3]);
  });
});
