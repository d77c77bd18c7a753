// The Apache ZooKeeper fixture itself: it starts on a free port, answers four-letter words, and stops.
import assert from 'node:assert/strict';
import { describe, it } from 'mocha';
import { apacheAvailable, startApache } from '../support/apache.js';
import { fourLetterWord } from '../support/ports.js';

describe('Apache ZooKeeper fixture', function () {
  before(function () {
    if (!apacheAvailable()) {
      console.log('    (Apache ZooKeeper is not installed: skipping; .ci/run installs it)');
      this.skip();
    }
  });

  it('starts, reports version 3.8 and stops', async function () {
    this.timeout(60_000);
    await using server = await startApache();
    const srvr = await fourLetterWord(server.port, 'srvr');
    assert.match(srvr, /Zookeeper version: 3\.8\./);
    assert.match(srvr, /Mode: standalone/);
  });
});
