// Incremental framing: every message in both directions is a 4-byte big-endian length and then
// that many bytes. The splitter accepts bytes in any chunking and refuses a frame whose declared
// length is negative or over the limit before allocating anything for it. A reader that can act
// on an oversize frame (fail the one request it answers) may ask for its first bytes instead, and
// the rest is discarded as it arrives, still without allocating it.

import { FrameTooLargeError } from './errors.js';
import { FRAME_BYTES_MAX_DEFAULT, FRAME_LENGTH_BYTES } from './limits.js';

/** The start of a frame over the limit, handed out instead of the frame (see `pushItems`). */
export interface OversizeFrame {
  /** The declared length of the whole frame. */
  readonly frameBytes: number;
  /** Its first `oversizeHeadBytes` bytes; the rest is discarded as it arrives. */
  readonly head: Buffer;
}

export interface FrameSplitterOptions {
  /**
   * Frames over `frameBytesMax` but at most this long are skipped rather than refused: `pushItems`
   * hands out their head. 0 (the default): every oversize frame is refused.
   */
  readonly oversizeSkipBytesMax?: number;
  /** How many leading bytes of a skipped frame to keep (a reply header is 16). Default 16. */
  readonly oversizeHeadBytes?: number;
}

export class FrameSplitter {
  private chunks: Buffer[] = [];
  private buffered = 0;
  /** Length of the frame being assembled, once its prefix has arrived. */
  private expected = -1;
  /** Bytes of an oversize frame still to discard after its head was handed out. */
  private discarding = 0;
  private readonly oversizeSkipBytesMax: number;
  private readonly oversizeHeadBytes: number;

  constructor(
    readonly frameBytesMax: number = FRAME_BYTES_MAX_DEFAULT,
    options: FrameSplitterOptions = {},
  ) {
    this.oversizeSkipBytesMax = options.oversizeSkipBytesMax ?? 0;
    this.oversizeHeadBytes = options.oversizeHeadBytes ?? 16;
  }

  /** Bytes received but not yet returned as part of a frame. */
  get pendingBytes(): number {
    return this.buffered;
  }

  /**
   * Adds received bytes and returns every frame they complete, in order. Throws FrameTooLargeError
   * (a DecodeError) for a bad length prefix; the splitter is then unusable, as is the connection.
   */
  push(chunk: Buffer): Buffer[] {
    return this.split(chunk, false) as Buffer[];
  }

  /**
   * As `push`, but a frame over the limit and within `oversizeSkipBytesMax` comes out, in its place
   * in the order, as an OversizeFrame once its head has arrived; its remaining bytes are dropped.
   */
  pushItems(chunk: Buffer): Array<Buffer | OversizeFrame> {
    return this.split(chunk, true);
  }

  private split(chunk: Buffer, skipOversize: boolean): Array<Buffer | OversizeFrame> {
    const items: Array<Buffer | OversizeFrame> = [];
    if (chunk.length > 0) {
      this.chunks.push(chunk);
      this.buffered += chunk.length;
    }
    for (;;) {
      if (this.discarding > 0) {
        const dropped = Math.min(this.discarding, this.buffered);
        this.drop(dropped);
        this.discarding -= dropped;
        if (this.discarding > 0) return items;
      }
      if (this.expected < 0) {
        if (this.buffered < FRAME_LENGTH_BYTES) return items;
        const length = this.take(FRAME_LENGTH_BYTES).readInt32BE(0);
        const skippable = skipOversize && length > this.frameBytesMax && length <= this.oversizeSkipBytesMax;
        if (length < 0 || (length > this.frameBytesMax && !skippable)) {
          throw new FrameTooLargeError(length, this.frameBytesMax);
        }
        this.expected = length;
      }
      if (this.expected > this.frameBytesMax) {
        const headBytes = Math.min(this.oversizeHeadBytes, this.expected);
        if (this.buffered < headBytes) return items;
        // Copied, so the head does not pin the chunk whose rest is being discarded.
        items.push({ frameBytes: this.expected, head: Buffer.from(this.take(headBytes)) });
        this.discarding = this.expected - headBytes;
        this.expected = -1;
        continue;
      }
      if (this.buffered < this.expected) return items;
      items.push(this.take(this.expected));
      this.expected = -1;
    }
  }

  /** Discards the first `bytes` buffered bytes without copying them. */
  private drop(bytes: number): void {
    this.buffered -= bytes;
    while (bytes > 0) {
      const chunk = this.chunks[0];
      if (chunk.length <= bytes) {
        bytes -= chunk.length;
        this.chunks.shift();
      } else {
        this.chunks[0] = chunk.subarray(bytes);
        bytes = 0;
      }
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
