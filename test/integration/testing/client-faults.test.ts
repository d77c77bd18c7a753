// Checks menagerie/testing's ClientFaults on our server and on Apache 3.8: a dropped connection is
// resumed on the same session, a partitioned client goes disconnected by its own read timeout while
// another client carries on, and after heal it resumes its session; a partition longer than the
// session ends in expiry.
import assert from 'node:assert/strict';
import { describe, it } from 'mocha';
import { ZooKeeperClient, type ConnectionState } from '../../../src/index.js';
import { ClientFaults, TestingServer } from '../../../server/testing/index.js';
import { apacheAvailable, startApache } from '../../support/apache.js';

/** Resolves with the first state of `type` the client reaches from now on (bounded). */
function nextState(client: ZooKeeperClient, type: ConnectionState['type'], timeoutMs = 20_000) {
  return new Promise<ConnectionState>((resolve, reject) => {
    const timer = setTimeout(() => {
      stop();
      reject(new Error(`no ${type} state within ${timeoutMs} ms (now ${client.state.type})`));
    }, timeoutMs);
    const stop = client.onStateChange((state) => {
      if (state.type !== type) return;
      clearTimeout(timer);
      stop();
      resolve(state);
    });
  });
}

interface Target {
  readonly connectString: string;
  [Symbol.asyncDispose](): PromiseLike<void>;
}

const targets: Array<{ name: string; start: () => Promise<Target>; available: () => boolean }> = [
  { name: 'ours', start: () => TestingServer.start(), available: () => true },
  { name: 'apache', start: () => startApache(), available: apacheAvailable },
];

for (const target of targets) {
  describe(`ClientFaults [${target.name}]`, function () {
    this.timeout(60_000);

    before(function () {
      if (!target.available()) {
        console.log('    (Apache ZooKeeper is not installed: skipping)');
        this.skip();
      }
    });

    it('a dropped connection is resumed on the same session', async () => {
      await using server = await target.start();
      const faults = new ClientFaults();
      await using client = new ZooKeeperClient({
        connectString: server.connectString,
        sessionTimeoutMs: 6_000,
        transport: faults.transport,
      });
      await client.connect();
      const sessionId = client.sessionId;
      const disconnected = nextState(client, 'disconnected');
      const reconnected = nextState(client, 'connected');
      faults.dropConnection();
      await disconnected;
      await reconnected;
      assert.equal(client.sessionId, sessionId);
      await client.create('/after-drop', 'x');
    });

    it('a partitioned client loses the server by its read timeout, then resumes after heal', async () => {
      await using server = await target.start();
      const faults = new ClientFaults();
      await using client = new ZooKeeperClient({
        connectString: server.connectString,
        sessionTimeoutMs: 6_000,
        transport: faults.transport,
      });
      await using other = new ZooKeeperClient({ connectString: server.connectString });
      await Promise.all([client.connect(), other.connect()]);
      const sessionId = client.sessionId;
      const disconnected = nextState(client, 'disconnected');
      faults.partition();
      await disconnected;
      assert.equal(faults.partitioned, true);
      await other.create('/while-partitioned', 'y'); // only this client is cut off
      const reconnected = nextState(client, 'connected');
      faults.heal();
      await reconnected;
      assert.equal(client.sessionId, sessionId, 'the same session, healed within its timeout');
      assert.equal(String((await client.getData('/while-partitioned')).data), 'y');
    });

    it('a partition longer than the session ends in expiry', async () => {
      await using server = await target.start();
      const faults = new ClientFaults();
      await using client = new ZooKeeperClient({
        connectString: server.connectString,
        sessionTimeoutMs: 4_000,
        transport: faults.transport,
      });
      await client.connect();
      const expired = nextState(client, 'expired', 30_000);
      faults.partition();
      await expired;
    });
  });
}
