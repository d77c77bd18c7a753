// Goal: the core's local sessions (localSessionsEnabled) as Apache's trackers keep them: known to their
// server only, writing through a leader that does not know them (but not creating ephemerals there),
// expiring locally, and leaving the local tracker when their createSession (the upgrade) applies.
import assert from 'node:assert/strict';
import { describe, it } from 'mocha';
import { ErrorCode, OpCode } from '../../../src/protocol/index.js';
import { OPEN_ACL, T0, makeCore } from '../../unit/server/harness.js';

const create = (path: string, flags = 0) => ({ path, data: Buffer.from('d'), acl: OPEN_ACL, flags });
const errorOf = (txn: { header: { type: number }; record: unknown }) =>
  txn.header.type === OpCode.error ? (txn.record as { err: number }).err : ErrorCode.OK;

describe('server core: local sessions', () => {
  it('lets a leader prepare writes of another server\'s unknown session, but no ephemeral', () => {
    const leader = makeCore({ serverId: 1, localSessionsEnabled: true });
    const remote = (2n << 56n) | 7n;
    const ctx = { sessionId: remote, cxid: 1, authIds: [] };
    assert.equal(errorOf(leader.prepare(ctx, OpCode.create, create('/a'), T0)), ErrorCode.OK);
    const ephemeral = leader.prepare({ ...ctx, cxid: 2 }, OpCode.create, create('/e', 1), T0);
    assert.equal(errorOf(ephemeral), ErrorCode.SESSION_EXPIRED);
    // Its own id space: an unknown session of this server is gone, as without local sessions.
    const own = { sessionId: (1n << 56n) | 7n, cxid: 3, authIds: [] };
    assert.equal(errorOf(leader.prepare(own, OpCode.create, create('/b'), T0)), ErrorCode.UNKNOWN_SESSION);
  });

  it('refuses unknown sessions as before when local sessions are off', () => {
    const leader = makeCore({ serverId: 1 });
    const ctx = { sessionId: (2n << 56n) | 7n, cxid: 1, authIds: [] };
    assert.equal(errorOf(leader.prepare(ctx, OpCode.create, create('/a'), T0)), ErrorCode.UNKNOWN_SESSION);
  });

  it('tracks, touches, expires and upgrades local sessions apart from global ones', () => {
    const core = makeCore({ serverId: 2, localSessionsEnabled: true });
    const a = core.allocateSessionId(T0);
    const b = core.allocateSessionId(T0);
    core.createLocalSession(a, 4000, T0);
    core.createLocalSession(b, 4000, T0);
    assert.ok(core.isLocalSession(a));
    assert.equal(core.metrics().localSessionCount, 2);
    assert.equal(core.metrics().sessionCount, 0);
    assert.equal(core.sessionTimeoutMs(a), undefined, 'not a global session');
    core.touchSession(b, T0 + 3000);
    assert.deepEqual(core.expiredLocalSessions(T0 + 6000), [a]);
    assert.equal(core.isLocalSession(a), false);
    assert.equal(core.beginUpgrade(b), 4000);
    assert.equal(core.beginUpgrade(b), undefined, 'one createSession per upgrade');
    core.beginEpoch(1n, T0);
    core.apply(core.prepareCreateSession(b, 4000, T0 + 3000), T0 + 3000);
    assert.equal(core.isLocalSession(b), false);
    assert.equal(core.sessionTimeoutMs(b), 4000);
    assert.equal(core.metrics().localSessionCount, 0);
  });
});
