// Goal: the Curator 5.4 harness drives real Curator against Apache ZooKeeper 3.8, and what Curator writes
// for each recipe (node names, node data) is exactly what our pure recipe formats read, with the same
// decisions Curator made (who holds, who waits, who leads); our own writes are read back by Curator, and
// nodes created by our names, acted on by our decisions, share locks, leadership and leases with Curator.
// With RECORD_CURATOR_FIXTURES=1 it also rewrites test/unit/recipes/fixtures/curator-5.4.json, which
// the unit tests check without a JVM.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { describe, it } from 'mocha';
import { decideContender, describeContenders, mutexPolicy, readWritePolicy } from '../../recipes/locks/contenders.js';
import { downgradeReadNodeName, NodeMarker, parseContenderName, protectedNodeName } from
  '../../recipes/locks/node-names.js';
import { decideLease, semaphorePaths } from '../../recipes/locks/semaphore-leases.js';
import { decideLeadership, describeParticipants, encodeParticipantId, participantNodeName } from
  '../../recipes/leader/participants.js';
import { decodeServiceInstance, encodeServiceInstance } from '../../recipes/discovery/instance-format.js';
import { decodeAtomicLong, decodeSharedCount, encodeAtomicLong, encodeSharedCount } from
  '../../recipes/counters/formats.js';
import { decodeQueueItems, parseDelayUntil, parsePriority, parseIdItem } from '../../recipes/queues/formats.js';
import { apacheAvailable, startApache } from '../support/apache.js';
import { curatorAvailable, startCurator, type CuratorHarness } from '../support/curator.js';

const FIXTURE = new URL('../unit/recipes/fixtures/curator-5.4.json', import.meta.url);

/** Polls `read` until `done` holds: for states Curator reaches in the background (a queued contender). */
async function until<T>(read: () => Promise<T>, done: (value: T) => boolean, what: string): Promise<T> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(value)}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

async function nodesWithData(curator: CuratorHarness, path: string) {
  const children = (await curator.children(path)).sort();
  const nodes: Array<{ nodeName: string; dataHex: string; ephemeralOwner: string }> = [];
  for (const nodeName of children) {
    const read = await curator.get(`${path}/${nodeName}`);
    nodes.push({ nodeName, dataHex: read.data.toString('hex'), ephemeralOwner: read.ephemeralOwner.toString() });
  }
  return nodes;
}

describe('Curator 5.4 harness against Apache ZooKeeper 3.8', function () {
  this.timeout(60_000);
  const recorded: Record<string, unknown> = { curator: '5.4.0', zookeeper: '3.8' };

  before(function () {
    if (!apacheAvailable() || !curatorAvailable()) {
      console.log('    (Apache ZooKeeper or Curator jars/javac missing: skipping)');
      this.skip();
    }
  });

  it('records what each Curator recipe writes and reads it with our formats', async function () {
    await using zk = await startApache();
    await using curator = await startCurator(zk.connectString);
    const otherSession = await curator.connect(zk.connectString, { client: 'b' });
    assert.notEqual(otherSession, curator.sessionId);

    // Mutex: the first contender holds, the second watches it; both names parse as Curator's.
    const held = await curator.mutexAcquire('m1', '/interop/mutex');
    assert.equal(held.acquired, true);
    const waiting = curator.mutexAcquire('m2', '/interop/mutex', { client: 'b', waitMs: 15_000 });
    const mutexChildren = await until(() => curator.children('/interop/mutex'), (c) => c.length === 2, 'a waiter');
    const holderNode = held.lockPath!.split('/').pop()!;
    const waiterNode = mutexChildren.find((c) => c !== holderNode)!;
    assert.deepEqual(decideContender(mutexChildren, holderNode, mutexPolicy), { kind: 'acquired', position: 0 });
    assert.deepEqual(decideContender(mutexChildren, waiterNode, mutexPolicy), {
      kind: 'watch',
      predecessor: holderNode,
      position: 1,
    });
    recorded.mutex = { path: '/interop/mutex', holder: holderNode, waiter: waiterNode,
      nodes: await nodesWithData(curator, '/interop/mutex') };
    await curator.mutexRelease('m1');
    const handedOver = await waiting;
    assert.equal(handedOver.lockPath, `/interop/mutex/${waiterNode}`);
    await curator.mutexRelease('m2');

    // Read/write lock: a writer, its downgrade read node, and another client's reader queued behind.
    const write = await curator.rwAcquire('rw1', '/interop/rw', 'write');
    const downgrade = await curator.rwAcquire('rw1', '/interop/rw', 'read');
    assert.equal(downgrade.acquired, true);
    const reader = curator.rwAcquire('rw2', '/interop/rw', 'read', { client: 'b', waitMs: 15_000 });
    const rwChildren = await until(() => curator.children('/interop/rw'), (c) => c.length === 3, 'a queued reader');
    const writeNode = write.lockPath!.split('/').pop()!;
    const downgradeNode = downgrade.lockPath!.split('/').pop()!;
    const readerNode = rwChildren.find((c) => c !== writeNode && c !== downgradeNode)!;
    assert.equal(parseContenderName(writeNode, [NodeMarker.read, NodeMarker.write])?.marker, NodeMarker.write);
    assert.deepEqual(decideContender(rwChildren, downgradeNode, readWritePolicy, { heldByUs: [writeNode] }).kind,
      'acquired');
    assert.deepEqual(decideContender(rwChildren, readerNode, readWritePolicy), {
      kind: 'watch',
      predecessor: writeNode,
      position: 2,
    });
    recorded.readWrite = { path: '/interop/rw', write: writeNode, downgradeRead: downgradeNode, waitingRead: readerNode,
      nodes: await nodesWithData(curator, '/interop/rw') };
    await curator.rwRelease('rw1', 'write');
    assert.equal((await reader).acquired, true);
    assert.deepEqual(describeContenders(await curator.children('/interop/rw'), readWritePolicy).map((s) => s.holds),
      [true, true]);
    await curator.rwRelease('rw1', 'read');
    await curator.rwRelease('rw2', 'read');

    // Semaphore V2 with 2 leases: two holders, a third acquire times out; leases/ counts as Curator counts.
    const { leasesPath, locksPath } = semaphorePaths('/interop/semaphore');
    const lease1 = await curator.semaphoreAcquire('s1', '/interop/semaphore', 2);
    const lease2 = await curator.semaphoreAcquire('s2', '/interop/semaphore', 2, { client: 'b' });
    const third = await curator.semaphoreAcquire('s3', '/interop/semaphore', 2, { waitMs: 200 });
    assert.equal(third.acquired, false);
    const leaseChildren = await curator.children(leasesPath);
    assert.deepEqual(leaseChildren.sort(), [lease1.leaseNode, lease2.leaseNode].sort());
    assert.deepEqual(decideLease(leaseChildren, lease2.leaseNode!, 2), { kind: 'acquired' });
    assert.deepEqual(decideLease([...leaseChildren, 'x'], lease2.leaseNode!, 2), { kind: 'wait', leaseCount: 3 });
    recorded.semaphore = { path: '/interop/semaphore', maxLeases: 2, leases: await nodesWithData(curator, leasesPath),
      locks: await curator.children(locksPath), rootChildren: (await curator.children('/interop/semaphore')).sort() };
    await curator.semaphoreRelease('s1');
    await curator.semaphoreRelease('s2');

    // Leader latch: alpha leads, beta watches alpha; ids are the node data.
    await curator.latchStart('alpha', '/interop/latch', 'alpha');
    const leading = await curator.nextLeadership('alpha', true);
    await curator.latchStart('beta', '/interop/latch', 'beta', { client: 'b' });
    const latchChildren = await until(() => curator.children('/interop/latch'), (c) => c.length === 2, 'two latches');
    const alphaNode = String(leading.ourPath).split('/').pop()!;
    const betaNode = latchChildren.find((c) => c !== alphaNode)!;
    assert.deepEqual(decideLeadership('latch', latchChildren, alphaNode), { kind: 'acquired', position: 0 });
    assert.deepEqual(decideLeadership('latch', latchChildren, betaNode), {
      kind: 'watch',
      predecessor: alphaNode,
      position: 1,
    });
    const latchNodes = await nodesWithData(curator, '/interop/latch');
    const participants = describeParticipants('latch', latchNodes.map((n) => ({
      nodeName: n.nodeName,
      data: Buffer.from(n.dataHex, 'hex'),
    })));
    const curatorView = await curator.latchState('beta');
    assert.deepEqual(participants.map(({ id, isLeader }) => ({ id, isLeader })), curatorView.participants);
    recorded.latch = { path: '/interop/latch', leader: alphaNode, nodes: latchNodes };
    await curator.latchClose('alpha');
    await curator.nextLeadership('beta', true);
    await curator.latchClose('beta');

    // Discovery: Curator's JSON reads with our decoder; ours reads with Curator's (enabled, payload, extras).
    await curator.register({ basePath: '/interop/services', name: 'api', id: 'java-1', address: '10.0.0.1',
      port: 8080, registrationTimeUTC: 1_700_000_000_000, payload: { zone: 'eu-1', weight: 3 } });
    await curator.register({ basePath: '/interop/services', name: 'api', id: 'java-2', address: '10.0.0.2',
      port: 8080, sslPort: 8443, registrationTimeUTC: 1_700_000_000_001 });
    const javaNodes = await nodesWithData(curator, '/interop/services/api');
    for (const node of javaNodes) {
      const decoded = decodeServiceInstance(Buffer.from(node.dataHex, 'hex'), {
        expected: { name: 'api', id: node.nodeName },
      });
      assert.ok(decoded.ok, JSON.stringify(decoded));
      assert.equal(decoded.instance.status, 'up');
      assert.equal(BigInt(node.ephemeralOwner), curator.sessionId);
    }
    const ours = encodeServiceInstance({ name: 'api', id: 'node-1', address: '10.0.0.3', port: 9090, sslPort: null,
      payload: { region: 'eu' }, registrationTimeUTC: 1_700_000_000_002, serviceType: 'DYNAMIC', uriSpec: null,
      status: 'draining', zone: 'eu-1a', weight: 2, version: '1.4.2', metadata: { team: 'billing' } });
    await curator.create('/interop/services/api/node-1', ours, 'EPHEMERAL', { client: 'b' });
    const viewed = await curator.instances('/interop/services', 'api');
    const node1 = viewed.find((i) => i.id === 'node-1');
    assert.deepEqual(node1, { name: 'api', id: 'node-1', address: '10.0.0.3', port: 9090, sslPort: null,
      payload: { region: 'eu' }, registrationTimeUTC: 1_700_000_000_002, serviceType: 'DYNAMIC', enabled: false,
      payloadClass: 'java.util.LinkedHashMap' });
    assert.deepEqual(viewed.map((i) => i.id).sort(), ['java-1', 'java-2', 'node-1']);
    recorded.discovery = { basePath: '/interop/services', name: 'api',
      nodes: javaNodes.map(({ nodeName, dataHex }) => ({ nodeName, json: Buffer.from(dataHex, 'hex').toString() })),
      curatorViewOfOurs: node1 };
    await curator.unregister('/interop/services', 'java-1');
    assert.deepEqual((await curator.children('/interop/services/api')).sort(), ['java-2', 'node-1']);

    // SharedCount and DistributedAtomicLong: Curator's bytes decode; ours are what Curator continues from.
    await curator.countSet('/interop/count', 7);
    const count7 = (await curator.get('/interop/count')).data;
    assert.equal(decodeSharedCount(count7), 7);
    await curator.countSet('/interop/count', -2);
    const countMinus2 = (await curator.get('/interop/count')).data;
    assert.equal(decodeSharedCount(countMinus2), -2);
    await curator.create('/interop/count-ours', encodeSharedCount(123_456));
    assert.equal((await curator.countGet('/interop/count-ours')).count, 123_456);
    const added = await curator.atomicAdd('/interop/long', 5n);
    assert.deepEqual(added, { succeeded: true, preValue: 0n, postValue: 5n });
    const long5 = (await curator.get('/interop/long')).data;
    assert.equal(decodeAtomicLong(long5), 5n);
    await curator.create('/interop/long-ours', encodeAtomicLong(-(1n << 40n)));
    const continued = await curator.atomicAdd('/interop/long-ours', 1n);
    assert.deepEqual(continued, { succeeded: true, preValue: -(1n << 40n), postValue: -(1n << 40n) + 1n });
    recorded.counters = { sharedCount: { '7': count7.toString('hex'), '-2': countMinus2.toString('hex') },
      atomicLong: { '5': long5.toString('hex') } };

    // Queues: names and the item envelope for each kind.
    await curator.queuePut('/interop/q/plain', 'one', { kind: 'plain' });
    await curator.queuePut('/interop/q/priority', 'p5', { kind: 'priority', priority: 5 });
    await curator.queuePut('/interop/q/priority', 'pm1', { kind: 'priority', priority: -1 });
    await curator.queuePut('/interop/q/delay', 'later', { kind: 'delay', delayUntilEpochMs: 1_700_000_000_000 });
    await curator.queuePut('/interop/q/id', 'job', { kind: 'id', itemId: 'job/7|x' });
    const queues: Record<string, Array<{ nodeName: string; dataHex: string }>> = {};
    for (const kind of ['plain', 'priority', 'delay', 'id']) {
      queues[kind] = (await nodesWithData(curator, `/interop/q/${kind}`)).map(({ nodeName, dataHex }) => ({
        nodeName,
        dataHex,
      }));
    }
    assert.deepEqual(queues.priority!.map((n) => parsePriority(n.nodeName)).sort(), [-1, 5]);
    assert.equal(parseDelayUntil(queues.delay![0]!.nodeName), 1_700_000_000_000);
    assert.equal(parseIdItem(queues.id![0]!.nodeName).id, 'job_7_x');
    assert.deepEqual(decodeQueueItems(Buffer.from(queues.plain![0]!.dataHex, 'hex')).map((b) =>
      Buffer.from(b).toString()), ['one']);
    recorded.queues = queues;

    if (process.env.RECORD_CURATOR_FIXTURES === '1') {
      await writeFile(FIXTURE, `${JSON.stringify(recorded, null, 2)}\n`);
    }
  });

  it('shares locks, leadership and leases with Curator when we create nodes by our names and decide', async function () {
    await using zk = await startApache();
    await using curator = await startCurator(zk.connectString);
    await curator.connect(zk.connectString, { client: 'ours' });
    const ours = { client: 'ours' };
    const plant = async (parent: string, name: string, mode: string, data: Uint8Array = new Uint8Array(0)) =>
      (await curator.create(`${parent}/${name}`, data, mode, ours)).split('/').pop()!;

    // Mutex: we queue behind Curator's holder, then hold while Curator's timed acquire fails.
    await curator.mutexAcquire('java', '/shared/mutex');
    const mine = await plant('/shared/mutex', protectedNodeName(randomUUID(), 'lock-'), 'EPHEMERAL_SEQUENTIAL');
    assert.equal(decideContender(await curator.children('/shared/mutex'), mine, mutexPolicy).kind, 'watch');
    await curator.mutexRelease('java');
    assert.equal(decideContender(await curator.children('/shared/mutex'), mine, mutexPolicy).kind, 'acquired');
    assert.equal((await curator.mutexAcquire('java-2', '/shared/mutex', { waitMs: 300 })).acquired, false);
    const javaWaits = curator.mutexAcquire('java-3', '/shared/mutex', { waitMs: 15_000 });
    await until(() => curator.children('/shared/mutex'), (c) => c.length === 2, 'Curator queued');
    assert.equal(decideContender(await curator.children('/shared/mutex'), mine, mutexPolicy).kind, 'acquired');
    await curator.delete(`/shared/mutex/${mine}`, ours);
    assert.equal((await javaWaits).acquired, true);
    await curator.mutexRelease('java-3');

    // Read/write: our write node blocks Curator's reader; our downgrade read node (the write node's
    // sequence) still blocks Curator's writer after we release the write node.
    const write = await plant('/shared/rw', protectedNodeName(randomUUID(), NodeMarker.write), 'EPHEMERAL_SEQUENTIAL');
    assert.equal(decideContender(await curator.children('/shared/rw'), write, readWritePolicy).kind, 'acquired');
    assert.equal((await curator.rwAcquire('java-r', '/shared/rw', 'read', { waitMs: 300 })).acquired, false);
    const read = await plant('/shared/rw', downgradeReadNodeName(write, randomUUID()), 'EPHEMERAL');
    assert.equal(decideContender(await curator.children('/shared/rw'), read, readWritePolicy).kind, 'acquired');
    await curator.delete(`/shared/rw/${write}`, ours);
    assert.equal((await curator.rwAcquire('java-w', '/shared/rw', 'write', { waitMs: 300 })).acquired, false);
    assert.equal((await curator.rwAcquire('java-r2', '/shared/rw', 'read', { waitMs: 5_000 })).acquired, true);
    await curator.rwRelease('java-r2', 'read');
    await curator.delete(`/shared/rw/${read}`, ours);
    assert.equal((await curator.rwAcquire('java-w2', '/shared/rw', 'write', { waitMs: 5_000 })).acquired, true);
    await curator.rwRelease('java-w2', 'write');

    // Leader latch: our participant node, created first, leads in Curator's eyes too.
    const latchNode = await plant('/shared/latch', participantNodeName('latch', randomUUID()), 'EPHEMERAL_SEQUENTIAL',
      encodeParticipantId('node-service'));
    await curator.latchStart('java-latch', '/shared/latch', 'java-service');
    await until(() => curator.children('/shared/latch'), (c) => c.length === 2, 'Curator\'s latch node');
    assert.equal(decideLeadership('latch', await curator.children('/shared/latch'), latchNode).kind, 'acquired');
    const javaView = await curator.latchState('java-latch');
    assert.equal(javaView.leaderId, 'node-service');
    assert.equal(javaView.hasLeadership, false);
    await curator.delete(`/shared/latch/${latchNode}`, ours);
    await curator.nextLeadership('java-latch', true);
    await curator.latchClose('java-latch');

    // Semaphore: two leases of ours fill a 2-lease semaphore for Curator until one is returned.
    const { leasesPath } = semaphorePaths('/shared/semaphore');
    const leaseA = await plant(leasesPath, protectedNodeName(randomUUID(), NodeMarker.lease), 'EPHEMERAL_SEQUENTIAL');
    const leaseB = await plant(leasesPath, protectedNodeName(randomUUID(), NodeMarker.lease), 'EPHEMERAL_SEQUENTIAL');
    assert.deepEqual(decideLease(await curator.children(leasesPath), leaseB, 2), { kind: 'acquired' });
    assert.equal((await curator.semaphoreAcquire('java-s', '/shared/semaphore', 2, { waitMs: 300 })).acquired, false);
    await curator.delete(`${leasesPath}/${leaseA}`, ours);
    assert.equal((await curator.semaphoreAcquire('java-s', '/shared/semaphore', 2, { waitMs: 5_000 })).acquired, true);
    await curator.semaphoreRelease('java-s');
  });

  it('kills the JVM on close even while a command blocks', async function () {
    await using zk = await startApache();
    const curator = await startCurator(zk.connectString);
    await curator.mutexAcquire('holder', '/interop/blocked');
    await curator.connect(zk.connectString, { client: 'b' });
    const blocked = curator.mutexAcquire('waiter', '/interop/blocked', { client: 'b' });
    await curator.kill();
    await assert.rejects(blocked, /exited/);
    await curator.close();
  });
});
