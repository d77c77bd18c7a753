// Goal: the quorum config rejects impossible ensembles with one plain sentence, majority quorums count
// voters only, and zxids split into epoch and counter.

import assert from 'node:assert/strict';
import { InvalidArgumentError } from '../../../src/protocol/errors.js';
import {
  counterOf, describeZxid, epochOf, isQuorum, makeZxid, quorumConfig,
} from '../../../server/quorum/index.js';

describe('quorum: config and zxids', () => {
  it('fills Apache defaults', () => {
    const config = quorumConfig({ myId: 1, voters: [1, 2, 3] });
    assert.equal(config.finalizeWaitMs, 200);
    assert.equal(config.committedLogMax, 500);
    assert.deepEqual(config.observers, []);
  });

  for (const [label, input, sentence] of [
    ['no voters', { myId: 1, voters: [] }, /at least one voter/],
    ['a repeated id', { myId: 1, voters: [1, 2], observers: [2] }, /listed twice/],
    ['an unknown myId', { myId: 9, voters: [1, 2, 3] }, /neither a voter nor an observer/],
    ['a short syncLimit', { myId: 1, voters: [1], syncLimitTicks: 1 }, /syncLimitTicks/],
    ['initLimit below syncLimit', { myId: 1, voters: [1], initLimitTicks: 2 }, /initLimitTicks/],
    ['a zero counter limit', { myId: 1, voters: [1], zxidCounterMax: 0n }, /zxidCounterMax/],
  ] as const) {
    it(`rejects ${label}`, () => {
      const matches = (error: unknown): boolean =>
        error instanceof InvalidArgumentError && sentence.test(error.message);
      assert.throws(() => quorumConfig(input), matches);
    });
  }

  it('counts only voters towards a majority', () => {
    const config = quorumConfig({ myId: 1, voters: [1, 2, 3, 4, 5], observers: [6, 7] });
    assert.ok(!isQuorum(config, [1, 2, 6, 7]));
    assert.ok(isQuorum(config, [1, 2, 3]));
    assert.ok(!isQuorum(config, [1, 1, 2]), 'an id counts once');
  });

  it('splits a zxid into epoch and counter', () => {
    const zxid = makeZxid(5n, 0xffff_fffen);
    assert.equal(zxid, 0x5_ffff_fffen);
    assert.equal(epochOf(zxid), 5n);
    assert.equal(counterOf(zxid), 0xffff_fffen);
    assert.equal(describeZxid(zxid), '5.fffffffe');
  });
});
