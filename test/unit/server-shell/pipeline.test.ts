// The write pipeline without sockets: txns persisted out of order are still applied in the order they
// were submitted (zxid order), each reply goes to its own callback, a failed persist stops everything
// and is reported once, and idle() waits for what is in flight.
import assert from 'node:assert/strict';
import { describe, it } from 'mocha';
import type { Reply, Txn, TxnPersister } from '../../../server/core/api.js';
import { InMemoryPersister, WritePipeline } from '../../../server/net/pipeline.js';

function txn(zxid: number): Txn {
  return { header: { clientId: 1n, cxid: zxid, zxid: BigInt(zxid), time: 0n, type: 1 }, record: {} };
}

/** A persister whose txns become durable only when the test says so, in any order. */
class ManualPersister implements TxnPersister {
  readonly pending = new Map<bigint, { resolve: () => void; reject: (error: unknown) => void }>();
  persist(t: Txn): Promise<void> {
    return new Promise((resolve, reject) => this.pending.set(t.header.zxid, { resolve, reject }));
  }
}

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe('write pipeline', () => {
  it('applies in submit order even when persistence finishes out of order', async () => {
    const applied: bigint[] = [];
    const replies: Array<[number, Reply]> = [];
    const persister = new ManualPersister();
    const core = {
      apply: (t: Txn): Reply => (applied.push(t.header.zxid), { err: 0, response: t.header.zxid }),
    };
    const pipeline = new WritePipeline(core, persister, () => assert.fail('no failure expected'));
    for (const zxid of [1, 2, 3]) pipeline.submit(txn(zxid), (reply) => replies.push([zxid, reply]));
    assert.equal(pipeline.outstanding, 3);
    persister.pending.get(3n)!.resolve();
    persister.pending.get(2n)!.resolve();
    await tick();
    assert.deepEqual(applied, [], 'nothing applies before the head is durable');
    persister.pending.get(1n)!.resolve();
    await tick();
    assert.deepEqual(applied, [1n, 2n, 3n]);
    assert.deepEqual(replies.map(([zxid, reply]) => [zxid, reply.response]), [[1, 1n], [2, 2n], [3, 3n]]);
    assert.equal(pipeline.outstanding, 0);
  });

  it('stops on a failed persist, reports it once, and drops later submits', async () => {
    const failures: unknown[] = [];
    const persister = new ManualPersister();
    const applied: bigint[] = [];
    const pipeline = new WritePipeline(
      { apply: (t) => (applied.push(t.header.zxid), { err: 0 }) },
      persister,
      (error) => failures.push(error),
    );
    pipeline.submit(txn(1), () => {});
    pipeline.submit(txn(2), () => {});
    persister.pending.get(1n)!.reject(new Error('disk full'));
    persister.pending.get(2n)!.reject(new Error('disk full again'));
    await tick();
    assert.equal(failures.length, 1);
    assert.ok(pipeline.failed);
    pipeline.submit(txn(3), () => assert.fail('dropped'));
    assert.equal(persister.pending.has(3n), false);
    assert.deepEqual(applied, []);
    await pipeline.idle();
  });

  it('keeps going when a reply callback throws, and idle() resolves when drained', async () => {
    const errors: unknown[] = [];
    const applied: bigint[] = [];
    const pipeline = new WritePipeline(
      { apply: (t) => (applied.push(t.header.zxid), { err: 0 }) },
      new InMemoryPersister(),
      () => assert.fail('no failure expected'),
      (error) => errors.push(error),
    );
    pipeline.submit(txn(1), () => {
      throw new Error('bug in a shell');
    });
    pipeline.submit(txn(2), () => {});
    await pipeline.idle();
    assert.deepEqual(applied, [1n, 2n]);
    assert.equal(errors.length, 1);
  });
});
