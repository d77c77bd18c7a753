// Goal: ACLs hold against an attacker, on our server and on Apache 3.8 alike: every operation on a node
// whose ACL forbids it, with no auth, a wrong password or another user, directly, through a chroot,
// inside multi and multiRead, through getEphemerals, getAllChildrenNumber and watches (no data or
// existence leaks to a caller who cannot read), and reconfig or /zookeeper/config without the super user.

import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { it } from 'mocha';
import { OpCode, type ACL } from '../../../src/protocol/index.js';
import {
  create,
  exists,
  getChildren,
  getChildren2,
  getData,
  ok,
  remove,
  setData,
} from '../../conformance/ops.js';
import type { RawClient } from '../../support/raw-client.js';
import { describeBothServers, type ServerUnderTest } from '../../support/servers.js';

const NO_AUTH = -102;
const BAD_ARGUMENTS = -8;
const UNIMPLEMENTED = -6;
const NO_NODE = -101;
const PERSISTENT_RECURSIVE = 1;
const PERSISTENT = 0;

function digestId(user: string, password: string): string {
  return `${user}:${createHash('sha1').update(`${user}:${password}`).digest('base64')}`;
}

const ALICE_ONLY: ACL[] = [{ perms: 31, id: { scheme: 'digest', id: digestId('alice', 'secret') } }];
const SUPER = {
  'DigestAuthenticationProvider.superDigest': digestId('super', 'root'),
  reconfigEnabled: true,
};

/** The three kinds of attacker: no auth at all, alice's name with a wrong password, another user. */
const ATTACKERS: Array<{ who: string; auth?: string }> = [
  { who: 'no auth' },
  { who: 'a wrong password', auth: 'alice:guess' },
  { who: 'another user', auth: 'bob:bobpass' },
];

/** `root` (open), `root/secret` (alice only, data "classified") with a child and an ephemeral of alice. */
async function plant(target: ServerUnderTest, alice: RawClient): Promise<{ root: string; secret: string }> {
  const root = target.path();
  const secret = `${root}/secret`;
  ok(await alice.addAuth('digest', 'alice:secret'));
  ok(await create(alice, root, Buffer.from('public')));
  ok(await create(alice, secret, Buffer.from('classified'), 0, ALICE_ONLY));
  ok(await create(alice, `${secret}/child`, Buffer.from('classified child'), 0, ALICE_ONLY));
  ok(await create(alice, `${secret}/session`, Buffer.from('ephemeral'), 1, ALICE_ONLY));
  return { root, secret };
}

async function attacker(target: ServerUnderTest, auth: string | undefined): Promise<RawClient> {
  const client = await target.connect();
  if (auth !== undefined) ok(await client.addAuth('digest', auth), 'addauth (accepted, grants nothing)');
  return client;
}

/** No event arrived for this session: the server answers a later request only after queued events. */
async function assertNoEvents(client: RawClient, what: string): Promise<void> {
  await client.ping();
  assert.deepEqual(client.notifications.map((n) => `${n.event.type} ${n.event.path}`), [], what);
}

describeBothServers('ACL attacker', { config: SUPER }, (target) => {
  for (const { who, auth } of ATTACKERS) {
    it(`${who}: every read and write on a forbidden node is NoAuth, nothing changes`, async () => {
      await using alice = await target().connect();
      const { secret } = await plant(target(), alice);
      await using mallory = await attacker(target(), auth);
      const code = async (reply: Promise<{ header: { err: number } }>) => (await reply).header.err;
      assert.equal(await code(getData(mallory, secret)), NO_AUTH, 'getData');
      assert.equal(await code(getData(mallory, secret, true)), NO_AUTH, 'getData with a watch');
      assert.equal(await code(getChildren(mallory, secret)), NO_AUTH, 'getChildren');
      assert.equal(await code(getChildren2(mallory, secret)), NO_AUTH, 'getChildren2');
      assert.equal(await code(setData(mallory, secret, Buffer.from('owned'))), NO_AUTH, 'setData');
      assert.equal(await code(setData(mallory, secret, Buffer.from('owned'), 0)), NO_AUTH, 'setData v0');
      assert.equal(await code(create(mallory, `${secret}/x`)), NO_AUTH, 'create under it');
      assert.equal(await code(create(mallory, `${secret}/x`, null, 2)), NO_AUTH, 'sequential create');
      assert.equal(await code(create(mallory, `${secret}/x`, null, 1)), NO_AUTH, 'ephemeral create');
      const container = { path: `${secret}/c`, data: null, acl: ALICE_ONLY, flags: 4 };
      assert.equal(await code(mallory.request(OpCode.createContainer, container)), NO_AUTH, 'container');
      const ttl = { path: `${secret}/t`, data: null, acl: ALICE_ONLY, flags: 5, ttl: 60_000n };
      assert.equal(await code(mallory.request(OpCode.createTTL, ttl)), NO_AUTH, 'TTL create');
      assert.equal(await code(remove(mallory, `${secret}/child`)), NO_AUTH, 'delete a child');
      const acl = { path: secret, acl: [{ perms: 31, id: { scheme: 'world', id: 'anyone' } }], version: -1 };
      assert.equal(await code(mallory.request(OpCode.setACL, acl)), NO_AUTH, 'setACL');
      const check = { ops: [{ type: OpCode.check, request: { path: secret, version: 0 } }] };
      const checked = ok<{ results: Array<{ type: number; err?: number }> }>(
        await mallory.request(OpCode.multi, check),
      );
      assert.deepEqual(checked.results, [{ type: -1, err: NO_AUTH }], 'check inside a multi');
      // Nothing changed: alice still reads her data at version 0 with her two children.
      const data = ok(await getData(alice, secret));
      assert.equal(data.data?.toString(), 'classified');
      assert.equal(data.stat.version, 0);
      assert.equal(data.stat.aversion, 0);
      const children = ok(await getChildren(alice, secret)).children as string[];
      assert.deepEqual(children.sort(), ['child', 'session']);
    });
  }

  it('the owner (and the super user) are let through, so the refusals above are ACL decisions', async () => {
    await using alice = await target().connect();
    const { secret } = await plant(target(), alice);
    assert.equal(ok(await getData(alice, secret)).data?.toString(), 'classified');
    await using root = await target().connect();
    ok(await root.addAuth('digest', 'super:root'));
    assert.equal(ok(await getData(root, `${secret}/child`)).data?.toString(), 'classified child');
    ok(await setData(root, `${secret}/child`, Buffer.from('by super')));
  });

  it('getACL needs READ: NoAuth, and the digest hash never reaches the attacker', async () => {
    await using alice = await target().connect();
    const { secret } = await plant(target(), alice);
    await using mallory = await target().connect();
    const reply = await mallory.request(OpCode.getACL, { path: secret });
    assert.equal(reply.header.err, NO_AUTH);
    const hash = digestId('alice', 'secret').split(':')[1]!;
    assert.ok(!reply.frame.includes(Buffer.from(hash)), 'the hash is not on the wire');
  });

  it('a multi with a forbidden op fails whole: NoAuth at that op, the allowed ops not applied', async () => {
    await using alice = await target().connect();
    const { root, secret } = await plant(target(), alice);
    await using mallory = await target().connect();
    const ops = [
      { type: OpCode.create, request: { path: `${root}/mine`, data: null, acl: openAcl(), flags: 0 } },
      { type: OpCode.setData, request: { path: secret, data: Buffer.from('owned'), version: -1 } },
      { type: OpCode.delete, request: { path: `${secret}/child`, version: -1 } },
    ];
    const multi = ok<{ results: unknown[] }>(await mallory.request(OpCode.multi, { ops }));
    assert.deepEqual(multi.results, [
      { type: -1, err: 0 },
      { type: -1, err: NO_AUTH },
      { type: -1, err: -2 },
    ]);
    assert.equal((await exists(alice, `${root}/mine`)).header.err, -101, 'the allowed create rolled back');
    assert.equal(ok(await getData(alice, secret)).data?.toString(), 'classified');
  });

  it('multiRead answers NoAuth per forbidden op and still answers the readable ones', async () => {
    await using alice = await target().connect();
    const { root, secret } = await plant(target(), alice);
    await using mallory = await target().connect();
    const ops = [
      { type: OpCode.getData, request: { path: root, watch: false } },
      { type: OpCode.getData, request: { path: secret, watch: false } },
      { type: OpCode.getChildren, request: { path: secret, watch: false } },
      { type: OpCode.getChildren, request: { path: root, watch: false } },
    ];
    const reply = await mallory.request(OpCode.multiRead, { ops });
    const results = ok<{ results: any[] }>(reply).results;
    assert.equal(results[0].type, OpCode.getData);
    assert.equal(results[0].response.data.toString(), 'public');
    assert.deepEqual(results[1], { type: -1, err: NO_AUTH });
    assert.deepEqual(results[2], { type: -1, err: NO_AUTH });
    assert.deepEqual(results[3].response.children, ['secret']);
    assert.ok(!reply.frame.includes(Buffer.from('classified')), 'no forbidden data on the wire');
  });

  it('getEphemerals lists only the caller session own ephemerals', async () => {
    await using alice = await target().connect();
    const { root } = await plant(target(), alice);
    await using mallory = await target().connect();
    for (const prefixPath of ['/', root]) {
      const reply = ok<{ ephemerals: string[] }>(await mallory.request(OpCode.getEphemerals, { prefixPath }));
      assert.deepEqual(reply.ephemerals, [], `nothing of alice's under ${prefixPath}`);
    }
    const own = ok<{ ephemerals: string[] }>(await alice.request(OpCode.getEphemerals, { prefixPath: root }));
    assert.deepEqual(own.ephemerals, [`${root}/secret/session`]);
  });

  it('getAllChildrenNumber needs READ on the node it counts under', async () => {
    await using alice = await target().connect();
    const { root, secret } = await plant(target(), alice);
    await using mallory = await target().connect();
    const forbidden = await mallory.request(OpCode.getAllChildrenNumber, { path: secret });
    assert.equal(forbidden.header.err, NO_AUTH);
    const count = async (client: RawClient, path: string) =>
      ok<{ totalNumber: number }>(await client.request(OpCode.getAllChildrenNumber, { path })).totalNumber;
    assert.equal(await count(alice, secret), 2);
    // Counting under a readable ancestor is allowed (Apache counts the whole subtree).
    assert.equal(await count(mallory, root), 3);
  });

  it('a refused watch is not registered: later changes send the attacker nothing', async () => {
    await using alice = await target().connect();
    const { root, secret } = await plant(target(), alice);
    await using mallory = await target().connect();
    assert.equal((await getData(mallory, secret, true)).header.err, NO_AUTH);
    assert.equal((await getChildren(mallory, secret, true)).header.err, NO_AUTH);
    ok(await getData(mallory, root, true), 'a watch the attacker may set (the control)');
    ok(await setData(alice, secret, Buffer.from('v2')));
    ok(await create(alice, `${secret}/new`, null, 0, ALICE_ONLY));
    ok(await setData(alice, root, Buffer.from('public v2')));
    await mallory.ping();
    assert.deepEqual(
      mallory.notifications.map((n) => `${n.event.type} ${n.event.path}`),
      [`3 ${root}`],
      'only the change of the readable node',
    );
  });

  it('a persistent watch on an unreadable node is accepted but never fires', async () => {
    await using alice = await target().connect();
    const { secret } = await plant(target(), alice);
    await using mallory = await target().connect();
    // Apache registers it (addWatch checks no ACL) and filters each event by READ when it fires.
    ok(await mallory.request(OpCode.addWatch, { path: secret, mode: PERSISTENT }));
    ok(await setData(alice, secret, Buffer.from('v2')));
    ok(await create(alice, `${secret}/new`, null, 0, ALICE_ONLY));
    ok(await remove(alice, `${secret}/new`));
    await assertNoEvents(mallory, 'no event for a node the attacker cannot read');
  });

  it('reconfig and /zookeeper/config: nothing for the attacker', async () => {
    await using mallory = await target().connect();
    await using root = await target().connect();
    ok(await root.addAuth('digest', 'super:root'));
    const reconfig = {
      joiningServers: null,
      leavingServers: null,
      newMembers: 'server.1=127.0.0.1:2888:3888;2181',
      curConfigId: -1n,
    };
    // A standalone server has no dynamic reconfig, super user or not (Apache answers UNIMPLEMENTED).
    assert.equal((await mallory.request(OpCode.reconfig, reconfig)).header.err, UNIMPLEMENTED);
    assert.equal((await root.request(OpCode.reconfig, reconfig)).header.err, UNIMPLEMENTED);
    assert.equal((await setData(mallory, '/zookeeper/config', Buffer.from('x'))).header.err, NO_AUTH);
    assert.equal((await create(mallory, '/zookeeper/config/x')).header.err, NO_AUTH);
    assert.equal((await remove(mallory, '/zookeeper/config')).header.err, BAD_ARGUMENTS);
    assert.equal((await remove(mallory, '/zookeeper/quota')).header.err, BAD_ARGUMENTS);
    assert.equal((await remove(mallory, '/zookeeper')).header.err, BAD_ARGUMENTS);
  });

  it('a chroot gives no way out: "..", "." and empty components are refused, never resolved', async () => {
    await using alice = await target().connect();
    const { root } = await plant(target(), alice);
    ok(await create(alice, `${root}/jail`));
    await using mallory = await target().connect();
    // A client chrooted at root/jail prefixes every path with it; these are what reaches the server.
    // Writes validate the path (BadArguments) or find no parent; reads and deletes find no node.
    const jail = `${root}/jail`;
    type Codes = [path: string, create: number, getData: number, setData: number, remove: number];
    const expected: Codes[] = [
      [`${jail}/../secret`, NO_NODE, NO_NODE, BAD_ARGUMENTS, NO_NODE],
      [`${jail}/../x`, NO_NODE, NO_NODE, BAD_ARGUMENTS, NO_NODE],
      [`${jail}/..`, BAD_ARGUMENTS, NO_NODE, BAD_ARGUMENTS, NO_NODE],
      [`${jail}/.`, BAD_ARGUMENTS, NO_NODE, BAD_ARGUMENTS, NO_NODE],
      [`${jail}//x`, NO_NODE, NO_NODE, BAD_ARGUMENTS, NO_NODE],
      [`${jail}/`, BAD_ARGUMENTS, NO_NODE, BAD_ARGUMENTS, NO_NODE],
    ];
    for (const [path, ...codes] of expected) {
      const got = [
        (await create(mallory, path)).header.err,
        (await getData(mallory, path)).header.err,
        (await setData(mallory, path, null)).header.err,
        (await remove(mallory, path)).header.err,
      ];
      assert.deepEqual(got, codes, path);
    }
    assert.equal(ok(await getData(alice, `${root}/secret`)).data?.toString(), 'classified');
  });
});

function openAcl(): ACL[] {
  return [{ perms: 31, id: { scheme: 'world', id: 'anyone' } }];
}

describeBothServers('ACL attacker: persistent recursive watches', { config: SUPER }, (target) => {
  it('a recursive watch above an unreadable subtree reports no path under it', async function () {
    await using alice = await target().connect();
    const { root, secret } = await plant(target(), alice);
    await using mallory = await target().connect();
    ok(await mallory.request(OpCode.addWatch, { path: root, mode: PERSISTENT_RECURSIVE }));
    ok(await create(alice, `${secret}/hidden-name`, null, 0, ALICE_ONLY));
    ok(await setData(alice, `${secret}/child`, Buffer.from('v2')));
    ok(await create(alice, `${root}/visible`));
    await mallory.ping();
    const seen = mallory.notifications.map((n) => n.event.path);
    assert.ok(!seen.some((path) => path.startsWith(`${secret}/`)), `leaked: ${seen.join(', ')}`);
    assert.ok(seen.includes(`${root}/visible`), 'the readable change is reported (the control)');
  });
});
