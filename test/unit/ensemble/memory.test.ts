// The in-memory seams and the member's own encodings: the network delivers in order and honours
// partitions and loss, the storage makes appends durable by group commit, truncates, survives a
// restart through its MemoryDisk and moves a core's state as Apache snapshot bytes; forwarded
// requests and session touches round-trip.
import assert from 'node:assert/strict';
import { describe, it } from 'mocha';
import { OpCode } from '../../../src/protocol/index.js';
import { MemoryDisk, MemoryNetwork, MemoryStorage } from '../../../server/ensemble/memory.js';
import {
  ForwardedRequest,
  decodeForwarded,
  decodeSessionTouches,
  encodeSessionTouches,
  forwardedBody,
} from '../../../server/ensemble/forwarded.js';
import { encodeCoreSnapshot, restoreCoreSnapshot } from '../../../server/ensemble/snapshot-bytes.js';
import type { PeerMessage } from '../../../server/quorum/index.js';
import { OPEN_ACL, T0, connect, create, makeCore } from '../server/harness.js';

const ping = (seq: number): PeerMessage => ({
  type: 'zab', link: 'l', leaderSession: 's', seq, body: { type: 'ping' },
});

function collect(network: MemoryNetwork, id: number) {
  const received: Array<{ from: number; seq: number }> = [];
  const transport = network.transport(id);
  const started = transport.start((from, message) => {
    if (message.type === 'zab') received.push({ from, seq: message.seq });
  });
  return { transport, received, started };
}

const settle = () => new Promise((resolve) => setImmediate(resolve));

describe('ensemble memory seams', () => {
  it('delivers in order, and not across a partition until it heals', async () => {
    const network = new MemoryNetwork();
    const a = collect(network, 1);
    const b = collect(network, 2);
    await Promise.all([a.started, b.started]);
    for (let seq = 0; seq < 5; seq++) a.transport.send(2, ping(seq));
    await settle();
    assert.deepEqual(b.received.map((m) => m.seq), [0, 1, 2, 3, 4]);
    network.isolate(2);
    a.transport.send(2, ping(5));
    b.transport.send(1, ping(0));
    await settle();
    assert.equal(b.received.length, 5);
    assert.equal(a.received.length, 0);
    network.heal();
    a.transport.send(2, ping(6));
    await settle();
    assert.deepEqual(b.received.at(-1), { from: 1, seq: 6 });
    await a.transport.close();
    b.transport.send(1, ping(1)); // to a closed peer: dropped, never thrown
    await settle();
    assert.equal(a.received.length, 0);
    await b.transport.close();
  });

  it('loses messages at the configured rate', async () => {
    const network = new MemoryNetwork({ dropRate: 1 });
    const a = collect(network, 1);
    const b = collect(network, 2);
    await Promise.all([a.started, b.started]);
    a.transport.send(2, ping(0));
    await settle();
    assert.equal(b.received.length, 0);
    assert.equal(network.dropped, 1);
    await Promise.all([a.transport.close(), b.transport.close()]);
  });

  it('reports appends durable together, truncates, and keeps its disk across a restart', async () => {
    const disk = new MemoryDisk();
    const storage = new MemoryStorage(disk);
    const logged: bigint[] = [];
    storage.onLogged = (zxid) => logged.push(zxid);
    const durable = await storage.open(makeCore());
    assert.deepEqual(durable, { acceptedEpoch: 0n, currentEpoch: 0n, appliedZxid: 0n, log: [] });
    const payload = new Uint8Array([1]);
    storage.append([{ zxid: 1n, payload }]);
    storage.append([{ zxid: 2n, payload }, { zxid: 3n, payload }]);
    await storage.flush();
    assert.deepEqual(logged, [3n], 'one group commit for all three');
    await storage.truncate(2n);
    await storage.persistEpoch('acceptedEpoch', 4n);
    await storage.close();
    const restarted = await new MemoryStorage(disk).open(makeCore());
    assert.deepEqual(restarted.log.map((txn) => txn.zxid), [1n, 2n]);
    assert.equal(restarted.acceptedEpoch, 4n);
  });

  it('moves a core\'s state as snapshot bytes, sessions and ACLs included', () => {
    const source = makeCore();
    const client = connect(source);
    create(source, client, '/a', { data: Buffer.from('A') });
    create(source, client, '/a/b', { data: null, acl: OPEN_ACL });
    const bytes = encodeCoreSnapshot(source);
    const target = makeCore();
    connect(target); // a state of its own, replaced by the snapshot
    restoreCoreSnapshot(target, source.lastProcessedZxid, bytes, T0);
    assert.equal(target.lastProcessedZxid, source.lastProcessedZxid);
    assert.deepEqual(target.sessions(), source.sessions());
    const read = (path: string) => target.read(client, OpCode.getData, { path, watch: false });
    assert.equal((read('/a').response as { data: Buffer }).data.toString(), 'A');
    assert.equal(read('/a/b').err, 0);
    assert.deepEqual(encodeCoreSnapshot(target), bytes);
  });

  it('round-trips forwarded requests and session touches', () => {
    const frame = Buffer.from([0, 0, 0, 1, 0, 0, 0, 2]);
    const request = {
      sessionId: 0x0300_0000_0000_0001n, cxid: 9, type: OpCode.delete,
      authIds: [{ scheme: 'ip', id: '127.0.0.1' }], timeoutMs: 0, frame,
    };
    assert.deepEqual(decodeForwarded(ForwardedRequest.encode(request)), request);
    assert.deepEqual(forwardedBody({ ...request, type: OpCode.closeSession }), {});
    assert.equal(forwardedBody({ ...request, frame: Buffer.from([1]) }), undefined, 'undecodable frame');
    assert.deepEqual(decodeSessionTouches(encodeSessionTouches([1n, -2n])), [1n, -2n]);
  });
});
