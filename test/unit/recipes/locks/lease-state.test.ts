// The lease state machine on scripted and random event sequences: SUSPENDED makes a lease uncertain with
// a deadline counted from the last server response, only a verified node of our session makes it held
// again, and lost and released are final whatever comes after.
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { describe, it } from 'mocha';
import {
  stepLease,
  uncertainDeadlineMs,
  type LeaseInput,
  type LeasePolicy,
  type LeaseState,
} from '../../../../recipes/locks/lease-state.js';

const policy: LeasePolicy = { sessionId: 0x1000n };
const held: LeaseState = { kind: 'held' };
const suspended: LeaseInput = { type: 'suspended', lastResponseAtMs: 10_000, sessionTimeoutMs: 30_000 };

function run(inputs: LeaseInput[], start: LeaseState = held, with_: LeasePolicy = policy): LeaseState {
  return inputs.reduce((state, input) => stepLease(state, input, with_).state, start);
}

describe('lease state', () => {
  it('goes uncertain on SUSPENDED with a deadline from the last response, less the margin', () => {
    assert.equal(uncertainDeadlineMs(10_000, 30_000), 37_000);
    const step = stepLease(held, suspended, policy);
    assert.deepEqual(step.state, { kind: 'uncertain', deadlineMs: 37_000 });
    assert.deepEqual(step.actions, [
      { type: 'notify', state: step.state },
      { type: 'wake-at', atMs: 37_000 },
    ]);
  });

  it('comes back to held only after our node is verified on the same session', () => {
    const reconnected = stepLease(run([suspended]), { type: 'reconnected', sessionId: 0x1000n }, policy);
    assert.equal(reconnected.state.kind, 'uncertain');
    assert.deepEqual(reconnected.actions, [{ type: 'verify' }]);
    const verified = stepLease(reconnected.state, { type: 'verified', ephemeralOwner: 0x1000n }, policy);
    assert.deepEqual(verified, { state: held, actions: [{ type: 'notify', state: held }] });
  });

  it('is lost on a new session, a missing node, a foreign owner, expiry, deletion or close', () => {
    const cases: Array<[LeaseInput[], string]> = [
      [[suspended, { type: 'reconnected', sessionId: 0x2000n }], 'session-expired'],
      [[suspended, { type: 'verified', ephemeralOwner: undefined }], 'node-deleted'],
      [[suspended, { type: 'verified', ephemeralOwner: 0x2000n }], 'not-owner'],
      [[{ type: 'session-expired' }], 'session-expired'],
      [[{ type: 'node-deleted' }], 'node-deleted'],
      [[{ type: 'client-closed' }], 'client-closed'],
      [[suspended, { type: 'tick', nowMs: 37_000 }], 'uncertain-timeout'],
    ];
    for (const [inputs, reason] of cases) assert.deepEqual(run(inputs), { kind: 'lost', reason });
  });

  it('waits out ticks before the deadline, and ignores ticks while held', () => {
    assert.equal(run([suspended, { type: 'tick', nowMs: 36_999 }]).kind, 'uncertain');
    assert.deepEqual(stepLease(held, { type: 'tick', nowMs: 1e12 }, policy), { state: held, actions: [] });
  });

  it('never pushes a deadline later on a second SUSPENDED, but takes an earlier one', () => {
    const later = { ...suspended, lastResponseAtMs: 20_000 };
    assert.deepEqual(run([suspended, later]), { kind: 'uncertain', deadlineMs: 37_000 });
    const earlier = { ...suspended, lastResponseAtMs: 5_000 };
    assert.deepEqual(run([suspended, earlier]), { kind: 'uncertain', deadlineMs: 32_000 });
  });

  it('gives up at once on SUSPENDED under the resign policy', () => {
    const resign = { ...policy, onSuspended: 'lose' as const };
    assert.deepEqual(run([suspended], held, resign), { kind: 'lost', reason: 'suspended' });
  });

  it('keeps lost and released final, whatever follows (property)', () => {
    const input: fc.Arbitrary<LeaseInput> = fc.oneof(
      fc.record({
        type: fc.constant('suspended' as const),
        lastResponseAtMs: fc.nat(100_000),
        sessionTimeoutMs: fc.integer({ min: 1_000, max: 60_000 }),
      }),
      fc.record({ type: fc.constant('reconnected' as const), sessionId: fc.constantFrom(0x1000n, 0x2000n) }),
      fc.record({
        type: fc.constant('verified' as const),
        ephemeralOwner: fc.constantFrom(0x1000n, 0x2000n, undefined),
      }),
      fc.record({ type: fc.constant('tick' as const), nowMs: fc.nat(200_000) }),
      fc.constantFrom<LeaseInput>(
        { type: 'session-expired' },
        { type: 'node-deleted' },
        { type: 'released' },
        { type: 'client-closed' },
      ),
    );
    fc.assert(
      fc.property(fc.array(input, { maxLength: 30 }), (inputs) => {
        let state: LeaseState = held;
        for (const next of inputs) {
          const step = stepLease(state, next, policy);
          if (state.kind === 'lost' || state.kind === 'released') {
            assert.deepEqual(step, { state, actions: [] });
          }
          // Held is reached from doubt only through a verified node of our own session.
          if (state.kind === 'uncertain' && step.state.kind === 'held') {
            assert.ok(next.type === 'verified' && next.ephemeralOwner === 0x1000n, JSON.stringify(next.type));
          }
          state = step.state;
        }
      }),
    );
  });
});
