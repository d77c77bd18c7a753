// The core methods an ensemble member needs: sessions allocated by one member and prepared by the
// leader, a new epoch's zxids, a refused proposal withdrawn (its change records and zxid given back),
// outstanding changes dropped on losing leadership, and SessionMoved as an error txn.
import assert from 'node:assert/strict';
import { describe, it } from 'mocha';
import { ErrorCode, OpCode } from '../../../src/protocol/index.js';
import { OPEN_ACL, T0, connect, makeCore } from './harness.js';

const createRequest = (path: string) => ({ path, data: Buffer.from('d'), acl: OPEN_ACL, flags: 0 });

describe('server core: ensemble support', () => {
  it('allocates session ids with the server id in the top byte; the leader prepares their txn', () => {
    const member = makeCore({ serverId: 3 });
    const leader = makeCore({ serverId: 1 });
    const sessionId = member.allocateSessionId(T0);
    assert.equal(sessionId >> 56n, 3n);
    const txn = leader.prepareCreateSession(sessionId, 6000, T0);
    assert.equal(txn.header.type, OpCode.createSession);
    assert.equal(txn.header.clientId, sessionId);
    assert.deepEqual(txn.record, { timeOut: 6000 });
    member.apply(txn, T0);
    leader.apply(txn, T0);
    assert.equal(member.sessionTimeoutMs(sessionId), 6000);
    assert.equal(leader.sessionTimeoutMs(sessionId), 6000);
  });

  it('hands out the epoch\'s zxids after beginEpoch, and re-arms a session whose close never applied', () => {
    const core = makeCore();
    const client = connect(core);
    core.prepareCloseSession(client.sessionId, T0); // marked closing; its txn never commits
    assert.equal(core.sessionTimeoutMs(client.sessionId), undefined);
    core.beginEpoch(5n, T0 + 1000);
    assert.equal(core.sessionTimeoutMs(client.sessionId), 30000);
    const txn = core.prepare({ ...client, cxid: 1 }, OpCode.create, createRequest('/a'), T0);
    assert.equal(txn.header.zxid, (5n << 32n) | 1n);
    assert.deepEqual(core.expiredSessions(T0 + 30000), [], 'expiry counts from the new epoch');
  });

  it('withdraws the newest prepared txn: its changes are forgotten and its zxid reused', () => {
    const core = makeCore();
    const client = connect(core);
    const first = core.prepare({ ...client, cxid: 1 }, OpCode.create, createRequest('/kept'), T0);
    const refused = core.prepare({ ...client, cxid: 2 }, OpCode.create, createRequest('/gone'), T0);
    core.withdraw(refused, T0);
    const again = core.prepare({ ...client, cxid: 3 }, OpCode.create, createRequest('/gone'), T0);
    assert.equal(again.header.zxid, refused.header.zxid);
    assert.equal(again.header.type, OpCode.create, 'no NodeExists from the withdrawn create');
    const duplicate = core.prepare({ ...client, cxid: 4 }, OpCode.create, createRequest('/kept'), T0);
    assert.deepEqual(duplicate.record, { err: ErrorCode.NODE_EXISTS }, 'the earlier change still counts');
    assert.throws(() => core.withdraw(first, T0), /newest/);
  });

  it('makes a withdrawn closeSession\'s session live again', () => {
    const core = makeCore();
    const client = connect(core);
    const close = core.prepareCloseSession(client.sessionId, T0);
    core.withdraw(close, T0);
    assert.equal(core.sessionTimeoutMs(client.sessionId), 30000);
  });

  it('drops outstanding changes when it stops leading', () => {
    const core = makeCore();
    const client = connect(core);
    core.prepare({ ...client, cxid: 1 }, OpCode.create, createRequest('/pending'), T0);
    core.dropOutstanding();
    const txn = core.prepare({ ...client, cxid: 2 }, OpCode.create, createRequest('/pending'), T0);
    assert.equal(txn.header.type, OpCode.create);
    assert.equal(txn.header.zxid, core.lastProcessedZxid + 1n);
  });

  it('prepares an error txn for a write refused before preparation', () => {
    const core = makeCore();
    const client = connect(core);
    const txn = core.prepareError({ ...client, cxid: 7 }, ErrorCode.SESSION_MOVED, T0);
    assert.equal(txn.header.type, OpCode.error);
    assert.equal(txn.header.cxid, 7);
    assert.deepEqual(core.apply(txn), { err: ErrorCode.SESSION_MOVED });
  });
});
