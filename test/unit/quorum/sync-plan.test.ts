// Goal: the leader's choice of DIFF, TRUNC or SNAP and the txn history's bookkeeping follow Apache's
// syncFollower rules, checked on small hand-made logs.

import assert from 'node:assert/strict';
import { TxnHistory } from '../../../server/quorum/history.js';
import { makeZxid, planSync } from '../../../server/quorum/index.js';

const z = (epoch: number, counter: number): bigint => makeZxid(BigInt(epoch), BigInt(counter));
const txn = (zxid: bigint) => ({ zxid, payload: new Uint8Array(0) });

/** A leader history holding 1.1 1.2 1.3 3.1 3.2, all applied, nothing trimmed. */
function leaderHistory(): TxnHistory {
  const history = new TxnHistory(0n, [z(1, 1), z(1, 2), z(1, 3), z(3, 1), z(3, 2)].map(txn));
  history.markCommitted(history.lastZxid);
  history.takeDeliverable();
  return history;
}

describe('quorum: sync plan', () => {
  it('sends an empty DIFF to a learner at our last zxid', () => {
    assert.deepEqual(planSync(leaderHistory(), z(3, 2)), { mode: 'diff', zxid: z(3, 2), fromIndex: 5 });
  });

  it('sends a DIFF of the missing txns to a learner inside our log', () => {
    assert.deepEqual(planSync(leaderHistory(), z(1, 2)), { mode: 'diff', zxid: z(1, 2), fromIndex: 2 });
    assert.deepEqual(planSync(leaderHistory(), 0n), { mode: 'diff', zxid: 0n, fromIndex: 0 });
  });

  it('truncates a learner that holds a txn of an old epoch we never had, then diffs', () => {
    // The learner logged 2.1 in an epoch whose leader died; our history went 1.3 -> 3.1.
    assert.deepEqual(planSync(leaderHistory(), z(2, 1)), { mode: 'trunc', zxid: z(1, 3), fromIndex: 3 });
  });

  it('truncates a learner ahead of us to our last zxid', () => {
    assert.deepEqual(planSync(leaderHistory(), z(3, 7)), { mode: 'trunc', zxid: z(3, 2), fromIndex: 5 });
  });

  it('sends a snapshot to a learner older than the committed-proposal buffer', () => {
    const history = leaderHistory();
    history.trim(2); // keeps 3.1 and 3.2; 1.3 becomes the base
    assert.equal(history.baseZxid, z(1, 3));
    assert.deepEqual(planSync(history, z(1, 1)), { mode: 'snap', zxid: z(3, 2), fromIndex: 2 });
    assert.deepEqual(planSync(history, z(1, 3)), { mode: 'diff', zxid: z(1, 3), fromIndex: 0 });
  });
});

describe('quorum: txn history', () => {
  it('delivers only what is both committed and durable, in order', () => {
    const history = new TxnHistory(0n, []);
    for (const zxid of [z(1, 1), z(1, 2), z(1, 3)]) history.append(txn(zxid));
    assert.deepEqual(history.takeDeliverable(), [], 'nothing committed');
    history.markCommitted(z(1, 3));
    history.markDurable(z(1, 1));
    assert.deepEqual(history.takeDeliverable().map((t) => t.zxid), [z(1, 1)]);
    history.markDurable(z(1, 3));
    assert.deepEqual(history.takeDeliverable().map((t) => t.zxid), [z(1, 2), z(1, 3)]);
    assert.equal(history.appliedZxid, z(1, 3));
  });

  it('refuses out-of-order appends and truncation below the applied state', () => {
    const history = new TxnHistory(z(1, 1), [txn(z(1, 2))]);
    assert.throws(() => history.append(txn(z(1, 2))));
    assert.throws(() => history.truncateAfter(z(1, 0)));
    history.truncateAfter(z(1, 1));
    assert.equal(history.lastZxid, z(1, 1));
  });

  it('knows which zxids it holds', () => {
    const history = leaderHistory();
    assert.ok(history.holds(z(1, 3)) && history.holds(0n));
    assert.ok(!history.holds(z(2, 1)));
  });
});
