// Curator-compatible node names on plain strings: protected names are built and split as Curator's
// ProtectedUtils does, our node is found again by its uuid after a lost create reply, sort keys follow
// StandardLockInternalsDriver, and a downgrade read node carries its write node's sequence.
import assert from 'node:assert/strict';
import { describe, it } from 'mocha';
import {
  curatorSortKey,
  downgradeReadNodeName,
  findProtectedNode,
  NodeMarker,
  parseContenderName,
  parseProtectedName,
  protectedNodeName,
  protectedPrefix,
} from '../../../../recipes/locks/node-names.js';
import { InvalidArgumentError } from '../../../../src/index.js';

const UUID = '1ccdb2b9-7f9a-4570-9555-201c91ec2dcb';

describe('node names', () => {
  it('builds the protected name Curator creates', () => {
    assert.equal(protectedNodeName(UUID, 'lock-'), `_c_${UUID}-lock-`);
    assert.equal(protectedPrefix(UUID).length, 40);
    assert.throws(() => protectedNodeName('not-a-uuid', 'lock-'), InvalidArgumentError);
  });

  it('splits protected names and refuses look-alikes', () => {
    const latch = parseProtectedName(`_c_${UUID}-latch-0000000003`);
    assert.deepEqual(latch, { uuid: UUID, name: 'latch-0000000003' });
    assert.equal(parseProtectedName(`_c_${UUID}-`), undefined, 'nothing after the prefix');
    assert.equal(parseProtectedName(`_c_${UUID}xlock-1`), undefined, 'no separator');
    assert.equal(parseProtectedName(`_c_${'z'.repeat(36)}-lock-1`), undefined, 'not a uuid');
    assert.equal(parseProtectedName('lock-0000000001'), undefined);
  });

  it('finds our node again by its uuid among the children', () => {
    const ours = `_c_${UUID}-lock-0000000007`;
    const other = '_c_9a0d6c1e-0b4b-4a53-a0b4-5f0d9e2a7c11-lock-0000000006';
    assert.equal(findProtectedNode([other, ours], UUID), ours);
    assert.equal(findProtectedNode([other], UUID), undefined);
  });

  it('computes Curator\'s sort key: text after the last marker, markers applied in turn', () => {
    assert.equal(curatorSortKey(`_c_${UUID}-lock-0000000042`, ['lock-']), '0000000042');
    assert.equal(curatorSortKey('no-marker-here', ['lock-']), 'no-marker-here');
    assert.equal(curatorSortKey(`_c_${UUID}-__WRIT__0000000005`, ['__READ__', '__WRIT__']), '0000000005');
  });

  it('parses contender names with marker, sequence and uuid', () => {
    const markers = [NodeMarker.read, NodeMarker.write];
    assert.deepEqual(parseContenderName(`_c_${UUID}-__READ__0000000012`, markers), {
      nodeName: `_c_${UUID}-__READ__0000000012`,
      marker: '__READ__',
      sortKey: '0000000012',
      sequence: 12,
      uuid: UUID,
    });
    assert.equal(parseContenderName('lock-', ['lock-']), undefined, 'no sequence yet');
    assert.equal(parseContenderName('lock-12x', ['lock-']), undefined);
  });

  it('names a downgrade read node after the write node\'s sequence', () => {
    const other = '9a0d6c1e-0b4b-4a53-a0b4-5f0d9e2a7c11';
    const read = downgradeReadNodeName(`_c_${UUID}-__WRIT__0000000009`, other);
    assert.equal(read, `_c_${other}-__READ__0000000009`);
    assert.throws(() => downgradeReadNodeName(`_c_${UUID}-lock-0000000009`, other), InvalidArgumentError);
  });
});
