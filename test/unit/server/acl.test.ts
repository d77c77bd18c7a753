// Checks ACLs and authentication as Apache 3.8's providers do: digest ids (golden values from
// Apache's own DigestAuthenticationProvider), ip with CIDR, super, the auth expansion, InvalidACL
// rules, the permission each operation needs, digest masking in getACL, whoAmI and skipACL.
import assert from 'node:assert/strict';
import { describe, it } from 'mocha';
import { ErrorCode, OpCode, Perms, type ACL } from '../../../src/protocol/index.js';
import { checkAcl, fixupAcl, generateDigest, ipMatches } from '../../../server/auth/acl.js';
import { OPEN_ACL, connect, create, makeCore, read, write, type Client } from './harness.js';

const ALICE = 'alice:aYXlLOpEooaV1cRAvUL1fp9Qt7E='; // generateDigest("alice:secret") per Apache
const SUPER = 'super:0bX78nEegDzJM3ju0iLBEJdWzjg='; // generateDigest("super:pw") per Apache

function addAuth(core: ReturnType<typeof makeCore>, client: Client, scheme: string, auth: string): void {
  const result = core.authenticate(scheme, Buffer.from(auth), '127.0.0.1');
  if (!result.ok) throw new Error(`auth failed: ${result.err}`);
  client.authIds.push(...result.ids);
}

describe('server core: authentication', () => {
  it('computes digest ids as Apache does', () => {
    assert.equal(generateDigest('alice:secret'), ALICE);
    assert.equal(generateDigest('super:pw'), SUPER);
  });

  it('adds digest ids, super for the super digest, and fails unknown schemes', () => {
    const core = makeCore({ superDigest: SUPER });
    assert.deepEqual(core.authenticate('digest', Buffer.from('alice:secret')), {
      ok: true,
      ids: [{ scheme: 'digest', id: ALICE }],
    });
    assert.deepEqual(core.authenticate('digest', Buffer.from('super:pw')), {
      ok: true,
      ids: [{ scheme: 'super', id: '' }, { scheme: 'digest', id: SUPER }],
    });
    assert.deepEqual(core.authenticate('ip', Buffer.from('anything'), '10.1.2.3'), {
      ok: true,
      ids: [{ scheme: 'ip', id: '10.1.2.3' }],
    });
    for (const scheme of ['kerberos', 'world', 'auth', 'super', 'sasl']) {
      assert.deepEqual(
        core.authenticate(scheme, Buffer.from('x')),
        { ok: false, err: ErrorCode.AUTH_FAILED },
      );
    }
  });

  it('matches ip ACLs with CIDR prefixes (IPv4, as 3.8)', () => {
    assert.ok(ipMatches('10.1.2.3', '10.1.2.3'));
    assert.ok(ipMatches('10.1.2.3', '10.0.0.0/8'));
    assert.ok(ipMatches('10.1.2.3', '10.1.2.0/30'));
    assert.ok(!ipMatches('10.1.2.4', '10.1.2.0/30'));
    assert.ok(ipMatches('192.168.7.9', '0.0.0.0/0'));
    assert.ok(!ipMatches('11.1.2.3', '10.0.0.0/8'));
    assert.ok(!ipMatches('::1', '127.0.0.1'));
    assert.ok(!ipMatches('10.1.2.3', '10.0.0.0/33'));
  });

  it('answers whoAmI with (scheme, user) per id, each id once', () => {
    const core = makeCore({ superDigest: SUPER });
    const client = connect(core);
    addAuth(core, client, 'digest', 'alice:secret');
    addAuth(core, client, 'digest', 'alice:secret');
    addAuth(core, client, 'digest', 'super:pw');
    assert.deepEqual(read(core, client, OpCode.whoAmI, {}).response, {
      clientInfo: [
        { authScheme: 'ip', user: '127.0.0.1' },
        { authScheme: 'digest', user: 'alice' },
        { authScheme: 'super', user: '' },
        { authScheme: 'digest', user: 'super' },
      ],
    });
  });
});

describe('server core: ACL fix-up', () => {
  const world = (perms: number): ACL => ({ perms, id: { scheme: 'world', id: 'anyone' } });

  it('dedupes, and refuses empty lists, bad world ids, unknown schemes and malformed ids', () => {
    assert.deepEqual(fixupAcl([world(31), world(31)], []), [world(31)]);
    assert.equal(fixupAcl([], []), ErrorCode.INVALID_ACL);
    assert.equal(fixupAcl(null, []), ErrorCode.INVALID_ACL);
    assert.equal(fixupAcl([{ perms: 31, id: { scheme: 'world', id: 'x' } }], []), ErrorCode.INVALID_ACL);
    assert.equal(fixupAcl([{ perms: 31, id: { scheme: 'super', id: '' } }], []), ErrorCode.INVALID_ACL);
    assert.equal(
      fixupAcl([{ perms: 31, id: { scheme: 'digest', id: 'nocolon' } }], []),
      ErrorCode.INVALID_ACL,
    );
    assert.equal(fixupAcl([{ perms: 31, id: { scheme: 'digest', id: 'a:b:c' } }], []), ErrorCode.INVALID_ACL);
    assert.equal(fixupAcl([{ perms: 31, id: { scheme: 'ip', id: '::1' } }], []), ErrorCode.INVALID_ACL);
    assert.equal(
      fixupAcl([{ perms: 31, id: { scheme: 'ip', id: '10.0.0.0/40' } }], []),
      ErrorCode.INVALID_ACL,
    );
    assert.ok(Array.isArray(fixupAcl([{ perms: 31, id: { scheme: 'ip', id: '10.0.0.0/8' } }], [])));
    assert.ok(Array.isArray(fixupAcl([world(0)], [])), 'perms 0 is allowed');
  });

  it('expands auth to every digest id of the session, InvalidACL without one', () => {
    const auth: ACL = { perms: Perms.READ, id: { scheme: 'auth', id: '' } };
    assert.equal(fixupAcl([auth], [{ scheme: 'ip', id: '127.0.0.1' }]), ErrorCode.INVALID_ACL);
    assert.deepEqual(
      fixupAcl([auth], [
        { scheme: 'ip', id: '127.0.0.1' },
        { scheme: 'digest', id: ALICE },
        { scheme: 'digest', id: ALICE },
        { scheme: 'super', id: '' },
      ]),
      [{ perms: Perms.READ, id: { scheme: 'digest', id: ALICE } }],
    );
  });

  it('passes the check on an empty ACL, for super, and for a matching entry with the bit', () => {
    const acl: ACL[] = [{ perms: Perms.READ, id: { scheme: 'digest', id: ALICE } }];
    assert.ok(checkAcl([], Perms.ADMIN, []));
    assert.ok(checkAcl(acl, Perms.READ, [{ scheme: 'digest', id: ALICE }]));
    assert.ok(!checkAcl(acl, Perms.WRITE, [{ scheme: 'digest', id: ALICE }]));
    assert.ok(checkAcl(acl, Perms.WRITE, [{ scheme: 'super', id: '' }]));
    assert.ok(!checkAcl(acl, Perms.READ, [{ scheme: 'ip', id: ALICE }]));
  });
});

describe('server core: permissions per operation', () => {
  function fixture() {
    const core = makeCore();
    const owner = connect(core);
    addAuth(core, owner, 'digest', 'alice:secret');
    const stranger = connect(core);
    return { core, owner, stranger };
  }
  const only = (perms: number): ACL[] => [
    { perms, id: { scheme: 'world', id: 'anyone' } },
    { perms: Perms.ALL, id: { scheme: 'digest', id: ALICE } },
  ];

  it('needs READ for getData, getChildren, getAllChildrenNumber, but not for exists (3.8.0)', () => {
    const { core, owner, stranger } = fixture();
    create(core, owner, '/r', { acl: only(Perms.WRITE) });
    for (const [opcode, request] of [
      [OpCode.getData, { path: '/r', watch: false }],
      [OpCode.getChildren, { path: '/r', watch: false }],
      [OpCode.getChildren2, { path: '/r', watch: false }],
      [OpCode.getAllChildrenNumber, { path: '/r' }],
    ] as const) {
      assert.equal(read(core, stranger, opcode, request).err, ErrorCode.NO_AUTH, `opcode ${opcode}`);
      assert.equal(read(core, owner, opcode, request).err, 0, `opcode ${opcode}`);
    }
    assert.equal(read(core, stranger, OpCode.exists, { path: '/r', watch: false }).err, 0);
    assert.equal(
      read(core, stranger, OpCode.exists, { path: '/r/none', watch: false }).err,
      ErrorCode.NO_NODE,
    );
  });

  it('needs CREATE and DELETE on the parent, WRITE for setData, ADMIN for setACL', () => {
    const { core, owner, stranger } = fixture();
    create(core, owner, '/p', { acl: only(Perms.READ) });
    create(core, owner, '/p/c', { acl: OPEN_ACL });
    assert.equal(create(core, stranger, '/p/x').err, ErrorCode.NO_AUTH);
    assert.equal(write(core, stranger, OpCode.delete, { path: '/p/c', version: -1 }).err, ErrorCode.NO_AUTH);
    assert.equal(
      write(core, stranger, OpCode.setData, { path: '/p', data: null, version: -1 }).err,
      ErrorCode.NO_AUTH,
    );
    assert.equal(
      write(core, stranger, OpCode.setACL, { path: '/p', acl: OPEN_ACL, version: -1 }).err,
      ErrorCode.NO_AUTH,
    );
    assert.equal(create(core, owner, '/p/x').err, 0);
    assert.equal(write(core, owner, OpCode.delete, { path: '/p/c', version: -1 }).err, 0);
  });

  it('masks digest ids in getACL without ADMIN, refuses without READ or ADMIN', () => {
    const { core, owner, stranger } = fixture();
    create(core, owner, '/m', { acl: only(Perms.READ) });
    const masked = read(core, stranger, OpCode.getACL, { path: '/m' }).response as any;
    assert.deepEqual(masked.acl[1], { perms: Perms.ALL, id: { scheme: 'digest', id: 'alice:x' } });
    const full = read(core, owner, OpCode.getACL, { path: '/m' }).response as any;
    assert.deepEqual(full.acl[1], { perms: Perms.ALL, id: { scheme: 'digest', id: ALICE } });
    create(core, owner, '/hidden', { acl: only(Perms.WRITE) });
    assert.equal(read(core, stranger, OpCode.getACL, { path: '/hidden' }).err, ErrorCode.NO_AUTH);
  });

  it('stores the auth scheme expanded to the creator digest id', () => {
    const { core, owner, stranger } = fixture();
    const reply = create(
      core,
      owner,
      '/mine',
      { acl: [{ perms: Perms.ALL, id: { scheme: 'auth', id: '' } }] },
    );
    assert.equal(reply.err, 0);
    const acl = (read(core, owner, OpCode.getACL, { path: '/mine' }).response as any).acl;
    assert.deepEqual(acl, [{ perms: Perms.ALL, id: { scheme: 'digest', id: ALICE } }]);
    assert.equal(
      read(core, stranger, OpCode.getData, { path: '/mine', watch: false }).err,
      ErrorCode.NO_AUTH,
    );
    assert.equal(
      create(core, stranger, '/theirs', { acl: [{ perms: 31, id: { scheme: 'auth', id: '' } }] }).err,
      ErrorCode.INVALID_ACL,
    );
  });

  it('lets super do anything and skipACL turn every check off', () => {
    const core = makeCore({ superDigest: SUPER });
    const owner = connect(core);
    addAuth(core, owner, 'digest', 'alice:secret');
    create(core, owner, '/s', { acl: [{ perms: Perms.ALL, id: { scheme: 'digest', id: ALICE } }] });
    const admin = connect(core);
    addAuth(core, admin, 'digest', 'super:pw');
    assert.equal(read(core, admin, OpCode.getData, { path: '/s', watch: false }).err, 0);
    assert.equal(write(core, admin, OpCode.delete, { path: '/s', version: -1 }).err, 0);
    const open = makeCore({ skipACL: true });
    const client = connect(open);
    create(open, client, '/s', { acl: [{ perms: Perms.ALL, id: { scheme: 'digest', id: ALICE } }] });
    assert.equal(read(open, client, OpCode.getData, { path: '/s', watch: false }).err, 0);
  });

  it('lets an ip ACL admit the matching addresses only', () => {
    const core = makeCore();
    const local = connect(core, undefined, '127.0.0.1');
    const remote = connect(core, undefined, '10.9.9.9');
    create(core, local, '/lan', { acl: [{ perms: Perms.ALL, id: { scheme: 'ip', id: '127.0.0.0/8' } }] });
    assert.equal(read(core, local, OpCode.getData, { path: '/lan', watch: false }).err, 0);
    assert.equal(read(core, remote, OpCode.getData, { path: '/lan', watch: false }).err, ErrorCode.NO_AUTH);
  });
});
