// The codec against hand-computed bytes: each record's wire layout, null versus empty buffers,
// the optional readOnly byte, and multi's header-per-op layout.
import assert from 'node:assert/strict';
import { describe, it } from 'mocha';
import {
  DecodeError,
  decodeExactly,
  encodeFrame,
  MultiRequest,
  MultiResponse,
  part,
  records as R,
} from '../../../src/protocol/index.js';

describe('jute codec', () => {
  it('encodes a ConnectRequest as the C client does (45-byte body with readOnly)', () => {
    const value = {
      protocolVersion: 0,
      lastZxidSeen: 0n,
      timeOut: 30000,
      sessionId: 0n,
      passwd: Buffer.alloc(16),
      readOnly: false,
    };
    const bytes = R.ConnectRequest.encode(value);
    assert.equal(bytes.length, 45);
    assert.equal(bytes.readInt32BE(12), 30000);
    assert.equal(bytes.readInt32BE(24), 16);
    assert.deepEqual(R.ConnectRequest.decode(bytes), value);
  });

  it('leaves readOnly out when the peer did not send it', () => {
    const value = { protocolVersion: 0, timeOut: 4000, sessionId: 0x1000001n, passwd: Buffer.alloc(16, 7) };
    const bytes = R.ConnectResponse.encode(value);
    assert.equal(bytes.length, 36);
    const decoded = R.ConnectResponse.decode(bytes);
    assert.equal('readOnly' in decoded, false);
    assert.deepEqual(decoded, value);
    assert.equal(R.ConnectResponse.encode({ ...value, readOnly: true }).length, 37);
  });

  it('keeps a null buffer distinct from an empty one', () => {
    const nullData = R.SetDataRequest.encode({ path: '/a', data: null, version: -1 });
    const emptyData = R.SetDataRequest.encode({ path: '/a', data: Buffer.alloc(0), version: -1 });
    assert.equal(nullData.readInt32BE(6), -1);
    assert.equal(emptyData.readInt32BE(6), 0);
    assert.equal(R.SetDataRequest.decode(nullData).data, null);
    assert.deepEqual(R.SetDataRequest.decode(emptyData).data, Buffer.alloc(0));
  });

  it('encodes Stat as 68 bytes with 64-bit fields as bigint', () => {
    const stat = {
      czxid: 0x100000001n,
      mzxid: 2n,
      ctime: 1700000000000n,
      mtime: 1700000000001n,
      version: 1,
      cversion: 2,
      aversion: 3,
      ephemeralOwner: -0x8000000000000000n,
      dataLength: 4,
      numChildren: 5,
      pzxid: 6n,
    };
    const bytes = R.Stat.encode(stat);
    assert.equal(bytes.length, 68);
    assert.deepEqual(R.Stat.decode(bytes), stat);
    assert.match(R.Stat.describe(stat), /^Stat\{czxid=0x100000001 .* ephemeralOwner=-0x8000000000000000 /);
  });

  it('reads a -1 string as empty where the protocol never means null', () => {
    const bytes = Buffer.from([0xff, 0xff, 0xff, 0xff]);
    assert.equal(R.SyncRequest.decode(bytes).path, '');
  });

  it('rejects truncated records and impossible lengths with DecodeError', () => {
    assert.throws(() => R.Stat.decode(Buffer.alloc(67)), DecodeError);
    const hugeString = Buffer.alloc(8);
    hugeString.writeInt32BE(1_000_000, 0);
    assert.throws(() => R.SyncRequest.decode(hugeString), /exceeds/);
    const negative = Buffer.alloc(8);
    negative.writeInt32BE(-2, 0);
    assert.throws(() => R.SyncRequest.decode(negative), /negative/);
    const hugeVector = Buffer.alloc(8);
    hugeVector.writeInt32BE(0x7fffffff, 0);
    assert.throws(() => R.GetChildrenResponse.decode(hugeVector), /cannot fit/);
  });

  it('lays out a multi with a header before each op and a terminator', () => {
    const request = {
      ops: [
        { type: 1 as const, request: { path: '/a', data: Buffer.from('x'), acl: [], flags: 0 } },
        { type: 13 as const, request: { path: '/a', version: 0 } },
      ],
    };
    const bytes = Buffer.allocUnsafe(MultiRequest.size(request));
    const frame = encodeFrame(part(MultiRequest, request));
    assert.equal(frame.readInt32BE(0), bytes.length);
    const body = frame.subarray(4);
    // first header: type 1, done false, err -1
    assert.deepEqual([body.readInt32BE(0), body[4], body.readInt32BE(5)], [1, 0, -1]);
    // terminator: type -1, done true, err -1
    assert.deepEqual([body.readInt32BE(body.length - 9), body[body.length - 5], body.readInt32BE(body.length - 4)], [
      -1, 1, -1,
    ]);
    assert.deepEqual(decodeExactly(MultiRequest, body), request);
  });

  it('reports a failed multi with per-op error results', () => {
    const response = {
      results: [
        { type: -1 as const, err: 0 },
        { type: -1 as const, err: -110 },
        { type: -1 as const, err: -2 },
      ],
    };
    const bytes = Buffer.allocUnsafe(MultiResponse.size(response));
    const frame = encodeFrame(part(MultiResponse, response));
    assert.equal(frame.length, bytes.length + 4);
    const body = frame.subarray(4);
    assert.equal(body.readInt32BE(9 + 4 + 5), -110); // second header's err
    assert.deepEqual(decodeExactly(MultiResponse, body), response);
  });
});
