// Goal: over TCP, the followers of a leader that goes away leave it on the broken connection (the
// transport's lost-connection report feeds the quorum core's linkLost input), not on the syncLimit
// timeout, and elect a new leader that takes writes; syncLimit here is far longer than the test.
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { describe, it } from 'mocha';
import { pino } from 'pino';
import { ZooKeeperClient } from '../../../../src/index.js';
import { startEnsemble } from '../../../../server/ensemble/server.js';

/** A logger whose 'role changed' lines are kept as `myId: reason`. */
function roleLog(): { logger: pino.Logger; reasons: string[] } {
  const reasons: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split('\n')) {
        if (!line.includes('"role changed"')) continue;
        const entry = JSON.parse(line) as { myId: number; reason: string };
        reasons.push(`${entry.myId}: ${entry.reason}`);
      }
      done();
    },
  });
  return { logger: pino({ level: 'info' }, sink), reasons };
}

describe('ensemble in process: a broken leader connection (tcp)', function () {
  this.timeout(20_000);

  it('the followers look again at once and elect a leader that takes writes', async () => {
    const { logger, reasons } = roleLog();
    // syncLimit = 60 ticks of 1 s: the silent-leader timeout cannot be what moves the followers.
    await using ensemble = await startEnsemble({
      size: 3, transport: 'tcp', tickTimeMs: 1000, initLimitTicks: 60, syncLimitTicks: 60, logger,
    });
    const leader = await ensemble.settled();
    const followers = [...ensemble.members.keys()].filter((id) => id !== leader.myId);
    await ensemble.stopMember(leader.myId);
    const next = await ensemble.settled();
    assert.ok(followers.includes(next.myId));
    for (const id of followers) {
      assert.ok(reasons.includes(`${id}: the connection to the leader broke`), reasons.join('\n'));
    }
    await using client = new ZooKeeperClient({ connectString: ensemble.connectString });
    await client.connect();
    await client.create('/after-failover', 'yes');
    const seen = await client.getData('/after-failover');
    assert.equal(String(seen.data), 'yes');
  });
});
