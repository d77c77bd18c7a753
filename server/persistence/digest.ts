// Apache 3.8's tree digest (DigestCalculator, version 2), for a data tree that wants to write the same
// TxnDigest and snapshot digest Apache does. A node's digest is the CRC-32 of its path ("" for the
// root), its data and 60 bytes of stat; nodes under /zookeeper/ count 0 (/zookeeper itself counts);
// the tree's digest is the sum of its nodes' digests as a wrapping 64-bit long. Pure.

import { crc32 } from 'node:zlib';
import type { records } from '../../src/protocol/index.js';

export const TREE_DIGEST_VERSION = 2;

/** The digest of one node, as DigestCalculator.calculateDigest computes it. */
export function nodeDigest(path: string, data: Uint8Array | null, stat: records.StatPersisted): bigint {
  if (path.startsWith('/zookeeper/')) return 0n;
  const name = path === '/' ? '' : path;
  const fields = Buffer.allocUnsafe(60);
  fields.writeBigInt64BE(stat.czxid, 0);
  fields.writeBigInt64BE(stat.mzxid, 8);
  fields.writeBigInt64BE(stat.pzxid, 16);
  fields.writeBigInt64BE(stat.ctime, 24);
  fields.writeBigInt64BE(stat.mtime, 32);
  fields.writeInt32BE(stat.version, 40);
  fields.writeInt32BE(stat.cversion, 44);
  fields.writeInt32BE(stat.aversion, 48);
  fields.writeBigInt64BE(stat.ephemeralOwner, 52);
  let crc = crc32(Buffer.from(name, 'utf8'));
  // zlib's crc32 returns 0 for a null buffer pointer, which an empty buffer may have: skip empty data.
  if (data !== null && data.length > 0) crc = crc32(data, crc);
  crc = crc32(fields, crc);
  return BigInt(crc >>> 0);
}

/** Adds or removes (`sign` -1) a node digest to a tree digest, wrapping as Java's long does. */
export function addToTreeDigest(treeDigest: bigint, digest: bigint, sign: 1 | -1 = 1): bigint {
  return BigInt.asIntN(64, treeDigest + BigInt(sign) * digest);
}
