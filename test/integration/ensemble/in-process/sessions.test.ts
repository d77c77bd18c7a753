// Sessions and serving in an in-process ensemble: a learner's client keeps its session alive through
// the leader (touches on ping replies), the leader expires a session whose client is gone and its
// ephemerals vanish everywhere, a member without a quorum stops serving (4lw say so) and serves again
// when a member comes back, a restarted member catches up with what it missed, and a write from a
// connection whose session moved to another member is refused (SessionMoved closes it, as Apache),
// and the leader's container manager deletes an emptied container for every member.
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { pino } from 'pino';
import { describe, it } from 'mocha';
import { ConnectionLossError, ZooKeeperClient } from '../../../../src/index.js';
import {
  startEnsemble,
  type RunningEnsemble,
  type RunningMember,
} from '../../../../server/ensemble/server.js';
import { fourLetterWord } from '../../../support/ports.js';

const SEAMS = [
  { transport: 'memory', storage: 'memory' },
  { transport: 'tcp', storage: 'disk' },
] as const;

function client(member: RunningMember, sessionTimeoutMs = 4000): ZooKeeperClient {
  return new ZooKeeperClient({ connectString: member.connectString, sessionTimeoutMs });
}

function followers(ensemble: RunningEnsemble): RunningMember[] {
  return [...ensemble.members.values()].filter((m) => m.mode === 'follower');
}

describe('ensemble in process: sessions and serving', function () {
  this.timeout(20_000);

  it('keeps a follower\'s session alive past its timeout while its client pings', async () => {
    await using ensemble = await startEnsemble({ size: 3 });
    const leader = await ensemble.settled();
    await using c = client(followers(ensemble)[0]!, 300);
    await c.connect();
    await c.create('/alive', null, { mode: 'EPHEMERAL' });
    await sleep(1500); // five session timeouts: only the touches reported to the leader keep it
    await using watcher = client(leader);
    await watcher.connect();
    assert.notEqual(await watcher.exists('/alive'), null);
    assert.equal(c.state.type, 'connected');
  });

  it('expires on the leader a session whose follower went away; its ephemerals go everywhere', async () => {
    await using ensemble = await startEnsemble({ size: 3 });
    const leader = await ensemble.settled();
    const [lost, kept] = followers(ensemble);
    await using owner = client(lost!, 400);
    await owner.connect();
    await owner.create('/doomed', null, { mode: 'EPHEMERAL' });
    await using watcher = client(kept!);
    await watcher.connect();
    await watcher.sync('/doomed');
    const watched = await watcher.exists('/doomed', { watch: true });
    assert.notEqual(watched.stat, null);
    await ensemble.stopMember(lost!.myId);
    const event = await watched.watch;
    assert.equal(event.type, 'nodeDeleted');
    await using onLeader = client(leader);
    await onLeader.connect();
    assert.equal(await onLeader.exists('/doomed'), null);
  });

  it('stops serving without a quorum, says so in srvr and stat, and serves again with one', async () => {
    await using ensemble = await startEnsemble({ size: 3, serverOptions: { fourLetterWordsEnabled: '*' } });
    await ensemble.settled();
    const [kept, stopped] = followers(ensemble);
    const leader = ensemble.leader()!;
    {
      await using c = client(kept!);
      await c.connect();
      await c.create('/kept', 'k');
    }
    await ensemble.stopMember(leader.myId);
    await ensemble.stopMember(stopped!.myId);
    while (kept!.mode !== 'not serving') await kept!.member.roleChanged();
    const notServing = 'This ZooKeeper instance is not currently serving requests\n';
    assert.equal(await fourLetterWord(kept!.port, 'srvr'), notServing);
    assert.equal(await fourLetterWord(kept!.port, 'stat'), notServing);
    assert.equal(await fourLetterWord(kept!.port, 'ruok'), 'imok');
    await ensemble.restartMember(stopped!.myId);
    await ensemble.settled();
    await using c = client(kept!);
    await c.connect();
    assert.equal(String((await c.getData('/kept')).data), 'k');
  });

  for (const seams of SEAMS) {
    for (const committedLogMax of [500, 5]) {
      const how = committedLogMax === 5 ? 'a snapshot (SNAP)' : 'the missed txns (DIFF)';
      const seamsName = `${seams.transport}/${seams.storage}`;
      it(`brings a restarted member up to date with ${how} on ${seamsName}`, async () => {
        const installs: number[] = []; // the members that installed a snapshot from the leader
        const syncs: string[] = []; // the sync modes learners logged
        const logs = new Writable({
          write(line: Buffer, _encoding, done) {
            const entry = JSON.parse(line.toString()) as { msg: string; myId: number };
            if (entry.msg === 'installed a snapshot from the leader') installs.push(entry.myId);
            if (/^sync with the leader: /.test(entry.msg)) syncs.push(entry.msg.slice(-4).trim());
            done();
          },
        });
        const logger = pino({ level: 'info' }, logs);
        const quorum = { committedLogMax };
        await using ensemble = await startEnsemble({ size: 3, ...seams, quorum, logger });
        await ensemble.settled();
        const absent = followers(ensemble)[0]!;
        await using c = client(ensemble.leader()!);
        await c.connect();
        await c.create('/early', 'e');
        await c.create('/eph', 'e', { mode: 'EPHEMERAL' });
        await ensemble.stopMember(absent.myId);
        for (let i = 0; i < 20; i++) await c.create(`/missed-${i}`, String(i));
        installs.length = 0;
        syncs.length = 0;
        const back = await ensemble.restartMember(absent.myId);
        await back.serving();
        assert.deepEqual(installs, committedLogMax === 5 ? [absent.myId] : []);
        assert.deepEqual(syncs, [committedLogMax === 5 ? 'SNAP' : 'DIFF']);
        await using reader = client(back);
        await reader.connect();
        await reader.sync('/');
        const children = (await reader.getChildren('/')).children.filter((name) => name !== 'zookeeper');
        assert.equal(children.length, 22);
        assert.equal(String((await reader.getData('/missed-19')).data), '19');
        // The session came along too: closing it removes its ephemeral on the restarted member.
        await c.close();
        await reader.sync('/');
        assert.equal(await reader.exists('/eph'), null);
      });
    }
  }

  it('refuses a write from the old connection of a session that moved to another member', async () => {
    await using ensemble = await startEnsemble({ size: 3 });
    await ensemble.settled();
    const [first, second] = followers(ensemble);
    await using old = client(first!);
    await old.connect();
    await old.create('/owned', 'o');
    await using moved = new ZooKeeperClient({
      connectString: second!.connectString,
      sessionTimeoutMs: 4000,
      sessionId: old.sessionId,
      sessionPassword: old.sessionPassword,
    });
    await moved.connect();
    assert.equal(moved.sessionId, old.sessionId);
    await moved.setData('/owned', 'm');
    await assert.rejects(old.setData('/owned', 'stale'), ConnectionLossError);
    await moved.sync('/owned');
    assert.equal(String((await moved.getData('/owned')).data), 'm');
  });

  it('expires a session on request through the leader; a follower refuses to', async () => {
    await using ensemble = await startEnsemble({ size: 3 });
    await ensemble.settled();
    const follower = followers(ensemble)[0]!;
    await using c = client(follower);
    await c.connect();
    await c.create('/short-lived', null, { mode: 'EPHEMERAL' });
    await assert.rejects(follower.expireSession(c.sessionId), /only the leader/);
    const expired = c.closed();
    await ensemble.expireSession(c.sessionId);
    assert.match(String(await expired), /expired/i);
    await using reader = client(follower);
    await reader.connect();
    await reader.sync('/');
    assert.equal(await reader.exists('/short-lived'), null);
  });

  it('lets the leader delete an emptied container, and every member sees it go', async () => {
    await using ensemble = await startEnsemble({ size: 3, serverOptions: { containerCheckIntervalMs: 100 } });
    await ensemble.settled();
    await using c = client(followers(ensemble)[0]!);
    await c.connect();
    await c.create('/box', null, { mode: 'CONTAINER' });
    await c.create('/box/item');
    const gone = await c.exists('/box', { watch: true });
    assert.notEqual(gone.stat, null);
    await c.delete('/box/item');
    assert.equal((await gone.watch).type, 'nodeDeleted');
  });
});
