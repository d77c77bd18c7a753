// Argument checks and path mapping that run before anything is sent: connect strings and chroots,
// paths, versions, create modes and TTLs, ACLs, multi ops, and client options.
import assert from 'node:assert/strict';
import { describe, it } from 'mocha';
import {
  Chroot,
  InvalidArgumentError,
  ZooKeeperClient,
  digestId,
  op,
  parseConnectString,
} from '../../../src/index.js';
import { planCreate } from '../../../src/client/validate.js';
import { shuffled } from '../../../src/client/connect-string.js';

describe('client arguments', () => {
  it('parses hosts, default ports, IPv6 and a chroot', () => {
    const parsed = parseConnectString('a:1, b ,[::1]:3/app/x');
    assert.deepEqual(parsed.hosts, [
      { host: 'a', port: 1 },
      { host: 'b', port: 2181 },
      { host: '::1', port: 3 },
    ]);
    assert.equal(parsed.chroot, '/app/x');
    assert.equal(parseConnectString('a:1/').chroot, '');
    for (const bad of ['', ' , ', 'a:0', 'a:99999', 'a:1/bad/', 'a:b:c']) {
      assert.throws(() => parseConnectString(bad), InvalidArgumentError, bad);
    }
  });

  it('maps paths into and out of a chroot', () => {
    const chroot = new Chroot('/app');
    assert.equal(chroot.toServer('/'), '/app');
    assert.equal(chroot.toServer('/x/y'), '/app/x/y');
    assert.equal(chroot.toClient('/app'), '/');
    assert.equal(chroot.toClient('/app/x'), '/x');
    assert.equal(chroot.toClient('/apple'), '/apple', 'a sibling with the same prefix is not inside');
    assert.equal(new Chroot('').toServer('/x'), '/x');
  });

  it('shuffles hosts with the randomness given', () => {
    const items = [1, 2, 3, 4, 5];
    assert.deepEqual(shuffled(items, () => 0.999).sort(), items);
    assert.deepEqual(
      shuffled(items, () => 0.999),
      items,
      'a fixed source gives a fixed order',
    );
  });

  it('plans every create mode and refuses bad TTLs', () => {
    assert.deepEqual(planCreate({}), { opCode: 15, flags: 0, ttl: undefined, sequential: false });
    assert.equal(planCreate({ mode: 'CONTAINER' }).opCode, 19);
    assert.deepEqual(planCreate({ mode: 'PERSISTENT_SEQUENTIAL_WITH_TTL', ttlMs: 5 }), {
      opCode: 21,
      flags: 6,
      ttl: 5n,
      sequential: true,
    });
    assert.equal(planCreate({ mode: 3 }).sequential, true);
    assert.throws(() => planCreate({ mode: 'PERSISTENT_WITH_TTL', ttlMs: 0 }), InvalidArgumentError);
    assert.throws(() => planCreate({ mode: 'PERSISTENT_WITH_TTL', ttlMs: 2 ** 41 }), InvalidArgumentError);
    assert.throws(() => planCreate({ mode: 9 as never }), InvalidArgumentError);
    assert.throws(() => planCreate({ mode: 'EPHEMERAL', ttlMs: 5 }), InvalidArgumentError);
  });

  it('checks multi ops as they are built', () => {
    assert.throws(() => op.create('x'), InvalidArgumentError);
    assert.throws(() => op.delete('/a', { version: -5 }), InvalidArgumentError);
    assert.throws(() => op.setData('/a', 'x', { version: 1.5 }), InvalidArgumentError);
    assert.throws(() => op.check('/a', 2 ** 31), InvalidArgumentError);
    assert.doesNotThrow(() => op.create('/a/', null, { mode: 'PERSISTENT_SEQUENTIAL' }));
    assert.equal(op.getData('/a').op, 'getData');
  });

  it('rejects bad calls before anything is sent, even when not connected', async () => {
    const client = new ZooKeeperClient({ connectString: '127.0.0.1:1' });
    await assert.rejects(client.delete('/a', { version: -2 }), InvalidArgumentError);
    await assert.rejects(client.setACL('/a', []), InvalidArgumentError);
    await assert.rejects(client.getChildren('//a'), InvalidArgumentError);
    await assert.rejects(client.removeWatches('/a', 'bogus' as never), InvalidArgumentError);
    await assert.rejects(client.addWatch('/a', { mode: 'bogus' as never }), InvalidArgumentError);
    await assert.rejects(client.multi([{ op: 'getData' } as never]), InvalidArgumentError);
    await assert.rejects(client.addAuth('', 'x'), InvalidArgumentError);
    await client.close();
  });

  it('refuses bad options at construction', () => {
    assert.throws(
      () => new ZooKeeperClient({ connectString: 'a:1', sessionTimeoutMs: 0 }),
      InvalidArgumentError,
    );
    assert.throws(
      () => new ZooKeeperClient({ connectString: 'a:1', frameBytesMax: -1 }),
      InvalidArgumentError,
    );
    assert.throws(() => new ZooKeeperClient({ connectString: 'a:1', sessionId: 1n }), InvalidArgumentError);
  });

  it('computes digest ids as ZooKeeper does', () => {
    // base64(SHA-1("super:test")) as printed by DigestAuthenticationProvider.
    assert.equal(digestId('super', 'test'), 'super:D/InIHSb7yEEbrWz8b9l71RjZJU=');
  });
});
