// One optimistic attempt of Curator's DistributedAtomicLong, planned from the node as read: the bytes to
// write and the version to write them at (or create the node), with the pre and post values Curator
// reports. The shell reads the node with its Stat, carries out the plan, and on NodeExists / BadVersion /
// NoNode tries again under its retry policy (Curator's `promotedToLock` takes a mutex after that).
import { addWrapping, decodeAtomicLong, encodeAtomicLong } from './formats.js';

export type AtomicLongOp =
  | { kind: 'add'; delta: bigint }
  | { kind: 'set'; value: bigint }
  /** Writes only if the current value equals `expected`; fails (no write) when the node is absent. */
  | { kind: 'compare-and-set'; expected: bigint; value: bigint };

/** The node as read: undefined when it does not exist (its value then counts as 0). */
export type AtomicLongNode = { data: Uint8Array; version: number } | undefined;

export type AtomicLongPlan =
  /** No node yet: create it with `data`; NodeExists means someone raced us: read again. */
  | { kind: 'create'; data: Uint8Array; preValue: bigint; postValue: bigint }
  /** setData at `version`; BadVersion or NoNode means someone raced us: read again. */
  | { kind: 'set'; data: Uint8Array; version: number; preValue: bigint; postValue: bigint }
  /** Compare-and-set whose expectation does not hold: not succeeded, nothing to write. */
  | { kind: 'fail'; preValue: bigint };

/** Throws DecodeError when the node holds something other than an 8-byte long (Curator's corruption). */
export function planAtomicLong(node: AtomicLongNode, op: AtomicLongOp): AtomicLongPlan {
  const preValue = node === undefined ? 0n : decodeAtomicLong(node.data);
  let postValue: bigint;
  switch (op.kind) {
    case 'add':
      postValue = addWrapping(preValue, op.delta);
      break;
    case 'set':
      postValue = op.value;
      break;
    case 'compare-and-set':
      // As Curator: a missing node never matches, not even an expected 0.
      if (node === undefined || preValue !== op.expected) return { kind: 'fail', preValue };
      postValue = op.value;
      break;
  }
  const data = encodeAtomicLong(postValue);
  if (node === undefined) return { kind: 'create', data, preValue, postValue };
  return { kind: 'set', data, version: node.version, preValue, postValue };
}
