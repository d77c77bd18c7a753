// Apache 3.8's tree digest (DigestCalculator, version 2), for a data tree that wants to write the same
// TxnDigest and snapshot digest Apache does. A node's digest is the CRC-32 of its path ("" for the
// root), its data and 60 bytes of stat; nodes under /zookeeper/ count 0 (/zookeeper itself counts);
// the tree's digest is the sum of its nodes' digests as a wrapping 64-bit long. Pure.

import { crc32 } from 'node:zlib';
import type { records } from '../../src/protocol/index.js';

export const TREE_DIGEST_VERSION = 2;

/** The 60 stat bytes of the node being digested: one scratch buffer, since digests run one at a time. */
const statFields = Buffer.alloc(60);
const statView = new DataView(statFields.buffer, statFields.byteOffset, statFields.byteLength);

/** Data and paths up to this size are hashed from one scratch copy (bigger ones in place). */
const SCRATCH_DATA_BYTES_MAX = 16 * 1024;
let scratch = Buffer.alloc(1024);

/** The digest of one node, as DigestCalculator.calculateDigest computes it. */
export function nodeDigest(path: string, data: Uint8Array | null, stat: records.StatPersisted): bigint {
  return BigInt(nodeDigestBits(path, data, stat));
}

/** nodeDigest as an unsigned 32-bit number (the tree keeps it so: no bigint per node). */
export function nodeDigestBits(path: string, data: Uint8Array | null, stat: records.StatPersisted): number {
  if (path.startsWith('/zookeeper/')) return 0;
  // DataView's big-endian setters are much cheaper per call than Buffer's writeBigInt64BE.
  statView.setBigInt64(0, stat.czxid);
  statView.setBigInt64(8, stat.mzxid);
  statView.setBigInt64(16, stat.pzxid);
  statView.setBigInt64(24, stat.ctime);
  statView.setBigInt64(32, stat.mtime);
  statView.setInt32(40, stat.version);
  statView.setInt32(44, stat.cversion);
  statView.setInt32(48, stat.aversion);
  statView.setBigInt64(52, stat.ephemeralOwner);
  const dataLength = data === null ? 0 : data.length;
  const name = path === '/' ? '' : path;
  if (dataLength <= SCRATCH_DATA_BYTES_MAX && name.length <= SCRATCH_DATA_BYTES_MAX) {
    // One crc32 call over path, data and stat copied side by side: three calls cost more than the copy.
    if (scratch.length < name.length * 3 + dataLength + 60) {
      scratch = Buffer.alloc(2 * (name.length * 3 + dataLength + 60));
    }
    let at = scratch.write(name, 0, 'utf8');
    if (dataLength > 0) {
      scratch.set(data!, at);
      at += dataLength;
    }
    at += statFields.copy(scratch, at);
    return crc32(scratch.subarray(0, at)) >>> 0;
  }
  // A string is hashed as its UTF-8 bytes, as Apache hashes path.getBytes().
  let crc = crc32(name);
  // zlib's crc32 returns 0 for a null buffer pointer, which an empty buffer may have: skip empty data.
  if (data !== null && data.length > 0) crc = crc32(data, crc);
  crc = crc32(statFields, crc);
  return crc >>> 0;
}

/** Adds or removes (`sign` -1) a node digest to a tree digest, wrapping as Java's long does. */
export function addToTreeDigest(treeDigest: bigint, digest: bigint, sign: 1 | -1 = 1): bigint {
  return BigInt.asIntN(64, treeDigest + BigInt(sign) * digest);
}
