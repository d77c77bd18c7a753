// Golden bytes: every frame real clients and Apache ZooKeeper 3.8 exchanged (captured by
// test/golden/capture.ts) decodes with our codec, with no byte left over, and re-encodes to
// exactly the captured bytes; the transcripts together cover every opcode 3.8 answers.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { describe, it } from 'mocha';
import {
  encodeFrame,
  FrameSplitter,
  OpCode,
  records as R,
  type MultiResponse,
} from '../../../src/protocol/index.js';
import { decodeGoldenFrame, labelFrames, type GoldenFile } from '../../golden/transcript.js';

const goldenDir = path.join(path.dirname(fileURLToPath(import.meta.url)), '../../golden');
const transcripts = readdirSync(goldenDir)
  .filter((name) => name.endsWith('.json'))
  .sort()
  .map((name) => ({ name, file: JSON.parse(readFileSync(path.join(goldenDir, name), 'utf8')) }))
  // jute-3.8.json holds record layouts, not traffic (see records.test.ts).
  .filter((t): t is { name: string; file: GoldenFile } => Array.isArray(t.file.frames));

const frameTitle = (name: string, index: number, f: GoldenFile['frames'][number]) => {
  const xid = f.xid === undefined ? '' : ` xid ${f.xid}`;
  return `${name} #${index} (connection ${f.connection}, ${f.direction} ${f.op}${xid})`;
};

describe('golden bytes from Apache ZooKeeper 3.8', () => {
  it('has the four transcripts', () => {
    assert.deepEqual(
      transcripts.map((t) => t.name),
      ['c-client.json', 'java-client.json', 'raw.json', 'zkcli.json'],
    );
  });

  for (const { name, file } of transcripts) {
    describe(name, () => {
      it('labels agree with what the bytes say (connect first, replies matched by xid)', () => {
        const raw = file.frames.map((f) => ({
          connection: f.connection,
          direction: f.direction,
          bytes: Buffer.from(f.hex, 'hex'),
        }));
        const relabelled = labelFrames(raw);
        const stored = file.frames.map(({ summary: _summary, ...rest }) => rest);
        assert.deepEqual(relabelled, stored);
      });

      it('every frame decodes completely and re-encodes to identical bytes', () => {
        file.frames.forEach((frame, index) => {
          const bytes = Buffer.from(frame.hex, 'hex');
          const decoded = decodeGoldenFrame(frame, bytes);
          const again = encodeFrame(...decoded.parts);
          const title = `${frameTitle(name, index, frame)}: ${decoded.summary}`;
          assert.equal(again.toString('hex'), frame.hex, title);
        });
      });
    });
  }

  it('splits each captured byte stream back into its frames, whatever the chunking', () => {
    const streams = new Map<string, Buffer[]>();
    for (const { name, file } of transcripts) {
      for (const frame of file.frames) {
        const key = `${name}/${frame.connection}/${frame.direction}`;
        streams.set(key, [...(streams.get(key) ?? []), Buffer.from(frame.hex, 'hex')]);
      }
    }
    const cuts = fc.array(fc.integer({ min: 1, max: 64 }), { minLength: 1, maxLength: 16 });
    fc.assert(
      fc.property(fc.constantFrom(...streams.values()), cuts, (frames, sizes) => {
        const stream = Buffer.concat(frames);
        const splitter = new FrameSplitter();
        const out: Buffer[] = [];
        for (let offset = 0, i = 0; offset < stream.length; i++) {
          const size = sizes[i % sizes.length]!;
          out.push(...splitter.push(stream.subarray(offset, offset + size)));
          offset += size;
        }
        const expected = frames.map((f) => f.subarray(4).toString('hex'));
        assert.deepEqual(out.map((b) => b.toString('hex')), expected);
        assert.equal(splitter.pendingBytes, 0);
      }),
      { numRuns: 50 },
    );
  });

  const all = transcripts.flatMap((t) => t.file.frames.map((frame) => ({ transcript: t.name, frame })));
  const requestOps = new Set(all.filter((x) => x.frame.kind === 'request').map((x) => x.frame.opcode));
  const answered = new Set(all.filter((x) => x.frame.kind === 'reply').map((x) => x.frame.opcode));

  it('covers every request opcode 3.8 accepts from a client, each with its reply', () => {
    const expected = [
      'create', 'delete', 'exists', 'getData', 'setData', 'getACL', 'setACL', 'getChildren', 'sync', 'ping',
      'getChildren2', 'multi', 'create2', 'reconfig', 'checkWatches', 'removeWatches', 'createContainer',
      'deleteContainer', 'createTTL', 'multiRead', 'auth', 'setWatches', 'getEphemerals',
      'getAllChildrenNumber', 'setWatches2', 'addWatch', 'whoAmI', 'closeSession', 'sasl',
    ] as const;
    for (const op of expected) {
      assert.ok(requestOps.has(OpCode[op]), `no captured ${op} request`);
      assert.ok(answered.has(OpCode[op]), `no captured ${op} reply`);
    }
    // Apache closes the connection on a lone check (13) instead of answering it.
    assert.ok(requestOps.has(OpCode.check));
    assert.ok(all.some((x) => x.frame.kind === 'notification'));
  });

  it('captures connect with and without readOnly, and Apache answering in kind', () => {
    const connects = all.filter((x) => x.frame.kind === 'connect').map((x) => ({
      ...x,
      value:
        x.frame.direction === 'request'
          ? R.ConnectRequest.decode(Buffer.from(x.frame.hex, 'hex').subarray(4))
          : R.ConnectResponse.decode(Buffer.from(x.frame.hex, 'hex').subarray(4)),
    }));
    const requests = connects.filter((c) => c.frame.direction === 'request').map((c) => c.value.readOnly);
    assert.ok(requests.includes(undefined), 'a connect without readOnly');
    assert.ok(requests.includes(false), 'a connect with readOnly = false');
    assert.ok(requests.includes(true), 'a connect with readOnly = true');
    for (const request of connects.filter((c) => c.frame.direction === 'request')) {
      const sameConnection = (c: (typeof connects)[number]) =>
        c.transcript === request.transcript && c.frame.connection === request.frame.connection;
      const reply = connects.find((c) => c !== request && sameConnection(c));
      assert.ok(reply, 'every connect is answered');
      const asked = request.value.readOnly !== undefined;
      assert.equal('readOnly' in reply.value, asked, 'readOnly answered only if asked');
    }
  });

  it('pins the reply conventions of Apache that our server must copy', () => {
    const replies = all.filter((x) => x.frame.kind !== 'request' && x.frame.kind !== 'connect');
    const header = (x: (typeof all)[number]) =>
      R.ReplyHeader.decode(Buffer.from(x.frame.hex, 'hex').subarray(4));
    const of = (op: string) => replies.filter((x) => x.frame.op === op).map(header);
    // Notifications: xid -1, zxid -1, err 0.
    assert.ok(of('notification').every((h) => h.xid === -1 && h.zxid === -1n && h.err === 0));
    // Ping replies: xid -2 and the last zxid; auth replies: xid -4 and zxid 0.
    assert.ok(of('ping').every((h) => h.xid === -2 && h.zxid > 0n));
    assert.ok(of('auth').every((h) => h.xid === -4 && h.zxid === 0n && h.err === 0));
    // An unknown opcode: UNIMPLEMENTED with zxid -1.
    assert.deepEqual(of('op(99)').map((h) => [h.err, h.zxid]), [[-6, -1n]]);
    // A failed multi still has err 0 in its header; the errors are in the per-op results.
    assert.ok(of('multi').every((h) => h.err === 0));
    // The C client re-registers watches with xid -8; Java 3.8 sends setWatches2 with an ordinary xid.
    const setWatchesRequests = all.filter(
      (x) => x.frame.kind === 'request' && x.frame.op.startsWith('setWatches'),
    );
    assert.deepEqual(
      setWatchesRequests.map((x) => [x.frame.op, x.frame.xid === -8]),
      [['setWatches', true], ['setWatches2', false]],
    );
    // A lone check (13) is not answered: Apache closes the connection.
    assert.equal(of('check').length, 0);
  });

  it('captures create in every mode, a failed multi, and an unknown opcode answered UNIMPLEMENTED', () => {
    const body = (x: (typeof all)[number]) =>
      decodeGoldenFrame(x.frame, Buffer.from(x.frame.hex, 'hex')).parts[1]?.value;
    const createCodes = [1, 15, 19, 21];
    const creates = all.filter((x) => x.frame.kind === 'request' && createCodes.includes(x.frame.opcode!));
    const flags = new Set(creates.map((x) => (body(x) as R.CreateRequest).flags));
    assert.deepEqual([...flags].sort(), [0, 1, 2, 3, 4, 5, 6]);
    const multiReplies = all.filter((x) => x.frame.kind === 'reply' && x.frame.op === 'multi');
    const failed = multiReplies
      .map((x) => body(x) as MultiResponse)
      .find((r) => r.results.some((o) => o.type === -1));
    assert.deepEqual(failed?.results, [
      { type: -1, err: 0 },
      { type: -1, err: -103 },
      { type: -1, err: -2 },
    ]);
    assert.ok(all.some((x) => x.frame.kind === 'reply' && x.frame.opcode === 99 && x.frame.err === -6));
    // Real clients send both a null buffer (length -1) and an empty one (length 0); both survive.
    const createData = creates.map((x) => (body(x) as R.CreateRequest).data);
    assert.ok(createData.some((data) => data === null), 'a create with null data');
    assert.ok(createData.some((data) => data !== null && data.length === 0), 'a create with empty data');
  });
});
