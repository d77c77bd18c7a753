// Checks the Stat of every node after each kind of write against Apache 3.8's DataTree rules
// (cversion, pzxid, sequential suffixes, owners of containers and TTL nodes, reserved nodes),
// driving the pure core directly with an injected clock.
import assert from 'node:assert/strict';
import { describe, it } from 'mocha';
import { CreateMode, ErrorCode, OpCode } from '../../../src/protocol/index.js';
import { T0, connect, create, makeCore, read, statOf, write } from './harness.js';

describe('server core: stats', () => {
  it('gives a new node czxid = mzxid = pzxid = its zxid and ctime = mtime = the txn time', () => {
    const core = makeCore();
    const client = connect(core);
    const reply = create(core, client, '/a', { data: Buffer.from('hello'), nowMs: T0 + 5 });
    assert.equal(reply.err, 0);
    const { stat } = reply.response as any;
    assert.equal(stat.czxid, 2n); // zxid 1 was the createSession txn
    assert.equal(stat.mzxid, 2n);
    assert.equal(stat.pzxid, 2n);
    assert.equal(stat.ctime, BigInt(T0 + 5));
    assert.equal(stat.mtime, BigInt(T0 + 5));
    assert.deepEqual([stat.version, stat.cversion, stat.aversion], [0, 0, 0]);
    assert.equal(stat.dataLength, 5);
    assert.equal(stat.numChildren, 0);
    assert.equal(stat.ephemeralOwner, 0n);
    assert.equal(core.lastProcessedZxid, 2n);
  });

  it('create, delete, create gives suffix 0000000001 and visible cversion 3 (Apache 3.8)', () => {
    const core = makeCore();
    const client = connect(core);
    create(core, client, '/lock');
    const first = create(core, client, '/lock/n-', { flags: CreateMode.PERSISTENT_SEQUENTIAL });
    assert.equal((first.response as any).path, '/lock/n-0000000000');
    assert.equal(statOf(core, client, '/lock').cversion, 1);
    assert.equal(write(core, client, OpCode.delete, { path: '/lock/n-0000000000', version: -1 }).err, 0);
    assert.equal(statOf(core, client, '/lock').cversion, 2);
    const second = create(core, client, '/lock/n-', { flags: CreateMode.PERSISTENT_SEQUENTIAL });
    assert.equal((second.response as any).path, '/lock/n-0000000001');
    const stat = statOf(core, client, '/lock');
    assert.equal(stat.cversion, 3);
    assert.equal(stat.numChildren, 1);
  });

  it('appends the suffix after a trailing slash ("/a/" becomes "/a/0000000000")', () => {
    const core = makeCore();
    const client = connect(core);
    create(core, client, '/cont');
    const reply = create(
      core,
      client,
      '/cont/',
      { flags: CreateMode.PERSISTENT_SEQUENTIAL, opcode: OpCode.create },
    );
    assert.deepEqual(reply.response, { path: '/cont/0000000000' });
  });

  it('moves the parent pzxid on child create and child delete, never its mzxid or version', () => {
    const core = makeCore();
    const client = connect(core);
    create(core, client, '/p');
    const created = create(core, client, '/p/c');
    const childZxid = (created.response as any).stat.czxid;
    let parent = statOf(core, client, '/p');
    assert.equal(parent.pzxid, childZxid);
    assert.equal(parent.mzxid, 2n);
    write(core, client, OpCode.delete, { path: '/p/c', version: -1 });
    parent = statOf(core, client, '/p');
    assert.equal(parent.pzxid, core.lastProcessedZxid);
    assert.equal(parent.mzxid, 2n);
    assert.equal(parent.version, 0);
    assert.equal(parent.numChildren, 0);
  });

  it('setData bumps version, mzxid and mtime only; setACL bumps aversion only', () => {
    const core = makeCore();
    const client = connect(core);
    create(core, client, '/n');
    const before = statOf(core, client, '/n');
    const set = write(
      core,
      client,
      OpCode.setData,
      { path: '/n', data: Buffer.from('abc'), version: 0 },
      T0 + 100,
    );
    const after = (set.response as any).stat;
    assert.equal(after.version, 1);
    assert.equal(after.mzxid, core.lastProcessedZxid);
    assert.equal(after.mtime, BigInt(T0 + 100));
    assert.equal(after.ctime, before.ctime);
    assert.equal(after.dataLength, 3);
    assert.equal(after.pzxid, before.pzxid);
    const acl = write(core, client, OpCode.setACL, {
      path: '/n',
      acl: [{ perms: 31, id: { scheme: 'world', id: 'anyone' } }],
      version: 0,
    });
    const aclStat = (acl.response as any).stat;
    assert.equal(aclStat.aversion, 1);
    assert.equal(aclStat.mzxid, after.mzxid);
    assert.equal(aclStat.version, 1);
  });

  it('shows ephemeral owners, but 0 for containers and TTL nodes', () => {
    const core = makeCore({ extendedTypesEnabled: true });
    const client = connect(core);
    const ephemeral = create(core, client, '/e', { flags: CreateMode.EPHEMERAL });
    assert.equal((ephemeral.response as any).stat.ephemeralOwner, client.sessionId);
    const container = create(
      core,
      client,
      '/c',
      { flags: CreateMode.CONTAINER, opcode: OpCode.createContainer },
    );
    assert.equal(container.err, 0);
    assert.equal((container.response as any).stat.ephemeralOwner, 0n);
    const ttl = create(core, client, '/t', { flags: CreateMode.PERSISTENT_WITH_TTL, ttl: 1000n });
    assert.equal(ttl.err, 0);
    assert.equal((ttl.response as any).stat.ephemeralOwner, 0n);
    const stored = [...core.snapshot().nodes].find((node) => node.path === '/c')!;
    assert.equal(stored.stat.ephemeralOwner, -0x8000000000000000n);
    const storedTtl = [...core.snapshot().nodes].find((node) => node.path === '/t')!;
    assert.equal(BigInt.asUintN(64, storedTtl.stat.ephemeralOwner), 0xff00000000000000n | 1000n);
  });

  it('refuses children of ephemerals but not of containers or TTL nodes', () => {
    const core = makeCore({ extendedTypesEnabled: true });
    const client = connect(core);
    create(core, client, '/e', { flags: CreateMode.EPHEMERAL });
    assert.equal(create(core, client, '/e/x').err, ErrorCode.NO_CHILDREN_FOR_EPHEMERALS);
    create(core, client, '/c', { flags: CreateMode.CONTAINER, opcode: OpCode.createContainer });
    assert.equal(create(core, client, '/c/x').err, 0);
    create(core, client, '/t', { flags: CreateMode.PERSISTENT_WITH_TTL, ttl: 1000n });
    assert.equal(create(core, client, '/t/x').err, 0);
  });

  it('starts with /zookeeper, /zookeeper/quota and /zookeeper/config as Apache does', () => {
    const core = makeCore();
    const client = connect(core);
    const root = statOf(core, client, '/');
    assert.deepEqual(
      [root.czxid, root.mzxid, root.pzxid, root.ctime, root.version, root.cversion, root.aversion],
      [0n, 0n, 0n, 0n, 0, -1, 0], // Apache: the built-in child counts as a child but not a create
    );
    assert.equal(statOf(core, client, '/zookeeper').cversion, -2);
    assert.equal(root.numChildren, 1);
    const children = read(core, client, OpCode.getChildren, { path: '/zookeeper', watch: false });
    assert.deepEqual(new Set((children.response as any).children), new Set(['quota', 'config']));
    const config = read(core, client, OpCode.getACL, { path: '/zookeeper/config' });
    assert.deepEqual((config.response as any).acl, [{ perms: 1, id: { scheme: 'world', id: 'anyone' } }]);
    assert.equal((config.response as any).stat.aversion, -1);
    assert.equal(core.metrics().nodeCount, 5);
  });

  it('refuses to delete the reserved nodes with BadArguments and to re-create them with NodeExists', () => {
    const core = makeCore();
    const client = connect(core);
    for (const path of ['/', '/zookeeper', '/zookeeper/quota', '/zookeeper/config']) {
      assert.equal(
        write(core, client, OpCode.delete, { path, version: -1 }).err,
        ErrorCode.BAD_ARGUMENTS,
        path,
      );
    }
    assert.equal(create(core, client, '/zookeeper/config').err, ErrorCode.NODE_EXISTS);
  });

  it('counts all descendants in getAllChildrenNumber', () => {
    const core = makeCore();
    const client = connect(core);
    create(core, client, '/a');
    create(core, client, '/a/b');
    create(core, client, '/a/b/c');
    create(core, client, '/a/d');
    assert.deepEqual(
      read(core, client, OpCode.getAllChildrenNumber, { path: '/a' }).response,
      { totalNumber: 3 },
    );
    assert.deepEqual(
      read(core, client, OpCode.getAllChildrenNumber, { path: '/' }).response,
      { totalNumber: 7 },
    );
    assert.equal(read(core, client, OpCode.getAllChildrenNumber, { path: '/x' }).err, ErrorCode.NO_NODE);
  });

  it('lists the calling session ephemerals by plain string prefix', () => {
    const core = makeCore();
    const client = connect(core);
    const other = connect(core);
    create(core, client, '/app', {});
    create(core, client, '/app/e1', { flags: CreateMode.EPHEMERAL });
    create(core, client, '/apple', { flags: CreateMode.EPHEMERAL });
    create(core, other, '/app/e2', { flags: CreateMode.EPHEMERAL });
    const all = read(core, client, OpCode.getEphemerals, { prefixPath: '/' });
    assert.deepEqual(new Set((all.response as any).ephemerals), new Set(['/app/e1', '/apple']));
    const prefixed = read(core, client, OpCode.getEphemerals, { prefixPath: '/app' });
    assert.deepEqual(new Set((prefixed.response as any).ephemerals), new Set(['/app/e1', '/apple']));
    const narrow = read(core, client, OpCode.getEphemerals, { prefixPath: '/app/' });
    assert.deepEqual((narrow.response as any).ephemerals, ['/app/e1']);
  });

  it('keeps null data apart from empty data', () => {
    const core = makeCore();
    const client = connect(core);
    create(core, client, '/null', { data: null });
    create(core, client, '/empty', { data: Buffer.alloc(0) });
    assert.equal(
      (read(core, client, OpCode.getData, { path: '/null', watch: false }).response as any).data,
      null,
    );
    const empty = read(core, client, OpCode.getData, { path: '/empty', watch: false }).response as any;
    assert.deepEqual(empty.data, Buffer.alloc(0));
    assert.equal(empty.stat.dataLength, 0);
  });

  it('keeps its own copy of node data, not a view of the request buffer', () => {
    const core = makeCore();
    const client = connect(core);
    const frame = Buffer.from('..abc..');
    create(core, client, '/copy', { data: frame.subarray(2, 5) });
    frame.fill(0);
    const data = (read(core, client, OpCode.getData, { path: '/copy', watch: false }).response as any).data;
    assert.equal(data.toString(), 'abc');
  });

  it('answers create (1) with the path only and create2 (15) with path and stat', () => {
    const core = makeCore();
    const client = connect(core);
    assert.deepEqual(create(core, client, '/one', { opcode: OpCode.create }).response, { path: '/one' });
    const two = create(core, client, '/two', { opcode: OpCode.create2 }).response as any;
    assert.equal(two.path, '/two');
    assert.equal(two.stat.czxid, core.lastProcessedZxid);
  });
});

describe('server core: the "" alias of the root', () => {
  it('answers reads of "" as the root, as Apache\'s node map does', () => {
    const core = makeCore();
    const client = connect(core);
    assert.deepEqual(statOf(core, client, ''), statOf(core, client, '/'));
    const children = read(core, client, OpCode.getChildren, { path: '', watch: false }).response as any;
    assert.deepEqual(children.children, ['zookeeper']);
    assert.equal(write(core, client, OpCode.delete, { path: '', version: -1 }).err, ErrorCode.BAD_ARGUMENTS);
    assert.equal(create(core, client, '').err, ErrorCode.BAD_ARGUMENTS);
  });
});
