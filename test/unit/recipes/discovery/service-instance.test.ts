// Goal: serviceInstance() fills Curator's defaults and refuses instances that could not be written
// or kept (bad names, DYNAMIC_SEQUENTIAL, bad ports), before anything reaches ZooKeeper.
import assert from 'node:assert/strict';
import { describe, it } from 'mocha';
import { InvalidArgumentError } from '../../../../src/index.js';
import { serviceInstance } from '../../../../recipes/index.js';

describe('serviceInstance', () => {
  it('fills the defaults: a uuid id, now, DYNAMIC, up, weight 1', () => {
    const before = Date.now();
    const instance = serviceInstance({ name: 'api', address: null, port: 80 });
    assert.match(instance.id, /^[0-9a-f-]{36}$/);
    assert.ok(instance.registrationTimeUTC >= before);
    assert.equal(instance.serviceType, 'DYNAMIC');
    assert.equal(instance.status, 'up');
    assert.equal(instance.weight, 1);
    assert.equal(instance.address, null);
    assert.deepEqual(instance.metadata, {});
  });

  it('keeps what is given', () => {
    const instance = serviceInstance({ name: 'api', id: 'x', address: 'h', port: 1, zone: 'eu', weight: 3 });
    assert.deepEqual(
      { id: instance.id, address: instance.address, zone: instance.zone, weight: instance.weight },
      { id: 'x', address: 'h', zone: 'eu', weight: 3 },
    );
  });

  it('refuses bad instances', () => {
    for (const bad of [
      { name: 'a/b' },
      { name: 'api', id: '' },
      { name: 'api', port: 70_000 },
      { name: 'api', serviceType: 'DYNAMIC_SEQUENTIAL' as const },
      { name: 'api', weight: -1 },
    ]) {
      assert.throws(() => serviceInstance(bad), InvalidArgumentError, JSON.stringify(bad));
    }
  });
});
