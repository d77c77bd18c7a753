// The lock core's decision on plain lists of child names: Curator's order (string compare of the text after
// the last marker, protected prefix ignored), who holds under each policy, which single node a waiter
// watches, and, by property, that no policy ever admits two exclusive holders.
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { describe, it } from 'mocha';
import {
  decideContender,
  describeContenders,
  latchPolicy,
  mutexPolicy,
  readWritePolicy,
  sharedPolicy,
  sortContenders,
} from '../../../../recipes/locks/contenders.js';
import { InvalidArgumentError } from '../../../../src/index.js';

const U1 = '_c_1ccdb2b9-7f9a-4570-9555-201c91ec2dcb-';
const U2 = '_c_9a0d6c1e-0b4b-4a53-a0b4-5f0d9e2a7c11-';
const U3 = '_c_00000000-0000-4000-8000-000000000000-';
const seq = (n: number) => String(n).padStart(10, '0');
const watch = (predecessor: string, position: number) => ({ kind: 'watch', predecessor, position });

describe('contenders: Curator order', () => {
  it('sorts by sequence, not by the uuid in front of it', () => {
    const children = [`${U3}lock-${seq(7)}`, `${U1}lock-${seq(2)}`, `${U2}lock-${seq(5)}`];
    assert.deepEqual(sortContenders(children, mutexPolicy).map((c) => c.sequence), [2, 5, 7]);
  });

  it('sorts read and write nodes together by their sequence', () => {
    const children = [`${U1}__WRIT__${seq(3)}`, `${U2}__READ__${seq(1)}`, `${U3}__READ__${seq(2)}`];
    assert.deepEqual(
      sortContenders(children, readWritePolicy).map((c) => [c.marker, c.sequence]),
      [['__READ__', 1], ['__READ__', 2], ['__WRIT__', 3]],
    );
  });

  it('ignores children that are not contenders (directories, other libraries)', () => {
    const children = ['leases', 'locks', `${U1}lock-${seq(1)}`, `5e1f__lock__${seq(0)}`, `${U2}lock-abc`];
    assert.deepEqual(sortContenders(children, mutexPolicy).map((c) => c.nodeName), [`${U1}lock-${seq(1)}`]);
  });

  it('accepts unprotected names and reads the sequence after the last marker', () => {
    const sorted = sortContenders([`lock-${seq(9)}`, `x-lock-lock-${seq(3)}`], mutexPolicy);
    assert.deepEqual(sorted.map((c) => [c.sequence, c.uuid]), [[3, undefined], [9, undefined]]);
  });

  it('puts wrapped (negative) sequences first, as Curator\'s string compare does', () => {
    const children = [`${U1}lock-${seq(2147483647)}`, `${U2}lock--000000001`, `${U3}lock-${seq(0)}`];
    assert.deepEqual(sortContenders(children, mutexPolicy).map((c) => c.sequence), [-1, 0, 2147483647]);
  });
});

describe('contenders: decisions', () => {
  const a = `${U1}lock-${seq(10)}`;
  const b = `${U2}lock-${seq(11)}`;
  const c = `${U3}lock-${seq(12)}`;

  it('mutex: the first holds, each waiter watches the one just ahead (no herd)', () => {
    const children = [c, a, b];
    assert.deepEqual(decideContender(children, a, mutexPolicy), { kind: 'acquired', position: 0 });
    assert.deepEqual(decideContender(children, b, mutexPolicy), watch(a, 1));
    assert.deepEqual(decideContender(children, c, mutexPolicy), watch(b, 2));
  });

  it('reports our node missing when it is gone', () => {
    assert.deepEqual(decideContender([a, c], b, mutexPolicy), { kind: 'missing' });
  });

  it('refuses a node name that is not a contender of the policy', () => {
    assert.throws(() => decideContender([a], `${U1}latch-${seq(1)}`, mutexPolicy), InvalidArgumentError);
  });

  it('shared policy: the first maxLeases hold; a waiter watches the node maxLeases ahead', () => {
    const policy = sharedPolicy('lock-', 2);
    assert.equal(decideContender([a, b, c], b, policy).kind, 'acquired');
    assert.deepEqual(decideContender([a, b, c], c, policy), { kind: 'watch', predecessor: a, position: 2 });
    assert.throws(() => sharedPolicy('lock-', 0), InvalidArgumentError);
  });

  it('latch: the first latch node leads', () => {
    const l1 = `${U1}latch-${seq(4)}`;
    const l2 = `${U2}latch-${seq(5)}`;
    assert.equal(decideContender([l2, l1], l1, latchPolicy).kind, 'acquired');
    assert.deepEqual(decideContender([l2, l1], l2, latchPolicy), watch(l1, 1));
  });

  describe('read/write lock', () => {
    const r1 = `${U1}__READ__${seq(1)}`;
    const r2 = `${U2}__READ__${seq(2)}`;
    const w3 = `${U3}__WRIT__${seq(3)}`;
    const r4 = `${U1}__READ__${seq(4)}`;
    const w5 = `${U2}__WRIT__${seq(5)}`;
    const r6 = `${U3}__READ__${seq(6)}`;
    const all = [r6, w5, r4, w3, r2, r1];

    it('readers ahead of every writer share the lock', () => {
      assert.equal(decideContender(all, r1, readWritePolicy).kind, 'acquired');
      assert.equal(decideContender(all, r2, readWritePolicy).kind, 'acquired');
    });

    it('a writer waits for the node just ahead, reader or writer', () => {
      assert.deepEqual(decideContender(all, w3, readWritePolicy), watch(r2, 2));
      assert.deepEqual(decideContender(all, w5, readWritePolicy), watch(r4, 4));
    });

    it('a reader behind a writer waits (writer preference) and watches the nearest writer ahead', () => {
      assert.deepEqual(decideContender(all, r4, readWritePolicy), watch(w3, 3));
      assert.deepEqual(decideContender(all, r6, readWritePolicy), watch(w5, 5));
    });

    it('a reader is not blocked by a write node we hold (write → read downgrade)', () => {
      const held = `${U1}__WRIT__${seq(7)}`;
      const read = `${U1}__READ__${seq(8)}`;
      const downgrade = decideContender([held, read], read, readWritePolicy, { heldByUs: [held] });
      assert.equal(downgrade.kind, 'acquired');
      assert.deepEqual(decideContender([held, read], read, readWritePolicy), watch(held, 1));
    });

    it('a downgrade read node with the write node\'s sequence holds beside it; later writers queue', () => {
      const write = `${U1}__WRIT__${seq(7)}`;
      const read = `${U2}__READ__${seq(7)}`;
      const queued = `${U3}__WRIT__${seq(8)}`;
      const children = [queued, read, write];
      assert.equal(decideContender(children, read, readWritePolicy).kind, 'acquired');
      assert.equal(decideContender(children, queued, readWritePolicy).kind, 'watch');
      const holds = describeContenders(children, readWritePolicy).map((s) => s.holds);
      assert.deepEqual(holds, [true, true, false]);
      // Once the write node is released the read node still sorts ahead of the queued writer.
      assert.equal(decideContender([queued, read], queued, readWritePolicy).kind, 'watch');
    });
  });
});

/** Random lock directories: sequences unique, markers drawn from the policy. */
function directory(markers: readonly string[]) {
  const sequences = fc.uniqueArray(fc.integer({ min: 0, max: 5000 }), { minLength: 1, maxLength: 12 });
  return sequences.chain((drawn) =>
    fc.tuple(...drawn.map((s) => fc.constantFrom(...markers).map((m) => `${U1}${m}${seq(s)}`))),
  );
}

describe('contenders: properties', () => {
  it('describeContenders agrees with decideContender for every node', () => {
    for (const policy of [mutexPolicy, readWritePolicy, sharedPolicy('lock-', 3)]) {
      fc.assert(
        fc.property(directory(Object.keys(policy.rules)), (children) => {
          for (const state of describeContenders(children, policy)) {
            const decision = decideContender(children, state.contender.nodeName, policy);
            assert.equal(decision.kind === 'acquired', state.holds);
          }
        }),
      );
    }
  });

  it('never admits a writer beside any other holder, nor two mutex holders', () => {
    fc.assert(
      fc.property(directory(['__READ__', '__WRIT__']), (children) => {
        const holders = describeContenders(children, readWritePolicy).filter((s) => s.holds);
        if (holders.some((h) => h.contender.marker === '__WRIT__')) assert.equal(holders.length, 1);
      }),
    );
    fc.assert(
      fc.property(directory(['lock-']), (children) => {
        assert.equal(describeContenders(children, mutexPolicy).filter((s) => s.holds).length, 1);
      }),
    );
  });

  it('a waiter always watches an existing node ahead of it, and the first contender always holds', () => {
    fc.assert(
      fc.property(directory(['__READ__', '__WRIT__']), (children) => {
        const sorted = sortContenders(children, readWritePolicy).map((c) => c.nodeName);
        for (const [position, node] of sorted.entries()) {
          const decision = decideContender(children, node, readWritePolicy);
          if (position === 0) assert.equal(decision.kind, 'acquired');
          if (decision.kind === 'watch') assert.ok(sorted.indexOf(decision.predecessor) < position);
        }
      }),
    );
  });
});
