// Watches on the wire, against both servers: event types, paths and order for data, exist and child
// watches, exists on a missing node, delete fan-out, persistent and recursive watches, removeWatches,
// setWatches on reconnect, and the rule that an event arrives before the reply to any later request.
// Notification zxid: Apache 3.8 sends -1, 3.9 the txn zxid; either is accepted.
import assert from 'node:assert/strict';
import { it } from 'mocha';
import { EventType, OpCode } from '../../src/protocol/index.js';
import type { Notification, RawClient } from '../support/raw-client.js';
import { describeBothServers } from '../support/servers.js';
import { create, exists, getChildren, getData, ok, remove, setData } from './ops.js';

function events(notifications: Notification[]): Array<[number, string]> {
  return notifications.map((n) => [n.event.type, n.event.path]);
}

async function settle(client: RawClient): Promise<void> {
  // A ping's reply comes after every event fired before it was sent.
  await client.ping();
}

describeBothServers('watches', {}, (target) => {
  it('fires NodeDataChanged on a getData watch once, with state SyncConnected', async () => {
    await using watcher = await target().connect();
    await using writer = await target().connect();
    const root = target().path();
    ok(await create(writer, root));
    ok(await getData(watcher, root, true));
    ok(await setData(writer, root, Buffer.from('1')));
    ok(await setData(writer, root, Buffer.from('2')));
    const [event] = await watcher.waitForNotifications(1);
    await settle(watcher);
    assert.deepEqual(events(watcher.notifications), [[EventType.NODE_DATA_CHANGED, root]]);
    assert.equal(event.event.state, 3);
    assert.ok(event.zxid === -1n || event.zxid > 0n);
  });

  it('sets a watch with exists on a missing node and fires NodeCreated', async () => {
    await using watcher = await target().connect();
    await using writer = await target().connect();
    const root = target().path();
    const missing = await exists(watcher, root, true);
    assert.equal(missing.header.err, -101);
    assert.equal(missing.frame.length, 16);
    ok(await create(writer, root));
    await watcher.waitForNotifications(1);
    assert.deepEqual(events(watcher.notifications), [[EventType.NODE_CREATED, root]]);
  });

  it('sets nothing with getData or getChildren on a missing node', async () => {
    await using watcher = await target().connect();
    await using writer = await target().connect();
    const root = target().path();
    assert.equal((await getData(watcher, root, true)).header.err, -101);
    assert.equal((await getChildren(watcher, root, true)).header.err, -101);
    ok(await create(writer, root));
    await settle(watcher);
    assert.deepEqual(watcher.notifications, []);
  });

  it('fires NodeChildrenChanged on child create and delete, NodeDeleted on the node', async () => {
    await using watcher = await target().connect();
    await using writer = await target().connect();
    const root = target().path();
    ok(await create(writer, root));
    ok(await getChildren(watcher, root, true));
    ok(await create(writer, `${root}/a`));
    await watcher.waitForNotifications(1);
    ok(await getChildren(watcher, root, true));
    ok(await getData(watcher, root, true));
    ok(await remove(writer, `${root}/a`));
    await watcher.waitForNotifications(2);
    ok(await getChildren(watcher, root, true));
    ok(await remove(writer, root));
    await watcher.waitForNotifications(3);
    await settle(watcher);
    assert.deepEqual(events(watcher.notifications), [
      [EventType.NODE_CHILDREN_CHANGED, root],
      [EventType.NODE_CHILDREN_CHANGED, root],
      [EventType.NODE_DELETED, root],
    ]);
  });

  it('delivers the event before the reply to a later request of the same connection', async () => {
    await using client = await target().connect();
    const root = target().path();
    ok(await create(client, root));
    ok(await getData(client, root, true));
    const set = setData(client, root, Buffer.from('x'));
    await set;
    const order = client.arrivals.slice(-2);
    assert.deepEqual(order[0], { kind: 'event', xid: -1, path: root });
    assert.equal(order[1].kind, 'reply');
  });

  it('keeps persistent watches and fires every type for the path only', async () => {
    await using watcher = await target().connect();
    await using writer = await target().connect();
    const root = target().path();
    const added = await watcher.request(OpCode.addWatch, { path: root, mode: 0 });
    assert.equal(added.header.err, 0);
    assert.deepEqual(added.body, { err: 0 });
    ok(await create(writer, root));
    ok(await setData(writer, root, Buffer.from('a')));
    ok(await create(writer, `${root}/c`));
    ok(await create(writer, `${root}/c/d`));
    ok(await remove(writer, `${root}/c/d`));
    ok(await remove(writer, `${root}/c`));
    ok(await remove(writer, root));
    await watcher.waitForNotifications(5);
    await settle(watcher);
    assert.deepEqual(events(watcher.notifications), [
      [EventType.NODE_CREATED, root],
      [EventType.NODE_DATA_CHANGED, root],
      [EventType.NODE_CHILDREN_CHANGED, root],
      [EventType.NODE_CHILDREN_CHANGED, root],
      [EventType.NODE_DELETED, root],
    ]);
  });

  it('fires recursive watches for the subtree, never NodeChildrenChanged', async () => {
    await using watcher = await target().connect();
    await using writer = await target().connect();
    const root = target().path();
    ok(await watcher.request(OpCode.addWatch, { path: root, mode: 1 }));
    ok(await create(writer, root));
    ok(await create(writer, `${root}/a`));
    ok(await create(writer, `${root}/a/b`));
    ok(await setData(writer, `${root}/a/b`, Buffer.from('x')));
    ok(await remove(writer, `${root}/a/b`));
    await watcher.waitForNotifications(5);
    await settle(watcher);
    assert.deepEqual(events(watcher.notifications), [
      [EventType.NODE_CREATED, root],
      [EventType.NODE_CREATED, `${root}/a`],
      [EventType.NODE_CREATED, `${root}/a/b`],
      [EventType.NODE_DATA_CHANGED, `${root}/a/b`],
      [EventType.NODE_DELETED, `${root}/a/b`],
    ]);
  });

  it('removes watches by type and answers NoWatcher when none matched', async () => {
    await using watcher = await target().connect();
    await using writer = await target().connect();
    const root = target().path();
    ok(await create(writer, root));
    assert.equal((await watcher.request(OpCode.removeWatches, { path: root, type: 2 })).header.err, -121);
    ok(await getData(watcher, root, true));
    assert.equal((await watcher.request(OpCode.checkWatches, { path: root, type: 2 })).header.err, 0);
    assert.equal((await watcher.request(OpCode.removeWatches, { path: root, type: 1 })).header.err, -121);
    assert.equal((await watcher.request(OpCode.removeWatches, { path: root, type: 2 })).header.err, 0);
    ok(await setData(writer, root, Buffer.from('x')));
    await settle(watcher);
    assert.deepEqual(watcher.notifications, []);
  });

  it('fires ephemeral deletions of a closed session to other sessions', async () => {
    await using watcher = await target().connect();
    const owner = await target().connect();
    const root = target().path();
    ok(await create(owner, root));
    ok(await create(owner, `${root}/e`, null, 1));
    ok(await exists(watcher, `${root}/e`, true));
    ok(await getChildren(watcher, root, true));
    await owner.close();
    await watcher.waitForNotifications(2);
    const got = events(watcher.notifications).sort();
    assert.deepEqual(got, [
      [EventType.NODE_DELETED, `${root}/e`],
      [EventType.NODE_CHILDREN_CHANGED, root],
    ].sort());
  });

  it('answers setWatches with the request xid and fires what changed since relativeZxid', async () => {
    await using client = await target().connect();
    await using writer = await target().connect();
    const root = target().path();
    const created = await create(writer, root);
    ok(created);
    ok(await create(writer, `${root}/gone`));
    const zxid = created.header.zxid;
    ok(await setData(writer, root, Buffer.from('changed')));
    ok(await remove(writer, `${root}/gone`));
    const xid = client.allocateXid();
    const { records } = await import('../../src/protocol/index.js');
    const { part } = await import('../../src/protocol/index.js');
    const reply = await client.requestWith(
      OpCode.setWatches,
      part(records.SetWatches, {
        relativeZxid: zxid,
        dataWatches: [root, `${root}/gone`],
        existWatches: [`${root}/later`],
        childWatches: [],
      }),
      null,
      xid,
    );
    assert.equal(reply.header.xid, xid);
    assert.equal(reply.header.err, 0);
    await client.waitForNotifications(2);
    assert.deepEqual(events(client.notifications).sort(), [
      [EventType.NODE_DATA_CHANGED, root],
      [EventType.NODE_DELETED, `${root}/gone`],
    ].sort());
    ok(await create(writer, `${root}/later`));
    await client.waitForNotifications(3);
    assert.deepEqual(events(client.notifications)[2], [EventType.NODE_CREATED, `${root}/later`]);
  });

  it('re-registers persistent and recursive watches with setWatches2', async () => {
    await using client = await target().connect();
    await using writer = await target().connect();
    const root = target().path();
    ok(await create(writer, root));
    const xid = client.allocateXid();
    const { part, records } = await import('../../src/protocol/index.js');
    const lists = {
      relativeZxid: (await writer.ping()).header.zxid,
      dataWatches: [],
      existWatches: [],
      childWatches: [],
      persistentWatches: [root],
      persistentRecursiveWatches: [`${root}/sub`],
    };
    const reply = await client.requestWith(OpCode.setWatches2, part(records.SetWatches2, lists), null, xid);
    assert.deepEqual(reply.header.xid, xid);
    assert.equal(reply.header.err, 0);
    ok(await create(writer, `${root}/sub`));
    ok(await create(writer, `${root}/sub/deep`));
    await client.waitForNotifications(3);
    await settle(client);
    // One txn fires its data-table events (NodeCreated) before its child-table events, as DataTree does.
    assert.deepEqual(events(client.notifications), [
      [EventType.NODE_CREATED, `${root}/sub`],
      [EventType.NODE_CHILDREN_CHANGED, root],
      [EventType.NODE_CREATED, `${root}/sub/deep`],
    ]);
  });
});
