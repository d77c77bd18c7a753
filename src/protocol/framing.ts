// Incremental framing: every message in both directions is a 4-byte big-endian length and then
// that many bytes. The splitter accepts bytes in any chunking and refuses a frame whose declared
// length is negative or over the limit before allocating anything for it.

import { FrameTooLargeError } from './errors.js';
import { FRAME_BYTES_MAX_DEFAULT, FRAME_LENGTH_BYTES } from './limits.js';

export class FrameSplitter {
  private chunks: Buffer[] = [];
  private buffered = 0;
  /** Length of the frame being assembled, once its prefix has arrived. */
  private expected = -1;

  constructor(readonly frameBytesMax: number = FRAME_BYTES_MAX_DEFAULT) {}

  /** Bytes received but not yet returned as part of a frame. */
  get pendingBytes(): number {
    return this.buffered;
  }

  /**
   * Adds received bytes and returns every frame they complete, in order. Throws FrameTooLargeError
   * (a DecodeError) for a bad length prefix; the splitter is then unusable, as is the connection.
   */
  push(chunk: Buffer): Buffer[] {
    const frames: Buffer[] = [];
    if (chunk.length > 0) {
      this.chunks.push(chunk);
      this.buffered += chunk.length;
    }
    for (;;) {
      if (this.expected < 0) {
        if (this.buffered < FRAME_LENGTH_BYTES) return frames;
        const length = this.take(FRAME_LENGTH_BYTES).readInt32BE(0);
        if (length < 0 || length > this.frameBytesMax) throw new FrameTooLargeError(length, this.frameBytesMax);
        this.expected = length;
      }
      if (this.buffered < this.expected) return frames;
      frames.push(this.take(this.expected));
      this.expected = -1;
    }
  }

  /** Removes and returns the first `bytes` buffered bytes (a view when they lie in one chunk). */
  private take(bytes: number): Buffer {
    this.buffered -= bytes;
    const first = this.chunks[0];
    if (bytes === 0) return Buffer.alloc(0);
    if (first.length === bytes) {
      this.chunks.shift();
      return first;
    }
    if (first.length > bytes) {
      this.chunks[0] = first.subarray(bytes);
      return first.subarray(0, bytes);
    }
    const out = Buffer.allocUnsafe(bytes);
    let filled = 0;
    while (filled < bytes) {
      const chunk = this.chunks[0];
      const used = Math.min(chunk.length, bytes - filled);
      chunk.copy(out, filled, 0, used);
      filled += used;
      if (used === chunk.length) this.chunks.shift();
      else this.chunks[0] = chunk.subarray(used);
    }
    return out;
  }
}
