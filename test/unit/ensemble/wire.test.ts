// The peer wire codec: every message (each notification state, each ZAB body) survives a round trip,
// random messages do too (fast-check), and every malformed input (each truncation of a valid message,
// random bytes, oversized fields, unknown versions and kinds) is a DecodeError, never another failure.
import assert from 'node:assert/strict';
import { describe, it } from 'mocha';
import fc from 'fast-check';
import { DecodeError, InvalidArgumentError } from '../../../src/protocol/index.js';
import {
  decodePeerMessage, encodePeerMessage, peerMessageBytesMax, peerWire, PEER_WIRE_VERSION,
  type PeerMessage, type ZabBody,
} from '../../../server/quorum/index.js';

const bytes = (...values: number[]) => new Uint8Array(values);

/** One example of every ZAB body. */
export const everyBody: ZabBody[] = [
  { type: 'followerInfo', acceptedEpoch: 3n, observer: false },
  { type: 'followerInfo', acceptedEpoch: 0n, observer: true },
  { type: 'leaderInfo', epoch: 4n },
  { type: 'ackEpoch', lastZxid: 0x3_0000_0007n, currentEpoch: -1n },
  { type: 'diff', zxid: 0x4_0000_0000n },
  { type: 'trunc', zxid: 0x3_0000_0002n },
  { type: 'snap', zxid: 0x3_0000_0009n, snapshot: bytes(1, 2, 3, 4, 5) },
  { type: 'snap', zxid: 0n, snapshot: bytes() },
  { type: 'proposal', txn: { zxid: 0x4_0000_0001n, payload: bytes(9, 8, 7) } },
  { type: 'commit', zxid: 0x4_0000_0001n },
  { type: 'inform', txn: { zxid: 0x4_0000_0002n, payload: bytes() } },
  { type: 'newLeader', zxid: 0x4_0000_0000n, committedZxid: 0x3_0000_0009n },
  { type: 'ack', zxid: 0x4_0000_0001n },
  { type: 'upToDate' },
  { type: 'ping' },
  { type: 'pingReply' },
  { type: 'pingReply', sessionTouches: bytes(0, 0, 1) },
  { type: 'pingReply', sessionTouches: bytes() },
  { type: 'request', requestId: 17, request: bytes(1) },
  { type: 'syncRequest', requestId: Number.MAX_SAFE_INTEGER },
  { type: 'syncReply', requestId: 0, zxid: 0x4_0000_0003n },
];

export const everyMessage: PeerMessage[] = [
  ...(['LOOKING', 'FOLLOWING', 'LEADING', 'OBSERVING'] as const).map((state): PeerMessage => ({
    type: 'notification', state, leader: 3, zxid: 0x2_0000_0005n, electionEpoch: 7n, peerEpoch: 2n,
  })),
  { type: 'notification', state: 'OBSERVING', leader: -1, zxid: 0n, electionEpoch: 0n, peerEpoch: 0n },
  ...everyBody.map((body, seq): PeerMessage => ({
    type: 'zab', link: '2:9f3a', leaderSession: seq % 2 === 0 ? '' : '1:ab', seq, body,
  })),
];

/** Buffers and Uint8Arrays as plain arrays, so deepEqual compares contents only. */
function plain(value: unknown): unknown {
  if (value instanceof Uint8Array) return { bytes: [...value] };
  if (Array.isArray(value)) return value.map(plain);
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, plain(v)]));
  }
  return value;
}

const long = fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n });
const blob = fc.uint8Array({ maxLength: 64 });
const safeInt = fc.integer({ min: -(2 ** 31), max: 2 ** 40 });
const bodyArbitrary: fc.Arbitrary<ZabBody> = fc.oneof(
  fc.record({ type: fc.constant('followerInfo' as const), acceptedEpoch: long, observer: fc.boolean() }),
  fc.record({ type: fc.constant('leaderInfo' as const), epoch: long }),
  fc.record({ type: fc.constant('ackEpoch' as const), lastZxid: long, currentEpoch: long }),
  fc.record({
    type: fc.constantFrom('diff' as const, 'trunc' as const, 'commit' as const, 'ack' as const),
    zxid: long,
  }),
  fc.record({ type: fc.constant('snap' as const), zxid: long, snapshot: blob }),
  fc.record({
    type: fc.constantFrom('proposal' as const, 'inform' as const),
    txn: fc.record({ zxid: long, payload: blob }),
  }),
  fc.record({ type: fc.constant('newLeader' as const), zxid: long, committedZxid: long }),
  fc.record({ type: fc.constantFrom('upToDate' as const, 'ping' as const) }),
  fc.record({ type: fc.constant('pingReply' as const), sessionTouches: blob }, { requiredKeys: ['type'] }),
  fc.record({ type: fc.constant('request' as const), requestId: safeInt, request: blob }),
  fc.record({ type: fc.constant('syncRequest' as const), requestId: safeInt }),
  fc.record({ type: fc.constant('syncReply' as const), requestId: safeInt, zxid: long }),
);
const name = fc.string({ unit: 'grapheme', maxLength: 20 }).filter((s) => Buffer.byteLength(s) <= 256);
export const messageArbitrary: fc.Arbitrary<PeerMessage> = fc.oneof(
  fc.record({
    type: fc.constant('notification' as const),
    state: fc.constantFrom(...(['LOOKING', 'FOLLOWING', 'LEADING', 'OBSERVING'] as const)),
    leader: safeInt,
    zxid: long,
    electionEpoch: long,
    peerEpoch: long,
  }),
  fc.record({
    type: fc.constant('zab' as const),
    link: name,
    leaderSession: name,
    seq: fc.nat({ max: Number.MAX_SAFE_INTEGER }),
    body: bodyArbitrary,
  }),
);

/** Runs `decode` and demands that it fails with a DecodeError (any other error fails the test). */
function assertDecodeError(decode: () => unknown, why: string): void {
  try {
    decode();
  } catch (error) {
    assert.ok(error instanceof DecodeError, `${why}: ${String(error)} is not a DecodeError`);
    return;
  }
  assert.fail(`${why}: decoded without an error`);
}

describe('peer wire', () => {
  it('round-trips every notification state and every ZAB body', () => {
    const seen = new Set<string>();
    for (const message of everyMessage) {
      const decoded = decodePeerMessage(encodePeerMessage(message));
      assert.deepEqual(plain(decoded), plain(message));
      seen.add(message.type === 'zab' ? message.body.type : message.state);
    }
    // Every body type of ZabBody is in the list above (the compiler checks each example's shape).
    assert.equal(seen.size, 4 + 17);
  });

  it('round-trips random messages', () => {
    fc.assert(
      fc.property(messageArbitrary, (message) => {
        assert.deepEqual(plain(decodePeerMessage(encodePeerMessage(message))), plain(message));
      }),
      { numRuns: 500 },
    );
  });

  it('encodes in parts that concatenate to the whole message, a snapshot uncopied', () => {
    const wire = peerWire();
    for (const message of everyMessage) {
      const parts = wire.encodeParts(message);
      assert.deepEqual(Buffer.concat(parts), wire.encode(message));
      if (message.type === 'zab' && message.body.type === 'snap' && message.body.snapshot.length > 0) {
        assert.equal(parts.length, 2);
        assert.equal(parts[1].buffer, message.body.snapshot.buffer);
      }
    }
    const small = peerWire({ snapshotBytesMax: 2 });
    const snap: PeerMessage = {
      type: 'zab', link: '', leaderSession: '', seq: 0,
      body: { type: 'snap', zxid: 1n, snapshot: bytes(1, 2, 3) },
    };
    assert.throws(() => small.encodeParts(snap), InvalidArgumentError);
  });

  it('starts every message with the version byte', () => {
    for (const message of everyMessage) assert.equal(encodePeerMessage(message)[0], PEER_WIRE_VERSION);
  });

  it('refuses every truncation of every valid message, and trailing bytes', () => {
    for (const message of everyMessage) {
      const encoded = encodePeerMessage(message);
      for (let length = 0; length < encoded.length; length++) {
        // An optional trailing field may legitimately end a message early; ours never does.
        const cut = encoded.subarray(0, length);
        assertDecodeError(() => decodePeerMessage(cut), `${message.type} cut at ${length}`);
      }
      assertDecodeError(() => decodePeerMessage(Buffer.concat([encoded, bytes(0)])), 'one trailing byte');
    }
  });

  it('refuses random bytes with a DecodeError or decodes them to a message that re-encodes the same', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), fc.boolean(), (random, framed) => {
        const input = framed ? Buffer.concat([bytes(PEER_WIRE_VERSION, 2), random]) : Buffer.from(random);
        let message: PeerMessage;
        try {
          message = decodePeerMessage(input);
        } catch (error) {
          assert.ok(error instanceof DecodeError, String(error));
          return;
        }
        // Whatever decodes is exact: encoding it again gives the same bytes (no lenient parsing).
        assert.deepEqual(encodePeerMessage(message), input);
      }),
      { numRuns: 2000 },
    );
  });

  it('refuses random corruption of valid messages with a DecodeError only', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...everyMessage),
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 4 }),
        (message, flips) => {
          const encoded = Buffer.from(encodePeerMessage(message));
          for (const [at, value] of flips) encoded[at % encoded.length] = value;
          try {
            decodePeerMessage(encoded);
          } catch (error) {
            assert.ok(error instanceof DecodeError, String(error));
          }
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('names the reason: unknown version, kind, body type and state', () => {
    const valid = encodePeerMessage(everyMessage[0]);
    const withByte = (at: number, value: number) => {
      const copy = Buffer.from(valid);
      copy[at] = value;
      return copy;
    };
    assert.throws(() => decodePeerMessage(withByte(0, 9)), /unsupported peer protocol version 9/);
    assert.throws(() => decodePeerMessage(withByte(1, 77)), /unknown peer message kind 77/);
    assert.throws(() => decodePeerMessage(withByte(2, 4)), /unknown peer state 4/);
    const ping = encodePeerMessage({
      type: 'zab', link: '', leaderSession: '', seq: 0, body: { type: 'ping' },
    });
    const tagAt = 2 + 4 + 4 + 8;
    ping[tagAt] = 200;
    assert.throws(() => decodePeerMessage(ping), /unknown ZAB body type 200/);
    assert.throws(() => decodePeerMessage(bytes()), DecodeError);
  });

  it('bounds snapshots, payloads and names on both sides', () => {
    const small = peerWire({ snapshotBytesMax: 8, payloadBytesMax: 4, nameBytesMax: 3 });
    const zab = (body: ZabBody, link = 'a'): PeerMessage => ({
      type: 'zab', link, leaderSession: '', seq: 1, body,
    });
    const tooLarge: PeerMessage[] = [
      zab({ type: 'snap', zxid: 1n, snapshot: new Uint8Array(9) }),
      zab({ type: 'proposal', txn: { zxid: 1n, payload: new Uint8Array(5) } }),
      zab({ type: 'inform', txn: { zxid: 1n, payload: new Uint8Array(5) } }),
      zab({ type: 'request', requestId: 1, request: new Uint8Array(5) }),
      zab({ type: 'pingReply', sessionTouches: new Uint8Array(5) }),
      zab({ type: 'ping' }, 'abcd'),
    ];
    for (const message of tooLarge) {
      assert.throws(() => small.encode(message), InvalidArgumentError);
      // The default limits let it through; a peer with the small limits must refuse the bytes.
      assert.throws(() => small.decode(encodePeerMessage(message)), /exceeds the limit/);
    }
    assert.ok(small.decode(small.encode(zab({ type: 'snap', zxid: 1n, snapshot: new Uint8Array(8) }))));
    // The largest messages the limits allow fit in the frame limit a transport derives from them.
    const named = (body: ZabBody): PeerMessage => ({
      type: 'zab', link: 'abc', leaderSession: 'dé', seq: 9, body,
    });
    const largest = [
      named({ type: 'snap', zxid: -1n, snapshot: new Uint8Array(8) }),
      named({ type: 'inform', txn: { zxid: 1n, payload: new Uint8Array(4) } }),
    ];
    for (const message of largest) {
      assert.ok(small.encode(message).length <= peerMessageBytesMax(small.limits));
    }
  });

  it('refuses a huge declared length without allocating it', () => {
    const snap = encodePeerMessage({
      type: 'zab', link: '', leaderSession: '', seq: 0, body: { type: 'snap', zxid: 0n, snapshot: bytes() },
    });
    snap.writeInt32BE(0x7fff_ffff, snap.length - 4);
    assert.throws(() => decodePeerMessage(snap), /exceeds the limit/);
    snap.writeInt32BE(1000, snap.length - 4);
    assert.throws(() => decodePeerMessage(snap), /truncated snapshot/);
    snap.writeInt32BE(-1, snap.length - 4);
    assert.throws(() => decodePeerMessage(snap), /invalid length -1/);
  });

  it('carries every safe integer at the edges, and only those', () => {
    const edges = [
      0, 1, -1, 2 ** 31 - 1, -(2 ** 31), 2 ** 32 - 1, 2 ** 32, -(2 ** 32), 2 ** 32 + 1, -(2 ** 32) - 1,
      Number.MAX_SAFE_INTEGER, Number.MIN_SAFE_INTEGER, 2 ** 52, -(2 ** 52),
    ];
    for (const seq of edges) {
      const message: PeerMessage = { type: 'zab', link: '', leaderSession: '', seq, body: { type: 'ping' } };
      assert.equal((decodePeerMessage(encodePeerMessage(message)) as typeof message).seq, seq);
    }
    fc.assert(fc.property(fc.maxSafeInteger(), (requestId) => {
      const message: PeerMessage = {
        type: 'zab', link: '', leaderSession: '', seq: 0, body: { type: 'syncRequest', requestId },
      };
      assert.deepEqual(decodePeerMessage(encodePeerMessage(message)), message);
    }));
    const ping = encodePeerMessage({
      type: 'zab', link: '', leaderSession: '', seq: 0, body: { type: 'ping' },
    });
    for (const beyond of [2n ** 53n, -(2n ** 53n), 2n ** 63n - 1n, -(2n ** 63n)]) {
      ping.writeBigInt64BE(beyond, 2 + 4 + 4);
      assert.throws(() => decodePeerMessage(ping), /safe range/);
    }
  });

  it('refuses integers beyond the safe range and invalid UTF-8 names', () => {
    const message = encodePeerMessage({
      type: 'zab', link: 'ab', leaderSession: '', seq: 5, body: { type: 'ping' },
    });
    const seqAt = 2 + 4 + 2 + 4;
    const huge = Buffer.from(message);
    huge.writeBigInt64BE(2n ** 62n, seqAt);
    assert.throws(() => decodePeerMessage(huge), /safe range/);
    const badUtf8 = Buffer.from(message);
    badUtf8[2 + 4] = 0xff;
    assert.throws(() => decodePeerMessage(badUtf8), /UTF-8/);
    assert.throws(
      () => encodePeerMessage({ type: 'zab', link: '', leaderSession: '', seq: 0.5, body: { type: 'ping' } }),
      InvalidArgumentError,
    );
  });

  it('round-trips the handshake and refuses a handshake where a message is expected', () => {
    const wire = peerWire();
    const hello = {
      cluster: 'menagerie', senderId: 2, receiverId: 3, channel: 'quorum' as const,
      senderQuorumPort: 2888, senderElectionPort: 3888,
    };
    const encoded = wire.encodeHello(hello);
    assert.deepEqual(wire.decodeHello(encoded), hello);
    assert.throws(() => wire.decode(encoded), /unknown peer message kind/);
    assert.throws(() => wire.decodeHello(encodePeerMessage(everyMessage[0])), /expected a peer hello/);
    for (let length = 0; length < encoded.length; length++) {
      assertDecodeError(() => wire.decodeHello(encoded.subarray(0, length)), `hello cut at ${length}`);
    }
    const reply = { accepted: false, reason: 'unknown server id 9' };
    assert.deepEqual(wire.decodeHelloReply(wire.encodeHelloReply(reply)), reply);
  });

  it('refuses invalid limits', () => {
    assert.throws(() => peerWire({ snapshotBytesMax: -1 }), InvalidArgumentError);
    assert.throws(() => peerWire({ payloadBytesMax: 1.5 }), InvalidArgumentError);
  });
});
