// Watches of every kind against our server and Apache ZooKeeper 3.8: one-shot watches as promises
// and callbacks (data, exist, child), persistent and recursive watches as async iterables, and their removal.
import assert from 'node:assert/strict';
import { after, before, it } from 'mocha';
import { NoWatcherError, ZooKeeperClient, type WatchedEvent } from '../../../src/index.js';
import { describeEachServer } from './support/servers.js';

describeEachServer('client watches', { tickTimeMs: 2000 }, (target) => {
  let server: { readonly connectString: string };
  let client: ZooKeeperClient;
  let other: ZooKeeperClient;

  before(async function () {
    server = target();
    client = new ZooKeeperClient({ connectString: server.connectString });
    other = new ZooKeeperClient({ connectString: server.connectString });
    await Promise.all([client.connect(), other.connect()]);
  });

  after(async function () {
    await Promise.all([client?.close(), other?.close()]);
  });

  it('fires a data watch once, as a promise', async () => {
    await client.create('/w1', 'a');
    const { watch } = await client.getData('/w1', { watch: true });
    await other.setData('/w1', 'b');
    assert.deepEqual(await watch, { type: 'nodeDataChanged', path: '/w1' });
    // One-shot: a second change is not delivered to the same watch (nothing else registered).
    await other.setData('/w1', 'c');
    const { watch: again } = await client.getData('/w1', { watch: true });
    await other.delete('/w1');
    assert.deepEqual(await again, { type: 'nodeDeleted', path: '/w1' });
  });

  it('fires an exist watch on creation and a child watch on a new child, as callbacks', async () => {
    const events: WatchedEvent[] = [];
    const created = new Promise<void>((resolve) => {
      void client.exists('/w2', {
        watch: (event) => {
          events.push(event);
          resolve();
        },
      });
    });
    await new Promise((r) => setImmediate(r));
    await client.sync('/');
    await other.create('/w2');
    await created;
    const childEvent = new Promise<WatchedEvent>(
      (resolve) => void client.getChildren('/w2', { watch: resolve }),
    );
    await client.sync('/');
    await other.create('/w2/child');
    assert.deepEqual(await childEvent, { type: 'nodeChildrenChanged', path: '/w2' });
    assert.deepEqual(events, [{ type: 'nodeCreated', path: '/w2' }]);
  });

  it('returns a watch promise from exists on a missing node', async () => {
    const { stat, watch } = await client.exists('/w3', { watch: true });
    assert.equal(stat, null);
    await other.create('/w3');
    assert.deepEqual(await watch, { type: 'nodeCreated', path: '/w3' });
  });

  it('delivers every change of a node to a persistent watch until it is stopped', async () => {
    await client.create('/p');
    const watch = await client.addWatch('/p', { mode: 'persistent' });
    await other.setData('/p', '1');
    await other.create('/p/c');
    await other.setData('/p', '2');
    const seen: WatchedEvent[] = [];
    for await (const event of watch) {
      seen.push(event);
      if (seen.length === 3) break; // leaving the loop stops the watch
    }
    assert.deepEqual(seen, [
      { type: 'nodeDataChanged', path: '/p' },
      { type: 'nodeChildrenChanged', path: '/p' },
      { type: 'nodeDataChanged', path: '/p' },
    ]);
    await watch.stop();
    await assert.rejects(client.checkWatches('/p', 'any'), NoWatcherError);
  });

  it('delivers subtree changes to a recursive watch, never children-changed', async () => {
    await client.create('/r');
    await using watch = await client.addWatch('/r', { mode: 'persistentRecursive' });
    await client.checkWatches('/r', 'any');
    await other.create('/r/a');
    await other.create('/r/a/b');
    await other.setData('/r/a/b', 'x');
    await other.delete('/r/a/b');
    const iterator = watch[Symbol.asyncIterator]();
    const seen: WatchedEvent[] = [];
    for (let i = 0; i < 4; i++) seen.push((await iterator.next()).value as WatchedEvent);
    assert.deepEqual(seen, [
      { type: 'nodeCreated', path: '/r/a' },
      { type: 'nodeCreated', path: '/r/a/b' },
      { type: 'nodeDataChanged', path: '/r/a/b' },
      { type: 'nodeDeleted', path: '/r/a/b' },
    ]);
  });

  it('removes one-shot watches on the server and tells their listeners', async () => {
    await client.create('/rm');
    const { watch } = await client.getData('/rm', { watch: true });
    await client.checkWatches('/rm', 'data');
    await client.removeWatches('/rm', 'data');
    assert.deepEqual(await watch, { type: 'dataWatchRemoved', path: '/rm' });
    await assert.rejects(client.checkWatches('/rm', 'data'), NoWatcherError);
    await assert.rejects(client.removeWatches('/rm', 'children'), NoWatcherError);
    await client.removeWatches('/rm', 'children', { local: true });
  });

  it('removes only the named listener; the server watch goes with the last one', async () => {
    await client.create('/rm-one', 'a');
    const first: WatchedEvent[] = [];
    const second: WatchedEvent[] = [];
    const onFirst = (event: WatchedEvent) => void first.push(event);
    let secondFired!: () => void;
    const secondDone = new Promise<void>((resolve) => (secondFired = resolve));
    const onSecond = (event: WatchedEvent) => {
      second.push(event);
      secondFired();
    };
    await client.getData('/rm-one', { watch: onFirst });
    await client.exists('/rm-one', { watch: onSecond });
    const stranger = () => undefined;
    await assert.rejects(client.removeWatches('/rm-one', 'data', { listener: stranger }), NoWatcherError);
    await client.removeWatches('/rm-one', 'data', { listener: onFirst });
    assert.deepEqual(first, [{ type: 'dataWatchRemoved', path: '/rm-one' }]);
    await client.checkWatches('/rm-one', 'data'); // still needed by onSecond
    await other.setData('/rm-one', 'b');
    await secondDone;
    assert.deepEqual(second, [{ type: 'nodeDataChanged', path: '/rm-one' }]);
    assert.equal(first.length, 1, 'the removed listener hears nothing more');
    // The last listener takes the server watch with it.
    await client.getData('/rm-one', { watch: onFirst });
    await client.removeWatches('/rm-one', 'data', { listener: onFirst });
    await assert.rejects(client.checkWatches('/rm-one', 'data'), NoWatcherError);
  });

  it('removes one persistent listener of several by its function', async () => {
    await client.create('/rm-p');
    const kept: WatchedEvent[] = [];
    const dropped: WatchedEvent[] = [];
    const onDropped = (event: WatchedEvent) => void dropped.push(event);
    let keptFired!: () => void;
    const keptDone = new Promise<void>((resolve) => (keptFired = resolve));
    await client.addWatch('/rm-p', { listener: onDropped });
    await client.addWatch('/rm-p', {
      listener: (event) => {
        kept.push(event);
        keptFired();
      },
    });
    await client.removeWatches('/rm-p', 'persistent', { listener: onDropped });
    assert.deepEqual(dropped, [{ type: 'persistentWatchRemoved', path: '/rm-p' }]);
    await other.setData('/rm-p', 'x');
    await keptDone;
    assert.deepEqual(kept, [{ type: 'nodeDataChanged', path: '/rm-p' }]);
    assert.equal(dropped.length, 1);
  });

  it('lets a persistent watch report events through a listener', async () => {
    await client.create('/pl');
    const events: WatchedEvent[] = [];
    const got = new Promise<void>((resolve) => {
      void client.addWatch('/pl', {
        listener: (e) => {
          events.push(e);
          resolve();
        },
      });
    });
    await client.sync('/');
    await other.setData('/pl', 'x');
    await got;
    assert.deepEqual(events, [{ type: 'nodeDataChanged', path: '/pl' }]);
  });

  it('ends watches when the client closes', async () => {
    const closing = new ZooKeeperClient({ connectString: server.connectString });
    await closing.connect();
    await closing.create('/end');
    const { watch } = await closing.getData('/end', { watch: true });
    const persistent = await closing.addWatch('/end');
    const iterating = (async () => {
      const events: WatchedEvent[] = [];
      for await (const event of persistent) events.push(event);
      return events;
    })();
    await closing.close();
    await assert.rejects(watch, /closed/);
    assert.deepEqual(await iterating, []);
  });
});
