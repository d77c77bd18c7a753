// Property: preparing a batch of writes before applying any of them (the pipelined standalone
// server, a leader with proposals in flight) gives the same replies and the same tree as preparing
// and applying each write in turn. This exercises the outstanding-change records on random
// sequences of creates, deletes, setData, setACL and multis over a small set of paths.
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { describe, it } from 'mocha';
import { OpCode, records as R } from '../../../src/protocol/index.js';
import type { Reply, Txn } from '../../../server/core/api.js';
import { txnCodecFor, type ServerCore } from '../../../server/core/server-core.js';
import { OPEN_ACL, T0, makeCore, type Client } from './harness.js';

const paths = ['/a', '/a/b', '/a/b/c', '/d', '/d/e'];
const readOnly = [{ perms: 1 | 4 | 8, id: { scheme: 'world', id: 'anyone' } }];

const path = fc.constantFrom(...paths);
const version = fc.constantFrom(-1, 0, 1, 2);
const createRequest = fc.record({
  path,
  data: fc.constantFrom(null, Buffer.from('x')),
  acl: fc.constantFrom(OPEN_ACL, readOnly),
  flags: fc.constantFrom(0, 1, 2, 3),
});
const deleteRequest = fc.record({ path, version });
const setDataRequest = fc.record({ path, data: fc.constantFrom(null, Buffer.from('yy')), version });
const subOp = fc.oneof(
  createRequest.map((request) => ({ type: 1 as const, request })),
  deleteRequest.map((request) => ({ type: 2 as const, request })),
  setDataRequest.map((request) => ({ type: 5 as const, request })),
  fc.record({ path, version }).map((request) => ({ type: 13 as const, request })),
);
const write = fc.oneof(
  createRequest.map((request) => ({ opcode: OpCode.create2, request })),
  deleteRequest.map((request) => ({ opcode: OpCode.delete, request })),
  setDataRequest.map((request) => ({ opcode: OpCode.setData, request })),
  fc.record({ path, acl: fc.constantFrom(OPEN_ACL, readOnly), version }).map((request) => ({
    opcode: OpCode.setACL,
    request,
  })),
  fc.array(subOp, { minLength: 1, maxLength: 4 }).map((ops) => ({ opcode: OpCode.multi, request: { ops } })),
);

/** The txn as a log stores it and a replica reads it back. */
function roundTrip(txn: Txn): Txn {
  const codec = txnCodecFor(txn.header.type);
  return {
    header: R.TxnHeader.decode(R.TxnHeader.encode(txn.header)),
    record: codec.decode(codec.encode(txn.record as never)),
  };
}

function freshClient(core: ServerCore): Client {
  const session = core.createSession(30_000, T0);
  core.apply(session.txn);
  return { sessionId: session.sessionId, cxid: 0, authIds: [] };
}

function state(core: ServerCore) {
  const snapshot = core.snapshot();
  return { zxid: snapshot.lastProcessedZxid, nodes: [...snapshot.nodes], acls: snapshot.acls };
}

describe('server core: pipelined preparation', () => {
  it('matches one-at-a-time preparation, and log replay, on random write sequences', () => {
    fc.assert(
      fc.property(fc.array(write, { maxLength: 30 }), fc.integer({ min: 1, max: 6 }), (writes, batch) => {
        const serial = makeCore();
        const serialClient = freshClient(serial);
        const serialReplies = writes.map(({ opcode, request }) =>
          serial.apply(serial.prepare(serialClient, opcode, request, T0)),
        );
        const piped = makeCore();
        const pipedClient = freshClient(piped);
        const pipedReplies: Reply[] = [];
        const log: Txn[] = [];
        for (let start = 0; start < writes.length; start += batch) {
          const txns: Txn[] = writes
            .slice(start, start + batch)
            .map(({ opcode, request }) => piped.prepare(pipedClient, opcode, request, T0));
          for (const txn of txns) {
            log.push(txn);
            pipedReplies.push(piped.apply(txn));
          }
        }
        assert.deepEqual(pipedReplies, serialReplies);
        assert.deepEqual(state(piped), state(serial));
        // A replica that replays the encoded log (its own createSession included) ends up the same.
        const replica = makeCore();
        freshClient(replica);
        const replayed = log.map((txn) => replica.apply(roundTrip(txn)));
        assert.deepEqual(replayed, pipedReplies);
        assert.deepEqual(state(replica), state(piped));
      }),
      { numRuns: 300 },
    );
  });
});
