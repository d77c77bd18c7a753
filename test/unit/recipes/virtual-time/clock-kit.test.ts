// The clock kits that run recipe timing specs on both kinds of time: the virtual kit records exact
// settle times and asserts them exactly, partitions one framework only and expires sessions on its
// server; the real kit turns an exact time into a bound (not early, at most lateMsMax late).
import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'mocha';
import { RealClockKit, VirtualClockKit } from '../../../../server/testing/index.js';
import { sleep } from '../../../../recipes/cache/events.js';

describe('clock kits', () => {
  let kit: VirtualClockKit | undefined;
  afterEach(async () => {
    await kit?.close();
    kit = undefined;
  });

  it('virtual: settle times are exact, and so is assertElapsed', async () => {
    kit = VirtualClockKit.start({ startMs: 5000 });
    const k = kit;
    const slept = k.track(sleep(250, undefined, k.clock));
    await k.settled(slept);
    assert.equal(slept.atMs, 5250);
    k.assertElapsed(slept.atMs! - 5000, 250, 'sleep');
    assert.throws(() => k.assertElapsed(251, 250, 'late by 1'), /exactly \+250/);
    k.assertElapsedWithin(300, 250, 400, 'in range');
    assert.throws(() => k.assertElapsedWithin(401, 250, 400, 'out of range'));
    await assert.rejects(k.until(() => false, { limitMs: 50 }), /not reached in 50 virtual ms/);
  });

  it('virtual: a partition reaches one framework only; an expiry ends one session', async () => {
    kit = VirtualClockKit.start();
    const k = kit;
    const cut = await k.connect({ sessionTimeoutMs: 3000 });
    const fine = await k.connect({ sessionTimeoutMs: 3000 });
    const states: string[] = [];
    cut.onConnectionStateChange(({ state }) => states.push(state));
    k.partition(cut);
    await k.advance(2000);
    assert.deepEqual(states, ['SUSPENDED']);
    assert.ok((await fine.exists('/')) !== null, 'the other framework still works');
    k.heal(cut);
    await k.until(() => states.length === 2);
    assert.deepEqual(states, ['SUSPENDED', 'RECONNECTED']);
    const before = fine.sessionId;
    await k.expireSession(fine);
    await k.until(() => fine.sessionId !== before && fine.sessionId !== 0n);
    assert.ok(!k.server.sessionIds().includes(before));
  });

  it('real: an exact time becomes a bound, never early beyond clock-read skew', () => {
    const real = RealClockKit.on('127.0.0.1:1', 'nowhere', { lateMsMax: 500 });
    assert.equal(real.exactTime, false);
    real.assertElapsed(1000, 1000, 'on time');
    real.assertElapsed(985, 1000, 'read skew');
    real.assertElapsed(1500, 1000, 'late within the bound');
    assert.throws(() => real.assertElapsed(900, 1000, 'early'), /real time: 980\.\.1500/);
    assert.throws(() => real.assertElapsed(1501, 1000, 'too late'));
    real.assertElapsedWithin(1700, 1000, 1500, 'within a tick, late');
  });
});
