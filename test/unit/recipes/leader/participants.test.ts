// Leader ordering on plain data: latch and selector nodes named as Curator names them, the first leads,
// the others watch the one ahead, and participants are reported as Curator's getParticipants does.
import assert from 'node:assert/strict';
import { describe, it } from 'mocha';
import {
  decideLeadership,
  describeParticipants,
  encodeParticipantId,
  participantNodeName,
  participantOrder,
} from '../../../../recipes/leader/participants.js';

const U1 = '1ccdb2b9-7f9a-4570-9555-201c91ec2dcb';
const U2 = '9a0d6c1e-0b4b-4a53-a0b4-5f0d9e2a7c11';

describe('leader participants', () => {
  const first = `_c_${U2}-latch-0000000001`;
  const second = `_c_${U1}-latch-0000000002`;

  it('names latch and selector nodes as Curator does', () => {
    assert.equal(participantNodeName('latch', U1), `_c_${U1}-latch-`);
    assert.equal(participantNodeName('selector', U1), `_c_${U1}-lock-`);
  });

  it('lets the first participant lead and the next watch it', () => {
    assert.deepEqual(participantOrder('latch', [second, 'stray', first]), [first, second]);
    assert.equal(decideLeadership('latch', [second, first], first).kind, 'acquired');
    assert.deepEqual(decideLeadership('latch', [second, first], second), {
      kind: 'watch',
      predecessor: first,
      position: 1,
    });
    assert.deepEqual(decideLeadership('latch', [first], second), { kind: 'missing' });
  });

  it('reports participants in order with ids from the node data, skipping vanished nodes', () => {
    const nodes = [
      { nodeName: second, data: encodeParticipantId('beta') },
      { nodeName: first, data: encodeParticipantId('álpha') },
    ];
    assert.deepEqual(describeParticipants('latch', nodes), [
      { id: 'álpha', nodeName: first, isLeader: true },
      { id: 'beta', nodeName: second, isLeader: false },
    ]);
    assert.deepEqual(describeParticipants('latch', [{ nodeName: first, data: undefined }, nodes[0]!]), [
      { id: 'beta', nodeName: second, isLeader: true },
    ]);
  });

  it('orders selector participants as mutex contenders', () => {
    const a = `_c_${U1}-lock-0000000004`;
    const b = `_c_${U2}-lock-0000000003`;
    assert.deepEqual(participantOrder('selector', [a, b]), [b, a]);
  });
});
