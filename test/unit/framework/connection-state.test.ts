// The connection-state machine driven with a fake clock: the states published for each sequence
// of client events, LOST exactly one session timeout after the last server response, and the
// request for a new session that comes with LOST.
import assert from 'node:assert/strict';
import { describe, it } from 'mocha';
import {
  ConnectionStateMachine,
  isErrorState,
  type ConnectionInput,
  type ConnectionOutput,
} from '../../../src/index.js';

const TIMEOUT_MS = 10_000;

function connected(nowMs: number, sessionId = 1n, readOnly = false): ConnectionInput {
  return { type: 'connected', nowMs, sessionId, negotiatedTimeoutMs: TIMEOUT_MS, readOnly };
}

/** A machine plus a fake clock that fires its timer when time passes it. */
function harness() {
  const machine = new ConnectionStateMachine();
  const states: string[] = [];
  const sessions: number[] = [];
  let timerAtMs: number | undefined;
  let newSessions = 0;
  const apply = (outputs: ConnectionOutput[]) => {
    for (const output of outputs) {
      if (output.type === 'state') {
        states.push(output.change.state);
        sessions.push(Number(output.change.sessionId));
      } else if (output.type === 'timer') timerAtMs = output.atMs;
      else newSessions++;
    }
  };
  return {
    machine,
    states,
    sessions,
    get timerAtMs() {
      return timerAtMs;
    },
    get newSessions() {
      return newSessions;
    },
    step: (input: ConnectionInput) => apply(machine.step(input)),
    /** Advances the fake clock to `nowMs`, firing the timer if it is due. */
    advance(nowMs: number) {
      if (timerAtMs !== undefined && timerAtMs <= nowMs) {
        timerAtMs = undefined;
        apply(machine.step({ type: 'timer', nowMs }));
      }
    },
  };
}

describe('connection-state machine', () => {
  it('publishes CONNECTED once, then SUSPENDED and RECONNECTED for the same session', () => {
    const h = harness();
    h.step(connected(0));
    h.step({ type: 'disconnected', nowMs: 1000 });
    h.step(connected(2000));
    h.step({ type: 'disconnected', nowMs: 3000 });
    h.step(connected(4000));
    assert.deepEqual(h.states, ['CONNECTED', 'SUSPENDED', 'RECONNECTED', 'SUSPENDED', 'RECONNECTED']);
    assert.equal(h.newSessions, 0);
    assert.equal(h.timerAtMs, undefined, 'no timer runs while connected');
  });

  it('goes LOST one session timeout after the last server response, not before', () => {
    const h = harness();
    h.step(connected(0));
    h.step({ type: 'disconnected', nowMs: 7000, lastHeardMs: 6000 });
    assert.equal(h.timerAtMs, 16_000);
    h.advance(15_999);
    assert.deepEqual(h.states, ['CONNECTED', 'SUSPENDED']);
    h.advance(16_000);
    assert.deepEqual(h.states, ['CONNECTED', 'SUSPENDED', 'LOST']);
    assert.equal(h.newSessions, 1, 'LOST asks for a new session');
    // The new session connects: RECONNECTED with the new session id.
    h.step(connected(20_000, 2n));
    assert.deepEqual(h.states, ['CONNECTED', 'SUSPENDED', 'LOST', 'RECONNECTED']);
    assert.deepEqual(h.sessions, [1, 1, 1, 2]);
  });

  it('measures from the disconnect when the last response time is unknown', () => {
    const h = harness();
    h.step(connected(0));
    h.step({ type: 'disconnected', nowMs: 5000 });
    assert.equal(h.timerAtMs, 15_000);
    assert.equal(h.machine.lostDeadlineMs, 15_000);
  });

  it('cancels the LOST timer when the connection comes back in time', () => {
    const h = harness();
    h.step(connected(0));
    h.step({ type: 'disconnected', nowMs: 1000 });
    h.step(connected(9000));
    assert.equal(h.timerAtMs, undefined);
    h.advance(100_000);
    assert.deepEqual(h.states, ['CONNECTED', 'SUSPENDED', 'RECONNECTED']);
  });

  it('reports LOST at once when the client says the session expired', () => {
    const h = harness();
    h.step(connected(0));
    h.step({ type: 'disconnected', nowMs: 1000 });
    h.step({ type: 'expired', nowMs: 2000 });
    assert.deepEqual(h.states, ['CONNECTED', 'SUSPENDED', 'LOST']);
    assert.equal(h.timerAtMs, undefined);
    // A second expiry report (or the timer) adds nothing.
    h.step({ type: 'expired', nowMs: 2500 });
    h.advance(50_000);
    assert.deepEqual(h.states, ['CONNECTED', 'SUSPENDED', 'LOST']);
    assert.equal(h.newSessions, 1);
  });

  it('stays LOST while the new session cannot connect', () => {
    const h = harness();
    h.step(connected(0));
    h.step({ type: 'expired', nowMs: 10 });
    h.step({ type: 'disconnected', nowMs: 20 });
    assert.deepEqual(h.states, ['CONNECTED', 'LOST']);
  });

  it('reports LOST before RECONNECTED when a different session answers a suspended one', () => {
    const h = harness();
    h.step(connected(0, 1n));
    h.step({ type: 'disconnected', nowMs: 10 });
    h.step(connected(20, 7n));
    assert.deepEqual(h.states, ['CONNECTED', 'SUSPENDED', 'LOST', 'RECONNECTED']);
  });

  it('publishes READ_ONLY, and RECONNECTED when a read-write server takes over', () => {
    const h = harness();
    h.step(connected(0, 1n, true));
    h.step({ type: 'disconnected', nowMs: 10 });
    h.step(connected(20, 1n, false));
    assert.deepEqual(h.states, ['READ_ONLY', 'SUSPENDED', 'RECONNECTED']);
  });

  it('publishes nothing after close', () => {
    const h = harness();
    h.step(connected(0));
    h.step({ type: 'disconnected', nowMs: 10 });
    h.step({ type: 'close', nowMs: 20 });
    assert.equal(h.timerAtMs, undefined);
    h.step(connected(30));
    h.step({ type: 'expired', nowMs: 40 });
    assert.deepEqual(h.states, ['CONNECTED', 'SUSPENDED']);
  });

  it('links each change to the previous state', () => {
    const machine = new ConnectionStateMachine();
    machine.step(connected(0));
    const outputs = machine.step({ type: 'disconnected', nowMs: 5 });
    const change = outputs.find((o) => o.type === 'state');
    assert.ok(change?.type === 'state');
    assert.equal(change.change.previous, 'CONNECTED');
    assert.equal(change.change.atMs, 5);
  });

  it('sorts states into errors by the policy', () => {
    assert.ok(isErrorState('SUSPENDED'));
    assert.ok(isErrorState('LOST'));
    assert.ok(!isErrorState('SUSPENDED', 'sessionOnly'));
    assert.ok(isErrorState('LOST', 'sessionOnly'));
    for (const state of ['CONNECTED', 'RECONNECTED', 'READ_ONLY'] as const) assert.ok(!isErrorState(state));
  });
});
