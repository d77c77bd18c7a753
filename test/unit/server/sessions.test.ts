// Checks sessions as Apache 3.8 forms and expires them: ids from the server id and start time,
// passwords equal to those a real Apache server handed out, timeouts clamped, expiry by tickTime
// buckets under an injected clock, and reopening with the right or wrong password.
import assert from 'node:assert/strict';
import { describe, it } from 'mocha';
import { CreateMode, ErrorCode, OpCode } from '../../../src/protocol/index.js';
import { ServerCore } from '../../../server/core/server-core.js';
import { initialSessionId } from '../../../server/sessions/session-tracker.js';
import { T0, connect, create, makeCore, read } from './harness.js';

describe('server core: sessions', () => {
  it('derives passwords exactly as Apache does (pairs observed from Apache 3.8.0)', () => {
    const observed: Array<[bigint, string]> = [
      [0x100000decca0000n, '24ad4d8be14166bba2fe262b923f5a37'],
      [0x100000e0f0f0000n, '439546ef14f180cb5969efbc7d19446c'],
      [0x100000dc8730000n, 'cf1dd47bb0dc8115c5e2d18e79d458da'],
    ];
    for (const [sessionId, passwd] of observed) {
      assert.equal(ServerCore.sessionPassword(sessionId).toString('hex'), passwd);
    }
  });

  it('forms session ids from the server id and the start time, then counts up', () => {
    assert.equal(initialSessionId(1, 0x1234), (1n << 56n) | (0x1234n << 16n));
    // The time's top bits fall off: only 40 bits of it survive the shifts.
    assert.equal(initialSessionId(1, 2 ** 41 + 5), (1n << 56n) | (5n << 16n));
    const core = makeCore({ serverId: 3 });
    const first = core.createSession(10000, T0);
    const second = core.createSession(10000, T0 + 5);
    assert.equal(first.sessionId, initialSessionId(3, T0));
    assert.equal(second.sessionId, first.sessionId + 1n);
    assert.equal(first.sessionId >> 56n, 3n);
  });

  it('clamps the requested timeout into [min, max]', () => {
    const core = makeCore();
    assert.equal(core.createSession(1, T0).timeoutMs, 4000);
    assert.equal(core.createSession(10_000, T0).timeoutMs, 10_000);
    assert.equal(core.createSession(1_000_000, T0).timeoutMs, 40_000);
  });

  it('creates the session with a createSession txn carrying the negotiated timeout', () => {
    const core = makeCore();
    const session = core.createSession(10_000, T0);
    assert.equal(session.txn.header.type, OpCode.createSession);
    assert.equal(session.txn.header.clientId, session.sessionId);
    assert.deepEqual(session.txn.record, { timeOut: 10_000 });
    assert.deepEqual(core.apply(session.txn), { err: 0 });
    assert.equal(core.lastProcessedZxid, session.txn.header.zxid);
    assert.ok(core.checkSession(session.sessionId, session.passwd));
    assert.ok(!core.checkSession(session.sessionId, Buffer.alloc(16)));
  });

  it('expires sessions by tick buckets: rounded up past now + timeout', () => {
    const core = makeCore({ tickTimeMs: 2000, minSessionTimeoutMs: 4000 });
    const session = core.createSession(4000, 1000); // due at the tick after 5000: 6000
    core.apply(session.txn);
    assert.equal(core.nextSessionExpiryMs(), 6000);
    assert.deepEqual(core.expiredSessions(5999), []);
    assert.ok(core.touchSession(session.sessionId, 3000)); // now due at the tick after 7000: 8000
    assert.deepEqual(core.expiredSessions(7999), []);
    assert.deepEqual(core.expiredSessions(8000), [session.sessionId]);
    assert.ok(!core.checkSession(session.sessionId, session.passwd), 'expired sessions are closing');
    assert.ok(!core.touchSession(session.sessionId, 8001));
    assert.deepEqual(core.expiredSessions(100_000), []);
  });

  it('expires every session of every bucket that has passed', () => {
    const core = makeCore();
    const a = core.createSession(4000, 0);
    const b = core.createSession(10_000, 0);
    const c = core.createSession(40_000, 0);
    for (const session of [a, b, c]) core.apply(session.txn);
    assert.deepEqual(core.sessionExpiryBuckets(), [
      { expiryMs: 6000, sessionIds: [a.sessionId] },
      { expiryMs: 12_000, sessionIds: [b.sessionId] },
      { expiryMs: 42_000, sessionIds: [c.sessionId] },
    ]);
    assert.deepEqual(new Set(core.expiredSessions(12_000)), new Set([a.sessionId, b.sessionId]));
    assert.deepEqual(core.sessions().map((session) => session.sessionId), [c.sessionId]);
  });

  it('closes an expired session with its ephemerals and forgets it', () => {
    const core = makeCore();
    const client = connect(core, 0);
    create(core, client, '/eph', { flags: CreateMode.EPHEMERAL });
    const [expired] = core.expiredSessions(1_000_000);
    assert.equal(expired, client.sessionId);
    assert.equal(
      create(core, client, '/late', { flags: CreateMode.EPHEMERAL }).err,
      ErrorCode.SESSION_EXPIRED,
    );
    const txn = core.prepareCloseSession(expired!, 1_000_000);
    assert.deepEqual((txn.record as any).paths2Delete, ['/eph']);
    core.apply(txn);
    assert.equal(
      read(core, connect(core), OpCode.exists, { path: '/eph', watch: false }).err,
      ErrorCode.NO_NODE,
    );
    assert.equal(core.metrics().sessionCount, 1);
  });

  it('includes ephemerals created but not yet applied in closeSession', () => {
    const core = makeCore();
    const client = connect(core);
    const pending = core.prepare(client, OpCode.create, {
      path: '/pending', data: null, acl: [{ perms: 31, id: { scheme: 'world', id: 'anyone' } }], flags: 1,
    }, T0);
    const close = core.prepareCloseSession(client.sessionId, T0);
    assert.deepEqual((close.record as any).paths2Delete, ['/pending']);
    core.apply(pending);
    core.apply(close);
    assert.equal(core.metrics().ephemeralsCount, 0);
  });

  it('reopens a live session with the right password and a new timeout, refuses a wrong one', () => {
    const core = makeCore();
    const session = core.createSession(10_000, 0);
    core.apply(session.txn);
    assert.equal(core.reopenSession(session.sessionId, Buffer.alloc(16), 10_000, 100), undefined);
    assert.equal(core.reopenSession(session.sessionId, session.passwd, 20_000, 100), 20_000);
    assert.deepEqual(core.expiredSessions(20_099), []);
    assert.deepEqual(core.expiredSessions(22_000), [session.sessionId]);
    assert.equal(core.reopenSession(session.sessionId, session.passwd, 20_000, 22_001), undefined);
    assert.equal(core.reopenSession(12345n, ServerCore.sessionPassword(12345n), 20_000, 0), undefined);
  });

  it('replays a createSession txn from a log into a core that never saw it', () => {
    const source = makeCore();
    const session = source.createSession(10_000, T0);
    const replica = makeCore();
    replica.apply(session.txn, T0);
    assert.ok(replica.checkSession(session.sessionId, session.passwd));
    assert.equal(replica.lastProcessedZxid, session.txn.header.zxid);
  });
});

describe('server core: myid 255', () => {
  it('keeps ephemerals of 0xff.. session ids as ephemerals when extended types are off', () => {
    const core = makeCore({ serverId: 255 });
    const client = connect(core);
    assert.equal(BigInt.asUintN(64, client.sessionId) >> 56n, 0xffn);
    const reply = create(core, client, '/e', { flags: CreateMode.EPHEMERAL });
    assert.equal((reply.response as any).stat.ephemeralOwner, client.sessionId);
    assert.equal(create(core, client, '/e/child').err, ErrorCode.NO_CHILDREN_FOR_EPHEMERALS);
    assert.deepEqual(core.ephemeralsBySession().get(client.sessionId), ['/e']);
    assert.deepEqual(core.containersToDelete(T0 + 10 ** 12, 10), []);
  });

  it('refuses myid 255 with extended types, as Apache does', () => {
    assert.throws(() => makeCore({ serverId: 255, extendedTypesEnabled: true }), /254/);
  });
});
