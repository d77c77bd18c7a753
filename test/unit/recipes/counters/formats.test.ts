// Counter bytes as Curator keeps them: SharedCount's 4-byte and DistributedAtomicLong's 8-byte big-endian
// signed integers, the edges of their ranges, Java's wrapping add, and corruption as DecodeError.
import assert from 'node:assert/strict';
import { describe, it } from 'mocha';
import {
  addWrapping,
  decodeAtomicLong,
  decodeSharedCount,
  encodeAtomicLong,
  encodeSharedCount,
} from '../../../../recipes/counters/formats.js';
import { DecodeError, InvalidArgumentError } from '../../../../src/index.js';

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex');

describe('counter formats', () => {
  it('encodes a shared count as a 4-byte big-endian signed int', () => {
    assert.equal(hex(encodeSharedCount(7)), '00000007');
    assert.equal(hex(encodeSharedCount(-2)), 'fffffffe');
    assert.equal(hex(encodeSharedCount(2147483647)), '7fffffff');
    assert.equal(decodeSharedCount(encodeSharedCount(-2147483648)), -2147483648);
    assert.throws(() => encodeSharedCount(2147483648), InvalidArgumentError);
    assert.throws(() => encodeSharedCount(1.5), InvalidArgumentError);
  });

  it('refuses a shared count of the wrong length', () => {
    assert.throws(() => decodeSharedCount(new Uint8Array(3)), DecodeError);
    assert.throws(() => decodeSharedCount(new Uint8Array(8)), DecodeError);
    const offset = Buffer.from('0000000009', 'hex').subarray(1);
    assert.equal(decodeSharedCount(offset), 9, 'reads from a byte offset');
  });

  it('encodes an atomic long as an 8-byte big-endian signed long; empty is 0', () => {
    assert.equal(hex(encodeAtomicLong(5n)), '0000000000000005');
    assert.equal(hex(encodeAtomicLong(-(1n << 40n) + 5n)), 'ffffff0000000005');
    assert.equal(decodeAtomicLong(encodeAtomicLong(-(1n << 63n))), -(1n << 63n));
    assert.equal(decodeAtomicLong(new Uint8Array(0)), 0n);
    assert.throws(() => decodeAtomicLong(new Uint8Array(4)), DecodeError);
    assert.throws(() => encodeAtomicLong(1n << 63n), InvalidArgumentError);
  });

  it('adds with Java long wrap-around', () => {
    assert.equal(addWrapping((1n << 63n) - 1n, 1n), -(1n << 63n));
    assert.equal(addWrapping(5n, -7n), -2n);
  });
});
