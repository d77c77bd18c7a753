// FrameSplitter's skip mode, which the client uses for oversize replies: in any chunking, frames
// and the heads of skipped oversize frames come out in wire order, and lengths past the skip limit
// or negative are still refused.
import assert from 'node:assert/strict';
import { describe, it } from 'mocha';
import fc from 'fast-check';
import { FrameSplitter, FrameTooLargeError, type OversizeFrame } from '../../../src/protocol/index.js';

function frame(bodyBytes: number, fill: number): Buffer {
  const bytes = Buffer.alloc(4 + bodyBytes, fill);
  bytes.writeInt32BE(bodyBytes, 0);
  return bytes;
}

function describeItem(item: Buffer | OversizeFrame): string {
  if (!Buffer.isBuffer(item)) return `over ${item.frameBytes} ${item.head[0]}`;
  return `frame ${item.length} ${item[0] ?? '-'}`;
}

describe('FrameSplitter skip mode', () => {
  it('hands out frames and oversize heads in order, whatever the chunking', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 300 }), { minLength: 1, maxLength: 8 }),
        fc.array(fc.integer({ min: 1, max: 97 }), { minLength: 1, maxLength: 20 }),
        (lengths, cuts) => {
          const wire = Buffer.concat(lengths.map((length, i) => frame(length, i + 1)));
          const splitter = new FrameSplitter(100, { oversizeSkipBytesMax: 1000, oversizeHeadBytes: 16 });
          const items: Array<Buffer | OversizeFrame> = [];
          for (let at = 0, i = 0; at < wire.length; i++) {
            const size = cuts[i % cuts.length];
            items.push(...splitter.pushItems(wire.subarray(at, at + size)));
            at += size;
          }
          const expected = lengths.map((length, i) =>
            length > 100 ? `over ${length} ${i + 1}` : `frame ${length} ${length === 0 ? '-' : i + 1}`,
          );
          assert.deepEqual(items.map(describeItem), expected);
          assert.equal(splitter.pendingBytes, 0);
          for (const item of items) if (!Buffer.isBuffer(item)) assert.equal(item.head.length, 16);
        },
      ),
    );
  });

  it('still refuses lengths past the skip limit, negative ones, and any oversize without the option', () => {
    const over = (length: number) => {
      const prefix = Buffer.alloc(4);
      prefix.writeInt32BE(length, 0);
      return prefix;
    };
    const skipping = () => new FrameSplitter(100, { oversizeSkipBytesMax: 1000 });
    assert.throws(() => skipping().pushItems(over(1001)), FrameTooLargeError);
    assert.throws(() => skipping().pushItems(over(-1)), FrameTooLargeError);
    assert.throws(() => new FrameSplitter(100).pushItems(over(101)), FrameTooLargeError);
    assert.throws(() => skipping().push(over(101)), FrameTooLargeError, 'push never hands out heads');
  });
});
