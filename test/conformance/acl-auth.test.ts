// ACLs and authentication on the wire, against both servers: digest ids, the permission each op
// needs, InvalidACL, the auth scheme, aversion, getACL masking, whoAmI, and AuthFailed then close.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { it } from 'mocha';
import { OpCode, type ACL } from '../../src/protocol/index.js';
import { describeBothServers } from '../support/servers.js';
import { create, exists, getChildren, getData, ok, remove, setData } from './ops.js';

function digest(user: string, password: string): string {
  return `${user}:${createHash('sha1').update(`${user}:${password}`).digest('base64')}`;
}

const ALICE = digest('alice', 'secret');

const SUPER = { 'DigestAuthenticationProvider.superDigest': digest('super', 'root') };

describeBothServers('ACLs and auth', { config: SUPER }, (target) => {
  it('enforces digest ACLs per permission, where Apache checks them', async () => {
    await using alice = await target().connect();
    await using stranger = await target().connect();
    const root = target().path();
    ok(await alice.addAuth('digest', 'alice:secret'));
    const readOnlyForAll: ACL[] = [
      { perms: 31, id: { scheme: 'digest', id: ALICE } },
      { perms: 1, id: { scheme: 'world', id: 'anyone' } },
    ];
    ok(await create(alice, root, Buffer.from('x'), 0, readOnlyForAll));
    assert.equal((await getData(stranger, root)).header.err, 0);
    assert.equal((await setData(stranger, root, null)).header.err, -102);
    assert.equal((await create(stranger, `${root}/c`)).header.err, -102);
    ok(await create(alice, `${root}/c`));
    assert.equal((await remove(stranger, `${root}/c`)).header.err, -102, 'delete needs DELETE on the parent');
    const secret: ACL[] = [{ perms: 31, id: { scheme: 'digest', id: ALICE } }];
    ok(await create(alice, `${root}/s`, null, 0, secret));
    assert.equal((await getData(stranger, `${root}/s`)).header.err, -102);
    assert.equal((await getChildren(stranger, `${root}/s`)).header.err, -102);
    const acl = await stranger.request(OpCode.setACL, { path: `${root}/s`, acl: secret, version: -1 });
    assert.equal(acl.header.err, -102, 'setACL needs ADMIN');
  });

  it('lets exists through without READ (3.8.0), and sets its watch', async () => {
    await using alice = await target().connect();
    await using stranger = await target().connect();
    const root = target().path();
    ok(await alice.addAuth('digest', 'alice:secret'));
    ok(await create(alice, root, null, 0, [{ perms: 31, id: { scheme: 'digest', id: ALICE } }]));
    assert.equal((await getData(stranger, root)).header.err, -102, 'the control: getData needs READ');
    const seen = await stranger.request(OpCode.exists, { path: root, watch: true });
    assert.equal(seen.header.err, 0);
    const stat = (seen.body as { stat: { version: number; dataLength: number } }).stat;
    assert.deepEqual([stat.version, stat.dataLength], [0, 0]);
    const watching = await stranger.request(OpCode.checkWatches, { path: root, type: 2 });
    assert.equal(watching.header.err, 0, 'the exists watch is registered');
  });

  it('checks ACL lists: InvalidACL for empty, bad world id, auth without ids, malformed digest', async () => {
    await using client = await target().connect();
    const root = target().path();
    ok(await create(client, root));
    const bad = async (acl: ACL[]) => (await create(client, `${root}/x`, null, 0, acl)).header.err;
    assert.equal(await bad([]), -114);
    assert.equal(await bad([{ perms: 31, id: { scheme: 'world', id: 'someone' } }]), -114);
    assert.equal(await bad([{ perms: 31, id: { scheme: 'auth', id: '' } }]), -114);
    assert.equal(await bad([{ perms: 31, id: { scheme: 'digest', id: 'nocolon' } }]), -114);
    assert.equal(await bad([{ perms: 31, id: { scheme: 'nosuch', id: 'x' } }]), -114);
  });

  it('expands the auth scheme to the session ids, masks digests in getACL without ADMIN', async () => {
    await using alice = await target().connect();
    await using stranger = await target().connect();
    const root = target().path();
    ok(await alice.addAuth('digest', 'alice:secret'));
    ok(await create(alice, root, null, 0, [
      { perms: 31, id: { scheme: 'auth', id: '' } },
      { perms: 1, id: { scheme: 'world', id: 'anyone' } },
    ]));
    const own = ok<{ acl: ACL[] }>(await alice.request(OpCode.getACL, { path: root }));
    assert.deepEqual(own.acl, [
      { perms: 31, id: { scheme: 'digest', id: ALICE } },
      { perms: 1, id: { scheme: 'world', id: 'anyone' } },
    ]);
    const masked = ok<{ acl: ACL[] }>(await stranger.request(OpCode.getACL, { path: root }));
    assert.deepEqual(masked.acl[0], { perms: 31, id: { scheme: 'digest', id: 'alice:x' } });
  });

  it('checks aversion on setACL', async () => {
    await using client = await target().connect();
    const root = target().path();
    ok(await create(client, root));
    const acl: ACL[] = [{ perms: 31, id: { scheme: 'world', id: 'anyone' } }];
    assert.equal((await client.request(OpCode.setACL, { path: root, acl, version: 3 })).header.err, -103);
    const reply = await client.request(OpCode.setACL, { path: root, acl, version: 0 });
    const stat = ok<{ stat: { aversion: number } }>(reply);
    assert.equal(stat.stat.aversion, 1);
  });

  it('lets the super digest through every ACL', async () => {
    await using alice = await target().connect();
    await using root = await target().connect();
    const path = target().path();
    ok(await alice.addAuth('digest', 'alice:secret'));
    ok(await create(alice, path, null, 0, [{ perms: 31, id: { scheme: 'digest', id: ALICE } }]));
    ok(await root.addAuth('digest', 'super:root'));
    assert.equal((await getData(root, path)).header.err, 0);
  });

  it('matches ip ACLs, including CIDR ranges', async () => {
    await using client = await target().connect();
    const root = target().path();
    ok(await create(client, root, null, 0, [{ perms: 31, id: { scheme: 'ip', id: '127.0.0.0/8' } }]));
    assert.equal((await getData(client, root)).header.err, 0);
    ok(await create(client, `${root}/far`, null, 0, [{ perms: 31, id: { scheme: 'ip', id: '10.1.2.3' } }]));
    assert.equal((await getData(client, `${root}/far`)).header.err, -102);
  });

  it('answers whoAmI with the ip id and each added id', async () => {
    await using client = await target().connect();
    const before = ok<{ clientInfo: unknown[] }>(await client.request(OpCode.whoAmI, {}));
    assert.deepEqual(before.clientInfo, [{ authScheme: 'ip', user: '127.0.0.1' }]);
    ok(await client.addAuth('digest', 'alice:secret'));
    const after = ok<{ clientInfo: Array<{ authScheme: string }> }>(await client.request(OpCode.whoAmI, {}));
    // Apache 3.8 lists the added id first; the order carries no meaning, so it is not compared.
    const sorted = [...after.clientInfo].sort((a, b) => a.authScheme.localeCompare(b.authScheme));
    assert.deepEqual(sorted, [
      { authScheme: 'digest', user: 'alice' },
      { authScheme: 'ip', user: '127.0.0.1' },
    ]);
  });

  it('answers an unknown auth scheme with AuthFailed (xid -4, zxid 0) and closes', async () => {
    await using client = await target().connect();
    const reply = await client.addAuth('kerberos-ish', 'x');
    assert.deepEqual(reply.header, { xid: -4, zxid: 0n, err: -115 });
    await client.connection.waitClosed();
  });

  it('answers odd addauth packets as Apache: ip is accepted, a digest without a colon too', async () => {
    await using client = await target().connect();
    assert.equal((await client.addAuth('ip', 'whatever')).header.err, 0);
    const noColon = await client.addAuth('digest', 'nocolon');
    const reply = await client.request(OpCode.whoAmI, {});
    assert.equal(reply.header.err, 0, 'the connection is still open');
    const info = ok<{ clientInfo: Array<{ authScheme: string; user: string }> }>(reply).clientInfo;
    assert.equal(noColon.header.err, 0);
    assert.ok(info.some((id) => id.authScheme === 'digest'), JSON.stringify(info));
  });

  it('answers a good addauth with xid -4, zxid 0, err 0', async () => {
    await using client = await target().connect();
    const reply = await client.addAuth('digest', 'bob:pw');
    assert.deepEqual(reply.header, { xid: -4, zxid: 0n, err: 0 });
  });
});
