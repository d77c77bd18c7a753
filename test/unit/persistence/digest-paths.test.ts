// Goal: a node's digest is the CRC-32 of path, data and stat bytes laid end to end, whichever way the
// code hashes them (one scratch copy for small nodes, in place for large data or long paths).

import assert from 'node:assert/strict';
import { crc32 } from 'node:zlib';
import { nodeDigest } from '../../../server/persistence/digest.js';

const stat = {
  czxid: 0x1_0000_0001n, mzxid: -2n, ctime: 1_764_000_000_000n, mtime: 2n ** 62n, version: -1,
  cversion: 7, aversion: 2 ** 31 - 1, ephemeralOwner: -(2n ** 63n), pzxid: 0n,
};

function expected(path: string, data: Buffer | null): bigint {
  const fields = Buffer.alloc(60);
  const longs = [stat.czxid, stat.mzxid, stat.pzxid, stat.ctime, stat.mtime];
  longs.forEach((value, i) => fields.writeBigInt64BE(value, i * 8));
  fields.writeInt32BE(stat.version, 40);
  fields.writeInt32BE(stat.cversion, 44);
  fields.writeInt32BE(stat.aversion, 48);
  fields.writeBigInt64BE(stat.ephemeralOwner, 52);
  const name = Buffer.from(path === '/' ? '' : path, 'utf8');
  return BigInt(crc32(Buffer.concat([name, data ?? Buffer.alloc(0), fields])) >>> 0);
}

describe('node digest: small and large nodes alike', () => {
  const cases: Array<[string, string, Buffer | null]> = [
    ['the root', '/', Buffer.alloc(0)],
    ['no data', '/a', null],
    ['a non-ASCII path', '/ünï/€/😀', Buffer.from('x')],
    ['data at the scratch limit', '/s', Buffer.alloc(16 * 1024, 3)],
    ['data past the scratch limit', '/l', Buffer.alloc(16 * 1024 + 1, 5)],
    ['a path past the scratch limit', `/${'p'.repeat(17_000)}`, Buffer.from('d')],
    ['a growing scratch (a long path then data)', `/${'é'.repeat(5000)}`, Buffer.alloc(9000, 1)],
  ];
  for (const [what, path, data] of cases) {
    it(`hashes ${what} as the bytes end to end`, () => {
      assert.equal(nodeDigest(path, data, stat), expected(path, data));
    });
  }
  it('counts 0 under /zookeeper/', () => assert.equal(nodeDigest('/zookeeper/quota', null, stat), 0n));
});
