// Goal: the snapshot decoder's in-place node reading (shared bigints, longs built from two halves)
// returns exactly the values written, at every edge of the number/bigint split, in any chunking.

import assert from 'node:assert/strict';
import { SnapshotDecoder, SnapshotEncoder } from '../../../server/persistence/snapshot-format.js';
import type { SnapshotNode } from '../../../server/persistence/types.js';

const edges = [
  0n, 1n, -1n, 2n ** 31n, -(2n ** 31n), 2n ** 32n - 1n, 2n ** 32n, 2n ** 52n, 2n ** 53n - 1n, 2n ** 53n,
  -(2n ** 53n), 2n ** 63n - 1n, -(2n ** 63n), 0x0100_0000_0000_0001n, -0x00ff_0000_0000_1234n,
];

function nodesFor(): SnapshotNode[] {
  const nodes: SnapshotNode[] = [];
  for (let i = 0; i < edges.length; i++) {
    const a = edges[i]!;
    const b = edges[(i + 3) % edges.length]!;
    nodes.push({
      path: i === 0 ? '' : `/n${i}é`,
      data: i % 3 === 0 ? null : Buffer.from([i, 0, 255]),
      aclRef: i % 2 === 0 ? -1n : a,
      stat: { czxid: a, mzxid: i % 2 ? a : b, ctime: b, mtime: i % 4 ? b : a, version: -i | 0, cversion: i,
        aversion: 2 ** 31 - 1 - i, ephemeralOwner: i % 5 ? a : 0n, pzxid: i % 3 ? a : b },
    });
  }
  return nodes;
}

function roundTrip(nodes: SnapshotNode[], chunkBytes: number): SnapshotNode[] {
  const encoder = new SnapshotEncoder();
  const bytes = Buffer.concat([
    encoder.header(), encoder.sessions([]), encoder.aclEntries([]), ...nodes.map((n) => encoder.node(n)),
    encoder.endOfNodes(), encoder.seal(),
  ]);
  const decoder = new SnapshotDecoder('snapshot.test');
  const read: SnapshotNode[] = [];
  let offset = 0;
  for (;;) {
    const step = decoder.next();
    if (step.kind === 'more') {
      if (offset >= bytes.length) decoder.end();
      else decoder.push(bytes.subarray(offset, (offset += chunkBytes)));
    } else if (step.kind === 'node') read.push(step.node);
    else if (step.kind === 'done') return read;
  }
}

describe('snapshot decoder: node values at the number/bigint edges', () => {
  for (const chunkBytes of [7, 64, 1 << 20]) {
    it(`reads back every long, int, path and data exactly (chunks of ${chunkBytes} bytes)`, () => {
      const nodes = nodesFor();
      assert.deepEqual(roundTrip(nodes, chunkBytes), nodes);
    });
  }
});
