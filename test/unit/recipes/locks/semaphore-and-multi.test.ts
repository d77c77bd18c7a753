// Curator's semaphore lease rule and layout, and the canonical multi-lock order, on plain data.
import assert from 'node:assert/strict';
import { describe, it } from 'mocha';
import {
  canonicalLockOrder,
  MULTI_LOCK_PATHS_MAX,
  releaseOrder,
} from '../../../../recipes/locks/multi-lock-order.js';
import { decideLease, decideLeases, semaphorePaths } from '../../../../recipes/locks/semaphore-leases.js';
import { InvalidArgumentError } from '../../../../src/index.js';

describe('semaphore leases', () => {
  it('uses Curator\'s locks/ and leases/ directories', () => {
    const paths = semaphorePaths('/jobs/pool');
    assert.deepEqual(paths, { locksPath: '/jobs/pool/locks', leasesPath: '/jobs/pool/leases' });
    assert.throws(() => semaphorePaths('jobs'), InvalidArgumentError);
  });

  it('grants while the leases directory holds at most maxLeases children, ours among them', () => {
    assert.deepEqual(decideLease(['a', 'b'], 'b', 2), { kind: 'acquired' });
    assert.deepEqual(decideLease(['a', 'b', 'c'], 'c', 2), { kind: 'wait', leaseCount: 3 });
    assert.deepEqual(decideLease(['a', 'b'], 'c', 2), { kind: 'missing' });
    assert.throws(() => decideLease(['a'], 'a', 0), InvalidArgumentError);
  });

  it('grants several leases only all together: every one present and the total within maxLeases', () => {
    assert.deepEqual(decideLeases(['a', 'b', 'c'], ['b', 'c'], 3), { kind: 'acquired' });
    assert.deepEqual(decideLeases(['a', 'b', 'c', 'd'], ['c', 'd'], 3), { kind: 'wait', leaseCount: 4 });
    assert.deepEqual(decideLeases(['a', 'b'], ['b', 'c'], 3), { kind: 'missing' });
    assert.throws(() => decideLeases(['a'], [], 3), InvalidArgumentError);
  });
});

describe('multi-lock order', () => {
  it('sorts and deduplicates so every caller takes the same order', () => {
    assert.deepEqual(canonicalLockOrder(['/b', '/a/x', '/b', '/a-z']), ['/a-z', '/a/x', '/b']);
    assert.deepEqual(canonicalLockOrder(['/a/x', '/b']), canonicalLockOrder(['/b', '/a/x']));
    assert.deepEqual(releaseOrder(['/a', '/b']), ['/b', '/a']);
  });

  it('refuses nested, invalid, empty and oversized sets', () => {
    assert.throws(() => canonicalLockOrder(['/a', '/a-x', '/a/b']), /must not nest/);
    assert.throws(() => canonicalLockOrder(['/a', 'b']), InvalidArgumentError);
    assert.throws(() => canonicalLockOrder(['/']), InvalidArgumentError);
    assert.throws(() => canonicalLockOrder([]), InvalidArgumentError);
    const many = Array.from({ length: MULTI_LOCK_PATHS_MAX + 1 }, (_, i) => `/l${i}`);
    assert.throws(() => canonicalLockOrder(many), InvalidArgumentError);
  });
});
