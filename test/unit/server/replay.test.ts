// Checks that txns are complete records: every txn the core prepares survives encoding with the
// protocol's txn records, and replaying the decoded log into a fresh core (as recovery and
// followers do) rebuilds the same tree, stats, ACLs, ephemerals and zxid.
import assert from 'node:assert/strict';
import { describe, it } from 'mocha';
import { CreateMode, OpCode, records as R } from '../../../src/protocol/index.js';
import type { Txn } from '../../../server/core/api.js';
import { txnCodecFor } from '../../../server/core/prepare.js';
import type { ServerCore } from '../../../server/core/server-core.js';
import { OPEN_ACL, T0, makeCore, type Client } from './harness.js';

function roundTrip(txn: Txn): Txn {
  const header = R.TxnHeader.decode(R.TxnHeader.encode(txn.header));
  const codec = txnCodecFor(txn.header.type);
  return { header, record: codec.decode(codec.encode(txn.record as never)) };
}

function dump(core: ServerCore) {
  const snapshot = core.snapshot();
  const acls = snapshot.acls;
  return {
    zxid: snapshot.lastProcessedZxid,
    nodes: [...snapshot.nodes].map((node) => ({ ...node, acl: acls.get(node.aclRef) ?? 'open' })),
    ephemerals: core.ephemeralsBySession(),
  };
}

describe('server core: txn log replay', () => {
  it('rebuilds the same tree from the encoded txns', () => {
    const leader = makeCore({ extendedTypesEnabled: true });
    const log: Txn[] = [];
    const run = (txn: Txn) => {
      log.push(txn);
      return leader.apply(txn);
    };
    const session = leader.createSession(10_000, T0);
    run(session.txn);
    const other = leader.createSession(10_000, T0);
    run(other.txn);
    const client: Client = { sessionId: session.sessionId, cxid: 0, authIds: [] };
    const mate: Client = { sessionId: other.sessionId, cxid: 0, authIds: [] };
    const write = (who: Client, opcode: number, request: unknown, at = T0) =>
      run(leader.prepare(who, opcode, request, at));
    const node = (path: string, flags = 0) => ({ path, data: Buffer.from(path), acl: OPEN_ACL, flags });
    write(client, OpCode.create, node('/a'));
    write(client, OpCode.create2, node('/a/s-', CreateMode.PERSISTENT_SEQUENTIAL));
    write(client, OpCode.create2, node('/a/e', CreateMode.EPHEMERAL));
    write(mate, OpCode.create2, node('/a/m', CreateMode.EPHEMERAL_SEQUENTIAL));
    write(client, OpCode.createContainer, node('/c', CreateMode.CONTAINER));
    write(client, OpCode.createTTL, { ...node('/t', CreateMode.PERSISTENT_WITH_TTL), ttl: 5000n });
    write(client, OpCode.setData, { path: '/a', data: Buffer.from('new'), version: 0 }, T0 + 7);
    write(
      client,
      OpCode.setACL,
      { path: '/a', acl: [{ perms: 3, id: { scheme: 'world', id: 'anyone' } }], version: 0 },
    );
    write(client, OpCode.create, node('/a')); // fails: an error txn
    write(
      client,
      OpCode.multi,
      { ops: [{ type: 1, request: node('/x') }, { type: 1, request: node('/x/y') }] },
    );
    write(
      client,
      OpCode.multi,
      { ops: [{ type: 1, request: node('/z') }, { type: 2, request: { path: '/nope', version: -1 } }] },
    );
    write(client, OpCode.delete, { path: '/a/s-0000000000', version: -1 });
    run(leader.prepareCloseSession(other.sessionId, T0 + 9));
    const follower = makeCore({ extendedTypesEnabled: true });
    for (const txn of log) follower.apply(roundTrip(txn), T0);
    assert.deepEqual(dump(follower), dump(leader));
    assert.deepEqual(follower.sessions(), leader.sessions());
    assert.equal(follower.lastProcessedZxid, BigInt(log.length));
  });
});
