// The framework's shell on the test kit's virtual clock with fake clients: client states become
// framework states, SUSPENDED turns LOST one session timeout later by the framework's own timer, LOST
// replaces the client by a new session whose connection is RECONNECTED, watches of the lost
// session end, and operations wait (in virtual time) for a connection before they run.
import assert from 'node:assert/strict';
import { describe, it } from 'mocha';
import {
  ConnectionLossError,
  SessionExpiredError,
  createFramework,
  retryNTimes,
  type ConnectionState,
  type ZooKeeperClient,
} from '../../../src/index.js';
import { VirtualClock } from '../../../server/testing/index.js';

/** Lets every promise job that is ready run (a macrotask turn drains them all). */
async function settle(): Promise<void> {
  await new Promise((resolve) => setImmediate(resolve));
}

class FakeClient {
  static made: FakeClient[] = [];
  private listeners = new Set<(state: ConnectionState) => void>();
  isConnected = false;
  sessionId = 0n;
  closed = false;
  dataWatches: Array<(event: unknown) => void> = [];
  constructor() {
    FakeClient.made.push(this);
  }
  onStateChange(listener: (state: ConnectionState) => void) {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
  connect = async () => undefined;
  addAuth = async () => undefined;
  close = async () => {
    this.closed = true;
  };
  async getData(_path: string, options: { watch?: (event: unknown) => void } = {}) {
    if (!this.isConnected) throw new ConnectionLossError();
    if (options.watch) this.dataWatches.push(options.watch);
    return { data: Buffer.from('d'), stat: {} };
  }
  connectAs(sessionId: bigint) {
    this.isConnected = true;
    this.sessionId = sessionId;
    const host = { host: '127.0.0.1', port: 2181 };
    this.emit({ type: 'connected', sessionId, host, negotiatedTimeoutMs: 10_000 } as ConnectionState);
  }
  disconnect() {
    this.isConnected = false;
    this.emit({ type: 'disconnected' });
  }
  private emit(state: ConnectionState) {
    for (const listener of this.listeners) listener(state);
  }
}

function start(clock: VirtualClock) {
  FakeClient.made = [];
  return createFramework({
    connectString: '127.0.0.1:2181',
    connectionTimeoutMs: 1000,
    retry: retryNTimes(3, 500),
    clock,
    clientFactory: () => new FakeClient() as unknown as ZooKeeperClient,
  });
}

describe('framework shell on a virtual clock', () => {
  it('goes SUSPENDED, LOST by its own timer, then RECONNECTED on a new session', async () => {
    const clock = new VirtualClock(0);
    const framework = start(clock);
    const states: string[] = [];
    framework.onConnectionStateChange((change) => states.push(`${change.state}:${change.sessionId}`));
    const first = FakeClient.made[0];
    first.connectAs(1n);
    const { watch } = await framework.getData('/w', { watch: true });
    first.disconnect();
    await clock.advance(9_999);
    assert.deepEqual(states, ['CONNECTED:1', 'SUSPENDED:1']);
    await clock.advance(1);
    assert.deepEqual(states, ['CONNECTED:1', 'SUSPENDED:1', 'LOST:1']);
    await assert.rejects(watch, SessionExpiredError);
    assert.equal(FakeClient.made.length, 2, 'a new client for a new session');
    assert.ok(first.closed, 'the client of the lost session is closed');
    FakeClient.made[1].connectAs(2n);
    assert.deepEqual(states, ['CONNECTED:1', 'SUSPENDED:1', 'LOST:1', 'RECONNECTED:2']);
    assert.equal(framework.sessionId, 2n);
    await framework.close();
    assert.equal(clock.pendingTimers, 0, 'no timer left');
  });

  it('runs an operation once a connection comes, waiting in virtual time', async () => {
    const clock = new VirtualClock(0);
    const framework = start(clock);
    let done = false;
    const reading = framework.getData('/x').then((result) => {
      done = true;
      return result;
    });
    await settle();
    await clock.advance(1000); // the first wait for a connection times out: a retry after 500 ms
    assert.ok(!done);
    await clock.advance(700);
    FakeClient.made[0].connectAs(1n);
    await settle();
    assert.equal((await reading).data?.toString(), 'd');
    await framework.close();
  });

  it('gives up with ConnectionLoss when no connection comes within the policy', async () => {
    const clock = new VirtualClock(0);
    const framework = start(clock);
    const reading = framework.getData('/x');
    reading.catch(() => undefined);
    // Four waits of 1000 ms and three sleeps of 500 ms: 5500 ms.
    let failed = false;
    reading.catch(() => (failed = true));
    await settle(); // the call reaches its first wait for a connection
    await clock.advance(5_499);
    assert.ok(!failed, 'still waiting just before the last wait ends');
    await clock.advance(1);
    await assert.rejects(reading, ConnectionLossError);
    await framework.close();
    assert.equal(clock.pendingTimers, 0);
  });
});
