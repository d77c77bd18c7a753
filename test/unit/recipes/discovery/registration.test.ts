// Re-registration decisions on plain Stats: a node that is already ours is kept or updated in place
// (no delete/recreate churn), one left by an earlier session of ours is replaced, and another live
// owner's node is waited out rather than deleted.
import assert from 'node:assert/strict';
import { describe, it } from 'mocha';
import { decideRegistration, type RegistrationIntent } from '../../../../recipes/discovery/registration.js';

const data = Buffer.from('{"name":"api","id":"n1"}');
const intent: RegistrationIntent = { sessionId: 7n, previousSessionIds: [5n], ephemeral: true, data };
const node = (ephemeralOwner: bigint, bytes: Uint8Array = data) => ({
  ephemeralOwner,
  version: 3,
  data: bytes,
});

describe('registration decisions', () => {
  it('creates when nothing is there', () => {
    assert.deepEqual(decideRegistration(undefined, intent), { kind: 'create' });
  });

  it('keeps our own node, or updates it in place when the instance changed', () => {
    assert.deepEqual(decideRegistration(node(7n), intent), { kind: 'keep' });
    assert.deepEqual(decideRegistration(node(7n, Buffer.from('{}')), intent), { kind: 'update', version: 3 });
  });

  it('replaces the node of an earlier session of ours, or a persistent one where we want ephemeral', () => {
    assert.deepEqual(decideRegistration(node(5n), intent), { kind: 'replace', version: 3 });
    assert.deepEqual(decideRegistration(node(0n), intent), { kind: 'replace', version: 3 });
  });

  it('waits out another live session\'s node with the same id', () => {
    assert.deepEqual(decideRegistration(node(9n), intent), { kind: 'wait', owner: 9n });
  });

  it('treats persistent (STATIC) registrations by content, and never fights a live ephemeral', () => {
    const persistent = { ...intent, ephemeral: false };
    assert.deepEqual(decideRegistration(node(0n), persistent), { kind: 'keep' });
    const changed = node(0n, Buffer.from('x'));
    assert.deepEqual(decideRegistration(changed, persistent), { kind: 'update', version: 3 });
    assert.deepEqual(decideRegistration(node(7n), persistent), { kind: 'replace', version: 3 });
    assert.deepEqual(decideRegistration(node(9n), persistent), { kind: 'wait', owner: 9n });
  });
});
