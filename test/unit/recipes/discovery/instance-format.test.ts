// Service instance JSON: ours round-trips, is laid out with Curator's keys in Curator's order, keeps our
// extras under one key and maps status onto Curator's `enabled`; Java-written JSON (with `@class`, with
// absent fields) reads with Curator's defaults; broken instances come back with a problem, never a throw.
import assert from 'node:assert/strict';
import { describe, it } from 'mocha';
import {
  decodeServiceInstance,
  encodeServiceInstance,
  type ServiceInstance,
} from '../../../../recipes/discovery/instance-format.js';
import { instancePath, parseInstancePath, servicePath } from '../../../../recipes/discovery/paths.js';
import { InvalidArgumentError } from '../../../../src/index.js';

const instance: ServiceInstance<{ region: string }> = {
  name: 'api',
  id: 'node-1',
  address: '10.0.0.3',
  port: 9090,
  sslPort: null,
  payload: { region: 'eu' },
  registrationTimeUTC: 1_700_000_000_002,
  serviceType: 'DYNAMIC',
  uriSpec: { parts: [{ value: 'scheme', variable: true }, { value: '://', variable: false }] },
  status: 'up',
  zone: 'eu-1a',
  weight: 2,
  version: '1.4.2',
  metadata: { team: 'billing' },
};

const text = (bytes: Uint8Array) => Buffer.from(bytes).toString();
const json = (value: unknown) => Buffer.from(JSON.stringify(value));

describe('service instance format', () => {
  it('round-trips our instances', () => {
    for (const status of ['up', 'draining', 'down'] as const) {
      const decoded = decodeServiceInstance(encodeServiceInstance({ ...instance, status }));
      assert.deepEqual(decoded, { ok: true, payloadClass: null, instance: { ...instance, status } });
    }
  });

  it('writes Curator\'s keys in Curator\'s order, then enabled, then our extension', () => {
    const written = JSON.parse(text(encodeServiceInstance({ ...instance, status: 'draining' })));
    assert.deepEqual(Object.keys(written), ['name', 'id', 'address', 'port', 'sslPort', 'payload',
      'registrationTimeUTC', 'serviceType', 'uriSpec', 'enabled', 'menagerie']);
    assert.equal(written.enabled, false);
    assert.deepEqual(written.menagerie, { status: 'draining', zone: 'eu-1a', weight: 2, version: '1.4.2',
      metadata: { team: 'billing' } });
  });

  it('writes @class only when asked, and reports it on read', () => {
    assert.ok(!text(encodeServiceInstance(instance)).includes('@class'));
    const withClass = encodeServiceInstance(instance, { payloadClass: 'java.util.LinkedHashMap' });
    assert.ok(text(withClass).includes('"payload":{"@class":"java.util.LinkedHashMap","region":"eu"}'));
    const decoded = decodeServiceInstance(withClass);
    assert.ok(decoded.ok);
    assert.equal(decoded.payloadClass, 'java.util.LinkedHashMap');
    assert.deepEqual(decoded.instance.payload, { region: 'eu' });
  });

  it('refuses payloads Curator cannot read back and malformed instances', () => {
    assert.throws(() => encodeServiceInstance({ ...instance, payload: [1, 2] as never }), /array/);
    assert.throws(() => encodeServiceInstance({ ...instance, payload: null }, { payloadClass: 'x.Y' }),
      InvalidArgumentError);
    assert.throws(() => encodeServiceInstance({ ...instance, id: 'a/b' }), InvalidArgumentError);
    assert.throws(() => encodeServiceInstance({ ...instance, port: 70000 }), InvalidArgumentError);
    const sleepy = { ...instance, status: 'sleepy' as never };
    assert.throws(() => encodeServiceInstance(sleepy), InvalidArgumentError);
  });

  it('reads a minimal Java instance with Curator\'s defaults', () => {
    const decoded = decodeServiceInstance(json({ name: 'svc', id: 'i' }));
    assert.deepEqual(decoded, { ok: true, payloadClass: null, instance: { name: 'svc', id: 'i', address: null,
      port: null, sslPort: null, payload: null, registrationTimeUTC: 0, serviceType: 'DYNAMIC', uriSpec: null,
      status: 'up', zone: null, weight: 1, version: null, metadata: {} } });
  });

  it('reads enabled=false as down, and lets it override our status', () => {
    const disabled = decodeServiceInstance(json({ name: 'svc', id: 'i', enabled: false }));
    assert.ok(disabled.ok && disabled.instance.status === 'down');
    const overridden = decodeServiceInstance(json({ name: 'svc', id: 'i', enabled: false,
      menagerie: { status: 'up' } }));
    assert.ok(overridden.ok && overridden.instance.status === 'down');
    const draining = decodeServiceInstance(json({ name: 'svc', id: 'i', enabled: false,
      menagerie: { status: 'draining' } }));
    assert.ok(draining.ok && draining.instance.status === 'draining');
  });

  it('accepts ports as Jackson does (a digit string) and truncates a fractional time', () => {
    const decoded = decodeServiceInstance(
      json({ name: 'svc', id: 'i', port: '80', registrationTimeUTC: 1.5 }),
    );
    assert.ok(decoded.ok);
    assert.equal(decoded.instance.port, 80);
    assert.equal(decoded.instance.registrationTimeUTC, 1);
  });

  it('reports broken instances with their problem', () => {
    const cases: Array<[Uint8Array, RegExp]> = [
      [Buffer.from('{"name":'), /not JSON/],
      [Buffer.from([0xff, 0xfe]), /not JSON/],
      [json([1]), /not a JSON object/],
      [json({ id: 'i' }), /bad name/],
      [json({ name: 'svc', id: 'i', serviceType: 'WEIRD' }), /serviceType/],
      [json({ name: 'svc', id: 'i', port: -1 }), /port/],
      [json({ name: 'svc', id: 'i', uriSpec: { parts: [{ value: 1 }] } }), /uriSpec/],
      [json({ name: 'svc', id: 'i', menagerie: { status: 'sleepy' } }), /status/],
      [json({ name: 'svc', id: 'i', menagerie: { metadata: { a: 1 } } }), /metadata/],
      [json({ name: 'svc', id: 'i', payload: { '@class': 5 } }), /@class/],
    ];
    for (const [bytes, problem] of cases) {
      const decoded = decodeServiceInstance(bytes);
      assert.equal(decoded.ok, false);
      assert.match((decoded as { problem: string }).problem, problem);
    }
  });

  it('checks the node path against the instance and validates the payload on read', () => {
    const bytes = encodeServiceInstance(instance);
    const mismatch = decodeServiceInstance(bytes, { expected: { name: 'api', id: 'node-2' } });
    assert.deepEqual(mismatch, { ok: false, problem: 'node api/node-2 holds instance api/node-1' });
    const regionIsNumber = (p: unknown) => typeof (p as { region?: unknown }).region === 'number';
    const rejected = decodeServiceInstance(bytes, {
      validatePayload: (p) => (regionIsNumber(p) ? undefined : 'region: number'),
    });
    assert.deepEqual(rejected, { ok: false, problem: 'payload: region: number' });
  });
});

describe('discovery paths', () => {
  it('lays out <base>/<name>/<id> and parses it back', () => {
    assert.equal(servicePath('/services', 'api'), '/services/api');
    assert.equal(instancePath('/services', 'api', 'node-1'), '/services/api/node-1');
    assert.equal(instancePath('/', 'api', 'n'), '/api/n');
    assert.deepEqual(parseInstancePath('/services', '/services/api/node-1'), { name: 'api', id: 'node-1' });
    assert.equal(parseInstancePath('/services', '/services/api'), undefined);
    assert.equal(parseInstancePath('/services', '/other/api/n'), undefined);
  });

  it('refuses names and ids that are not one path segment', () => {
    for (const [name, id] of [['a/b', 'n'], ['api', '..'], ['', 'n'], ['api', 'x\u0001']]) {
      assert.throws(() => instancePath('/services', name!, id!), InvalidArgumentError);
    }
    assert.throws(() => servicePath('services', 'api'), InvalidArgumentError);
  });
});
