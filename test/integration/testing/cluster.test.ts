// Checks menagerie/testing's TestingCluster: an ensemble over loopback TCP that finds its leader,
// runs observers, survives a killed and restarted member, keeps a framework's session and a Mutex
// working across a leader kill, expires sessions on demand, and always cleans up.
import assert from 'node:assert/strict';
import { describe, it } from 'mocha';
import { createFramework, exponentialBackoff, type Framework } from '../../../src/index.js';
import { Mutex } from '../../../recipes/index.js';
import { TestingCluster } from '../../../server/testing/index.js';
import { fourLetterWord } from '../../support/ports.js';

function connect(cluster: TestingCluster, sessionTimeoutMs = 10_000): Framework {
  return createFramework({
    connectString: cluster.connectString,
    sessionTimeoutMs,
    retry: exponentialBackoff({ baseSleepMs: 50, maxRetries: 20 }),
  });
}

describe('TestingCluster', function () {
  this.timeout(60_000);

  it('starts three members that agree on one leader', async () => {
    await using cluster = await TestingCluster.start();
    const leader = await cluster.leader();
    assert.deepEqual(cluster.members.map((m) => m.id), [1, 2, 3]);
    assert.deepEqual(
      cluster.members.map((m) => m.mode).sort(),
      ['follower', 'follower', 'leader'],
    );
    assert.equal(leader.mode, 'leader');
    const srvr = await fourLetterWord(leader.port, 'srvr');
    assert.match(srvr, /^Mode: leader$/m);
    assert.equal(cluster.connectString.split(',').length, 3);
  });

  it('runs observers that serve clients and forward their writes', async () => {
    await using cluster = await TestingCluster.start({ size: 1, observers: 1 });
    const observer = cluster.member(2);
    assert.equal(observer.role, 'observer');
    assert.equal(observer.mode, 'observer');
    await using zk = createFramework({ connectString: observer.connectString });
    await zk.blockUntilConnected();
    await zk.create('/via-observer'); // forwarded to the leader
    assert.ok(await zk.exists('/via-observer'));
  });

  it('kills a member and restarts it on the same port, caught up', async () => {
    await using cluster = await TestingCluster.start({ disk: true });
    const leader = await cluster.leader();
    const follower = cluster.members.find((m) => m !== leader)!;
    const port = follower.port;
    await using zk = createFramework({ connectString: leader.connectString });
    await zk.blockUntilConnected();
    await cluster.kill(follower);
    assert.equal(follower.running, false);
    assert.equal(follower.mode, 'not serving');
    await zk.create('/while-down', { data: Buffer.from('x') }); // two of three still form a quorum
    await cluster.restart(follower);
    assert.equal(follower.running, true);
    assert.equal(follower.port, port);
    await using reader = createFramework({ connectString: follower.connectString });
    await reader.blockUntilConnected();
    await reader.sync('/');
    assert.equal(String((await reader.getData('/while-down')).data), 'x');
  });

  it('keeps a client session and its ephemeral node across a leader kill', async () => {
    await using cluster = await TestingCluster.start();
    await using zk = connect(cluster);
    await zk.blockUntilConnected();
    const sessionId = zk.sessionId;
    await zk.create('/mine', { mode: 'EPHEMERAL' });
    const old = await cluster.leader();
    await cluster.kill(old);
    const next = await cluster.leader();
    assert.notEqual(next.id, old.id);
    await zk.create('/after-failover'); // retried until the new leader serves
    assert.equal(zk.sessionId, sessionId);
    assert.equal((await zk.exists('/mine'))?.ephemeralOwner, sessionId);
  });

  it('lets a Mutex be taken again after the leader is killed', async () => {
    await using cluster = await TestingCluster.start();
    await using a = connect(cluster);
    await using b = connect(cluster);
    await Promise.all([a.blockUntilConnected(), b.blockUntilConnected()]);
    const first = await new Mutex(a, '/locks/job').acquire({ timeoutMs: 10_000 });
    const waiting = new Mutex(b, '/locks/job').acquire({ timeoutMs: 30_000 });
    await cluster.kill(await cluster.leader());
    await cluster.leader();
    await first.release();
    await using second = await waiting;
    assert.ok(second.fencingToken > first.fencingToken);
  });

  it('expires a session through the leader', async () => {
    await using cluster = await TestingCluster.start();
    await using zk = connect(cluster);
    await zk.blockUntilConnected();
    await zk.create('/eph', { mode: 'EPHEMERAL' });
    await using watcher = connect(cluster);
    await watcher.blockUntilConnected();
    const lost = new Promise<void>((resolve) => {
      zk.onConnectionStateChange(({ state }) => state === 'LOST' && resolve());
    });
    await cluster.expireSession(zk.sessionId);
    await lost;
    await watcher.sync('/');
    assert.equal(await watcher.exists('/eph'), null);
  });

  it('stops every member when disposed, and stopping twice is harmless', async () => {
    const cluster = await TestingCluster.start({ size: 1 });
    const [only] = cluster.members;
    await cluster.stop();
    await cluster.stop();
    assert.equal(only!.running, false);
    await assert.rejects(fourLetterWord(only!.port, 'ruok'));
  });
});
