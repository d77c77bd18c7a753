// The watch manager on its own: which listeners an event reaches (Java's ZKWatchManager rules),
// one-shot removal, local removal events, ending, and setWatches batching for re-registration.
import assert from 'node:assert/strict';
import { describe, it } from 'mocha';
import { EventType } from '../../../src/index.js';
import { WatchManager, type WatchedEvent, type WatchListener } from '../../../src/client/watches.js';

function recorder(): WatchListener & { events: WatchedEvent[]; ended: Error[] } {
  const events: WatchedEvent[] = [];
  const ended: Error[] = [];
  return { events, ended, onEvent: (e) => events.push(e), onEnd: (e) => ended.push(e) };
}

describe('WatchManager', () => {
  it('fires data and exist watches once on a data change, persistent ones every time', () => {
    const m = new WatchManager();
    const data = recorder();
    const exist = recorder();
    const persistent = recorder();
    m.add('data', '/a', data);
    m.add('exist', '/a', exist);
    m.add('persistent', '/a', persistent);
    assert.equal(m.dispatch(EventType.NODE_DATA_CHANGED, '/a'), 3);
    assert.equal(m.dispatch(EventType.NODE_DATA_CHANGED, '/a'), 1);
    assert.equal(data.events.length, 1);
    assert.equal(exist.events.length, 1);
    assert.equal(persistent.events.length, 2);
    assert.equal(m.size, 1);
  });

  it('sends children-changed to child and persistent watches but never to recursive ones', () => {
    const m = new WatchManager();
    const child = recorder();
    const persistent = recorder();
    const recursive = recorder();
    m.add('child', '/a', child);
    m.add('persistent', '/a', persistent);
    m.add('persistentRecursive', '/a', recursive);
    m.dispatch(EventType.NODE_CHILDREN_CHANGED, '/a');
    assert.equal(child.events.length, 1);
    assert.equal(persistent.events.length, 1);
    assert.equal(recursive.events.length, 0);
  });

  it('reaches recursive watches on every ancestor, root included', () => {
    const m = new WatchManager();
    const root = recorder();
    const mid = recorder();
    const other = recorder();
    m.add('persistentRecursive', '/', root);
    m.add('persistentRecursive', '/a', mid);
    m.add('persistentRecursive', '/b', other);
    m.dispatch(EventType.NODE_CREATED, '/a/b/c');
    assert.deepEqual(root.events, [{ type: 'nodeCreated', path: '/a/b/c' }]);
    assert.equal(mid.events.length, 1);
    assert.equal(other.events.length, 0);
  });

  it('clears data, exist and child watches of a deleted node, and tells one listener once', () => {
    const m = new WatchManager();
    const both = recorder();
    m.add('data', '/a', both);
    m.add('child', '/a', both);
    assert.equal(m.dispatch(EventType.NODE_DELETED, '/a'), 1);
    assert.equal(both.events.length, 1);
    assert.equal(m.size, 0);
  });

  it('removes local watches with the matching *WatchRemoved event', () => {
    const m = new WatchManager();
    const data = recorder();
    const child = recorder();
    const persistent = recorder();
    m.add('data', '/a', data);
    m.add('child', '/a', child);
    m.add('persistent', '/a', persistent);
    assert.equal(m.removeLocal('/a', 'children'), 1);
    assert.deepEqual(child.events, [{ type: 'childWatchRemoved', path: '/a' }]);
    assert.equal(m.hasLocal('/a', 'children'), false);
    assert.equal(m.hasLocal('/a', 'data'), true);
    assert.equal(m.removeLocal('/a', 'any'), 2);
    assert.deepEqual(data.events, [{ type: 'dataWatchRemoved', path: '/a' }]);
    assert.deepEqual(persistent.events, [{ type: 'persistentWatchRemoved', path: '/a' }]);
    assert.equal(m.size, 0);
  });

  it('ends every listener once and forgets them', () => {
    const m = new WatchManager();
    const listener = recorder();
    m.add('data', '/a', listener);
    m.add('persistentRecursive', '/', listener);
    const error = new Error('expired');
    m.endAll(error);
    assert.deepEqual(listener.ended, [error]);
    assert.equal(m.dispatch(EventType.NODE_CREATED, '/a'), 0);
  });

  it('keeps a throwing listener from stopping the others', () => {
    const errors: unknown[] = [];
    const m = new WatchManager((e) => errors.push(e));
    const good = recorder();
    m.add('data', '/a', {
      onEvent: () => {
        throw new Error('boom');
      },
      onEnd: () => undefined,
    });
    m.add('data', '/a', good);
    m.dispatch(EventType.NODE_DATA_CHANGED, '/a');
    assert.equal(good.events.length, 1);
    assert.equal(errors.length, 1);
  });

  it('batches re-registration by path characters, with SetWatches2 only for persistent watches', () => {
    const m = new WatchManager();
    for (let i = 0; i < 10; i++) m.add('data', `/node-${i}`, recorder());
    m.add('exist', '/missing', recorder());
    const plain = m.setWatchesRequests(42n, (p) => `/root${p}`, 40);
    assert.ok(plain.length > 1);
    assert.ok(plain.every((r) => !r.persistent && r.body.relativeZxid === 42n));
    const paths = plain.flatMap((r) => [...r.body.dataWatches, ...r.body.existWatches]);
    assert.equal(paths.length, 11);
    assert.ok(paths.every((p) => p.startsWith('/root/')));
    for (const r of plain) {
      const chars = [...r.body.dataWatches, ...r.body.existWatches].join('').length;
      assert.ok(chars <= 40 || r.body.dataWatches.length + r.body.existWatches.length === 1);
    }
    m.add('persistentRecursive', '/tree', recorder());
    const withPersistent = m.setWatchesRequests(1n, (p) => p);
    assert.equal(withPersistent.length, 1);
    assert.equal(withPersistent[0].persistent, true);
    assert.deepEqual(withPersistent[0].body.persistentRecursiveWatches, ['/tree']);
    assert.deepEqual(
      new WatchManager().setWatchesRequests(1n, (p) => p),
      [],
    );
  });
});
