// The opcode table against issue 3's list (which follows Apache's ZooDefs.OpCode): every opcode
// present with its number, the special xids, which opcodes a client may send, and the traits the
// retry loop relies on.
import assert from 'node:assert/strict';
import { describe, it } from 'mocha';
import {
  isClientRequest,
  OpCode,
  operationFor,
  operations,
  opName,
  Xid,
} from '../../../src/protocol/index.js';

const expected: Record<string, number> = {
  notification: 0, create: 1, delete: 2, exists: 3, getData: 4, setData: 5, getACL: 6, setACL: 7,
  getChildren: 8, sync: 9, ping: 11, getChildren2: 12, check: 13, multi: 14, create2: 15, reconfig: 16,
  checkWatches: 17, removeWatches: 18, createContainer: 19, deleteContainer: 20, createTTL: 21, multiRead: 22,
  auth: 100, setWatches: 101, sasl: 102, getEphemerals: 103, getAllChildrenNumber: 104, setWatches2: 105,
  addWatch: 106, whoAmI: 107, createSession: -10, closeSession: -11, error: -1,
};

describe('opcode table', () => {
  it('lists every opcode with its number, and nothing else', () => {
    assert.deepEqual({ ...OpCode }, expected);
    for (const [name, code] of Object.entries(expected)) {
      assert.equal(operationFor(code)?.name, name);
      assert.equal(operations[name as keyof typeof OpCode].code, code);
      assert.equal(opName(code), name);
    }
    assert.equal(operationFor(10), undefined);
    assert.equal(opName(99), 'op(99)');
  });

  it('names the special xids', () => {
    assert.deepEqual({ ...Xid }, { NOTIFICATION: -1, PING: -2, AUTH: -4, SET_WATCHES: -8 });
  });

  it('lets a client send requests but not internal or server-only opcodes', () => {
    for (const code of [0, 10, 13, 20, -10, -1, 99, 23]) {
      assert.equal(isClientRequest(code), false, String(code));
    }
    const clientOps = ['create', 'getData', 'multi', 'multiRead', 'ping', 'auth', 'setWatches', 'setWatches2',
      'whoAmI', 'closeSession', 'addWatch', 'createTTL', 'createContainer', 'reconfig', 'sasl'] as const;
    for (const name of clientOps) {
      assert.equal(isClientRequest(OpCode[name]), true, name);
    }
  });

  it('marks reads, writes and idempotence consistently', () => {
    for (const spec of Object.values(operations)) {
      assert.ok(!(spec.traits.read && spec.traits.write), `${spec.name} is not both read and write`);
      const blindRetry = spec.traits.write && spec.traits.idempotent;
      assert.ok(!blindRetry, `${spec.name}: writes are never blindly retried`);
      if (spec.traits.write) assert.ok(spec.traits.quorum, `${spec.name}: writes go through the leader`);
    }
    const writes = [
      'create', 'create2', 'delete', 'setData', 'setACL', 'multi', 'createTTL', 'createContainer',
    ] as const;
    for (const name of writes) {
      assert.equal(operations[name].traits.write, true, name);
      assert.ok(operations[name].txn, `${name} has a txn record`);
    }
    for (const name of ['exists', 'getData', 'getChildren', 'getChildren2', 'getACL', 'multiRead'] as const) {
      assert.equal(operations[name].traits.read, true, name);
      assert.equal(operations[name].traits.idempotent, true, name);
    }
    assert.equal(operations.ping.traits.session, true);
  });
});
