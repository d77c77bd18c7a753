// The bytes Curator's counters keep in their nodes, so Java and Node share one counter: SharedCount (and
// kazoo's Counter with support_curator=True) stores a 4-byte big-endian signed int; DistributedAtomicLong
// an 8-byte big-endian signed long, where a missing or empty node means 0. Anything else is corruption
// (Curator throws on it too) and comes back as a DecodeError naming the length.
import { DecodeError, InvalidArgumentError } from '../../src/index.js';

export const SHARED_COUNT_BYTES = 4;
export const ATOMIC_LONG_BYTES = 8;
const INT32_MIN = -0x80000000;
const INT32_MAX = 0x7fffffff;
const INT64_MIN = -(1n << 63n);
const INT64_MAX = (1n << 63n) - 1n;

export function encodeSharedCount(value: number): Uint8Array {
  if (!Number.isInteger(value) || value < INT32_MIN || value > INT32_MAX) {
    throw new InvalidArgumentError(`a shared count is a 32-bit signed integer, got ${value}`);
  }
  const bytes = new Uint8Array(SHARED_COUNT_BYTES);
  new DataView(bytes.buffer).setInt32(0, value);
  return bytes;
}

export function decodeSharedCount(bytes: Uint8Array): number {
  if (bytes.length !== SHARED_COUNT_BYTES) {
    throw new DecodeError(`a shared count is ${SHARED_COUNT_BYTES} bytes, the node holds ${bytes.length}`);
  }
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.length).getInt32(0);
}

export function encodeAtomicLong(value: bigint): Uint8Array {
  if (value < INT64_MIN || value > INT64_MAX) {
    throw new InvalidArgumentError(`an atomic long is a 64-bit signed integer, got ${value}`);
  }
  const bytes = new Uint8Array(ATOMIC_LONG_BYTES);
  new DataView(bytes.buffer).setBigInt64(0, value);
  return bytes;
}

/** Empty data (or no node, which the caller passes as empty) is 0, as in Curator. */
export function decodeAtomicLong(bytes: Uint8Array): bigint {
  if (bytes.length === 0) return 0n;
  if (bytes.length !== ATOMIC_LONG_BYTES) {
    throw new DecodeError(`an atomic long is ${ATOMIC_LONG_BYTES} bytes, the node holds ${bytes.length}`);
  }
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.length).getBigInt64(0);
}

/** Wraps like Java's long arithmetic, so `add` agrees with DistributedAtomicLong at the edges. */
export function addWrapping(value: bigint, delta: bigint): bigint {
  return BigInt.asIntN(64, value + delta);
}
