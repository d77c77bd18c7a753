// Planning one optimistic DistributedAtomicLong attempt from the node as read: create or set-at-version
// with Curator's pre/post values, Java wrap-around on add, and compare-and-set failing without a write.
import assert from 'node:assert/strict';
import { describe, it } from 'mocha';
import { planAtomicLong } from '../../../../recipes/counters/atomic-long.js';
import { decodeAtomicLong, encodeAtomicLong } from '../../../../recipes/counters/formats.js';
import { DecodeError } from '../../../../src/index.js';

const at = (value: bigint, version: number) => ({ data: encodeAtomicLong(value), version });

describe('atomic long plans', () => {
  it('creates the node on the first add, from 0', () => {
    const plan = planAtomicLong(undefined, { kind: 'add', delta: 5n });
    assert.equal(plan.kind, 'create');
    assert.ok(plan.kind === 'create' && decodeAtomicLong(plan.data) === 5n);
    assert.deepEqual([plan.preValue, (plan as { postValue: bigint }).postValue], [0n, 5n]);
  });

  it('sets at the version it read, wrapping like a Java long', () => {
    const plan = planAtomicLong(at((1n << 63n) - 1n, 4), { kind: 'add', delta: 1n });
    assert.ok(plan.kind === 'set');
    assert.equal(plan.version, 4);
    assert.equal(plan.postValue, -(1n << 63n));
    assert.equal(planAtomicLong(at(3n, 1), { kind: 'set', value: 9n }).kind, 'set');
  });

  it('compare-and-set writes only on a match, and never on a missing node', () => {
    const match = planAtomicLong(at(3n, 2), { kind: 'compare-and-set', expected: 3n, value: 4n });
    assert.ok(match.kind === 'set' && match.postValue === 4n && match.version === 2);
    const mismatch = planAtomicLong(at(3n, 2), { kind: 'compare-and-set', expected: 2n, value: 4n });
    assert.deepEqual(mismatch, { kind: 'fail', preValue: 3n });
    const absent = planAtomicLong(undefined, { kind: 'compare-and-set', expected: 0n, value: 1n });
    assert.deepEqual(absent, { kind: 'fail', preValue: 0n });
  });

  it('reads an empty node as 0 and refuses corrupt data', () => {
    const plan = planAtomicLong({ data: new Uint8Array(0), version: 0 }, { kind: 'add', delta: 2n });
    assert.ok(plan.kind === 'set' && plan.preValue === 0n && plan.postValue === 2n);
    assert.throws(() => planAtomicLong({ data: new Uint8Array(3), version: 0 }, { kind: 'add', delta: 1n }),
      DecodeError);
  });
});
