// Property tests of the codec with fast-check: for every declared record (arbitraries derived from
// the declaration's shape, so a new record is covered without a second schema) and for multi,
// decode(encode(x)) equals x; random and mutated bytes given to every decoder, to decodeRequest
// and to the FrameSplitter raise nothing but DecodeError and allocate nothing the frame cannot hold.
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { describe, it } from 'mocha';
import {
  DecodeError,
  decodeExactly,
  decodeRequest,
  encodeFrame,
  encodeMulti,
  FrameSplitter,
  FrameTooLargeError,
  JuteReader,
  MultiRequest,
  MultiResponse,
  part,
  records as R,
  type JuteType,
  type RecordCodec,
} from '../../../src/protocol/index.js';

// Sized so the whole file runs in a few seconds on a shared 2-core machine.
const RUNS = 100;
const INT_MIN = -(2 ** 31);
const INT_MAX = 2 ** 31 - 1;

const text = fc.string({ unit: 'binary', maxLength: 12 });
const bytes = fc.uint8Array({ maxLength: 24 }).map((b) => Buffer.from(b));

/** An arbitrary for any jute type, derived from its declared shape. */
function arbitraryOf(type: JuteType<unknown>): fc.Arbitrary<unknown> {
  const shape = type.shape;
  switch (shape.kind) {
    case 'int':
      return fc.integer({ min: INT_MIN, max: INT_MAX });
    case 'long':
      return fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n });
    case 'bool':
      return fc.boolean();
    case 'buffer':
      return shape.nullable ? fc.option(bytes, { nil: null }) : bytes;
    case 'ustring':
      return shape.nullable ? fc.option(text, { nil: null }) : text;
    case 'vector':
      return fc.array(arbitraryOf(shape.element), { maxLength: 4 });
    case 'record':
      return arbitraryOfRecord(shape.record);
    case 'optional':
      return arbitraryOf(shape.inner);
    case 'custom':
      if (shape.name === 'MultiRequest') return multiRequest;
      if (shape.name === 'MultiResponse') return multiResponse;
      throw new Error(`no arbitrary for custom type ${shape.name}`);
  }
}

/** A record's arbitrary: required fields always present, an optional trailing field sometimes absent. */
function arbitraryOfRecord(codec: RecordCodec<object>): fc.Arbitrary<object> {
  const model: Record<string, fc.Arbitrary<unknown>> = {};
  const requiredKeys: string[] = [];
  for (const [field, type] of codec.fields) {
    model[field] = arbitraryOf(type);
    if (type.shape.kind !== 'optional') requiredKeys.push(field);
  }
  return fc.record(model, { requiredKeys, noNullPrototype: true }) as fc.Arbitrary<object>;
}

/** fc.record with plain objects (fast-check 4 defaults to null prototypes, which deepEqual rejects). */
const plain = <T>(model: { [K in keyof T]: fc.Arbitrary<T[K]> }) =>
  fc.record(model, { noNullPrototype: true });

const arb = <T>(codec: RecordCodec<T>) => arbitraryOfRecord(codec as RecordCodec<object>) as fc.Arbitrary<T>;

const multiRequest: fc.Arbitrary<MultiRequest> = plain({
  ops: fc.array(
    fc.oneof(
      plain({ type: fc.constantFrom(1, 15, 19), request: arb(R.CreateRequest) }),
      plain({ type: fc.constant(21), request: arb(R.CreateTTLRequest) }),
      plain({ type: fc.constant(2), request: arb(R.DeleteRequest) }),
      plain({ type: fc.constant(5), request: arb(R.SetDataRequest) }),
      plain({ type: fc.constant(13), request: arb(R.CheckVersionRequest) }),
      plain({ type: fc.constant(4), request: arb(R.GetDataRequest) }),
      plain({ type: fc.constant(8), request: arb(R.GetChildrenRequest) }),
    ),
    { maxLength: 4 },
  ),
}) as fc.Arbitrary<MultiRequest>;

const multiResponse: fc.Arbitrary<MultiResponse> = plain({
  results: fc.array(
    fc.oneof(
      plain({ type: fc.constant(1), response: arb(R.CreateResponse) }),
      plain({ type: fc.constant(15), response: arb(R.Create2Response) }),
      plain({ type: fc.constantFrom(2, 13) }),
      plain({ type: fc.constant(5), response: arb(R.SetDataResponse) }),
      plain({ type: fc.constant(4), response: arb(R.GetDataResponse) }),
      plain({ type: fc.constant(8), response: arb(R.GetChildrenResponse) }),
      plain({ type: fc.constant(-1), err: fc.integer({ min: INT_MIN, max: INT_MAX }) }),
    ),
    { maxLength: 4 },
  ),
}) as fc.Arbitrary<MultiResponse>;

/** Damage to an encoding: flip bytes, cut it short, splice in random bytes, or overwrite an int. */
const mutation = fc.oneof(
  plain({ kind: fc.constant('flip' as const), at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }),
  plain({ kind: fc.constant('truncate' as const), at: fc.nat() }),
  plain({ kind: fc.constant('insert' as const), at: fc.nat(), value: bytes }),
  plain({
    kind: fc.constant('int' as const),
    at: fc.nat(),
    value: fc.constantFrom(-2, -1, 0, 1, 0x7fffffff, INT_MIN, 0xfffff, 0x100000),
  }),
);
type Mutation = typeof mutation extends fc.Arbitrary<infer M> ? M : never;

function mutate(input: Buffer, mutations: Mutation[]): Buffer {
  let out = Buffer.from(input);
  for (const m of mutations) {
    const at = out.length === 0 ? 0 : m.at % (out.length + 1);
    if (m.kind === 'flip' && at < out.length) out[at] = m.value;
    if (m.kind === 'truncate') out = out.subarray(0, at);
    if (m.kind === 'insert') out = Buffer.concat([out.subarray(0, at), m.value, out.subarray(at)]);
    if (m.kind === 'int' && at + 4 <= out.length) out.writeInt32BE(m.value, at);
  }
  return out;
}

/** Bytes that look like jute: small lengths and counts (-1 … 12), bytes of 0 and 1, random runs. */
const juteish = fc
  .array(
    fc.oneof(
      fc.integer({ min: -1, max: 12 }).map((n) => {
        const bytes = Buffer.alloc(4);
        bytes.writeInt32BE(n, 0);
        return bytes;
      }),
      fc.constantFrom(Buffer.from([0]), Buffer.from([1])),
      fc.uint8Array({ maxLength: 12 }).map((b) => Buffer.from(b)),
    ),
    { maxLength: 48 },
  )
  .map((parts) => Buffer.concat(parts));

/**
 * Decodes `input` with `type`: it must either throw DecodeError or give a value no larger than the
 * bytes it consumed, so decoding never builds more than the frame holds (a -1 length and a
 * non-canonical boolean keep their size when re-encoded).
 */
function decodesWithinBounds(type: JuteType<unknown>, input: Buffer): void {
  const reader = new JuteReader(input);
  let value: unknown;
  try {
    value = type.read(reader);
  } catch (error) {
    if (error instanceof DecodeError) return;
    throw error;
  }
  if (input.every((byte) => byte < 0x80)) assert.equal(type.size(value), reader.offset, type.name);
  // Invalid UTF-8 decodes as U+FFFD (as Java's decoder does), up to 3 bytes for each byte read.
  else assert.ok(type.size(value) <= 3 * reader.offset, type.name);
}

/** Runs `decode`, and fails on any exception that is not a DecodeError. */
function onlyDecodeErrors(decode: () => unknown): void {
  try {
    decode();
  } catch (error) {
    if (!(error instanceof DecodeError)) throw error;
  }
}

const codecs: Array<{ name: string; type: JuteType<any>; value: fc.Arbitrary<unknown> }> = [
  ...R.allRecords.map((codec) => ({ name: codec.name, type: codec, value: arbitraryOf(codec) })),
  { name: 'MultiRequest', type: MultiRequest, value: multiRequest },
  { name: 'MultiResponse', type: MultiResponse, value: multiResponse },
];

describe('codec properties (fast-check)', () => {
  describe('decode(encode(x)) equals x', () => {
    for (const { name, type, value } of codecs) {
      it(name, () => {
        fc.assert(
          fc.property(value, (x) => {
            const encoded = encodeMulti(type, x);
            assert.equal(encoded.length, type.size(x));
            assert.deepEqual(decodeExactly(type, encoded), x);
          }),
          { numRuns: RUNS },
        );
      });
    }
  });

  it('describe() of every record is one line that names it', () => {
    for (const { name, type, value } of codecs) {
      fc.assert(
        fc.property(value, (x) => {
          const line = type.describe(x);
          assert.doesNotMatch(line, /[\n\r\u0085\u2028\u2029]/, `${name}: ${line}`);
          assert.ok(line.startsWith(name), `${name}: ${line}`);
        }),
        { numRuns: RUNS / 2 },
      );
    }
    const breaks = 'a\nb\rc\u0085d\u2028e\u2029f';
    const lineBreak = /[\n\r\u0085\u2028\u2029]/;
    const watches = { relativeZxid: 1n, dataWatches: [breaks], existWatches: [], childWatches: [] };
    assert.doesNotMatch(R.SetWatches.describe(watches), lineBreak);
    const reconfig = { joiningServers: breaks, leavingServers: null, newMembers: null, curConfigId: 0n };
    assert.doesNotMatch(R.ReconfigRequest.describe(reconfig), lineBreak);
  });

  it('random and jute-like bytes: every decoder throws only DecodeError, builds only what it read', () => {
    fc.assert(
      fc.property(fc.oneof(juteish, fc.uint8Array({ maxLength: 96 }).map((b) => Buffer.from(b))), (input) => {
        for (const { type } of codecs) decodesWithinBounds(type, input);
      }),
      { numRuns: RUNS * 4 },
    );
  });

  it('mutated encodings: every decoder throws only DecodeError, builds only what it read', () => {
    for (const { type, value } of codecs) {
      fc.assert(
        fc.property(value, fc.array(mutation, { minLength: 1, maxLength: 3 }), (x, mutations) => {
          decodesWithinBounds(type, mutate(encodeMulti(type, x), mutations));
        }),
        { numRuns: RUNS },
      );
    }
  });

  it('decodeRequest raises only DecodeError on random and mutated requests', () => {
    const request = fc.oneof(
      fc.uint8Array({ maxLength: 96 }).map((b) => Buffer.from(b)),
      fc
        .tuple(
          fc.integer({ min: -12, max: 110 }),
          fc.constantFrom(...codecs),
          fc.array(mutation, { maxLength: 3 }),
        )
        .chain(([type, body, mutations]) =>
          body.value.map((x) =>
            mutate(
              encodeFrame(part(R.RequestHeader, { xid: 7, type }), part(body.type, x)).subarray(4),
              mutations,
            ),
          ),
        ),
    );
    fc.assert(
      fc.property(request, (frame) => onlyDecodeErrors(() => decodeRequest(frame))),
      { numRuns: RUNS * 8 },
    );
  });

  it('refuses huge vector counts and lengths before allocating for them', () => {
    const hugeVector = Buffer.alloc(8);
    hugeVector.writeInt32BE(0x7fffffff, 0);
    assert.throws(() => R.GetChildrenResponse.decode(hugeVector), DecodeError);
    assert.throws(() => R.CloseSessionTxn.decode(hugeVector), DecodeError);
    assert.throws(() => R.GetDataResponse.decode(hugeVector), DecodeError);
    const hugeString = Buffer.alloc(8);
    hugeString.writeInt32BE(0x7ffffff0, 0);
    assert.throws(() => R.SyncRequest.decode(hugeString), DecodeError);
    assert.throws(() => R.Id.decode(Buffer.from('ffffff00', 'hex')), DecodeError);
  });

  it('declares no vector whose elements could take zero bytes (a count could not be bounded)', () => {
    const visit = (type: JuteType<unknown>, seen: Set<unknown>): void => {
      if (seen.has(type)) return;
      seen.add(type);
      const shape = type.shape;
      if (shape.kind === 'vector') {
        assert.ok(shape.element.minBytes > 0, `${type.name} elements can be empty`);
        visit(shape.element, seen);
      }
      if (shape.kind === 'record') for (const [, field] of shape.record.fields) visit(field, seen);
      if (shape.kind === 'optional') visit(shape.inner, seen);
    };
    const seen = new Set<unknown>();
    for (const codec of R.allRecords) visit(codec, seen);
  });

  it('FrameSplitter raises only DecodeError on random streams and holds no byte it was not given', () => {
    const chunks = fc.array(fc.uint8Array({ maxLength: 40 }).map((b) => Buffer.from(b)), { maxLength: 12 });
    fc.assert(
      fc.property(chunks, fc.integer({ min: 0, max: 64 }), (stream, limit) => {
        const splitter = new FrameSplitter(limit);
        let total = 0;
        for (const chunk of stream) {
          try {
            for (const frame of splitter.push(chunk)) {
              assert.ok(frame.length <= limit);
              total += 4 + frame.length;
            }
          } catch (error) {
            if (!(error instanceof FrameTooLargeError)) throw error;
            return;
          }
        }
        // Every byte pushed is either in a returned frame or still pending; nothing else is held.
        assert.equal(total + splitter.pendingBytes, stream.reduce((sum, c) => sum + c.length, 0));
      }),
      { numRuns: RUNS * 4 },
    );
    const splitter = new FrameSplitter();
    assert.throws(() => splitter.push(Buffer.from('7fffffff', 'hex')), FrameTooLargeError);
  });
});
