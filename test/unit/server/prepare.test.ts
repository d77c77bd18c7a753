// Checks request preparation against Apache 3.8's PrepRequestProcessor: the first failing check
// wins for each write, failures still consume a zxid, prepared-but-unapplied writes see each other,
// and multi is all-or-nothing with OK / code / -2 results under one zxid.
import assert from 'node:assert/strict';
import { describe, it } from 'mocha';
import { CreateMode, ErrorCode, OpCode } from '../../../src/protocol/index.js';
import { OPEN_ACL, T0, connect, create, makeCore, read, statOf, write, type Client } from './harness.js';

const digestOnly = [{ perms: 31, id: { scheme: 'digest', id: 'alice:aYXlLOpEooaV1cRAvUL1fp9Qt7E=' } }];

function createOp(path: string, flags = 0) {
  return { type: 1 as const, request: { path, data: null, acl: OPEN_ACL, flags } };
}

describe('server core: write checks in Apache order', () => {
  it('create: bad mode, then TTL gate, then NoNode, NoAuth, NodeExists, NoChildrenForEphemerals', () => {
    const core = makeCore();
    const client = connect(core);
    assert.equal(create(core, client, '/x', { flags: 9 }).err, ErrorCode.BAD_ARGUMENTS);
    assert.equal(
      create(core, client, '/x', { flags: CreateMode.PERSISTENT_WITH_TTL, ttl: 10n }).err,
      ErrorCode.UNIMPLEMENTED,
    );
    assert.equal(create(core, client, 'no-slash').err, ErrorCode.BAD_ARGUMENTS);
    // InvalidACL comes before the parent lookup.
    assert.equal(create(core, client, '/missing/x', { acl: [] }).err, ErrorCode.INVALID_ACL);
    assert.equal(create(core, client, '/missing/x').err, ErrorCode.NO_NODE);
    create(core, client, '/locked', { acl: digestOnly });
    assert.equal(create(core, client, '/locked/x').err, ErrorCode.NO_AUTH);
    // NoNode for the parent wins over a path that is invalid once complete ("/x/" non-sequential).
    assert.equal(create(core, client, '/nothere/').err, ErrorCode.NO_NODE);
    create(core, client, '/a');
    assert.equal(create(core, client, '/a/').err, ErrorCode.BAD_ARGUMENTS);
    assert.equal(create(core, client, '/a').err, ErrorCode.NODE_EXISTS);
    create(core, client, '/e', { flags: CreateMode.EPHEMERAL });
    assert.equal(create(core, client, '/e/x').err, ErrorCode.NO_CHILDREN_FOR_EPHEMERALS);
  });

  it('createTTL: ttl must be in (0, 2^40) for TTL modes; non-TTL modes are refused', () => {
    const core = makeCore({ extendedTypesEnabled: true });
    const client = connect(core);
    assert.equal(
      create(core, client, '/t', { flags: CreateMode.PERSISTENT_WITH_TTL, ttl: 0n }).err,
      ErrorCode.BAD_ARGUMENTS,
    );
    assert.equal(
      create(core, client, '/t', { flags: CreateMode.PERSISTENT_WITH_TTL, ttl: 1n << 40n }).err,
      ErrorCode.BAD_ARGUMENTS,
    );
    assert.equal(create(core, client, '/t', { flags: 0, ttl: 5n }).err, ErrorCode.BAD_ARGUMENTS);
    assert.equal(create(core, client, '/t', { flags: 0, ttl: -1n }).err, ErrorCode.BAD_ARGUMENTS);
    // A TTL mode through plain create carries no ttl: BadArguments.
    assert.equal(
      create(core, client, '/t', { flags: CreateMode.PERSISTENT_WITH_TTL, opcode: OpCode.create }).err,
      ErrorCode.BAD_ARGUMENTS,
    );
    const seq = create(core, client, '/t-', { flags: CreateMode.PERSISTENT_SEQUENTIAL_WITH_TTL, ttl: 100n });
    assert.equal((seq.response as any).path, '/t-0000000000');
  });

  it('delete: reserved path, parent NoNode, NoAuth on parent, NoNode, BadVersion, NotEmpty', () => {
    const core = makeCore();
    const client = connect(core);
    const del = (path: string, version = -1) => write(core, client, OpCode.delete, { path, version }).err;
    assert.equal(del('/zookeeper'), ErrorCode.BAD_ARGUMENTS);
    assert.equal(del('nopath'), ErrorCode.BAD_ARGUMENTS);
    assert.equal(del('/nothere/x'), ErrorCode.NO_NODE);
    create(core, client, '/locked', { acl: digestOnly });
    // DELETE on the parent is checked before the node exists
    assert.equal(del('/locked/x'), ErrorCode.NO_AUTH);
    create(core, client, '/a');
    create(core, client, '/a/b');
    assert.equal(del('/a', 7), ErrorCode.BAD_VERSION); // version before emptiness
    assert.equal(del('/a'), ErrorCode.NOT_EMPTY);
    assert.equal(del('/a/'), ErrorCode.NO_NODE); // delete validates paths only loosely, as Apache
    assert.equal(del('/a/b', 0), 0);
  });

  it('setData: bad path, NoNode, NoAuth, BadVersion; versions count up', () => {
    const core = makeCore();
    const client = connect(core);
    const set = (path: string, version: number) =>
      write(core, client, OpCode.setData, { path, data: Buffer.from('v'), version });
    assert.equal(set('bad/', -1).err, ErrorCode.BAD_ARGUMENTS);
    assert.equal(set('/none', -1).err, ErrorCode.NO_NODE);
    create(core, client, '/locked', { acl: [{ perms: 1, id: { scheme: 'world', id: 'anyone' } }] });
    assert.equal(set('/locked', 99).err, ErrorCode.NO_AUTH);
    create(core, client, '/n');
    assert.equal(set('/n', 3).err, ErrorCode.BAD_VERSION);
    assert.equal((set('/n', 0).response as any).stat.version, 1);
    assert.equal((set('/n', -1).response as any).stat.version, 2);
  });

  it('setACL: InvalidACL before NoNode, then NoAuth (ADMIN), then BadVersion on aversion', () => {
    const core = makeCore();
    const client = connect(core);
    const setAcl = (path: string, acl: unknown, version: number) =>
      write(core, client, OpCode.setACL, { path, acl, version }).err;
    assert.equal(setAcl('/none', [], -1), ErrorCode.INVALID_ACL);
    assert.equal(setAcl('/none', OPEN_ACL, -1), ErrorCode.NO_NODE);
    create(core, client, '/noadmin', { acl: [{ perms: 15, id: { scheme: 'world', id: 'anyone' } }] });
    assert.equal(setAcl('/noadmin', OPEN_ACL, -1), ErrorCode.NO_AUTH);
    create(core, client, '/n');
    assert.equal(setAcl('/n', OPEN_ACL, 1), ErrorCode.BAD_VERSION);
    assert.equal(setAcl('/n', OPEN_ACL, 0), 0);
  });

  it('gives every failed write its own zxid, as an error txn', () => {
    const core = makeCore();
    const client = connect(core);
    const before = core.lastProcessedZxid;
    const txn = core.prepare(
      client,
      OpCode.create,
      { path: '/x/y', data: null, acl: OPEN_ACL, flags: 0 },
      T0,
    );
    assert.equal(txn.header.type, OpCode.error);
    assert.deepEqual(txn.record, { err: ErrorCode.NO_NODE });
    assert.equal(txn.header.zxid, before + 1n);
    assert.deepEqual(core.apply(txn), { err: ErrorCode.NO_NODE });
    assert.equal(core.lastProcessedZxid, before + 1n);
  });

  it('answers reconfig with ReconfigDisabled, or Unimplemented in standalone when enabled', () => {
    const request = { joiningServers: null, leavingServers: null, newMembers: null, curConfigId: -1n };
    const disabled = makeCore();
    assert.equal(
      write(disabled, connect(disabled), OpCode.reconfig, request).err,
      ErrorCode.RECONFIG_DISABLED,
    );
    const enabled = makeCore({ reconfigEnabled: true });
    assert.equal(write(enabled, connect(enabled), OpCode.reconfig, request).err, ErrorCode.UNIMPLEMENTED);
  });

  it('refuses writes from unknown and closing sessions', () => {
    const core = makeCore();
    const ghost: Client = { sessionId: 42n, cxid: 0, authIds: [] };
    assert.equal(create(core, ghost, '/x').err, ErrorCode.UNKNOWN_SESSION);
    assert.equal(create(core, ghost, '/x', { flags: CreateMode.EPHEMERAL }).err, ErrorCode.SESSION_EXPIRED);
    const client = connect(core);
    core.prepareCloseSession(client.sessionId, T0); // not applied yet: the session is closing
    assert.equal(create(core, client, '/x').err, ErrorCode.SESSION_EXPIRED);
  });
});

describe('server core: outstanding changes', () => {
  it('lets a second prepared write see the first before either is applied', () => {
    const core = makeCore();
    const client = connect(core);
    const first = core.prepare(
      client,
      OpCode.create,
      { path: '/p', data: null, acl: OPEN_ACL, flags: 0 },
      T0,
    );
    const second = core.prepare(
      client,
      OpCode.create,
      { path: '/p/c-', data: null, acl: OPEN_ACL, flags: 2 },
      T0,
    );
    const third = core.prepare(
      client,
      OpCode.create,
      { path: '/p/c-', data: null, acl: OPEN_ACL, flags: 2 },
      T0,
    );
    const dup = core.prepare(client, OpCode.create, { path: '/p', data: null, acl: OPEN_ACL, flags: 0 }, T0);
    assert.equal(second.header.type, OpCode.create);
    assert.equal((second.record as any).path, '/p/c-0000000000');
    assert.equal((third.record as any).path, '/p/c-0000000001');
    assert.deepEqual(dup.record, { err: ErrorCode.NODE_EXISTS });
    for (const txn of [first, second, third, dup]) core.apply(txn);
    assert.equal(statOf(core, client, '/p').numChildren, 2);
    assert.equal(statOf(core, client, '/p').cversion, 2);
  });

  it('sees a pending delete and a pending setData version', () => {
    const core = makeCore();
    const client = connect(core);
    create(core, client, '/n');
    const set = core.prepare(client, OpCode.setData, { path: '/n', data: null, version: 0 }, T0);
    const stale = core.prepare(client, OpCode.setData, { path: '/n', data: null, version: 0 }, T0);
    const del = core.prepare(client, OpCode.delete, { path: '/n', version: 1 }, T0);
    const gone = core.prepare(client, OpCode.setData, { path: '/n', data: null, version: -1 }, T0);
    assert.deepEqual(stale.record, { err: ErrorCode.BAD_VERSION });
    assert.equal(del.header.type, OpCode.delete);
    assert.deepEqual(gone.record, { err: ErrorCode.NO_NODE });
    for (const txn of [set, stale, del, gone]) core.apply(txn);
    assert.equal(read(core, client, OpCode.exists, { path: '/n', watch: false }).err, ErrorCode.NO_NODE);
  });
});

describe('server core: multi', () => {
  it('applies all ops under one zxid and reports each result', () => {
    const core = makeCore();
    const client = connect(core);
    create(core, client, '/a');
    const txn = core.prepare(
      client,
      OpCode.multi,
      {
        ops: [
          { type: 13, request: { path: '/a', version: 0 } },
          { type: 5, request: { path: '/a', data: Buffer.from('z'), version: 0 } },
          createOp('/a/b'),
          createOp('/a/b/c-', CreateMode.PERSISTENT_SEQUENTIAL),
          { type: 15, request: { path: '/a/d', data: null, acl: OPEN_ACL, flags: 0 } },
          { type: 2, request: { path: '/a/d', version: -1 } },
        ],
      },
      T0,
    );
    assert.equal(txn.header.type, OpCode.multi);
    const reply = core.apply(txn);
    assert.equal(reply.err, 0);
    const results = (reply.response as any).results;
    // create2 inside a multi reports as create (1), path only, as Apache 3.8 rebuilds ops from flags.
    assert.deepEqual(results.map((result: any) => result.type), [13, 5, 1, 1, 1, 2]);
    assert.equal(results[1].response.stat.mzxid, txn.header.zxid);
    assert.deepEqual(results[3].response, { path: '/a/b/c-0000000000' });
    assert.deepEqual(results[4].response, { path: '/a/d' });
    assert.equal(statOf(core, client, '/a/b').czxid, txn.header.zxid);
    assert.equal(core.lastProcessedZxid, txn.header.zxid);
  });

  it('takes a create op\'s type from its flags, as Apache\'s MultiOperationRecord does', () => {
    const core = makeCore({ extendedTypesEnabled: true });
    const client = connect(core);
    const reply = write(core, client, OpCode.multi, {
      ops: [
        { type: 1, request: { path: '/box', data: null, acl: OPEN_ACL, flags: CreateMode.CONTAINER } },
        { type: 19, request: { path: '/plain', data: null, acl: OPEN_ACL, flags: 0 } },
        { type: 21, request: { path: '/ttl', data: null, acl: OPEN_ACL, flags: 5, ttl: 100n } },
        { type: 21, request: { path: '/nottl', data: null, acl: OPEN_ACL, flags: 0, ttl: 100n } },
      ],
    });
    const results = (reply.response as any).results;
    assert.deepEqual(results.map((result: any) => result.type), [15, 1, 15, 1]);
    assert.equal(statOf(core, client, '/plain').ephemeralOwner, 0n);
    const stored = new Map([...core.snapshot().nodes].map((node) => [node.path, node.stat.ephemeralOwner]));
    assert.equal(stored.get('/box'), -0x8000000000000000n);
    assert.equal(stored.get('/plain'), 0n);
    assert.equal(stored.get('/nottl'), 0n);
    const ttlInPlainCreate = write(core, client, OpCode.multi, {
      ops: [{ type: 1, request: { path: '/x', data: null, acl: OPEN_ACL, flags: 5 } }],
    });
    assert.equal(ttlInPlainCreate.err, ErrorCode.MARSHALLING_ERROR);
  });

  it('applies nothing when one op fails: OK before it, its code, -2 after, reply err 0', () => {
    const core = makeCore();
    const client = connect(core);
    create(core, client, '/exists');
    const reply = write(core, client, OpCode.multi, {
      ops: [createOp('/new'), createOp('/exists'), createOp('/other')],
    });
    assert.equal(reply.err, 0);
    assert.deepEqual((reply.response as any).results, [
      { type: -1, err: 0 },
      { type: -1, err: ErrorCode.NODE_EXISTS },
      { type: -1, err: ErrorCode.RUNTIME_INCONSISTENCY },
    ]);
    assert.equal(read(core, client, OpCode.exists, { path: '/new', watch: false }).err, ErrorCode.NO_NODE);
  });

  it('rolls back change records of a failed multi so later writes do not see them', () => {
    const core = makeCore();
    const client = connect(core);
    create(core, client, '/q');
    const failed = core.prepare(
      client,
      OpCode.multi,
      { ops: [createOp('/q/n-', CreateMode.PERSISTENT_SEQUENTIAL), createOp('/missing/x')] },
      T0,
    );
    const next = core.prepare(client, OpCode.create, createOp('/q/n-', 2).request, T0);
    assert.equal((next.record as any).path, '/q/n-0000000000');
    core.apply(failed);
    core.apply(next);
    assert.equal(statOf(core, client, '/q').numChildren, 1);
  });

  it('fails a multi that holds a read op with MarshallingError; an empty multi succeeds', () => {
    const core = makeCore();
    const client = connect(core);
    const mixed = write(
      core,
      client,
      OpCode.multi,
      { ops: [{ type: 4, request: { path: '/', watch: false } }] },
    );
    assert.equal(mixed.err, ErrorCode.MARSHALLING_ERROR);
    assert.deepEqual(write(core, client, OpCode.multi, { ops: [] }), { err: 0, response: { results: [] } });
  });

  it('check ops need READ and a matching version', () => {
    const core = makeCore();
    const client = connect(core);
    create(core, client, '/secret', { acl: digestOnly });
    create(core, client, '/v');
    const noAuth = write(
      core,
      client,
      OpCode.multi,
      { ops: [{ type: 13, request: { path: '/secret', version: -1 } }] },
    );
    assert.deepEqual((noAuth.response as any).results, [{ type: -1, err: ErrorCode.NO_AUTH }]);
    const badVersion = write(
      core,
      client,
      OpCode.multi,
      { ops: [{ type: 13, request: { path: '/v', version: 4 } }] },
    );
    assert.deepEqual((badVersion.response as any).results, [{ type: -1, err: ErrorCode.BAD_VERSION }]);
  });
});

describe('server core: multiRead', () => {
  it('answers each read on its own, errors in place, no atomicity', () => {
    const core = makeCore();
    const client = connect(core);
    create(core, client, '/r', { data: Buffer.from('d') });
    const reply = read(core, client, OpCode.multiRead, {
      ops: [
        { type: 4, request: { path: '/r', watch: false } },
        { type: 8, request: { path: '/missing', watch: false } },
        { type: 8, request: { path: '/', watch: false } },
      ],
    });
    const results = (reply.response as any).results;
    assert.equal(reply.err, 0);
    assert.deepEqual(results[0].response.data, Buffer.from('d'));
    assert.deepEqual(results[1], { type: -1, err: ErrorCode.NO_NODE });
    assert.deepEqual(new Set(results[2].response.children), new Set(['zookeeper', 'r']));
  });
});

describe('server core: requests without their fields', () => {
  it('answers MarshallingError instead of throwing', () => {
    const core = makeCore();
    const client = connect(core);
    assert.deepEqual(
      core.apply(core.prepare(client, OpCode.create, {}, T0)),
      { err: ErrorCode.MARSHALLING_ERROR },
    );
    assert.deepEqual(
      core.apply(core.prepare(client, OpCode.multi, {}, T0)),
      { err: ErrorCode.MARSHALLING_ERROR },
    );
    assert.deepEqual(core.read(client, OpCode.getData, undefined), { err: ErrorCode.MARSHALLING_ERROR });
    assert.equal(core.read(client, 999, {}).err, ErrorCode.UNIMPLEMENTED);
  });
});
