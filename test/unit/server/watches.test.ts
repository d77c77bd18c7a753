// Checks watch registration and firing against Apache 3.8's watch table (research 2.4): which
// event each txn fires on which watch, one-shot versus persistent and recursive watches,
// removeWatches/checkWatches, setWatches catch-up on reconnect, and READ filtering of events.
import assert from 'node:assert/strict';
import { describe, it } from 'mocha';
import { CreateMode, ErrorCode, EventType, OpCode } from '../../../src/protocol/index.js';
import { OPEN_ACL, RecordingWatcher, T0, connect, create, makeCore, read, write } from './harness.js';

const { NODE_CREATED, NODE_DELETED, NODE_DATA_CHANGED, NODE_CHILDREN_CHANGED } = EventType;

function setup() {
  const core = makeCore();
  const client = connect(core);
  const watcher = new RecordingWatcher();
  return { core, client, watcher };
}

describe('server core: watches', () => {
  it('fires NodeCreated on an exists watch set on a missing node, once', () => {
    const { core, client, watcher } = setup();
    assert.equal(
      read(core, client, OpCode.exists, { path: '/a', watch: true }, watcher).err,
      ErrorCode.NO_NODE,
    );
    create(core, client, '/a');
    assert.deepEqual(watcher.take(), [[NODE_CREATED, '/a']]);
    write(core, client, OpCode.setData, { path: '/a', data: null, version: -1 });
    assert.deepEqual(watcher.take(), []);
  });

  it('does not set watches from getData or getChildren on a missing node', () => {
    const { core, client, watcher } = setup();
    read(core, client, OpCode.getData, { path: '/a', watch: true }, watcher);
    read(core, client, OpCode.getChildren, { path: '/a', watch: true }, watcher);
    create(core, client, '/a');
    assert.deepEqual(watcher.take(), []);
  });

  it('fires NodeDataChanged on setData and nothing on setACL', () => {
    const { core, client, watcher } = setup();
    create(core, client, '/a');
    read(core, client, OpCode.getData, { path: '/a', watch: true }, watcher);
    write(core, client, OpCode.setACL, { path: '/a', acl: OPEN_ACL, version: -1 });
    assert.deepEqual(watcher.take(), []);
    write(core, client, OpCode.setData, { path: '/a', data: null, version: -1 });
    const events = watcher.events.splice(0);
    assert.deepEqual(events.map((event) => [event.type, event.path]), [[NODE_DATA_CHANGED, '/a']]);
    assert.equal(events[0]!.zxid, core.lastProcessedZxid);
  });

  it('fires NodeChildrenChanged on the parent for child create and delete', () => {
    const { core, client, watcher } = setup();
    create(core, client, '/p');
    read(core, client, OpCode.getChildren2, { path: '/p', watch: true }, watcher);
    create(core, client, '/p/c');
    assert.deepEqual(watcher.take(), [[NODE_CHILDREN_CHANGED, '/p']]);
    read(core, client, OpCode.getChildren, { path: '/p', watch: true }, watcher);
    write(core, client, OpCode.delete, { path: '/p/c', version: -1 });
    assert.deepEqual(watcher.take(), [[NODE_CHILDREN_CHANGED, '/p']]);
  });

  it('sends one NodeDeleted to a connection with both data and child watches on the node', () => {
    const { core, client, watcher } = setup();
    create(core, client, '/p');
    create(core, client, '/p/c');
    const parentWatcher = new RecordingWatcher();
    read(core, client, OpCode.getData, { path: '/p/c', watch: true }, watcher);
    read(core, client, OpCode.getChildren, { path: '/p/c', watch: true }, watcher);
    read(core, client, OpCode.getChildren, { path: '/p', watch: true }, parentWatcher);
    write(core, client, OpCode.delete, { path: '/p/c', version: -1 });
    assert.deepEqual(watcher.take(), [[NODE_DELETED, '/p/c']]);
    assert.deepEqual(parentWatcher.take(), [[NODE_CHILDREN_CHANGED, '/p']]);
  });

  it('fires a child watch of a deleted node with NodeDeleted', () => {
    const { core, client, watcher } = setup();
    create(core, client, '/c');
    read(core, client, OpCode.getChildren, { path: '/c', watch: true }, watcher);
    write(core, client, OpCode.delete, { path: '/c', version: -1 });
    assert.deepEqual(watcher.take(), [[NODE_DELETED, '/c']]);
  });

  it('keeps persistent watches and fires all four types for the path only', () => {
    const { core, client, watcher } = setup();
    assert.deepEqual(core.addWatch(watcher, '/w', 0), { err: 0, response: { err: 0 } });
    create(core, client, '/w');
    create(core, client, '/w/c');
    create(core, client, '/w/c/deep');
    write(core, client, OpCode.setData, { path: '/w', data: null, version: -1 });
    write(core, client, OpCode.delete, { path: '/w/c/deep', version: -1 });
    write(core, client, OpCode.delete, { path: '/w/c', version: -1 });
    write(core, client, OpCode.delete, { path: '/w', version: -1 });
    create(core, client, '/w');
    assert.deepEqual(watcher.take(), [
      [NODE_CREATED, '/w'],
      [NODE_CHILDREN_CHANGED, '/w'],
      [NODE_DATA_CHANGED, '/w'],
      [NODE_CHILDREN_CHANGED, '/w'],
      [NODE_DELETED, '/w'],
      [NODE_CREATED, '/w'],
    ]);
  });

  it('fires recursive watches for the subtree but never NodeChildrenChanged', () => {
    const { core, client, watcher } = setup();
    core.addWatch(watcher, '/r', 1);
    create(core, client, '/r');
    create(core, client, '/r/a');
    create(core, client, '/r/a/b');
    write(core, client, OpCode.setData, { path: '/r/a/b', data: null, version: -1 });
    write(core, client, OpCode.delete, { path: '/r/a/b', version: -1 });
    create(core, client, '/rx'); // a sibling whose name merely starts with "/r"
    assert.deepEqual(watcher.take(), [
      [NODE_CREATED, '/r'],
      [NODE_CREATED, '/r/a'],
      [NODE_CREATED, '/r/a/b'],
      [NODE_DATA_CHANGED, '/r/a/b'],
      [NODE_DELETED, '/r/a/b'],
    ]);
  });

  it('turns a persistent watch one-shot when a standard watch is set on the same path (Apache 3.8)', () => {
    const { core, client, watcher } = setup();
    create(core, client, '/p');
    core.addWatch(watcher, '/p', 0);
    read(core, client, OpCode.getData, { path: '/p', watch: true }, watcher);
    write(core, client, OpCode.setData, { path: '/p', data: null, version: -1 });
    write(core, client, OpCode.setData, { path: '/p', data: null, version: -1 });
    assert.deepEqual(watcher.take(), [[NODE_DATA_CHANGED, '/p']]);
    create(core, client, '/p/c'); // the child table kept its persistent watch
    assert.deepEqual(watcher.take(), [[NODE_CHILDREN_CHANGED, '/p']]);
  });

  it('removes watches by type and answers NoWatcher when none matched', () => {
    const { core, client, watcher } = setup();
    create(core, client, '/a');
    read(core, client, OpCode.getData, { path: '/a', watch: true }, watcher);
    assert.equal(core.removeWatches(watcher, '/a', 1, false).err, ErrorCode.NO_WATCHER);
    assert.equal(core.removeWatches(watcher, '/a', 2, true).err, 0);
    assert.equal(core.removeWatches(watcher, '/a', 2, false).err, 0);
    assert.equal(core.removeWatches(watcher, '/a', 3, false).err, ErrorCode.NO_WATCHER);
    assert.equal(core.removeWatches(watcher, '/a', 4, false).err, ErrorCode.MARSHALLING_ERROR);
    write(core, client, OpCode.setData, { path: '/a', data: null, version: -1 });
    assert.deepEqual(watcher.take(), []);
    core.addWatch(watcher, '/a', 0);
    assert.equal(read(core, client, OpCode.removeWatches, { path: '/a', type: 3 }, watcher).err, 0);
    write(core, client, OpCode.setData, { path: '/a', data: null, version: -1 });
    assert.deepEqual(watcher.take(), []);
  });

  it('answers checkWatches with 3.8\'s quirks: any watcher on the path counts; odd paths fail', () => {
    const { core, client, watcher } = setup();
    const other = new RecordingWatcher();
    create(core, client, '/a');
    read(core, client, OpCode.getData, { path: '/a', watch: true }, other);
    assert.equal(core.removeWatches(watcher, '/a', 2, true).err, 0, 'another connection watches /a');
    assert.equal(core.removeWatches(watcher, '/a', 2, false).err, ErrorCode.NO_WATCHER);
    assert.equal(core.removeWatches(watcher, 'bad', 2, true).err, ErrorCode.MARSHALLING_ERROR);
    assert.equal(core.removeWatches(watcher, 'a/b', 2, true).err, ErrorCode.NO_WATCHER);
    core.addWatch(other, '/r', 1); // with a recursive watch, parents are walked and "a" fails
    assert.equal(core.removeWatches(watcher, 'a/b', 2, true).err, ErrorCode.MARSHALLING_ERROR);
    assert.equal(core.removeWatches(watcher, '/r/x', 2, true).err, ErrorCode.NO_WATCHER);
    assert.equal(core.removeWatches(other, '/r', 2, true).err, 0);
  });

  it('forgets every watch of a dropped watcher', () => {
    const { core, client, watcher } = setup();
    create(core, client, '/a');
    read(core, client, OpCode.getData, { path: '/a', watch: true }, watcher);
    core.addWatch(watcher, '/', 1);
    assert.equal(core.metrics().watchCount, 3);
    core.dropWatcher(watcher);
    core.dropWatcher(watcher);
    write(core, client, OpCode.setData, { path: '/a', data: null, version: -1 });
    assert.deepEqual(watcher.take(), []);
    assert.equal(core.metrics().watchCount, 0);
  });

  it('reports the data-watch table for wchs, wchc and wchp, and both tables for mntr, as Apache', () => {
    const { core, client, watcher } = setup();
    const other = new RecordingWatcher();
    create(core, client, '/a');
    read(core, client, OpCode.getData, { path: '/a', watch: true }, watcher);
    read(core, client, OpCode.getChildren, { path: '/', watch: true }, watcher);
    read(core, client, OpCode.getChildren, { path: '/a', watch: true }, other);
    read(core, client, OpCode.exists, { path: '/b', watch: true }, other);
    assert.deepEqual(core.watchesByWatcher().get(watcher), ['/a']);
    assert.deepEqual(core.watchesByWatcher().get(other), ['/b']);
    assert.deepEqual(core.watchesByPath().get('/a'), [watcher]);
    assert.equal(core.watchesByPath().get('/'), undefined);
    const metrics = core.metrics();
    assert.equal(metrics.watchCount, 4);
    assert.deepEqual([metrics.dataWatchCount, metrics.watchedPathCount, metrics.watcherCount], [2, 2, 2]);
  });

  it('filters events by the READ permission of the node for each watcher', () => {
    const { core, client } = setup();
    const outsider = new RecordingWatcher([{ scheme: 'ip', id: '10.0.0.1' }]);
    const insider = new RecordingWatcher([{ scheme: 'ip', id: '127.0.0.1' }]);
    create(core, client, '/s', { acl: [{ perms: 31, id: { scheme: 'ip', id: '127.0.0.1' } }] });
    core.addWatch(outsider, '/s', 0);
    core.addWatch(insider, '/s', 0);
    write(core, client, OpCode.setData, { path: '/s', data: null, version: -1 });
    assert.deepEqual(outsider.take(), []);
    assert.deepEqual(insider.take(), [[NODE_DATA_CHANGED, '/s']]);
  });
});

describe('server core: READ filtering of events', () => {
  it('uses the parent ACL for NodeChildrenChanged and the deleted node ACL for NodeDeleted', () => {
    const { core, client } = setup();
    const outsider = new RecordingWatcher([{ scheme: 'ip', id: '10.0.0.1' }]);
    const localOnly = [{ perms: 31, id: { scheme: 'ip', id: '127.0.0.1' } }];
    create(core, client, '/closed', { acl: localOnly });
    create(core, client, '/open');
    create(core, client, '/open/secret', { acl: localOnly });
    core.addWatch(outsider, '/closed', 0);
    core.addWatch(outsider, '/open', 0);
    core.addWatch(outsider, '/open/secret', 0);
    create(core, client, '/closed/child'); // parent unreadable: no NodeChildrenChanged
    write(core, client, OpCode.delete, { path: '/open/secret', version: -1 }); // node unreadable
    assert.deepEqual(outsider.take(), [[NODE_CHILDREN_CHANGED, '/open']]);
  });

  it('delivers everything with skipACL', () => {
    const core = makeCore({ skipACL: true });
    const client = connect(core);
    const outsider = new RecordingWatcher([{ scheme: 'ip', id: '10.0.0.1' }]);
    create(core, client, '/s', { acl: [{ perms: 31, id: { scheme: 'ip', id: '127.0.0.1' } }] });
    core.addWatch(outsider, '/s', 0);
    write(core, client, OpCode.setData, { path: '/s', data: null, version: -1 });
    assert.deepEqual(outsider.take(), [[NODE_DATA_CHANGED, '/s']]);
  });
});

describe('server core: setWatches on reconnect', () => {
  it('fires at once what changed since relativeZxid and registers the rest', () => {
    const { core, client } = setup();
    create(core, client, '/same');
    create(core, client, '/changed');
    create(core, client, '/kids');
    create(core, client, '/gone');
    const relativeZxid = core.lastProcessedZxid;
    write(core, client, OpCode.setData, { path: '/changed', data: null, version: -1 });
    create(core, client, '/kids/k');
    write(core, client, OpCode.delete, { path: '/gone', version: -1 });
    create(core, client, '/born');
    const watcher = new RecordingWatcher();
    read(core, client, OpCode.setWatches2, {
      relativeZxid,
      dataWatches: ['/same', '/changed', '/gone'],
      existWatches: ['/born', '/unborn'],
      childWatches: ['/kids', '/same', '/gone'],
      persistentWatches: ['/p'],
      persistentRecursiveWatches: ['/rec'],
    }, watcher);
    const events = watcher.events.splice(0);
    assert.deepEqual(events.map((event) => [event.type, event.path]), [
      [NODE_DATA_CHANGED, '/changed'],
      [NODE_DELETED, '/gone'],
      [NODE_CREATED, '/born'],
      [NODE_CHILDREN_CHANGED, '/kids'],
      [NODE_DELETED, '/gone'],
    ]);
    assert.ok(events.every((event) => event.zxid === -1n));
    write(core, client, OpCode.setData, { path: '/same', data: null, version: -1 });
    create(core, client, '/unborn');
    create(core, client, '/same/k');
    create(core, client, '/p');
    create(core, client, '/rec');
    create(core, client, '/rec/x');
    assert.deepEqual(watcher.take(), [
      [NODE_DATA_CHANGED, '/same'],
      [NODE_CREATED, '/unborn'],
      [NODE_CHILDREN_CHANGED, '/same'],
      [NODE_CREATED, '/p'],
      [NODE_CREATED, '/rec'],
      [NODE_CREATED, '/rec/x'],
    ]);
  });
});

describe('server core: watches fired by closeSession', () => {
  it('deletes the ephemerals in one txn and fires their watches', () => {
    const { core, client, watcher } = setup();
    create(core, client, '/svc');
    create(core, client, '/svc/a', { flags: CreateMode.EPHEMERAL });
    create(core, client, '/svc/b', { flags: CreateMode.EPHEMERAL_SEQUENTIAL });
    const observer = connect(core);
    read(core, observer, OpCode.getChildren, { path: '/svc', watch: true }, watcher);
    read(core, observer, OpCode.exists, { path: '/svc/a', watch: true }, watcher);
    const txn = core.prepareCloseSession(client.sessionId, T0 + 10);
    assert.equal(txn.header.type, OpCode.closeSession);
    assert.deepEqual(new Set((txn.record as any).paths2Delete), new Set(['/svc/a', '/svc/b0000000001']));
    assert.deepEqual(core.apply(txn), { err: 0 });
    assert.deepEqual(watcher.take(), [[NODE_DELETED, '/svc/a'], [NODE_CHILDREN_CHANGED, '/svc']]);
    assert.equal(core.metrics().ephemeralsCount, 0);
    const svc = read(core, observer, OpCode.exists, { path: '/svc', watch: false }).response as any;
    assert.equal(svc.stat.pzxid, txn.header.zxid);
    assert.equal(svc.stat.numChildren, 0);
  });
});
