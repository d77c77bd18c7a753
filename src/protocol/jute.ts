// Jute, ZooKeeper's binary record encoding: big-endian ints and longs, one-byte booleans,
// length-prefixed buffers, strings and vectors where a length of -1 means null, and records as
// their fields in declaration order with no tags or padding.
//
// Records are declared once, as data (see records.ts); the TypeScript type of a record is derived
// from its declaration, and the same declaration reads, writes, sizes and describes it. There are
// no sockets, files or timers here: bytes in, records out.

import { DecodeError } from './errors.js';

/** Reads jute values from one frame. Every read checks the frame's bounds first. */
export class JuteReader {
  offset: number;
  readonly end: number;

  constructor(
    readonly buffer: Buffer,
    offset = 0,
    end = buffer.length,
  ) {
    this.offset = offset;
    this.end = end;
  }

  get remaining(): number {
    return this.end - this.offset;
  }

  private need(bytes: number, what: string): void {
    if (bytes > this.end - this.offset) {
      throw new DecodeError(`truncated ${what}: needs ${bytes} bytes, ${this.end - this.offset} left`);
    }
  }

  int(): number {
    this.need(4, 'int');
    const value = this.buffer.readInt32BE(this.offset);
    this.offset += 4;
    return value;
  }

  long(): bigint {
    this.need(8, 'long');
    const value = this.buffer.readBigInt64BE(this.offset);
    this.offset += 8;
    return value;
  }

  bool(): boolean {
    this.need(1, 'boolean');
    // Java reads any non-zero byte as true.
    return this.buffer[this.offset++] !== 0;
  }

  /** A length prefix: -1 is null, anything else must fit in what is left of the frame. */
  private length(what: string): number {
    const length = this.int();
    if (length < -1) throw new DecodeError(`negative ${what} length ${length}`);
    if (length > this.end - this.offset) {
      throw new DecodeError(`${what} length ${length} exceeds the ${this.end - this.offset} bytes left in the frame`);
    }
    return length;
  }

  buffer_(): Buffer | null {
    const length = this.length('buffer');
    if (length === -1) return null;
    // A copy, so a record never pins the (possibly large) frame it came from.
    const value = Buffer.from(this.buffer.subarray(this.offset, this.offset + length));
    this.offset += length;
    return value;
  }

  ustring(): string | null {
    const length = this.length('string');
    if (length === -1) return null;
    const value = this.buffer.toString('utf8', this.offset, this.offset + length);
    this.offset += length;
    return value;
  }

  /** A vector's element count, bounded by what the remaining bytes could possibly hold. */
  vectorCount(minElementBytes: number): number {
    const count = this.int();
    if (count < -1) throw new DecodeError(`negative vector length ${count}`);
    if (count > 0 && count * minElementBytes > this.end - this.offset) {
      throw new DecodeError(`vector of ${count} elements cannot fit in the ${this.end - this.offset} bytes left`);
    }
    return count;
  }
}

/** Writes jute values into a buffer sized in advance by the record's `size()`. */
export class JuteWriter {
  offset: number;

  constructor(
    readonly buffer: Buffer,
    offset = 0,
  ) {
    this.offset = offset;
  }

  int(value: number): void {
    this.offset = this.buffer.writeInt32BE(value, this.offset);
  }

  long(value: bigint): void {
    this.offset = this.buffer.writeBigInt64BE(value, this.offset);
  }

  bool(value: boolean): void {
    this.buffer[this.offset++] = value ? 1 : 0;
  }

  buffer_(value: Uint8Array | null): void {
    if (value === null) {
      this.int(-1);
      return;
    }
    this.int(value.length);
    this.buffer.set(value, this.offset);
    this.offset += value.length;
  }

  ustring(value: string | null): void {
    if (value === null) {
      this.int(-1);
      return;
    }
    const length = this.buffer.write(value, this.offset + 4, 'utf8');
    this.int(length);
    this.offset += length;
  }
}

/** What a type is, so tests can derive generators from a declaration without a second schema. */
export type JuteKind =
  | { kind: 'int' }
  | { kind: 'long' }
  | { kind: 'bool' }
  | { kind: 'buffer'; nullable: boolean }
  | { kind: 'ustring'; nullable: boolean }
  | { kind: 'vector'; element: JuteType<unknown>; nullable: boolean }
  | { kind: 'record'; record: RecordCodec<object> }
  | { kind: 'optional'; inner: JuteType<unknown> }
  | { kind: 'custom'; name: string };

/** One jute type: how to read, write, size and describe a value of it. */
export interface JuteType<T> {
  readonly name: string;
  readonly shape: JuteKind;
  /** The fewest bytes one encoded value can take; bounds vector counts before allocating. */
  readonly minBytes: number;
  read(reader: JuteReader): T;
  write(writer: JuteWriter, value: T): void;
  size(value: T): number;
  describe(value: T): string;
}

export type TypeOf<J> = J extends JuteType<infer T> ? T : never;

const hexWidth = (value: bigint): string => (value < 0n ? `-0x${(-value).toString(16)}` : `0x${value.toString(16)}`);

export const int: JuteType<number> = {
  name: 'int',
  shape: { kind: 'int' },
  minBytes: 4,
  read: (r) => r.int(),
  write: (w, v) => w.int(v),
  size: () => 4,
  describe: (v) => String(v),
};

export const long: JuteType<bigint> = {
  name: 'long',
  shape: { kind: 'long' },
  minBytes: 8,
  read: (r) => r.long(),
  write: (w, v) => w.long(v),
  size: () => 8,
  describe: (v) => String(v),
};

/** A long that is an identifier (zxid, session id, owner): described in hex, as ZooKeeper logs them. */
export const longId: JuteType<bigint> = { ...long, describe: hexWidth };

export const bool: JuteType<boolean> = {
  name: 'boolean',
  shape: { kind: 'bool' },
  minBytes: 1,
  read: (r) => r.bool(),
  write: (w, v) => w.bool(v),
  size: () => 1,
  describe: (v) => String(v),
};

function describeBytes(value: Uint8Array | null): string {
  if (value === null) return 'null';
  const text = Buffer.from(value.subarray(0, 24)).toString('latin1').replace(/[^\x20-\x7e]/g, '.');
  return `<${value.length}B "${text}${value.length > 24 ? '…' : ''}">`;
}

/** `buffer`: bytes; a length of -1 decodes as null, distinct from an empty buffer. */
export const buffer: JuteType<Buffer | null> = {
  name: 'buffer',
  shape: { kind: 'buffer', nullable: true },
  minBytes: 4,
  read: (r) => r.buffer_(),
  write: (w, v) => w.buffer_(v),
  size: (v) => 4 + (v === null ? 0 : v.length),
  describe: describeBytes,
};

/** A string quoted for one log line: JSON escapes, plus the line breaks JSON leaves alone. */
function quote(value: string): string {
  const escape = (c: string) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`;
  return JSON.stringify(value).replace(/[\u0085\u2028\u2029]/g, escape);
}

/**
 * `ustring` where the protocol never means null (paths, schemes, ids). A -1 length from a lenient
 * peer (kazoo writes -1 for ''), decodes as the empty string.
 */
export const ustring: JuteType<string> = {
  name: 'ustring',
  shape: { kind: 'ustring', nullable: false },
  minBytes: 4,
  read: (r) => r.ustring() ?? '',
  write: (w, v) => w.ustring(v),
  size: (v) => 4 + Buffer.byteLength(v, 'utf8'),
  describe: quote,
};

/** `ustring` where null is a distinct value that must survive a round trip. */
export const nullableUstring: JuteType<string | null> = {
  name: 'ustring?',
  shape: { kind: 'ustring', nullable: true },
  minBytes: 4,
  read: (r) => r.ustring(),
  write: (w, v) => w.ustring(v),
  size: (v) => 4 + (v === null ? 0 : Buffer.byteLength(v, 'utf8')),
  describe: (v) => (v === null ? 'null' : quote(v)),
};

/** `vector<T>`; a count of -1 (null) decodes as an empty array. */
export function vector<T>(element: JuteType<T>): JuteType<T[]> {
  return {
    name: `vector<${element.name}>`,
    shape: { kind: 'vector', element: element as JuteType<unknown>, nullable: false },
    minBytes: 4,
    read(r) {
      const count = r.vectorCount(element.minBytes);
      const values: T[] = [];
      for (let i = 0; i < count; i++) values.push(element.read(r));
      return values;
    },
    write(w, values) {
      w.int(values.length);
      for (const value of values) element.write(w, value);
    },
    size(values) {
      let bytes = 4;
      for (const value of values) bytes += element.size(value);
      return bytes;
    },
    describe(values) {
      const shown = values.slice(0, 8).map((v) => element.describe(v));
      return `[${shown.join(', ')}${values.length > 8 ? `, …${values.length - 8} more` : ''}]`;
    },
  };
}

/**
 * A trailing field that old peers omit (ConnectRequest/ConnectResponse `readOnly`): read only when
 * bytes remain in the frame, written only when present.
 */
export function optional<T>(inner: JuteType<T>): JuteType<T | undefined> {
  return {
    name: `${inner.name}?`,
    shape: { kind: 'optional', inner: inner as JuteType<unknown> },
    minBytes: 0,
    read: (r) => (r.remaining > 0 ? inner.read(r) : undefined),
    write: (w, v) => {
      if (v !== undefined) inner.write(w, v);
    },
    size: (v) => (v === undefined ? 0 : inner.size(v)),
    describe: (v) => (v === undefined ? '-' : inner.describe(v)),
  };
}

type Simplify<T> = { [K in keyof T]: T[K] } & {};
type OptionalKeys<F> = { [K in keyof F]: undefined extends TypeOf<F[K]> ? K : never }[keyof F];
type RequiredKeys<F> = Exclude<keyof F, OptionalKeys<F>>;

/** The value type of a record declared with fields `F`; fields that may be absent become optional. */
export type RecordValue<F> = Simplify<
  { [K in RequiredKeys<F>]: TypeOf<F[K]> } & { [K in OptionalKeys<F>]?: TypeOf<F[K]> }
>;

export type Fields = Record<string, JuteType<any>>;

/** A declared record: a jute type that can also encode and decode whole buffers. */
export interface RecordCodec<T> extends JuteType<T> {
  readonly fields: ReadonlyArray<readonly [string, JuteType<unknown>]>;
  /** Encodes to a buffer of exactly `size(value)` bytes. */
  encode(value: T): Buffer;
  /** Decodes from the start of `bytes`; trailing bytes are ignored, as Apache ignores them. */
  decode(bytes: Buffer): T;
}

/**
 * Declares a record: the field order of `fields` is the wire order (JavaScript keeps the insertion
 * order of string keys). An optional field may only come last.
 */
export function record<const F extends Fields>(name: string, fields: F): RecordCodec<RecordValue<F>> {
  type T = RecordValue<F>;
  const entries = Object.entries(fields) as Array<[string, JuteType<any>]>;
  entries.forEach(([field, type], index) => {
    if (type.shape.kind === 'optional' && index !== entries.length - 1) {
      throw new Error(`record ${name}: optional field ${field} must be the last field`);
    }
  });
  const minBytes = entries.reduce((sum, [, type]) => sum + type.minBytes, 0);
  const codec: RecordCodec<T> = {
    name,
    fields: entries,
    shape: { kind: 'record', record: undefined as unknown as RecordCodec<object> },
    minBytes,
    read(r) {
      const value: Record<string, unknown> = {};
      for (const [field, type] of entries) {
        const v = type.read(r);
        if (v !== undefined) value[field] = v;
      }
      return value as T;
    },
    write(w, value) {
      const v = value as Record<string, unknown>;
      for (const [field, type] of entries) type.write(w, v[field]);
    },
    size(value) {
      const v = value as Record<string, unknown>;
      let bytes = 0;
      for (const [field, type] of entries) bytes += type.size(v[field]);
      return bytes;
    },
    describe(value) {
      const v = value as Record<string, unknown>;
      const parts = entries
        .filter(([field]) => v[field] !== undefined)
        .map(([field, type]) => `${field}=${type.describe(v[field])}`);
      return `${name}{${parts.join(' ')}}`;
    },
    encode(value) {
      const bytes = Buffer.allocUnsafe(codec.size(value));
      const writer = new JuteWriter(bytes);
      codec.write(writer, value);
      return bytes;
    },
    decode(bytes) {
      return codec.read(new JuteReader(bytes));
    },
  };
  (codec.shape as { record: unknown }).record = codec;
  return codec;
}

/** A record with no fields (whoAmI request, ping, closeSession). */
export const empty = record('Empty', {});
