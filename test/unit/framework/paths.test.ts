// Namespaces map paths in and out exactly, and protected names are made and recognised as
// Curator makes them; plain string checks, no server.
import assert from 'node:assert/strict';
import { describe, it } from 'mocha';
import {
  InvalidArgumentError,
  Namespace,
  findProtectedChild,
  isProtectedName,
  protectedPath,
  unprotectedName,
} from '../../../src/index.js';

describe('namespace paths', () => {
  it('prefixes on the way in and strips on the way out', () => {
    const ns = new Namespace('app/sub');
    assert.equal(ns.prefix, '/app/sub');
    assert.equal(ns.name, 'app/sub');
    assert.equal(ns.toServer('/'), '/app/sub');
    assert.equal(ns.toServer('/x/y'), '/app/sub/x/y');
    assert.equal(ns.toClient('/app/sub'), '/');
    assert.equal(ns.toClient('/app/sub/x'), '/x');
    assert.equal(ns.toClient('/app/subway'), '/app/subway', 'a sibling with the same prefix is not inside');
  });

  it('treats "", "/" and null as no namespace', () => {
    for (const name of ['', '/', null, undefined]) {
      const ns = new Namespace(name);
      assert.ok(ns.isRoot);
      assert.equal(ns.toServer('/x'), '/x');
      assert.equal(ns.toClient('/x'), '/x');
    }
  });

  it('refuses an invalid namespace', () => {
    assert.throws(() => new Namespace('app/'), InvalidArgumentError);
    assert.throws(() => new Namespace('a//b'), InvalidArgumentError);
  });
});

describe('protected names', () => {
  const id = '1ccdb2b9-7f9a-4570-9555-201c91ec2dcb';

  it('puts _c_<uuid>- before the node name', () => {
    assert.equal(protectedPath('/locks/job/lock-', id), `/locks/job/_c_${id}-lock-`);
    assert.equal(protectedPath('/top', id), `/_c_${id}-top`);
  });

  it('finds our child among others and strips the prefix', () => {
    const ours = `_c_${id}-lock-0000000042`;
    const other = `_c_00000000-0000-0000-0000-000000000000-lock-0000000041`;
    assert.equal(findProtectedChild([other, 'plain', ours], id), ours);
    assert.equal(findProtectedChild([other, 'plain'], id), undefined);
    assert.ok(isProtectedName(ours));
    assert.ok(!isProtectedName('lock-0000000001'));
    assert.equal(unprotectedName(ours), 'lock-0000000042');
    assert.equal(unprotectedName('plain'), 'plain');
  });
});
