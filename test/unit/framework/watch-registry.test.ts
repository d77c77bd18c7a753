// The watch registry counts framework watches per path and kind; removing one recipe's watch
// disarms it and asks the client to remove that one listener (the client keeps the server watch
// while other listeners need it); ended and fired watches stop counting. The client is a stand-in
// that records removeWatches calls.
import assert from 'node:assert/strict';
import { describe, it } from 'mocha';
import type { WatchedEvent, ZooKeeperClient } from '../../../src/index.js';
import { WatchRegistry, WatchScope } from '../../../src/framework/watch-registry.js';

function fakeClient() {
  const removed: string[] = [];
  const listeners: unknown[] = [];
  const client = {
    removeWatches: async (path: string, type: string, options: { local?: boolean; listener?: unknown }) => {
      assert.equal(options.local, true);
      listeners.push(options.listener);
      removed.push(`${type} ${path}`);
    },
  } as unknown as ZooKeeperClient;
  return { client, removed, listeners };
}

describe('watch registry and scopes', () => {
  it('removes exactly the listener of the watch removed, and counts what is left', async () => {
    const { client, removed, listeners } = fakeClient();
    const registry = new WatchRegistry();
    const events: WatchedEvent[] = [];
    const a = registry.add(client, '/p', 'data', (e) => events.push(e), () => undefined);
    const b = registry.add(client, '/p', 'data', () => undefined, () => undefined);
    registry.add(client, '/p', 'children', () => undefined, () => undefined);
    assert.equal(registry.count('/p', 'data'), 2);
    await registry.remove(a, '/user-p');
    assert.deepEqual(removed, ['data /p']);
    assert.deepEqual(listeners, [a.listener]);
    assert.deepEqual(events, [{ type: 'dataWatchRemoved', path: '/user-p' }]);
    assert.equal(registry.count('/p', 'data'), 1);
    await registry.remove(b, '/user-p');
    await registry.remove(b, '/user-p'); // a second removal of the same watch does nothing
    assert.deepEqual(listeners, [a.listener, b.listener]);
    assert.equal(registry.count('/p', 'data'), 0);
    assert.equal(registry.count('/p', 'children'), 1);
  });

  it('fires a watch once and stops counting it', () => {
    const { client } = fakeClient();
    const registry = new WatchRegistry();
    const events: WatchedEvent[] = [];
    const handle = registry.add(client, '/p', 'data', (e) => events.push(e), () => undefined);
    handle.listener({ type: 'nodeDataChanged', path: '/p' });
    handle.listener({ type: 'nodeDataChanged', path: '/p' });
    assert.equal(events.length, 1);
    assert.equal(registry.size, 0);
    assert.ok(!handle.isLive);
  });

  it('ends the watches of a client whose session ended', () => {
    const registry = new WatchRegistry();
    const old = fakeClient().client;
    const current = fakeClient().client;
    const ended: Error[] = [];
    registry.add(old, '/p', 'data', () => undefined, (e) => ended.push(e));
    registry.add(current, '/p', 'data', () => undefined, (e) => ended.push(e));
    registry.endClient(old, new Error('expired'));
    assert.equal(ended.length, 1);
    assert.equal(registry.count('/p', 'data'), 1);
  });

  it('a scope removes what it tracked, including persistent watches', async () => {
    const { client, removed } = fakeClient();
    const registry = new WatchRegistry();
    const scope = new WatchScope(registry);
    scope.track(registry.add(client, '/a', 'children', () => undefined, () => undefined), '/a');
    let stopped = 0;
    scope.trackPersistent({ stop: async () => void stopped++ });
    assert.equal(scope.size, 2);
    await scope.removeAll();
    assert.deepEqual(removed, ['children /a']);
    assert.equal(stopped, 1);
    assert.equal(scope.size, 0);
  });
});
