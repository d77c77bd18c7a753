// Goal: a reconfig commits only once a quorum of the old config AND a quorum of the new one have it
// (Apache's qvAcksetPairs); until then it is pending everywhere, and every quorum counts in both.
// Method: the joint-quorum functions directly, then scripted ensembles in the deterministic harness.

import assert from 'node:assert/strict';
import {
  MembershipLog, decodePeerMessage, encodePeerMessage, isJointQuorum, type Membership, type MembershipChange,
  type PeerMessage,
} from '../../../server/quorum/index.js';
import { Cluster } from './cluster-harness.js';

const decoder = new TextDecoder();

/** Harness reconfig writes: `cfg:<voters>|<observers>`. */
function reconfigOf(payload: Uint8Array): MembershipChange | undefined {
  const match = /^cfg:([\d,]*)\|([\d,]*)$/.exec(decoder.decode(payload));
  if (match === null) return undefined;
  const ids = (list: string) => (list === '' ? [] : list.split(',').map(Number));
  return { voters: ids(match[1]!), observers: ids(match[2]!) };
}

const config = (version: bigint, voters: number[], observers: number[] = []): Membership =>
  ({ version, voters, observers });

function settle(cluster: Cluster, ids: number[]): number {
  cluster.runUntil(() => cluster.servingLeader() !== undefined && cluster.allServing(ids));
  return cluster.servingLeader()!;
}

describe('quorum: dynamic reconfiguration', () => {
  it('counts a quorum only where both the old and the new config have one', () => {
    const old = config(0n, [1, 2, 3]);
    const grown = config(7n, [1, 2, 3, 4, 5]);
    assert.ok(isJointQuorum({ active: old, pending: [] }, [1, 2]));
    assert.ok(!isJointQuorum({ active: old, pending: [grown] }, [1, 2]), 'old yes, new no');
    assert.ok(isJointQuorum({ active: old, pending: [grown] }, [1, 2, 4]));
    const shrunk = config(7n, [4, 5]);
    assert.ok(!isJointQuorum({ active: old, pending: [shrunk] }, [4, 5]), 'new yes, old no');
    assert.ok(isJointQuorum({ active: old, pending: [shrunk] }, [1, 2, 4, 5]));
  });

  it('carries configs on the wire: in notifications and in the config packet', () => {
    const membership = { version: 0x300000002n, voters: [1, 2, 4], observers: [3], text: 'server.1=a:1:2' };
    const messages: PeerMessage[] = [
      { type: 'notification', state: 'LOOKING', leader: 1, zxid: 5n, electionEpoch: 2n, peerEpoch: 1n },
      {
        type: 'notification', state: 'LEADING', leader: 1, zxid: 5n, electionEpoch: 2n, peerEpoch: 1n,
        config: membership,
      },
      { type: 'zab', link: 'l', leaderSession: 's', seq: 3, body: { type: 'config', membership } },
      {
        type: 'zab', link: 'l', leaderSession: 's', seq: 4,
        body: { type: 'config', membership: { version: 0n, voters: [1], observers: [] } },
      },
    ];
    for (const message of messages) assert.deepEqual(decodePeerMessage(encodePeerMessage(message)), message);
  });

  it('keeps a reconfig pending until committed, and folds it into the base when trimmed', () => {
    const encoder = new TextEncoder();
    const log = new MembershipLog(config(0n, [1, 2, 3]), reconfigOf);
    log.onAppend({ zxid: 5n, payload: encoder.encode('w') });
    log.onAppend({ zxid: 6n, payload: encoder.encode('cfg:1,2|3') });
    assert.deepEqual(log.view(5n).pending.map((m) => m.version), [6n]);
    assert.deepEqual(log.view(6n).active, { voters: [1, 2], observers: [3], version: 6n });
    log.truncateAfter(5n);
    assert.equal(log.view(9n).active.version, 0n, 'a truncated reconfig is gone');
    log.onAppend({ zxid: 8n, payload: encoder.encode('cfg:1|') });
    log.trim(8n);
    assert.equal(log.at(3n).version, 8n, 'trimmed changes become the base');
  });

  it('does not commit a reconfig that only the new config acknowledged', () => {
    const cluster = new Cluster([1, 2, 3], [], { reconfigOf });
    cluster.start();
    const leader = settle(cluster, [1, 2, 3]);
    // The new config is the leader alone: it acks at once, but the old config has no quorum.
    cluster.isolate([leader]);
    cluster.write(leader, `cfg:${leader}|`);
    cluster.advance(300);
    const status = cluster.status(leader);
    assert.ok(status.committedZxid < status.lastZxid, 'the reconfig stays uncommitted');
    assert.equal(status.lastSeenConfigVersion, status.lastZxid);
    assert.equal(status.configVersion, 0n);
  });

  it('does not commit a reconfig that only the old config acknowledged', () => {
    const cluster = new Cluster([1, 2, 3], [], { reconfigOf });
    cluster.start();
    const leader = settle(cluster, [1, 2, 3]);
    // Servers 4 and 5 do not run: the old config acks, the new one {leader, 4, 5} cannot.
    cluster.write(leader, `cfg:${leader},4,5|`);
    cluster.advance(300);
    const status = cluster.status(leader);
    assert.ok(status.committedZxid < status.lastZxid, 'the reconfig stays uncommitted');
    for (const id of [1, 2, 3]) assert.equal(cluster.status(id).lastZxid, status.lastZxid, `${id} logged it`);
  });

  it('commits with both quorums, then the new config alone decides (the removed one not counting)', () => {
    const cluster = new Cluster([1, 2, 3], [], { reconfigOf });
    cluster.start();
    const leader = settle(cluster, [1, 2, 3]);
    const [kept, removed] = [1, 2, 3].filter((id) => id !== leader) as [number, number];
    cluster.write(leader, `cfg:${leader},${kept}|`);
    cluster.runUntil(() => [leader, kept, removed].every((id) => cluster.status(id).configVersion > 0n));
    // As Apache's, the removed server keeps following (and serving) as a non-voting learner.
    cluster.write(leader, 'after');
    cluster.runUntil(() => [kept, removed].every((id) => cluster.node(id).applied.includes('after')));
    assert.equal(cluster.status(removed).state, 'FOLLOWING');
    assert.equal(cluster.status(removed).serving, true);
    // With the kept one isolated, the leader and the removed one are no quorum of {leader, kept}.
    cluster.isolate([kept]);
    cluster.runUntil(() => cluster.status(leader).state === 'LOOKING');
  });

  it('steps a removed leader down; the remaining voters elect a new one and go on', () => {
    const cluster = new Cluster([1, 2, 3], [], { reconfigOf });
    cluster.start();
    const leader = settle(cluster, [1, 2, 3]);
    const others = [1, 2, 3].filter((id) => id !== leader);
    cluster.write(leader, `cfg:${others.join(',')}|`);
    cluster.runUntil(() => cluster.status(leader).state === 'LOOKING');
    const next = settle(cluster, others);
    assert.ok(others.includes(next));
    cluster.write(next, 'later');
    cluster.runUntil(() => others.every((id) => cluster.node(id).applied.includes('later')));
    assert.equal(cluster.status(leader).serving, false, 'the removed server serves no more');
  });
});
