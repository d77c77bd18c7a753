// Goal: through a real server and our client, menagerie.watchesPerSessionMax refuses the watch past
// the limit with QuotaExceeded while the session stays whole (same session, later reads and writes
// and the watches it holds all work), and without the key a session registers any number of watches.
import assert from 'node:assert/strict';
import { describe, it } from 'mocha';
import { ZooKeeperClient } from '../../src/index.js';
import { QuotaExceededError } from '../../src/protocol/index.js';
import { startServer } from '../../server/index.js';
import { fourLetterWord } from '../support/ports.js';

describe('watches per session against a real server', function () {
  this.timeout(30_000);

  it('past menagerie.watchesPerSessionMax: QuotaExceeded, and the session is unharmed', async () => {
    await using server = await startServer({ watchesPerSessionMax: 2 });
    await using client = new ZooKeeperClient({ connectString: server.connectString });
    await client.connect();
    for (const path of ['/a', '/b', '/c']) await client.create(path, 'v');
    const sessionId = client.sessionId;
    const a = await client.getData('/a', { watch: true });
    await client.exists('/b', { watch: true });
    await assert.rejects(client.getData('/c', { watch: true }), QuotaExceededError);
    await assert.rejects(client.getChildren('/', { watch: true }), QuotaExceededError);
    assert.equal(String((await client.getData('/c')).data), 'v');
    await client.setData('/a', 'changed');
    const event = await a.watch;
    assert.equal(event.path, '/a');
    // The fired watch freed its slot.
    await client.getData('/c', { watch: true });
    assert.equal(client.sessionId, sessionId);
    assert.equal(client.state.type, 'connected');
  });

  it('without the key (as Apache) one session holds 3,000 watches', async () => {
    await using server = await startServer({ fourLetterWordsEnabled: ['wchs'] });
    await using client = new ZooKeeperClient({ connectString: server.connectString });
    await client.connect();
    await Promise.all(Array.from({ length: 3_000 }, (_, i) => client.exists(`/w${i}`, { watch: true })));
    assert.equal(client.state.type, 'connected');
    assert.match(await fourLetterWord(server.port, 'wchs'), /Total watches:3000/);
  });
});
