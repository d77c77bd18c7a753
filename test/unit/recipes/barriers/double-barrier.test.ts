// Double barrier decisions on plain child lists: enter passes only on a listed state (ready present or
// enough members, the GH-1290 bypass impossible by construction), and a scripted leave by three members
// ends with every node and `ready` gone, the lowest member leaving last.
import assert from 'node:assert/strict';
import { describe, it } from 'mocha';
import {
  barrierMembers,
  decideEnter,
  decideLeave,
  READY_NODE,
} from '../../../../recipes/barriers/double-barrier.js';

describe('double barrier', () => {
  it('enters when enough members are listed, or when ready is there', () => {
    assert.deepEqual(decideEnter(['m1'], 2), { kind: 'wait', members: 1 });
    assert.deepEqual(decideEnter(['m1', 'm2'], 2), { kind: 'pass', createReady: true });
    assert.deepEqual(decideEnter(['m1', READY_NODE], 3), { kind: 'pass', createReady: false });
    assert.deepEqual(decideEnter([], 1), { kind: 'wait', members: 0 });
  });

  it('does not count ready as a member, and sorts members by name', () => {
    assert.deepEqual(barrierMembers(['c', READY_NODE, 'a', 'b']), ['a', 'b', 'c']);
    assert.deepEqual(decideEnter([READY_NODE], 1), { kind: 'pass', createReady: false });
  });

  it('lets three members leave: the others go first, the lowest last, then ready is removed', () => {
    let children = ['a', 'b', 'c', READY_NODE];
    const exists = new Map([['a', true], ['b', true], ['c', true]]);
    const apply = (member: string) => {
      const decision = decideLeave(children, member, exists.get(member)!);
      if (decision.kind !== 'missing' && decision.deleteOurs) {
        children = children.filter((c) => c !== member);
        exists.set(member, false);
      }
      if (decision.kind === 'done') children = children.filter((c) => c !== READY_NODE);
      return decision;
    };
    assert.deepEqual(apply('a'), { kind: 'watch', node: 'c', deleteOurs: false });
    assert.deepEqual(apply('b'), { kind: 'watch', node: 'a', deleteOurs: true });
    assert.deepEqual(apply('c'), { kind: 'watch', node: 'a', deleteOurs: true });
    // b and c are out but still waiting on a, which has not finished leaving.
    assert.deepEqual(apply('b'), { kind: 'watch', node: 'a', deleteOurs: false });
    assert.deepEqual(apply('a'), { kind: 'done', deleteOurs: true });
    assert.deepEqual(apply('b'), { kind: 'done', deleteOurs: false });
    assert.deepEqual(apply('c'), { kind: 'done', deleteOurs: false });
    assert.deepEqual(children, []);
  });

  it('reports our node missing when we never deleted it', () => {
    assert.deepEqual(decideLeave(['a', 'c'], 'b', true), { kind: 'missing' });
    assert.deepEqual(decideLeave(['a', 'c'], 'b', false), { kind: 'watch', node: 'a', deleteOurs: false });
  });
});
