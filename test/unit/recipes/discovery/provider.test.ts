// Instance choice without I/O: the down-instance policy hides an instance after the error threshold
// until the timeout, only 'up' instances take traffic by default, round robin cycles as Curator's does,
// weighted random honours weights, and sticky keeps its pick while it is listed.
import assert from 'node:assert/strict';
import { describe, it } from 'mocha';
import type { ServiceInstance } from '../../../../recipes/discovery/instance-format.js';
import {
  DOWN_INSTANCE_POLICY_DEFAULT,
  isInstanceDown,
  noteInstanceError,
  pickInstance,
  STRATEGY_STATE_INITIAL,
  usableInstances,
  type DownInstances,
  type StrategyState,
} from '../../../../recipes/discovery/provider.js';

function instance(id: string, extra: Partial<ServiceInstance> = {}): ServiceInstance {
  return { name: 'api', id, address: '10.0.0.1', port: 80, sslPort: null, payload: null,
    registrationTimeUTC: 0, serviceType: 'DYNAMIC', uriSpec: null, status: 'up', zone: null, weight: 1,
    version: null, metadata: {}, ...extra };
}

const a = instance('a');
const b = instance('b');
const c = instance('c');

describe('service provider', () => {
  it('hides an instance after two errors, for 30 s from the first', () => {
    let down: DownInstances = new Map();
    down = noteInstanceError(down, 'a', 1_000);
    assert.equal(isInstanceDown(down, 'a', 1_000), false);
    down = noteInstanceError(down, 'a', 2_000);
    assert.equal(isInstanceDown(down, 'a', 2_000), true);
    assert.equal(isInstanceDown(down, 'a', 30_999), true);
    assert.equal(isInstanceDown(down, 'a', 31_000), false);
    assert.deepEqual(DOWN_INSTANCE_POLICY_DEFAULT, { timeoutMs: 30_000, errorThreshold: 2 });
    // An error after the timeout starts a new count.
    assert.equal(noteInstanceError(down, 'a', 40_000).get('a')?.errors, 1);
  });

  it('offers only up instances that are not down and pass the filters', () => {
    const draining = instance('d', { status: 'draining' });
    const down = noteInstanceError(noteInstanceError(new Map(), 'b', 0), 'b', 0);
    const usable = usableInstances([a, b, c, draining], { nowMs: 10, down, filters: [(i) => i.id !== 'c'] });
    assert.deepEqual(usable.map((i) => i.id), ['a']);
    const withDraining = usableInstances([a, draining], { nowMs: 10, statuses: ['up', 'draining'] });
    assert.deepEqual(withDraining.map((i) => i.id), ['a', 'd']);
  });

  it('round robin cycles through the list', () => {
    let state: StrategyState = STRATEGY_STATE_INITIAL;
    const ids: string[] = [];
    for (let i = 0; i < 4; i++) {
      const pick = pickInstance([a, b, c], 'round-robin', state, () => 0);
      ids.push(pick.instance!.id);
      state = pick.state;
    }
    assert.deepEqual(ids, ['a', 'b', 'c', 'a']);
  });

  it('random picks by weight and never an instance of weight 0', () => {
    const heavy = instance('heavy', { weight: 3 });
    const none = instance('none', { weight: 0 });
    const pickWith = (r: number) => pickInstance([a, none, heavy], 'random', STRATEGY_STATE_INITIAL, () => r);
    const draws = [0, 0.2, 0.3, 0.99].map((r) => pickWith(r).instance!.id);
    assert.deepEqual(draws, ['a', 'a', 'heavy', 'heavy']);
    assert.equal(pickInstance([none], 'random', STRATEGY_STATE_INITIAL, () => 0.5).instance, undefined);
  });

  it('sticky keeps its instance while listed, then picks anew', () => {
    const first = pickInstance([a, b], 'sticky-round-robin', STRATEGY_STATE_INITIAL, () => 0);
    assert.equal(first.instance!.id, 'a');
    const again = pickInstance([b, a], 'sticky-round-robin', first.state, () => 0);
    assert.equal(again.instance!.id, 'a');
    const moved = pickInstance([b, c], 'sticky-round-robin', again.state, () => 0);
    assert.equal(moved.instance!.id, moved.state.stickyId);
    assert.notEqual(moved.instance!.id, 'a');
    assert.equal(pickInstance([], 'sticky-random', moved.state, () => 0).instance, undefined);
  });
});
