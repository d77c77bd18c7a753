// Znodes on the wire, against both servers: exact Stat fields after each operation, sequential
// suffixes and cversion, error codes in Apache's order, multi's failure layout, node types and the
// reserved nodes, getEphemerals and getAllChildrenNumber.
import assert from 'node:assert/strict';
import { it } from 'mocha';
import { OpCode, type Stat } from '../../src/protocol/index.js';
import { describeBothServers } from '../support/servers.js';
import { OPEN_ACL, create, create2, exists, getChildren2, getData, ok, remove, setData } from './ops.js';

describeBothServers('znodes', {}, (target) => {
  it('gives a new node Apache stat fields, and create2 returns them', async () => {
    await using client = await target().connect();
    const root = target().path();
    const reply = await create2(client, root, Buffer.from('hello'));
    const { path, stat } = ok(reply);
    assert.equal(path, root);
    assert.equal(stat.czxid, reply.header.zxid);
    assert.equal(stat.mzxid, stat.czxid);
    assert.equal(stat.pzxid, stat.czxid);
    assert.equal(stat.ctime, stat.mtime);
    assert.deepEqual(
      [stat.version, stat.cversion, stat.aversion, stat.ephemeralOwner, stat.dataLength, stat.numChildren],
      [0, 0, 0, 0n, 5, 0],
    );
    const read = ok(await getData(client, root));
    assert.deepEqual(read.stat, stat);
    assert.equal(read.data!.toString(), 'hello');
  });

  it('updates stats on setData, setACL, child create and child delete exactly as Apache', async () => {
    await using client = await target().connect();
    const root = target().path();
    const created = ok(await create2(client, root, Buffer.from('a'))).stat;
    const set = await setData(client, root, Buffer.from('abc'));
    const afterSet = ok(set).stat;
    assert.equal(afterSet.version, 1);
    assert.equal(afterSet.mzxid, set.header.zxid);
    assert.equal(afterSet.dataLength, 3);
    assert.equal(afterSet.czxid, created.czxid);
    assert.equal(afterSet.pzxid, created.pzxid);
    const acl = await client.request(OpCode.setACL, { path: root, acl: OPEN_ACL, version: 0 });
    const afterAcl = ok<{ stat: Stat }>(acl).stat;
    assert.equal(afterAcl.aversion, 1);
    assert.equal(afterAcl.mzxid, afterSet.mzxid, 'setACL leaves mzxid alone');
    assert.equal(afterAcl.version, 1);
    const child = await create(client, `${root}/c`);
    const withChild = ok(await exists(client, root)).stat;
    assert.equal(withChild.pzxid, child.header.zxid);
    assert.equal(withChild.cversion, 1);
    assert.equal(withChild.numChildren, 1);
    assert.equal(withChild.mzxid, afterSet.mzxid, 'children never move mzxid');
    assert.equal(withChild.version, 1);
    const deleted = await remove(client, `${root}/c`);
    const afterDelete = ok(await exists(client, root)).stat;
    assert.equal(afterDelete.pzxid, deleted.header.zxid);
    assert.equal(afterDelete.cversion, 2);
    assert.equal(afterDelete.numChildren, 0);
  });

  it('counts suffixes by creates only: create, delete, create gives 0000000001, cversion 3', async () => {
    await using client = await target().connect();
    const root = target().path();
    ok(await create(client, root));
    const first = ok(await create(client, `${root}/n-`, null, 2)).path;
    assert.equal(first, `${root}/n-0000000000`);
    ok(await remove(client, first));
    const second = ok(await create(client, `${root}/n-`, null, 2)).path;
    assert.equal(second, `${root}/n-0000000001`);
    assert.equal(ok(await exists(client, root)).stat.cversion, 3);
    assert.equal(ok(await create(client, `${root}/`, null, 2)).path, `${root}/0000000002`);
  });

  it('answers errors in Apache order', async () => {
    await using client = await target().connect();
    const root = target().path();
    assert.equal((await create(client, `${root}/a/b`)).header.err, -101, 'missing parent: NoNode');
    ok(await create(client, root));
    assert.equal((await create(client, root)).header.err, -110, 'NodeExists');
    assert.equal((await create(client, `${root}//x`)).header.err, -101, 'loose path check, then the parent');
    assert.equal((await create(client, `${root}/.`)).header.err, -8, 'bad path: BadArguments');
    assert.equal((await create(client, 'nope')).header.err, -8);
    assert.equal((await create(client, `${root}/x`, null, 0, [])).header.err, -114, 'empty ACL: InvalidACL');
    assert.equal((await create(client, `${root}/x`, null, 42)).header.err, -8, 'unknown flags: BadArguments');
    ok(await create(client, `${root}/c`));
    assert.equal((await remove(client, root)).header.err, -111, 'NotEmpty');
    assert.equal((await remove(client, `${root}/c`, 5)).header.err, -103, 'BadVersion');
    assert.equal((await remove(client, `${root}/zz`, 5)).header.err, -101, 'NoNode before BadVersion');
    assert.equal((await setData(client, `${root}/c`, null, 7)).header.err, -103);
    assert.equal((await setData(client, `${root}/zz`, null, 7)).header.err, -101);
    assert.equal((await getData(client, `${root}/zz`)).header.err, -101);
    const failed = await create(client, root);
    assert.equal(failed.frame.length, 16, 'an error reply is a header only');
    const reserved = await remove(client, '/zookeeper/config');
    assert.equal(reserved.header.err, -8, 'reserved nodes cannot be deleted');
    assert.equal((await create(client, '/zookeeper/quota')).header.err, -110);
  });

  it('keeps null data apart from empty data', async () => {
    await using client = await target().connect();
    const root = target().path();
    ok(await create(client, root, null));
    ok(await create(client, `${root}/e`, Buffer.alloc(0)));
    assert.equal(ok(await getData(client, root)).data, null);
    assert.deepEqual(ok(await getData(client, `${root}/e`)).data, Buffer.alloc(0));
  });

  it('refuses children of ephemerals, and shows ephemeralOwner 0 for containers and TTL nodes', async () => {
    await using client = await target().connect();
    const root = target().path();
    ok(await create(client, root));
    ok(await create(client, `${root}/eph`, null, 1));
    assert.equal(ok(await exists(client, `${root}/eph`)).stat.ephemeralOwner, client.sessionId);
    assert.equal((await create(client, `${root}/eph/child`)).header.err, -108);
    const node = (name: string, flags: number) => {
      return { path: `${root}/${name}`, data: null, acl: OPEN_ACL, flags };
    };
    const container = await client.request(OpCode.createContainer, node('box', 4));
    assert.equal(ok<{ stat: Stat }>(container).stat.ephemeralOwner, 0n);
    const ttl = await client.request(OpCode.createTTL, { ...node('ttl', 5), ttl: 60_000n });
    assert.equal(ok<{ stat: Stat }>(ttl).stat.ephemeralOwner, 0n);
    const badTtl = await client.request(OpCode.createTTL, { ...node('ttl2', 5), ttl: 0n });
    assert.equal(badTtl.header.err, -8);
    ok(await create(client, `${root}/box/child`));
  });

  it('has the reserved nodes and lists children with getChildren2', async () => {
    await using client = await target().connect();
    const rootStat = ok(await exists(client, '/')).stat;
    assert.equal(rootStat.czxid, 0n);
    assert.equal(rootStat.ctime, 0n);
    const zk = ok(await getChildren2(client, '/zookeeper'));
    assert.deepEqual([...zk.children].sort(), ['config', 'quota']);
    assert.equal(zk.stat.numChildren, 2);
    const config = await client.request(OpCode.getACL, { path: '/zookeeper/config' });
    const readOnly = [{ perms: 1, id: { scheme: 'world', id: 'anyone' } }];
    assert.deepEqual(ok<{ acl: unknown[] }>(config).acl, readOnly);
  });

  it('multi: all or nothing with OK / failing code / RuntimeInconsistency results', async () => {
    await using client = await target().connect();
    const root = target().path();
    ok(await create(client, root));
    const op = (path: string) => ({
      type: 1 as const,
      request: { path, data: null, acl: OPEN_ACL, flags: 0 },
    });
    const failed = await client.request(OpCode.multi, { ops: [op(`${root}/a`), op(root), op(`${root}/b`)] });
    assert.equal(failed.header.err, 0);
    assert.deepEqual(failed.body.results, [
      { type: -1, err: 0 },
      { type: -1, err: -110 },
      { type: -1, err: -2 },
    ]);
    assert.equal((await exists(client, `${root}/a`)).header.err, -101, 'nothing was applied');
    const good = await client.request(OpCode.multi, {
      ops: [
        op(`${root}/a`),
        { type: 15, request: { path: `${root}/a/b`, data: null, acl: OPEN_ACL, flags: 0 } },
        { type: 13, request: { path: root, version: 0 } },
        { type: 5, request: { path: `${root}/a`, data: Buffer.from('x'), version: 0 } },
        { type: 2, request: { path: `${root}/a/b`, version: -1 } },
      ],
    });
    const results = good.body.results;
    const types = results.map((r: { type: number }) => r.type);
    assert.deepEqual(types, [1, 1, 13, 5, 2], 'create2 reports as create');
    assert.equal(results[0].response.path, `${root}/a`);
    assert.deepEqual(results[1].response, { path: `${root}/a/b` });
    assert.equal(results[3].response.stat.mzxid, good.header.zxid, 'all ops share one zxid');
    assert.equal(results[3].response.stat.version, 1);
    const box = await client.request(OpCode.multi, {
      ops: [{ type: 19, request: { path: `${root}/box`, data: null, acl: OPEN_ACL, flags: 4 } }],
    });
    assert.equal(box.body.results[0].type, 15, 'createContainer reports as create2, with a stat');
    assert.equal(box.body.results[0].response.stat.czxid, box.header.zxid);
    const checkOnly = { ops: [{ type: 13, request: { path: root, version: 9 } }] };
    const check = await client.request(OpCode.multi, checkOnly);
    assert.deepEqual(check.body.results, [{ type: -1, err: -103 }]);
  });

  it('multiRead answers each read on its own', async () => {
    await using client = await target().connect();
    const root = target().path();
    ok(await create(client, root, Buffer.from('d')));
    const reply = await client.request(OpCode.multiRead, {
      ops: [
        { type: 4, request: { path: root, watch: false } },
        { type: 8, request: { path: `${root}/missing`, watch: false } },
        { type: 8, request: { path: root, watch: false } },
      ],
    });
    assert.equal(reply.header.err, 0);
    const [data, missing, children] = reply.body.results;
    assert.equal(data.type, 4);
    assert.equal(data.response.data.toString(), 'd');
    assert.deepEqual(missing, { type: -1, err: -101 });
    assert.deepEqual(children, { type: 8, response: { children: [] } });
  });

  it('counts descendants and lists the session ephemerals', async () => {
    await using client = await target().connect();
    await using other = await target().connect();
    const root = target().path();
    ok(await create(client, root));
    ok(await create(client, `${root}/a`));
    ok(await create(client, `${root}/a/b`));
    ok(await create(client, `${root}/e1`, null, 1));
    ok(await create(other, `${root}/e2`, null, 1));
    const count = await client.request(OpCode.getAllChildrenNumber, { path: root });
    assert.equal(ok<{ totalNumber: number }>(count).totalNumber, 4);
    const mine = await client.request(OpCode.getEphemerals, { prefixPath: root });
    assert.deepEqual(ok<{ ephemerals: string[] }>(mine).ephemerals, [`${root}/e1`]);
    const none = await client.request(OpCode.getEphemerals, { prefixPath: `${root}/zzz` });
    assert.deepEqual(ok<{ ephemerals: string[] }>(none).ephemerals, []);
  });

  it('answers sync with the path', async () => {
    await using client = await target().connect();
    const reply = await client.request(OpCode.sync, { path: '/zookeeper' });
    assert.equal(ok<{ path: string }>(reply).path, '/zookeeper');
  });

  it('serves /zookeeper/config empty in standalone and refuses reconfig when it is disabled', async () => {
    await using client = await target().connect();
    const config = ok(await getData(client, '/zookeeper/config'));
    assert.equal(config.data?.length ?? 0, 0);
    const reconfig = await client.request(OpCode.reconfig, {
      joiningServers: null,
      leavingServers: null,
      newMembers: 'server.1=127.0.0.1:2888:3888;2181',
      curConfigId: -1n,
    });
    assert.equal(reconfig.header.err, -123, 'ReconfigDisabled');
    const children = ok(await client.request(OpCode.getChildren, { path: '/', watch: false }));
    assert.ok((children as { children: string[] }).children.includes('zookeeper'));
  });
});
