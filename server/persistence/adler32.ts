// Adler-32 (RFC 1950), the checksum Apache ZooKeeper puts in front of every transaction log entry
// and at the end of every snapshot. Incremental, so a stream can be checked chunk by chunk.

const MOD_ADLER = 65521;
/** The most bytes that can be summed before the 32-bit sums must be reduced (zlib's NMAX). */
const BLOCK_BYTES_MAX = 5552;

/** The checksum of nothing. */
export const ADLER32_INITIAL = 1;

/** Continues a running Adler-32 over `bytes`; returns the new value (unsigned 32-bit). */
export function adler32Update(running: number, bytes: Uint8Array, start = 0, end = bytes.length): number {
  let a = running & 0xffff;
  let b = (running >>> 16) & 0xffff;
  let offset = start;
  while (offset < end) {
    const blockEnd = Math.min(end, offset + BLOCK_BYTES_MAX);
    for (; offset < blockEnd; offset++) {
      a += bytes[offset];
      b += a;
    }
    a %= MOD_ADLER;
    b %= MOD_ADLER;
  }
  return ((b << 16) | a) >>> 0;
}

/** The Adler-32 of `bytes`. */
export function adler32(bytes: Uint8Array, start = 0, end = bytes.length): number {
  return adler32Update(ADLER32_INITIAL, bytes, start, end);
}
