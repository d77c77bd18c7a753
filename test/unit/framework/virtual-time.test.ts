// The framework and a lock recipe on the test kit's in-process server and virtual clock: the
// connection states come at exactly the times the protocol says (SUSPENDED at two thirds of the
// session timeout after the last response, LOST at the whole timeout), sessions expire on the
// server on the same clock, and a lock wait times out exactly at its deadline, all without sleeping.
import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'mocha';
import {
  SessionExpiredError,
  ZooKeeperClient,
  createFramework,
  retryNTimes,
  type ConnectionStateChange,
  type Framework,
} from '../../../src/index.js';
import { LockTimeoutError, Mutex } from '../../../recipes/index.js';
import { InProcessServer, VirtualClock } from '../../../server/testing/index.js';

const SESSION_TIMEOUT_MS = 6000;

describe('framework on the in-process server and a virtual clock', () => {
  const open: Array<{ close(): Promise<unknown> }> = [];

  afterEach(async () => {
    for (const thing of open.splice(0).reverse()) await thing.close();
  });

  function serve(): InProcessServer {
    const server = new InProcessServer({ clock: new VirtualClock(1_000_000) });
    open.push(server);
    return server;
  }

  async function frameworkOn(server: InProcessServer): Promise<Framework> {
    const framework = createFramework({
      ...server.frameworkOptions(),
      sessionTimeoutMs: SESSION_TIMEOUT_MS,
      retry: retryNTimes(3, 100),
    });
    open.push(framework);
    await framework.blockUntilConnected();
    return framework;
  }

  function record(framework: Framework, clock: VirtualClock, fromMs: number): string[] {
    const seen: string[] = [];
    framework.onConnectionStateChange((change: ConnectionStateChange) => {
      seen.push(`${change.state}@${change.atMs - fromMs}`);
      assert.equal(change.atMs, clock.nowMs(), 'published on the framework clock');
    });
    return seen;
  }

  it('goes SUSPENDED at 2/3 and LOST at the full session timeout after the last response', async () => {
    const server = serve();
    const { clock } = server;
    const framework = await frameworkOn(server);
    const oldSession = framework.sessionId;
    await framework.create('/eph', { mode: 'EPHEMERAL' });
    const { watch } = await framework.getData('/eph', { watch: true });
    const lastHeardMs = clock.nowMs(); // the create's and the read's replies came at this instant
    const states = record(framework, clock, lastHeardMs);
    server.partition();
    await clock.advance(SESSION_TIMEOUT_MS - 1);
    assert.deepEqual(states, [`SUSPENDED@${(SESSION_TIMEOUT_MS * 2) / 3}`]);
    await clock.advance(1);
    assert.deepEqual(states, [`SUSPENDED@${(SESSION_TIMEOUT_MS * 2) / 3}`, `LOST@${SESSION_TIMEOUT_MS}`]);
    await assert.rejects(watch, SessionExpiredError);
    // The server, on the same clock, expired the session within its tick: the ephemeral is gone.
    await clock.advance(1000);
    assert.ok(!server.sessionIds().includes(oldSession));
    server.heal();
    await clock.advanceUntil(() => states.length === 3);
    assert.match(states[2], /^RECONNECTED@/);
    assert.notEqual(framework.sessionId, oldSession, 'a new session');
    assert.equal(await framework.exists('/eph'), null);
  });

  it('goes SUSPENDED then RECONNECTED on the same session when the network heals in time', async () => {
    const server = serve();
    const { clock } = server;
    const framework = await frameworkOn(server);
    const session = framework.sessionId;
    await framework.create('/kept', { mode: 'EPHEMERAL' });
    const states = record(framework, clock, clock.nowMs());
    server.partition();
    await clock.advance(4500);
    assert.deepEqual(states, ['SUSPENDED@4000']);
    server.heal();
    await clock.advanceUntil(() => states.length === 2, { limitMs: 1400 });
    assert.match(states[1], /^RECONNECTED@/);
    assert.equal(framework.sessionId, session);
    assert.equal((await framework.exists('/kept'))?.ephemeralOwner, session);
  });

  it('stays CONNECTED through an idle virtual hour: pings keep the session', async () => {
    const server = serve();
    const framework = await frameworkOn(server);
    const states = record(framework, server.clock, server.clock.nowMs());
    await server.clock.advance(3600_000);
    assert.deepEqual(states, []);
    assert.deepEqual(server.sessionIds(), [framework.sessionId]);
  });

  it('goes LOST when the server expires the session, then RECONNECTED on a new one', async () => {
    const server = serve();
    const { clock } = server;
    const framework = await frameworkOn(server);
    const oldSession = framework.sessionId;
    const states = record(framework, clock, clock.nowMs());
    await server.expireSession(oldSession);
    await clock.advanceUntil(() => states.some((s) => s.startsWith('RECONNECTED')), { limitMs: 2000 });
    assert.deepEqual(
      states.map((s) => s.split('@')[0]).filter((s) => s !== 'SUSPENDED'),
      ['LOST', 'RECONNECTED'],
    );
    assert.notEqual(framework.sessionId, oldSession);
  });

  it('times a lock wait out exactly at its deadline, and leaves no contender node', async () => {
    const server = serve();
    const { clock } = server;
    const holder = await frameworkOn(server);
    const waiter = await frameworkOn(server);
    const held = await new Mutex(holder, '/locks/job', { clock }).acquire();
    let outcome: unknown = 'pending';
    const waiting = new Mutex(waiter, '/locks/job', { clock }).acquire({ timeoutMs: 5000 }).then(
      (lease) => (outcome = lease),
      (error: unknown) => (outcome = error),
    );
    await clock.advance(4999);
    assert.equal(outcome, 'pending', 'still waiting 1 ms before the deadline');
    await clock.advance(1);
    await waiting;
    assert.ok((outcome as unknown) instanceof LockTimeoutError, String(outcome));
    const direct = new ZooKeeperClient(server.clientOptions());
    open.push(direct);
    await direct.connect();
    assert.equal((await direct.getChildren('/locks/job')).children.length, 1, 'only the holder');
    await held.release();
  });
});
