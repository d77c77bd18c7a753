// expireSession(client), the test helper that closes a client's session from a second connection:
// it repeats the attempt when the server hangs up before answering the close (on Apache, the
// client can take its session back at that instant), and resolves once a close was confirmed.
import assert from 'node:assert/strict';
import { describe, it } from 'mocha';
import { ZooKeeperClient, expireSession } from '../../../src/index.js';
import { startFakeServer } from './support/fake-server.js';

describe('expireSession test helper', function () {
  it('tries again when the server hangs up without answering the close', async () => {
    // Connection 0 is the client's; 1 is the helper's first attempt (dropped), 2 its second.
    await using server = await startFakeServer((n) => (n === 1 ? 'dropClose' : 'good'));
    await using client = new ZooKeeperClient({ connectString: server.connectString });
    await client.connect();
    await expireSession(client);
    const resumes = server.connectRequests.slice(1);
    assert.ok(resumes.length >= 2, `attempts: ${resumes.length}`);
    assert.ok(resumes.every((r) => r.sessionId === client.sessionId));
  });

  it('resolves after one attempt when the server answers the close', async () => {
    await using server = await startFakeServer(() => 'good');
    await using client = new ZooKeeperClient({ connectString: server.connectString });
    await client.connect();
    await expireSession(client);
    assert.equal(server.connectRequests.filter((r) => r.sessionId === client.sessionId).length, 1);
  });
});
