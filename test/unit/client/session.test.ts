// The session state machine driven directly with a fake clock: host rotation, backoff, resume with
// id and password, client-side expiry, server-side expiry, read-only probing and close, checked on
// the actions it returns (no sockets, no timers).
import assert from 'node:assert/strict';
import { describe, it } from 'mocha';
import { SessionExpiredError } from '../../../src/index.js';
import {
  SessionMachine,
  type SessionAction,
  type SessionMachineOptions,
} from '../../../src/client/session.js';

const hosts = [
  { host: 'a', port: 1 },
  { host: 'b', port: 2 },
  { host: 'c', port: 3 },
];

function machine(overrides: Partial<SessionMachineOptions> = {}): SessionMachine {
  return new SessionMachine({
    hosts,
    sessionTimeoutMs: 3000,
    canBeReadOnly: false,
    reconnectDelayMaxMs: 1000,
    readWriteProbeMinMs: 100,
    readWriteProbeMaxMs: 800,
    random: () => 0.5,
    ...overrides,
  });
}

const of = <T extends SessionAction['type']>(actions: SessionAction[], type: T) =>
  actions.filter((a): a is Extract<SessionAction, { type: T }> => a.type === type);

function connected(m: SessionMachine, nowMs: number, extra: { readOnly?: boolean; timeoutMs?: number } = {}) {
  return m.step({
    type: 'connected',
    nowMs,
    attempt: m.currentAttempt,
    timeoutMs: extra.timeoutMs ?? 3000,
    sessionId: 0x77n,
    password: Buffer.alloc(16, 1),
    readOnly: extra.readOnly ?? false,
  });
}

describe('SessionMachine', () => {
  it('connects to the first host with a new session, then reports connected', () => {
    const m = machine();
    const [connect] = of(m.step({ type: 'start', nowMs: 0 }), 'connect');
    assert.equal(connect.host.host, 'a');
    assert.equal(connect.sessionId, 0n);
    const actions = connected(m, 10);
    assert.equal(of(actions, 'state')[0].state.type, 'connected');
    assert.equal(of(actions, 'established').length, 1);
    assert.equal(m.sessionId, 0x77n);
  });

  it('tries every host once, then backs off before the next round', () => {
    const m = machine();
    m.step({ type: 'start', nowMs: 0 });
    const tried = ['a'];
    for (let i = 0; i < 2; i++) {
      const actions = m.step({
        type: 'connectFailed',
        nowMs: 1,
        attempt: m.currentAttempt,
        error: new Error('refused'),
      });
      assert.equal(of(actions, 'failWaiting').length, 1, 'waiting requests fail with each failed attempt');
      tried.push(of(actions, 'connect')[0].host.host);
    }
    assert.deepEqual(tried, ['a', 'b', 'c']);
    const afterRound = m.step({
      type: 'connectFailed',
      nowMs: 2,
      attempt: m.currentAttempt,
      error: new Error('x'),
    });
    assert.equal(of(afterRound, 'connect').length, 0);
    assert.deepEqual(of(afterRound, 'timer'), [{ type: 'timer', atMs: 502 }]);
    assert.equal(of(m.step({ type: 'timer', nowMs: 400 }), 'connect').length, 0, 'too early');
    assert.equal(of(m.step({ type: 'timer', nowMs: 502 }), 'connect')[0].host.host, 'a');
  });

  it('resumes the session with its id and password on the next host after a loss', () => {
    const m = machine();
    m.step({ type: 'start', nowMs: 0 });
    connected(m, 0);
    const actions = m.step({
      type: 'connectionLost',
      nowMs: 100,
      attempt: m.currentAttempt,
      lastHeardMs: 90,
      error: new Error('x'),
    });
    const [disconnected] = of(actions, 'state');
    assert.equal(disconnected.state.type, 'disconnected');
    // The state carries when the server was last heard from: LOST is measured from it.
    assert.equal(disconnected.state.type === 'disconnected' && disconnected.state.lastHeardMs, 90);
    const [connect] = of(actions, 'connect');
    assert.equal(connect.host.host, 'b');
    assert.equal(connect.sessionId, 0x77n);
    assert.deepEqual(connect.password, Buffer.alloc(16, 1));
    // The timer now guards the expiry: last heard at 90 plus the 3000 ms timeout.
    assert.deepEqual(of(actions, 'timer'), [{ type: 'timer', atMs: 3090 }]);
  });

  it('expires on the client when no server was heard for the whole session timeout', () => {
    const m = machine();
    m.step({ type: 'start', nowMs: 0 });
    connected(m, 0);
    m.step({
      type: 'connectionLost',
      nowMs: 1000,
      attempt: m.currentAttempt,
      lastHeardMs: 1000,
      error: new Error('x'),
    });
    assert.equal(of(m.step({ type: 'timer', nowMs: 3999 }), 'state').length, 0);
    const actions = m.step({ type: 'timer', nowMs: 4000 });
    const states = of(actions, 'state').map((a) => a.state.type);
    assert.deepEqual(states, ['expired', 'closed']);
    assert.ok(of(actions, 'terminate')[0].error instanceof SessionExpiredError);
    assert.equal(of(actions, 'disconnect').length, 1, 'the attempt in progress is abandoned');
    assert.deepEqual(m.step({ type: 'timer', nowMs: 5000 }), [], 'a terminated machine does nothing');
  });

  it('expires when the server answers the handshake with a zero timeout', () => {
    const m = machine();
    m.step({ type: 'start', nowMs: 0 });
    connected(m, 0);
    m.step({
      type: 'connectionLost',
      nowMs: 10,
      attempt: m.currentAttempt,
      lastHeardMs: 10,
      error: new Error('x'),
    });
    const actions = connected(m, 20, { timeoutMs: 0 });
    assert.deepEqual(
      of(actions, 'state').map((a) => a.state.type),
      ['expired', 'closed'],
    );
  });

  it('ignores outcomes of attempts it has given up on', () => {
    const m = machine();
    m.step({ type: 'start', nowMs: 0 });
    const stale = m.currentAttempt;
    m.step({ type: 'connectFailed', nowMs: 1, attempt: stale, error: new Error('x') });
    assert.deepEqual(connectedStale(m, stale), []);
  });

  it('probes other hosts while read-only and moves to a read-write one', () => {
    const m = machine({ canBeReadOnly: true });
    const [connect] = of(m.step({ type: 'start', nowMs: 0 }), 'connect');
    assert.equal(connect.readOnly, true);
    const actions = connected(m, 0, { readOnly: true });
    assert.equal(of(actions, 'state')[0].state.type, 'connectedReadOnly');
    assert.deepEqual(of(actions, 'timer'), [{ type: 'timer', atMs: 100 }]);
    const probe = of(m.step({ type: 'timer', nowMs: 100 }), 'probe')[0];
    assert.equal(probe.host.host, 'b');
    const probe2 = m.step({ type: 'timer', nowMs: 300 });
    assert.equal(of(probe2, 'probe')[0].host.host, 'c');
    assert.deepEqual(of(probe2, 'timer'), [{ type: 'timer', atMs: 700 }], 'the probe interval doubles');
    const move = m.step({ type: 'readWriteServerFound', nowMs: 350, hostIndex: 2 });
    assert.equal(of(move, 'disconnect').length, 1);
    const [next] = of(move, 'connect');
    assert.equal(next.host.host, 'c');
    assert.equal(next.sessionId, 0n, 'a session from a read-only server is not carried over');
  });

  it('closes from any phase with one closed state', () => {
    const m = machine();
    m.step({ type: 'start', nowMs: 0 });
    connected(m, 0);
    const actions = m.step({ type: 'close', nowMs: 5 });
    assert.deepEqual(
      of(actions, 'state').map((a) => a.state.type),
      ['closed'],
    );
    assert.equal(of(actions, 'disconnect').length, 1);
    assert.equal(m.terminated, true);
  });

  it('resumes a given session and expires it by the requested timeout', () => {
    const m = machine({ resume: { sessionId: 0x99n, password: Buffer.alloc(16, 2) } });
    const [connect] = of(m.step({ type: 'start', nowMs: 0 }), 'connect');
    assert.equal(connect.sessionId, 0x99n);
    for (let i = 0; i < 3; i++)
      m.step({ type: 'connectFailed', nowMs: 10, attempt: m.currentAttempt, error: new Error('x') });
    assert.deepEqual(
      of(m.step({ type: 'timer', nowMs: 3000 }), 'state').map((a) => a.state.type),
      ['expired', 'closed'],
    );
  });
});

function connectedStale(m: SessionMachine, attempt: number): SessionAction[] {
  return m.step({
    type: 'connected',
    nowMs: 2,
    attempt,
    timeoutMs: 3000,
    sessionId: 1n,
    password: Buffer.alloc(16),
    readOnly: false,
  });
}
