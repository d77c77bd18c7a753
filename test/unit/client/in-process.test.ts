// The client on the test kit's in-process server and virtual clock: its own connection code runs
// over in-memory sockets, watches survive a dropped connection, the read timeout and client-side
// expiry fire at exactly their protocol times, and a connect attempt into a partition times out.
import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'mocha';
import { SessionExpiredError, ZooKeeperClient, type ConnectionState } from '../../../src/index.js';
import { InProcessServer, VirtualClock } from '../../../server/testing/index.js';

describe('client on the in-process server', () => {
  const open: Array<{ close(): Promise<unknown> }> = [];

  afterEach(async () => {
    for (const thing of open.splice(0).reverse()) await thing.close();
  });

  async function setUp(sessionTimeoutMs = 6000) {
    const server = new InProcessServer({ clock: new VirtualClock(0) });
    open.push(server);
    const connect = async () => {
      const options = { ...server.clientOptions(), sessionTimeoutMs, reconnectDelayMaxMs: 10 };
      const client = new ZooKeeperClient(options);
      open.push(client);
      await client.connect();
      return client;
    };
    return { server, clock: server.clock, connect };
  }

  it('keeps the session and its watches across a dropped connection', async () => {
    const { server, clock, connect } = await setUp();
    const client = await connect();
    const other = await connect();
    await client.create('/w', 'a');
    const { watch } = await client.getData('/w', { watch: true });
    const session = client.sessionId;
    server.dropConnections();
    await clock.advanceUntil(() => client.state.type === 'connected' && other.state.type === 'connected');
    assert.equal(client.sessionId, session);
    await other.setData('/w', 'b');
    assert.deepEqual(await watch, { type: 'nodeDataChanged', path: '/w' });
  });

  it('declares the connection dead at 2/3 of the timeout and the session at the whole timeout', async () => {
    const { server, clock, connect } = await setUp(6000);
    const client = await connect();
    await client.create('/e', null, { mode: 'EPHEMERAL' });
    const { watch } = await client.getData('/e', { watch: true });
    const states: string[] = [];
    const fromMs = clock.nowMs();
    client.onStateChange((state: ConnectionState) => {
      const heard = state.type === 'disconnected' ? `,heard@${(state.lastHeardMs ?? NaN) - fromMs}` : '';
      states.push(`${state.type}@${clock.nowMs() - fromMs}${heard}`);
    });
    server.partition();
    await clock.advance(3999);
    assert.deepEqual(states, []);
    await clock.advance(1);
    assert.deepEqual(states, ['disconnected@4000,heard@0']);
    // Reconnect attempts go nowhere (they wait for the partition to heal); at 6000 the session is over.
    await clock.advance(2000);
    assert.deepEqual(states, ['disconnected@4000,heard@0', 'expired@6000', 'closed@6000']);
    await assert.rejects(watch, SessionExpiredError);
    assert.ok((await client.closed()) instanceof SessionExpiredError, 'closed() says why');
  });

  it('times out a connect attempt into a partition after connectTimeoutMs', async () => {
    const { server, clock } = await setUp();
    server.partition();
    const options = { ...server.clientOptions(), sessionTimeoutMs: 6000, connectTimeoutMs: 1500 };
    const client = new ZooKeeperClient(options);
    open.push(client);
    let failure: unknown = 'pending';
    const connecting = client.connect({ timeoutMs: 1500 }).catch((error: unknown) => (failure = error));
    await clock.advance(1499);
    assert.equal(failure, 'pending');
    await clock.advance(1);
    await connecting;
    assert.match(String(failure), /1500 ms/);
    server.heal();
    await clock.advanceUntil(() => client.isConnected, { limitMs: 5000 });
  });
});
