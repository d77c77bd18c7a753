// Property: the TxnDigest the core gives each txn when it prepares it (forecast from the tree and the
// outstanding txns) equals Apache's tree digest recomputed over the whole tree once that txn applied,
// and the running digest the data tree keeps equals that recomputation, on random pipelined writes,
// multis (failed ones too), ephemerals removed by closeSession, and withdrawn proposals.
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { describe, it } from 'mocha';
import { OpCode } from '../../../src/protocol/index.js';
import type { Txn } from '../../../server/core/api.js';
import type { ServerCore } from '../../../server/core/server-core.js';
import { coreDigest } from '../../../server/durable/core-adapter.js';
import { TREE_DIGEST_VERSION } from '../../../server/persistence/digest.js';
import { OPEN_ACL, T0, makeCore, type Client } from './harness.js';

const paths = ['/a', '/a/b', '/a/b/c', '/d', '/d/e'];
const readOnly = [{ perms: 1 | 4 | 8, id: { scheme: 'world', id: 'anyone' } }];

const path = fc.constantFrom(...paths);
const version = fc.constantFrom(-1, 0, 1);
const createRequest = fc.record({
  path,
  data: fc.constantFrom(null, Buffer.from('x'), Buffer.from('longer data')),
  acl: fc.constantFrom(OPEN_ACL, readOnly),
  flags: fc.constantFrom(0, 1, 2, 3, 4),
});
const deleteRequest = fc.record({ path, version });
const setDataRequest = fc.record({ path, data: fc.constantFrom(null, Buffer.from('yy')), version });
const subOp = fc.oneof(
  createRequest.map((request) => ({ type: 1 as const, request })),
  deleteRequest.map((request) => ({ type: 2 as const, request })),
  setDataRequest.map((request) => ({ type: 5 as const, request })),
  fc.record({ path, version }).map((request) => ({ type: 13 as const, request })),
);
type Step =
  | { readonly kind: 'write'; readonly client: 0 | 1; readonly opcode: number; readonly request: unknown }
  | { readonly kind: 'close' }
  | { readonly kind: 'withdraw' };
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
const step: fc.Arbitrary<Step> = fc.oneof(
  { weight: 8, arbitrary: fc.tuple(fc.constantFrom(0 as const, 1 as const), write) },
  { weight: 1, arbitrary: fc.constant('close' as const) },
  { weight: 1, arbitrary: fc.constant('withdraw' as const) },
).map((value) => {
  if (value === 'close') return { kind: 'close' };
  if (value === 'withdraw') return { kind: 'withdraw' };
  return { kind: 'write', client: value[0], ...value[1] };
});

function openSession(core: ServerCore, nowMs: number): Client {
  const session = core.createSession(30_000, nowMs);
  assertForecast(core, session.txn);
  return { sessionId: session.sessionId, cxid: 0, authIds: [] };
}

/** Applies `txn` and checks its digest against the running digest and a whole-tree recomputation. */
function assertForecast(core: ServerCore, txn: Txn): void {
  core.apply(txn);
  assert.equal(txn.digest?.version, TREE_DIGEST_VERSION);
  const recomputed = coreDigest(core).digest;
  assert.equal(core.treeDigest, recomputed, 'the running digest equals a full recomputation');
  assert.equal(txn.digest.treeDigest, recomputed, `the forecast digest of zxid ${txn.header.zxid}`);
}

describe('server core: TxnDigest forecast', () => {
  it('equals the recomputed tree digest after each txn, with writes pipelined in batches', () => {
    fc.assert(
      fc.property(fc.array(step, { maxLength: 40 }), fc.integer({ min: 1, max: 5 }), (steps, batch) => {
        const core = makeCore({ extendedTypesEnabled: true });
        let nowMs = T0;
        const clients = [openSession(core, nowMs), openSession(core, nowMs)];
        for (let start = 0; start < steps.length; start += batch) {
          const prepared: Txn[] = [];
          for (const next of steps.slice(start, start + batch)) {
            nowMs += 7;
            if (next.kind === 'withdraw') {
              const newest = prepared.pop();
              if (newest !== undefined) core.withdraw(newest, nowMs);
            } else if (next.kind === 'close') {
              prepared.push(core.prepareCloseSession(clients[1]!.sessionId, nowMs));
              // The replacement session's createSession comes after the close in zxid order.
              const session = core.createSession(30_000, nowMs);
              prepared.push(session.txn);
              clients[1] = { sessionId: session.sessionId, cxid: 0, authIds: [] };
            } else {
              const client = clients[next.client]!;
              client.cxid++;
              prepared.push(core.prepare(client, next.opcode, next.request, nowMs));
            }
          }
          for (const txn of prepared) assertForecast(core, txn);
        }
        assert.equal(core.digestMismatches, 0);
      }),
      { numRuns: 300 },
    );
  });
});
