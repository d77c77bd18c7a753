// Goal: the register linearizability checker accepts hand-made linearizable histories (concurrent
// overlaps, unknown outcomes that did or did not happen) and rejects non-linearizable ones (stale
// reads, lost acknowledged writes, two successful CAS from one version, reads from the future).
import assert from 'node:assert/strict';
import { describe, it } from 'mocha';
import { checkHistory, type HistoryOp, type Outcome, type RegisterOp } from './linearizability.js';

const initial = { value: '0', version: 0 };

function op(
  client: string,
  o: RegisterOp,
  invokedAt: number,
  completedAt: number,
  outcome: Outcome = 'ok',
): HistoryOp {
  return { client, key: '/r', op: o, outcome, invokedAt, completedAt };
}
const read = (value: string, version: number): RegisterOp => ({ kind: 'read', value, version });
const cas = (expectedVersion: number, value: string): RegisterOp => ({ kind: 'cas', expectedVersion, value });
const write = (value: string, newVersion?: number): RegisterOp => ({ kind: 'write', value, newVersion });

function verdict(history: HistoryOp[]): boolean {
  const verdicts = checkHistory(history, initial);
  assert.ok(verdicts.every((v) => !v.inconclusive));
  return verdicts.every((v) => v.linearizable);
}

describe('linearizability checker for a versioned register', () => {
  it('accepts a sequential history', () => {
    const history = [op('a', cas(0, 'x'), 0, 1), op('a', read('x', 1), 2, 3), op('b', write('y', 2), 4, 5)];
    assert.equal(verdict(history), true);
  });

  it('accepts overlapping operations in whichever order explains them', () => {
    // b's read overlaps a's CAS and sees it; c's read, also overlapping, does not yet.
    const history = [
      op('a', cas(0, 'x'), 0, 10),
      op('b', read('x', 1), 1, 5),
      op('c', read('0', 0), 2, 4),
    ];
    assert.equal(verdict(history), true);
  });

  it('rejects a stale read after an acknowledged write', () => {
    assert.equal(verdict([op('a', cas(0, 'x'), 0, 1), op('b', read('0', 0), 2, 3)]), false);
  });

  it('rejects a read of a value nobody wrote yet (from the future)', () => {
    assert.equal(verdict([op('b', read('x', 1), 0, 1), op('a', cas(0, 'x'), 2, 3)]), false);
  });

  it('rejects two successful CAS from the same version', () => {
    assert.equal(verdict([op('a', cas(0, 'x'), 0, 5), op('b', cas(0, 'y'), 1, 6)]), false);
  });

  it('accepts a failed CAS only where the version differed', () => {
    assert.equal(verdict([op('a', cas(0, 'x'), 0, 5), op('b', cas(0, 'y'), 1, 6, 'fail')]), true);
    assert.equal(verdict([op('b', cas(0, 'y'), 0, 1, 'fail')]), false);
  });

  it('lets an unknown write have happened, or not', () => {
    const happened = [op('a', cas(0, 'x'), 0, Infinity, 'unknown'), op('b', read('x', 1), 5, 6)];
    const didNot = [op('a', cas(0, 'x'), 0, Infinity, 'unknown'), op('b', read('0', 0), 5, 6)];
    assert.equal(verdict(happened), true);
    assert.equal(verdict(didNot), true);
    // But not both: once seen, it cannot un-happen.
    assert.equal(verdict([...happened, op('c', read('0', 0), 7, 8)]), false);
  });

  it('rejects a lost acknowledged write (a later read shows the old version)', () => {
    const history = [
      op('a', write('x', 1), 0, 1),
      op('b', cas(1, 'y'), 2, 3),
      op('c', read('x', 1), 4, 5),
    ];
    assert.equal(verdict(history), false);
  });

  it('checks keys independently', () => {
    const other = (h: HistoryOp): HistoryOp => ({ ...h, key: '/s' });
    const history = [op('a', cas(0, 'x'), 0, 1), other(op('b', read('0', 0), 2, 3))];
    assert.equal(verdict(history), true);
  });

  it('handles a long concurrent history quickly', () => {
    // Five clients, each CAS from the version it last read; every op overlaps its neighbours.
    const history: HistoryOp[] = [];
    let version = 0;
    for (let i = 0; i < 400; i++) {
      const t = i * 10;
      history.push(op(`c${i % 5}`, cas(version, `v${i}`), t, t + 25));
      version++;
      history.push(op(`c${(i + 2) % 5}`, read(`v${i}`, version), t + 26, t + 30));
    }
    assert.equal(verdict(history), true);
  });

  it('stays fast with many unknown operations pending at once', () => {
    // Forty CAS attempts lost their connections (pending forever) while a reader kept reading.
    const history: HistoryOp[] = [];
    for (let i = 0; i < 40; i++) history.push(op(`u${i}`, cas(i % 3, `lost${i}`), i, Infinity, 'unknown'));
    history.push(op('a', cas(0, 'x'), 100, 101));
    for (let i = 0; i < 30; i++) history.push(op('r', read('x', 1), 200 + i * 2, 201 + i * 2));
    assert.equal(verdict(history), true);
  });
});
