// Checks quotas (the zookeeper_stats node kept up to date, hard limits enforced with
// QuotaExceeded as Apache 3.8 with enforceQuota, replaying a session recorded against Apache),
// the container/TTL candidates of the container manager with deleteContainer, and that a
// snapshot taken from the core restores the same tree, ACLs and sessions.
import assert from 'node:assert/strict';
import { describe, it } from 'mocha';
import { CreateMode, ErrorCode, OpCode } from '../../../src/protocol/index.js';
import { T0, connect, create, makeCore, read, statOf, write } from './harness.js';

const dataOf = (reply: { response?: unknown }) => ((reply.response as any).data as Buffer).toString();

describe('server core: quotas', () => {
  it('keeps zookeeper_stats and enforces hard limits (same steps and answers as Apache 3.8.0)', () => {
    const warnings: string[] = [];
    const core = makeCore({ enforceQuota: true, onWarning: (message) => warnings.push(message) });
    const client = connect(core);
    const stats = () => dataOf(
      read(core, client, OpCode.getData, { path: '/zookeeper/quota/q/zookeeper_stats', watch: false }),
    );
    create(core, client, '/q', { data: Buffer.from('abc') });
    create(core, client, '/q/a', { data: Buffer.from('12345') });
    create(core, client, '/zookeeper/quota/q', { data: null });
    create(
      core,
      client,
      '/zookeeper/quota/q/zookeeper_limits',
      { data: Buffer.from('count=-1,bytes=-1=;countHardLimit=3') },
    );
    create(core, client, '/zookeeper/quota/q/zookeeper_stats', { data: Buffer.from('count=0,bytes=0') });
    assert.equal(stats(), 'count=2,bytes=8');
    assert.equal(create(core, client, '/q/b', { data: Buffer.from('xy') }).err, 0);
    assert.equal(create(core, client, '/q/c', { data: null }).err, ErrorCode.QUOTA_EXCEEDED);
    assert.equal(warnings.length, 1);
    write(core, client, OpCode.setData, { path: '/q/b', data: Buffer.from('xyzzy'), version: -1 });
    assert.equal(stats(), 'count=3,bytes=13');
    write(core, client, OpCode.delete, { path: '/q/b', version: -1 });
    assert.equal(stats(), 'count=2,bytes=8');
    const limits = {
      path: '/zookeeper/quota/q/zookeeper_limits',
      data: Buffer.from('count=-1,bytes=-1=;byteHardLimit=10'),
      version: -1,
    };
    write(core, client, OpCode.setData, limits);
    const big = write(
      core,
      client,
      OpCode.setData,
      { path: '/q/a', data: Buffer.from('123456789'), version: -1 },
    );
    assert.equal(big.err, ErrorCode.QUOTA_EXCEEDED);
    assert.equal(
      write(core, client, OpCode.setData, { path: '/q/a', data: Buffer.from('1234567'), version: -1 }).err,
      0,
    );
    assert.equal(stats(), 'count=2,bytes=10');
  });

  it('answers the create of zookeeper_stats with the stat of the data sent, before the recount', () => {
    const core = makeCore();
    const client = connect(core);
    create(core, client, '/w');
    create(core, client, '/zookeeper/quota/w', { data: null });
    create(core, client, '/zookeeper/quota/w/zookeeper_limits', { data: Buffer.from('count=5,bytes=-1') });
    const sent = Buffer.from('count=-1,bytes=-1=;countHardLimit=2');
    const reply = create(core, client, '/zookeeper/quota/w/zookeeper_stats', { data: sent });
    assert.equal((reply.response as any).stat.dataLength, sent.length); // as Apache 3.8.0 answered
    const stats = read(
      core,
      client,
      OpCode.getData,
      { path: '/zookeeper/quota/w/zookeeper_stats', watch: false },
    );
    assert.equal(dataOf(stats), 'count=1,bytes=1');
  });

  it('only warns on soft limits, and does not check at all without enforceQuota', () => {
    const warnings: string[] = [];
    const core = makeCore({ enforceQuota: true, onWarning: (message) => warnings.push(message) });
    const client = connect(core);
    create(core, client, '/s');
    create(core, client, '/zookeeper/quota/s', { data: null });
    create(core, client, '/zookeeper/quota/s/zookeeper_limits', { data: Buffer.from('count=1,bytes=-1') });
    create(core, client, '/zookeeper/quota/s/zookeeper_stats', { data: Buffer.from('count=0,bytes=0') });
    assert.equal(create(core, client, '/s/x').err, 0);
    assert.match(warnings[0]!, /Quota exceeded: \/s/);
    const lax = makeCore();
    const other = connect(lax);
    create(lax, other, '/h');
    create(lax, other, '/zookeeper/quota/h', { data: null });
    create(
      lax,
      other,
      '/zookeeper/quota/h/zookeeper_limits',
      { data: Buffer.from('count=-1,bytes=-1=;countHardLimit=1') },
    );
    create(lax, other, '/zookeeper/quota/h/zookeeper_stats', { data: Buffer.from('count=0,bytes=0') });
    assert.equal(create(lax, other, '/h/x').err, 0);
    const statsReply = read(
      lax,
      other,
      OpCode.getData,
      { path: '/zookeeper/quota/h/zookeeper_stats', watch: false },
    );
    assert.equal(dataOf(statsReply), 'count=2,bytes=2');
  });

  it('uses the deepest quota and stops counting once the limits node is deleted', () => {
    const core = makeCore();
    const client = connect(core);
    create(core, client, '/a', { data: null });
    create(core, client, '/a/b', { data: null });
    for (const path of ['/a', '/a/b']) {
      create(core, client, `/zookeeper/quota${path}`, { data: null });
      create(
        core,
        client,
        `/zookeeper/quota${path}/zookeeper_limits`,
        { data: Buffer.from('count=100,bytes=-1') },
      );
      create(
        core,
        client,
        `/zookeeper/quota${path}/zookeeper_stats`,
        { data: Buffer.from('count=0,bytes=0') },
      );
    }
    create(core, client, '/a/b/c', { data: Buffer.from('1234') });
    const stats = (path: string) =>
      dataOf(
        read(core, client, OpCode.getData, { path: `/zookeeper/quota${path}/zookeeper_stats`, watch: false }),
      );
    assert.equal(stats('/a/b'), 'count=2,bytes=4');
    assert.equal(stats('/a'), 'count=2,bytes=0');
    write(core, client, OpCode.delete, { path: '/zookeeper/quota/a/b/zookeeper_limits', version: -1 });
    create(core, client, '/a/b/d', { data: null });
    assert.equal(stats('/a/b'), 'count=2,bytes=4');
    assert.equal(stats('/a'), 'count=3,bytes=0');
  });
});

describe('server core: containers and TTL nodes', () => {
  it('offers a container once it had children and has none, and deletes it with deleteContainer', () => {
    const core = makeCore();
    const client = connect(core);
    create(core, client, '/c', { flags: CreateMode.CONTAINER, opcode: OpCode.createContainer });
    assert.deepEqual(core.containersToDelete(T0 + 1_000_000, 100), [], 'never used: kept');
    create(core, client, '/c/child');
    assert.deepEqual(core.containersToDelete(T0, 100), [], 'has a child');
    write(core, client, OpCode.delete, { path: '/c/child', version: -1 });
    assert.deepEqual(core.containersToDelete(T0, 100), ['/c']);
    const txn = core.prepare(
      { sessionId: 0n, cxid: 0, authIds: [] },
      OpCode.deleteContainer,
      { path: '/c' },
      T0,
    );
    assert.equal(txn.header.type, OpCode.deleteContainer);
    assert.deepEqual(core.apply(txn), { err: 0 });
    assert.deepEqual(core.containersToDelete(T0, 100), []);
  });

  it('re-checks emptiness in deleteContainer and refuses real ephemerals', () => {
    const core = makeCore();
    const client = connect(core);
    const system = { sessionId: 0n, cxid: 0, authIds: [] };
    create(core, client, '/c', { flags: CreateMode.CONTAINER, opcode: OpCode.createContainer });
    create(core, client, '/c/x');
    const notEmpty = core.apply(core.prepare(system, OpCode.deleteContainer, { path: '/c' }, T0));
    assert.equal(notEmpty.err, ErrorCode.NOT_EMPTY);
    create(core, client, '/e', { flags: CreateMode.EPHEMERAL });
    assert.equal(
      core.apply(core.prepare(system, OpCode.deleteContainer, { path: '/e' }, T0)).err,
      ErrorCode.BAD_VERSION,
    );
  });

  it('offers never-used containers only past maxNeverUsedIntervalMs', () => {
    const core = makeCore({ containerMaxNeverUsedIntervalMs: 5000 });
    const client = connect(core);
    create(core, client, '/c', { flags: CreateMode.CONTAINER, opcode: OpCode.createContainer, nowMs: T0 });
    assert.deepEqual(core.containersToDelete(T0 + 5000, 10), []);
    assert.deepEqual(core.containersToDelete(T0 + 5001, 10), ['/c']);
  });

  it('offers a childless TTL node once mtime + ttl has passed; setData refreshes it', () => {
    const core = makeCore({ extendedTypesEnabled: true });
    const client = connect(core);
    create(core, client, '/t', { flags: CreateMode.PERSISTENT_WITH_TTL, ttl: 1000n, nowMs: T0 });
    assert.deepEqual(core.containersToDelete(T0 + 1000, 10), []);
    write(core, client, OpCode.setData, { path: '/t', data: null, version: -1 }, T0 + 900);
    assert.deepEqual(core.containersToDelete(T0 + 1500, 10), []);
    assert.deepEqual(core.containersToDelete(T0 + 1901, 10), ['/t']);
    create(core, client, '/t/child');
    assert.deepEqual(core.containersToDelete(T0 + 5000, 10), []);
  });

  it('honours the limit', () => {
    const core = makeCore();
    const client = connect(core);
    for (const name of ['a', 'b', 'c']) {
      create(core, client, `/${name}`, { flags: CreateMode.CONTAINER, opcode: OpCode.createContainer });
      create(core, client, `/${name}/x`);
      write(core, client, OpCode.delete, { path: `/${name}/x`, version: -1 });
    }
    assert.equal(core.containersToDelete(T0, 2).length, 2);
  });
});

describe('server core: snapshot and restore', () => {
  it('restores nodes, stats, ACLs, ephemerals, quotas and sessions', () => {
    const core = makeCore({ extendedTypesEnabled: true });
    const client = connect(core);
    create(core, client, '/a', { data: Buffer.from('1') });
    create(core, client, '/a/s-', { flags: CreateMode.PERSISTENT_SEQUENTIAL });
    create(core, client, '/a/e', { flags: CreateMode.EPHEMERAL });
    create(core, client, '/secret', { acl: [{ perms: 1, id: { scheme: 'ip', id: '127.0.0.1' } }] });
    create(core, client, '/zookeeper/quota/a', { data: null });
    create(
      core,
      client,
      '/zookeeper/quota/a/zookeeper_limits',
      { data: Buffer.from('count=-1,bytes=-1=;countHardLimit=4') },
    );
    create(core, client, '/zookeeper/quota/a/zookeeper_stats', { data: Buffer.from('count=0,bytes=0') });
    const snapshot = core.snapshot();
    const nodes = [...snapshot.nodes];
    assert.equal(nodes[0]!.path, '/');
    const copy = makeCore({ extendedTypesEnabled: true, enforceQuota: true });
    copy.restore({ ...snapshot, nodes }, T0);
    assert.equal(copy.lastProcessedZxid, core.lastProcessedZxid);
    const reader = { sessionId: client.sessionId, cxid: 0, authIds: [{ scheme: 'ip', id: '127.0.0.1' }] };
    for (const path of ['/', '/a', '/a/s-0000000000', '/a/e', '/secret', '/zookeeper/config']) {
      assert.deepEqual(statOf(copy, reader, path), statOf(core, reader, path), path);
    }
    assert.deepEqual(copy.ephemeralsBySession(), core.ephemeralsBySession());
    assert.deepEqual(copy.sessions(), core.sessions());
    const stranger = { sessionId: client.sessionId, cxid: 0, authIds: [{ scheme: 'ip', id: '10.0.0.1' }] };
    assert.equal(
      read(copy, stranger, OpCode.getData, { path: '/secret', watch: false }).err,
      ErrorCode.NO_AUTH,
    );
    // The next write continues the zxid sequence and the quota is in force.
    const next = create(copy, client, '/a/n');
    assert.equal((next.response as any).stat.czxid, core.lastProcessedZxid + 1n);
    assert.equal(create(copy, client, '/a/m').err, ErrorCode.QUOTA_EXCEEDED);
    assert.ok(copy.metrics().approximateDataSize > 0);
  });
});
