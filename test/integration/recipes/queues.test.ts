// Goal: the queues hand items out in Curator's order for each kind, lock-safe consumption never
// loses an item when a consumer fails or dies, and Curator's producers feed our consumers; run
// against every server in RECIPE_SERVERS.
import assert from 'node:assert/strict';
import { it } from 'mocha';
import { TimeoutError } from '../../../src/index.js';
import { DistributedQueue, QueueItemLockLostError } from '../../../recipes/index.js';
import { startCurator } from '../../support/curator.js';
import {
  describeOnRecipeServers,
  eventually,
  expireSession,
  describeWithCurator,
} from './discovery-support/servers.js';

const text = (message: { items: Buffer[] }) => message.items.map((b) => b.toString()).join('+');

describeOnRecipeServers('queues', '/queues/q', (suite) => {
  const { fx, path } = suite;

  it('plain: first in, first out, a waiting take gets the next put, and a take times out', async () => {
    const producer = new DistributedQueue(await fx.framework(), path());
    const consumer = new DistributedQueue(await fx.framework(), path());
    await producer.put('a');
    await producer.putMulti(['b', 'c']);
    assert.equal(text(await consumer.take()), 'a');
    assert.equal(text(await consumer.take()), 'b+c');
    const waiting = consumer.take();
    await producer.put('d');
    assert.equal(text(await waiting), 'd');
    await assert.rejects(consumer.take({ timeoutMs: 50 }), TimeoutError);
  });

  it('priority, delay and id queues order (and remove) as Curator does', async () => {
    const zk = await fx.framework();
    const priority = new DistributedQueue(zk, `${path()}/p`, { kind: 'priority' });
    await priority.put('low', { priority: 5 });
    await priority.put('urgent', { priority: -1 });
    await priority.put('mid', { priority: 1 });
    const taken = [await priority.take(), await priority.take(), await priority.take()].map(text);
    assert.deepEqual(taken, ['urgent', 'mid', 'low']);
    let now = 1_000;
    const delay = new DistributedQueue(zk, `${path()}/d`, { kind: 'delay', nowMs: () => now });
    await delay.put('later', { delayUntilEpochMs: 2_000 });
    await delay.put('now', { delayUntilEpochMs: 500 });
    assert.equal(text(await delay.take()), 'now');
    await assert.rejects(delay.take({ timeoutMs: 50 }), TimeoutError, 'not due yet');
    now = 2_000;
    assert.equal(text(await delay.take()), 'later');
    const ids = new DistributedQueue(zk, `${path()}/i`, { kind: 'id' });
    await ids.put('x', { itemId: 'job/1' });
    await ids.put('y', { itemId: 'job-2' });
    assert.equal(await ids.remove('job/1'), 1);
    assert.equal(text(await ids.take()), 'y');
  });

  it('lock-safe: a failing handler leaves the item for the next consumer, and no lock behind', async () => {
    const zk = await fx.framework();
    const lockPath = `${path()}-locks`;
    const queue = new DistributedQueue(zk, path(), { lockPath });
    await queue.put('job');
    const failing = queue.process(async () => Promise.reject(new Error('handler failed')));
    await assert.rejects(failing, /handler failed/);
    const left = (await zk.getChildren(path())).children;
    assert.equal(left.length, 1, 'the item is still there');
    assert.deepEqual(await queue.peek(), left);
    assert.equal(await queue.process(async (message) => `done ${text(message)}`), 'done job');
    assert.deepEqual((await zk.getChildren(path())).children, []);
    assert.deepEqual((await zk.getChildren(lockPath).catch(() => ({ children: [] }))).children, []);
  });

  it('consume handles items until aborted, retrying a failed lock-safe item after a delay', async () => {
    const zk = await fx.framework();
    const queue = new DistributedQueue(zk, path(), { lockPath: `${path()}-locks` });
    await queue.put('a');
    await queue.put('b');
    const controller = new AbortController();
    const handled: string[] = [];
    const errors: unknown[] = [];
    let failures = 1;
    const consuming = queue.consume(
      async (message) => {
        if (text(message) === 'a' && failures-- > 0) throw new Error('first try fails');
        handled.push(text(message));
        if (handled.length === 2) controller.abort();
      },
      { signal: controller.signal, onError: (e) => errors.push(e), errorDelayMs: 10 },
    );
    await consuming;
    assert.deepEqual(handled, ['a', 'b'], 'the failed item came back first, in order');
    assert.equal(errors.length, 1);
    assert.deepEqual((await zk.getChildren(path())).children, []);
  });

  it('lock-safe: an item locked by a consumer that dies goes to another consumer', async () => {
    const { zk: dying, proxy } = await fx.proxied();
    const lockPath = `${path()}-locks`;
    const other = new DistributedQueue(await fx.framework(), path(), { lockPath });
    await other.put('job');
    let started!: () => void;
    const handling = new Promise<void>((resolve) => (started = resolve));
    const stuck = new DistributedQueue(dying, path(), { lockPath }).process(async (_message, signal) => {
      started();
      // Stuck, as a consumer that dies mid-way; its signal tells it the item is no longer its own.
      await new Promise((_, reject) => signal!.addEventListener('abort', () => reject(signal!.reason)));
    });
    await handling;
    const takenByOther = other.take();
    await expireSession(dying, proxy, suite.server.connectString);
    assert.equal(text(await takenByOther), 'job');
    await assert.rejects(stuck, QueueItemLockLostError);
  });
});

describeWithCurator('queues with real Curator 5.4 producers and consumers', (suite) => {
  const { fx } = suite;

  it('lock-safe consumers of both kinds share a queue: Curator skips the item we hold', async () => {
    await using curator = await startCurator(suite.server.connectString);
    const zk = await fx.framework();
    const lockPath = '/interop/lq-locks';
    const queue = new DistributedQueue(zk, '/interop/lq', { lockPath });
    await queue.put('ours');
    let release!: () => void;
    let holding!: () => void;
    const held = new Promise<void>((resolve) => (holding = resolve));
    const ourTake = queue.process(async (message) => {
      holding();
      await new Promise<void>((resolve) => (release = resolve));
      return text(message);
    });
    await held;
    await curator.queueConsumeStart('c', '/interop/lq', lockPath);
    await queue.put('java-1');
    await queue.put('java-2');
    await eventually(async () => (await curator.queueConsumed('c')).length === 2);
    release();
    assert.equal(await ourTake, 'ours');
    assert.deepEqual(await curator.queueConsumed('c'), ['java-1', 'java-2'], 'Curator never had ours');
    await curator.queueConsumeStop('c');
    assert.deepEqual((await zk.getChildren('/interop/lq')).children, []);
  });

  it('our consumers take what Curator put, in Curator\'s order', async () => {
    await using curator = await startCurator(suite.server.connectString);
    const zk = await fx.framework();
    await curator.queuePut('/interop/q', 'first', { kind: 'plain' });
    await curator.queuePut('/interop/q', 'second', { kind: 'plain' });
    const plain = new DistributedQueue(zk, '/interop/q');
    assert.deepEqual([text(await plain.take()), text(await plain.take())], ['first', 'second']);
    await curator.queuePut('/interop/pq', 'low', { kind: 'priority', priority: 9 });
    await curator.queuePut('/interop/pq', 'high', { kind: 'priority', priority: -3 });
    const priority = new DistributedQueue(zk, '/interop/pq', { kind: 'priority' });
    assert.deepEqual([text(await priority.take()), text(await priority.take())], ['high', 'low']);
  });
});
