// One session's requests keep their order while writes behind a read already persist: a read sees
// every earlier write of its session and none of the later ones, even when the later write's txn is
// on disk first (a held persister decides when each txn is durable). Apache's pipeline works the same
// way: later writes go to the log while a read waits its turn, and are applied only after it.
import assert from 'node:assert/strict';
import { describe, it } from 'mocha';
import { OpCode } from '../../src/protocol/index.js';
import { startServer } from '../../server/index.js';
import type { Txn, TxnPersister } from '../../server/core/api.js';
import { RawClient } from '../support/raw-client.js';
import { create, getData, ok, setData } from '../conformance/ops.js';

/** While holding, every txn but a session's waits until the test releases it. */
class HeldPersister implements TxnPersister {
  readonly held: Array<{ readonly txn: Txn; readonly release: () => void }> = [];
  holding = true;
  private readonly waiters: Array<() => void> = [];

  async persist(txn: Txn): Promise<void> {
    if (!this.holding || txn.header.type === OpCode.createSession) return;
    await new Promise<void>((release) => {
      this.held.push({ txn, release });
      for (const wake of this.waiters.splice(0)) wake();
    });
  }

  /** Resolves once `count` txns are held; rejects after `timeoutMs` (the server never sent them). */
  async heldCount(count: number, timeoutMs = 5_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.held.length < count) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`only ${this.held.length} of ${count} txns reached the persister`);
      await new Promise<void>((wake) => {
        const timer = setTimeout(wake, left);
        this.waiters.push(() => (clearTimeout(timer), wake()));
      });
    }
  }

  /** Stops holding and lets everything held through (so the server can close). */
  releaseAll(): void {
    this.holding = false;
    for (const { release } of this.held) release();
  }
}

describe('request order within a session', () => {
  it('a later write persists while a read waits, and the read still sees only the earlier write', async () => {
    const persister = new HeldPersister();
    await using server = await startServer({ persister });
    await using client = await RawClient.connect(server.port);
    // Disposed first: whatever is still held goes through, so the client and server can close.
    await using _release = { [Symbol.asyncDispose]: async () => persister.releaseAll() };
    const order: string[] = [];
    const track = <T>(name: string, promise: Promise<T>) =>
      promise.then((reply) => {
        order.push(name);
        return reply;
      });
    const first = track('create', create(client, '/k', Buffer.from('v1')));
    const readBetween = track('read', getData(client, '/k'));
    const second = track('set', setData(client, '/k', Buffer.from('v2')));
    const readAfter = track('read again', getData(client, '/k'));
    // Both writes are persisting before the read between them has been answered.
    await persister.heldCount(2);
    assert.deepEqual(order, []);
    const [createTxn, setTxn] = persister.held;
    assert.equal(createTxn!.txn.header.type, OpCode.create);
    assert.equal(setTxn!.txn.header.type, OpCode.setData);
    // The later write becomes durable first; the earlier one after it.
    setTxn!.release();
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(order, [], 'nothing is answered before the first write is durable');
    createTxn!.release();
    ok(await first);
    assert.equal(String(ok(await readBetween).data), 'v1', 'the read saw the later write');
    ok(await second);
    assert.equal(String(ok(await readAfter).data), 'v2');
    assert.deepEqual(order, ['create', 'read', 'set', 'read again']);
  });
});
