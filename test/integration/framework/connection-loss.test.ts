// The framework through connection trouble, against our server and Apache ZooKeeper 3.8 behind a
// proxy the test controls: a protected create whose reply is lost leaves exactly one node, a plain
// sequential one is not repeated, a lost delete reply is resolved, a guaranteed delete finishes
// after the connection comes back, and the states go SUSPENDED → RECONNECTED, or SUSPENDED → LOST
// (not before the session timeout) → RECONNECTED with a new session, or LOST when the server
// expires the session.
import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import { after, afterEach, before, beforeEach, it } from 'mocha';
import {
  OpCode,
  SessionExpiredError,
  ZooKeeperClient,
  createFramework,
  expireSession,
  isIndeterminate,
  noRetry,
  retryNTimes,
  txn,
  type Framework,
  type FrameworkOptions,
  type GuaranteedDeleteOutcome,
} from '../../../src/index.js';
import { describeEachServer, type ServerUnderTest } from '../client/support/servers.js';
import { startControlledProxy, type ControlledProxy } from '../../support/controlled-proxy.js';
import { eventually, nextState, recordStates } from './support/wait.js';

// A short tick allows session timeouts down to 400 ms.
describeEachServer('framework connection loss', { tickTimeMs: 200 }, (target) => {
  let server: ServerUnderTest;
  let direct: ZooKeeperClient;
  let proxy: ControlledProxy;
  const frameworks: Framework[] = [];

  before(async function () {
    server = target();
    direct = new ZooKeeperClient({ connectString: server.connectString });
    await direct.connect();
    await direct.create('/loss');
  });

  beforeEach(async () => {
    proxy = await startControlledProxy(server.port);
  });

  afterEach(async () => {
    await Promise.all(frameworks.splice(0).map((f) => f.close()));
    await proxy.close();
  });

  after(async () => {
    await direct?.close();
  });

  async function viaProxy(options: Partial<FrameworkOptions> = {}): Promise<Framework> {
    const framework = createFramework({
      connectString: proxy.connectString,
      sessionTimeoutMs: 4000,
      connectionTimeoutMs: 2000,
      retry: retryNTimes(5, 20),
      client: { connectTimeoutMs: 300, reconnectDelayMaxMs: 50 },
      ...options,
    });
    frameworks.push(framework);
    await framework.blockUntilConnected();
    return framework;
  }

  it('finds a protected ephemeral-sequential node again when the create reply is lost', async () => {
    const framework = await viaProxy();
    await direct.create('/loss/p');
    const lost = proxy.loseReplyTo(OpCode.create2);
    const creating = framework.create('/loss/p/lock-', { mode: 'EPHEMERAL_SEQUENTIAL', protected: true });
    await lost;
    const { path } = await creating;
    const { children } = await direct.getChildren('/loss/p');
    assert.equal(children.length, 1, `exactly one node: ${children.join(', ')}`);
    assert.equal(path, `/loss/p/${children[0]}`);
    assert.equal((await direct.exists(path))?.ephemeralOwner, framework.sessionId);
  });

  it('leaves exactly one node per contender when the connection drops amid many protected creates', async () => {
    const framework = await viaProxy();
    await direct.create('/loss/many');
    proxy.holdReplies(true);
    const creating = Array.from({ length: 10 }, () =>
      framework.create('/loss/many/c-', { mode: 'EPHEMERAL_SEQUENTIAL', protected: true }),
    );
    // Every create reached the server, no reply reached the client: all ten are indeterminate.
    await eventually(async () => (await direct.getChildren('/loss/many')).children.length === 10);
    proxy.dropAll();
    proxy.holdReplies(false);
    const paths = (await Promise.all(creating)).map((r) => r.path).sort();
    const { children } = await direct.getChildren('/loss/many');
    assert.deepEqual(paths, children.map((c) => `/loss/many/${c}`).sort(), 'each contender found its own node');
  });

  it('deletes the orphan of a protected create it could not finish', async () => {
    const framework = await viaProxy({ retry: noRetry });
    await direct.create('/loss/o');
    const lost = proxy.loseReplyTo(OpCode.create2);
    const creating = framework.create('/loss/o/lock-', { mode: 'EPHEMERAL_SEQUENTIAL', protected: true });
    await lost;
    await assert.rejects(creating, (error) => isIndeterminate(error));
    // The create happened at the server; the framework finds the node by its prefix and removes it.
    await eventually(async () => (await direct.getChildren('/loss/o')).children.length === 0);
    await framework.guaranteedDeletesSettled();
  });

  it('does not repeat a plain sequential create whose reply was lost', async () => {
    const framework = await viaProxy();
    await direct.create('/loss/s');
    const lost = proxy.loseReplyTo(OpCode.create2);
    const creating = framework.create('/loss/s/n-', { mode: 'PERSISTENT_SEQUENTIAL' });
    await lost;
    await assert.rejects(creating, (error) => isIndeterminate(error));
    assert.equal((await direct.getChildren('/loss/s')).children.length, 1, 'applied once, never twice');
  });

  it('resolves a plain create and a delete whose replies were lost', async () => {
    const framework = await viaProxy();
    const lostCreate = proxy.loseReplyTo(OpCode.create2);
    const creating = framework.create('/loss/plain', { mode: 'EPHEMERAL', data: 'x' });
    await lostCreate;
    assert.equal((await creating).path, '/loss/plain', 'our own ephemeral, found by its owner');
    const lostDelete = proxy.loseReplyTo(OpCode.delete);
    const deleting = framework.delete('/loss/plain');
    await lostDelete;
    await deleting; // NoNode on the repeat means the first attempt did it
    assert.equal(await direct.exists('/loss/plain'), null);
  });

  it('reads back a setData whose reply was lost instead of writing twice', async () => {
    const framework = await viaProxy();
    await direct.create('/loss/d', 'v0');
    const lostVersioned = proxy.loseReplyTo(OpCode.setData);
    const versioned = framework.setData('/loss/d', 'v1', { version: 0 });
    await lostVersioned;
    assert.equal((await versioned).version, 1, 'the stat of our own write, found by reading back');
    const lostPlain = proxy.loseReplyTo(OpCode.setData);
    const plain = framework.setData('/loss/d', 'v2');
    await lostPlain;
    assert.equal((await plain).version, 2);
    const { data, stat } = await direct.getData('/loss/d');
    assert.equal(data?.toString(), 'v2');
    assert.equal(stat.version, 2, 'each write applied exactly once');
  });

  it('does not repeat a transaction whose reply was lost', async () => {
    const framework = await viaProxy();
    const lost = proxy.loseReplyTo(OpCode.multi);
    const running = framework.transaction([txn.create('/loss/t-', { mode: 'PERSISTENT_SEQUENTIAL' })]);
    await lost;
    await assert.rejects(running, (error) => isIndeterminate(error));
    const { children } = await direct.getChildren('/loss');
    assert.equal(children.filter((c) => c.startsWith('t-')).length, 1);
  });

  it('finishes a guaranteed delete in the background after the connection comes back', async () => {
    const framework = await viaProxy({ retry: noRetry, connectionTimeoutMs: 300 });
    await direct.create('/loss/g');
    const outcomes: GuaranteedDeleteOutcome[] = [];
    framework.onGuaranteedDelete((outcome) => outcomes.push(outcome));
    const suspended = nextState(framework, 'SUSPENDED');
    proxy.blackhole(true);
    proxy.dropAll();
    await suspended;
    const deleting = framework.delete('/loss/g', { guaranteed: true });
    await assert.rejects(deleting, (error) => !isIndeterminate(error));
    assert.deepEqual(framework.pendingGuaranteedDeletes, ['/loss/g']);
    const pending = framework.guaranteedDeleteOf('/loss/g');
    assert.ok(pending !== undefined);
    assert.notEqual(await direct.exists('/loss/g'), null);
    proxy.blackhole(false);
    assert.deepEqual(await pending, { path: '/loss/g', outcome: 'deleted' });
    await framework.guaranteedDeletesSettled();
    assert.deepEqual(outcomes, [{ path: '/loss/g', outcome: 'deleted' }]);
    assert.equal(await direct.exists('/loss/g'), null);
  });

  it('goes SUSPENDED then RECONNECTED with the same session when the connection drops', async () => {
    const framework = await viaProxy();
    const sessionId = framework.sessionId;
    const record = recordStates(framework);
    const reconnected = nextState(framework, 'RECONNECTED');
    proxy.dropAll();
    const change = await reconnected;
    record.stop();
    assert.deepEqual(
      record.changes.map((c) => c.state),
      ['SUSPENDED', 'RECONNECTED'],
    );
    assert.equal(change.sessionId, sessionId);
    // Operations work again on the same session.
    await framework.create('/loss/after-reconnect', { mode: 'EPHEMERAL' });
    assert.equal((await direct.exists('/loss/after-reconnect'))?.ephemeralOwner, sessionId);
  });

  it('goes SUSPENDED then LOST after the session timeout, then RECONNECTED with a new session', async () => {
    const framework = await viaProxy({ sessionTimeoutMs: 1000 });
    const oldSession = framework.sessionId;
    const negotiatedMs = framework.client.negotiatedTimeoutMs;
    await framework.create('/loss/eph', { mode: 'EPHEMERAL' });
    const { watch } = await framework.getData('/loss/eph', { watch: true });
    const record = recordStates(framework);
    const lost = nextState(framework, 'LOST');
    // Everything the server says from here on is swallowed; it was last heard no earlier than now.
    const silentFromMs = performance.now();
    await framework.exists('/loss');
    proxy.blackhole(true);
    proxy.dropAll();
    const lostChange = await lost;
    assert.ok(
      lostChange.atMs >= silentFromMs + negotiatedMs,
      `LOST ${lostChange.atMs - silentFromMs} ms after the last response, timeout ${negotiatedMs} ms`,
    );
    await assert.rejects(watch, SessionExpiredError);
    const reconnected = nextState(framework, 'RECONNECTED');
    proxy.blackhole(false);
    const change = await reconnected;
    record.stop();
    assert.deepEqual(
      record.changes.map((c) => c.state),
      ['SUSPENDED', 'LOST', 'RECONNECTED'],
    );
    assert.equal(lostChange.sessionId, oldSession);
    assert.notEqual(change.sessionId, oldSession, 'a new session');
    assert.equal(framework.sessionId, change.sessionId);
    await framework.create('/loss/eph2', { mode: 'EPHEMERAL' });
    assert.equal((await direct.exists('/loss/eph2'))?.ephemeralOwner, change.sessionId);
  });

  it('goes LOST when the server expires the session, then RECONNECTED with a new one', async () => {
    const framework = await viaProxy();
    const oldSession = framework.sessionId;
    await framework.create('/loss/expired-eph', { mode: 'EPHEMERAL' });
    const record = recordStates(framework);
    // Our server expires it through its own hook; Apache through a second connection that closes it.
    if (server.expireSession) await server.expireSession(oldSession);
    else await expireSession(framework.client);
    // On Apache the client may first win its session back for a moment (SUSPENDED, RECONNECTED
    // with the old session) before the close lands: what counts is LOST, then a new session.
    const afterLost = () => record.changes.slice(record.changes.findIndex((c) => c.state === 'LOST'));
    const reconnectedAfterLost = () => afterLost().some((c) => c.state === 'RECONNECTED');
    await eventually(() => afterLost()[0]?.state === 'LOST' && reconnectedAfterLost());
    record.stop();
    const lost = afterLost();
    const states = lost.map((c) => c.state).filter((state) => state !== 'SUSPENDED');
    assert.deepEqual(states, ['LOST', 'RECONNECTED']);
    assert.equal(lost[0].sessionId, oldSession);
    const change = lost.find((c) => c.state === 'RECONNECTED')!;
    assert.notEqual(change.sessionId, oldSession, 'a new session');
    assert.equal(await direct.exists('/loss/expired-eph'), null, 'the old session\'s ephemeral is gone');
  });
});
