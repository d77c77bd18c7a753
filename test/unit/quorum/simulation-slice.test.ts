// Goal: a short slice of the seeded ensemble simulation runs in every `npm test`: each seed drives
// 1–7 voters (and observers) of the unchanged QuorumPeer through crashes, partitions, a lossy
// network and membership changes, checking safety after every step and liveness after healing. The
// long run is `npm run test:sim`; a failure prints the seed, and `SEED=<n> npm run test:sim` replays it.

import assert from 'node:assert/strict';
import { runSeeds } from '../../simulation/run-seeds.js';
import { describeFailure } from '../../simulation/report.js';

const sliceSeeds = 200;

describe('quorum: simulation slice', () => {
  it(`keeps every invariant on seeds 1..${sliceSeeds}`, function () {
    this.timeout(60_000);
    const outcome = runSeeds({ first: 1, count: sliceSeeds });
    const failure = outcome.failures[0];
    assert.ok(failure === undefined, failure === undefined ? '' : describeFailure(failure));
    assert.equal(outcome.seedsRun, sliceSeeds);
    // The slice must actually exercise what it claims to.
    assert.ok(outcome.totals.established > sliceSeeds, 'leaders were established');
    assert.ok(outcome.totals.crashes > 0 && outcome.totals.partitions > 0, 'faults were injected');
    assert.ok(outcome.totals.linkLosses > 0, 'broken connections were reported');
    const { diffs, truncs, snaps } = outcome.totals;
    assert.ok(diffs > 0 && truncs > 0 && snaps > 0, 'every sync mode ran');
    assert.ok(outcome.totals.writesAcked > 0, 'writes were acknowledged');
    assert.ok(outcome.totals.reconfigs > 0, 'reconfigs were committed');
  });
});
