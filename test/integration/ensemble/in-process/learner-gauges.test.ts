// Goal: the leader's learner gauges come from its quorum peer and count what Apache 3.8's leader
// counts: learners connected, followers and observers the broadcast goes to, and pending_syncs as the
// distinct zxids that learners' syncs wait for while proposals are outstanding.
import assert from 'node:assert/strict';
import { describe, it } from 'mocha';
import { ZooKeeperClient } from '../../../../src/index.js';
import { MemoryNetwork } from '../../../../server/ensemble/memory.js';
import { startEnsemble, type RunningMember } from '../../../../server/ensemble/server.js';
import { fourLetterWord } from '../../../support/ports.js';

async function gauge(member: RunningMember, name: string): Promise<number> {
  const lines = (await fourLetterWord(member.port, 'mntr')).split('\n');
  const line = lines.find((l) => l.startsWith(`zk_${name}\t`));
  assert.ok(line !== undefined, `mntr has zk_${name}`);
  return Number(line.split('\t')[1]);
}

/** Polls `read` until it gives `want` (bounded): the state it waits for comes from peer messages. */
async function until(read: () => Promise<number>, want: number, what: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const value = await read();
    if (value === want) return;
    assert.ok(Date.now() < deadline, `${what} stayed ${value}, expected ${want}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('ensemble in process: the leader\'s learner gauges', function () {
  this.timeout(20_000);

  it('counts learners, synced followers and observers, and learners\' syncs pending', async () => {
    const network = new MemoryNetwork();
    // A long syncLimit: the cut-off leader keeps leading while the test looks at it.
    await using ensemble = await startEnsemble({
      size: 3,
      observers: 1,
      network,
      tickTimeMs: 500,
      initLimitTicks: 20,
      syncLimitTicks: 20,
      serverOptions: { fourLetterWordsEnabled: '*' },
    });
    const leader = await ensemble.settled();
    const observer = [...ensemble.members.values()].find((m) => m.mode === 'observer')!;
    assert.equal(await gauge(leader, 'learners'), 3);
    assert.equal(await gauge(leader, 'synced_followers'), 2);
    assert.equal(await gauge(leader, 'synced_non_voting_followers'), 0);
    assert.equal(await gauge(leader, 'synced_observers'), 1);
    assert.equal(await gauge(leader, 'pending_syncs'), 0);

    const clients = Array.from({ length: 4 }, () =>
      new ZooKeeperClient({ connectString: observer.connectString, sessionTimeoutMs: 20_000 }));
    const [writer, syncA, syncB, syncC] = clients as [
      ZooKeeperClient, ZooKeeperClient, ZooKeeperClient, ZooKeeperClient,
    ];
    // These never complete here; their failure when the ensemble stops is expected.
    const waiting: Array<Promise<unknown>> = [];
    const hold = (request: Promise<unknown>) => waiting.push(request.catch(() => undefined));
    const outstanding = async () => Number(leader.status()!.lastZxid - leader.status()!.committedZxid);
    try {
      for (const c of clients) await c.connect();
      // The followers no longer hear the leader: its proposals stay outstanding.
      network.partition([leader.myId, observer.myId]);
      hold(writer.create('/stuck-1'));
      await until(outstanding, 1, 'outstanding proposals');
      // Two learner syncs waiting for the same zxid count once (Apache keeps a map by zxid).
      hold(syncA.sync('/'));
      hold(syncB.sync('/'));
      hold(writer.create('/stuck-2'));
      await until(outstanding, 2, 'outstanding proposals');
      hold(syncC.sync('/'));
      await until(() => gauge(leader, 'pending_syncs'), 2, 'pending_syncs');
      assert.equal(await gauge(leader, 'learners'), 3);
    } finally {
      await ensemble.stop();
      for (const c of clients) await c.close().catch(() => {});
      await Promise.all(waiting);
    }
  });
});
