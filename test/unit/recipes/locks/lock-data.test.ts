// Lock node data: our JSON owner record round-trips, and anything else (Curator's IP address, bad JSON,
// oversized data) is reported as foreign rather than thrown.
import assert from 'node:assert/strict';
import { describe, it } from 'mocha';
import {
  decodeLockNodeData,
  encodeLockNodeData,
  encodeRevokeRequest,
  LOCK_DATA_BYTES_MAX,
} from '../../../../recipes/locks/lock-data.js';
import { InvalidArgumentError } from '../../../../src/index.js';

describe('lock node data', () => {
  const info = { owner: 'billing#2', host: 'web-3', pid: 4242, requestedAt: 1_700_000_000_000 };

  it('round-trips our owner record, with and without a trace id', () => {
    assert.deepEqual(decodeLockNodeData(encodeLockNodeData(info)), { kind: 'menagerie', ...info });
    const traced = { ...info, traceId: '4bf92f3577b34da6' };
    assert.deepEqual(decodeLockNodeData(encodeLockNodeData(traced)), { kind: 'menagerie', ...traced });
  });

  it('reads what Curator writes (its IP address) as foreign', () => {
    assert.deepEqual(decodeLockNodeData(Buffer.from('127.0.0.1')), { kind: 'foreign', text: '127.0.0.1' });
  });

  it('reports malformed or oversized data as foreign', () => {
    const future = '{"v":2,"owner":"a","host":"b","pid":1,"requestedAt":1}';
    for (const text of ['{', future, '{"v":1}', 'null', '']) {
      assert.equal(decodeLockNodeData(Buffer.from(text)).kind, 'foreign', text);
    }
    assert.equal(decodeLockNodeData(new Uint8Array(LOCK_DATA_BYTES_MAX + 1).fill(0x7b)).kind, 'foreign');
  });

  it('recognises Curator\'s revocation request, byte for byte', () => {
    assert.equal(Buffer.from(encodeRevokeRequest()).toString(), '__REVOKE__');
    assert.deepEqual(decodeLockNodeData(encodeRevokeRequest()), { kind: 'revoke-requested' });
    assert.equal(decodeLockNodeData(Buffer.from('__REVOKE__\n')).kind, 'foreign');
  });

  it('refuses to write an owner record it could not read back', () => {
    assert.throws(() => encodeLockNodeData({ ...info, owner: 'x'.repeat(257) }), InvalidArgumentError);
    assert.throws(() => encodeLockNodeData({ ...info, pid: -1 }), InvalidArgumentError);
    assert.throws(() => encodeLockNodeData({ ...info, requestedAt: Number.NaN }), InvalidArgumentError);
  });
});
