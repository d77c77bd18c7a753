// The frame splitter under arbitrary chunk boundaries, and its refusal of oversized frames.
import assert from 'node:assert/strict';
import { describe, it } from 'mocha';
import fc from 'fast-check';
import { FrameSplitter, FrameTooLargeError } from '../../../src/protocol/index.js';

function framed(payloads: Buffer[]): Buffer {
  return Buffer.concat(
    payloads.flatMap((p) => {
      const length = Buffer.alloc(4);
      length.writeInt32BE(p.length, 0);
      return [length, p];
    }),
  );
}

describe('FrameSplitter', () => {
  it('returns the same frames whatever the chunking', () => {
    fc.assert(
      fc.property(
        fc.array(fc.uint8Array({ maxLength: 300 }), { maxLength: 20 }),
        fc.array(fc.integer({ min: 1, max: 64 }), { minLength: 1, maxLength: 50 }),
        (payloads, cuts) => {
          const stream = framed(payloads.map((p) => Buffer.from(p)));
          const splitter = new FrameSplitter(1000);
          const frames: Buffer[] = [];
          let offset = 0;
          let i = 0;
          while (offset < stream.length) {
            const size = cuts[i++ % cuts.length];
            frames.push(...splitter.push(stream.subarray(offset, offset + size)));
            offset += size;
          }
          assert.deepEqual(
            frames.map((f) => Buffer.from(f).toString('hex')),
            payloads.map((p) => Buffer.from(p).toString('hex')),
          );
          assert.equal(splitter.pendingBytes, 0);
        },
      ),
    );
  });

  it('refuses a frame over the limit before its body arrives', () => {
    const splitter = new FrameSplitter(0xfffff);
    const header = Buffer.alloc(4);
    header.writeInt32BE(0x100000, 0);
    assert.throws(() => splitter.push(header), FrameTooLargeError);
  });

  it('refuses a negative length', () => {
    const splitter = new FrameSplitter();
    assert.throws(() => splitter.push(Buffer.from([0xff, 0xff, 0xff, 0xfe])), /negative/);
  });

  it('accepts a frame of exactly the limit', () => {
    const splitter = new FrameSplitter(10);
    assert.equal(splitter.push(framed([Buffer.alloc(10, 1)])).length, 1);
  });
});
