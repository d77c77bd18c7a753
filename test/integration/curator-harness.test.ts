// Goal: the Curator 5.4 harness drives real Curator against Apache ZooKeeper 3.8; what Curator writes for
// each recipe (node names, node data) is exactly what our pure formats read, with the decisions Curator
// made (who holds, who waits, who leads); Curator reads what we write; and nodes created by our names and
// acted on by our decisions share locks, leadership and leases with Curator. One server and one JVM serve
// the whole suite. With RECORD_CURATOR_FIXTURES=1 the recording is written to
// test/unit/recipes/fixtures/curator-5.4.json, which the unit tests check without a JVM.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { after, before, describe, it } from 'mocha';
import { decodeAtomicLong, decodeSharedCount, encodeAtomicLong, encodeSharedCount } from
  '../../recipes/counters/formats.js';
import { decodeServiceInstance, encodeServiceInstance } from '../../recipes/discovery/instance-format.js';
import { decideLeadership, describeParticipants, encodeParticipantId, participantNodeName } from
  '../../recipes/leader/participants.js';
import { decideContender, describeContenders, mutexPolicy, readWritePolicy } from
  '../../recipes/locks/contenders.js';
import { downgradeReadNodeName, NodeMarker, parseContenderName, protectedNodeName } from
  '../../recipes/locks/node-names.js';
import { decodeLockNodeData, encodeRevokeRequest } from '../../recipes/locks/lock-data.js';
import { decideLease, semaphorePaths } from '../../recipes/locks/semaphore-leases.js';
import { currentMembers, groupMemberPath, TTL_TOUCH_CHILD, ttlNodeLayout } from
  '../../recipes/nodes/formats.js';
import { CreateMode } from '../../src/index.js';
import { decideEnter, decideLeave, READY_NODE } from '../../recipes/barriers/double-barrier.js';
import { decodeQueueItems, parseDelayUntil, parseIdItem, parsePriority } from
  '../../recipes/queues/formats.js';
import { apacheAvailable, startApache, type ApacheServer } from '../support/apache.js';
import { curatorAvailable, startCurator, type CuratorHarness } from '../support/curator.js';

const FIXTURE = new URL('../unit/recipes/fixtures/curator-5.4.json', import.meta.url);
const RECORDED_KEYS = ['mutex', 'readWrite', 'semaphore', 'latch', 'selector', 'discovery', 'counters',
  'queues', 'doubleBarrier', 'managedNodes'];
const SEQUENTIAL = 'EPHEMERAL_SEQUENTIAL';
const last = (path: string | null) => path!.split('/').pop()!;
const watch = (predecessor: string, position: number) => ({ kind: 'watch', predecessor, position });

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

describe('Curator 5.4 harness against Apache ZooKeeper 3.8', function () {
  this.timeout(60_000);
  const recorded: Record<string, unknown> = { curator: '5.4.0', zookeeper: '3.8' };
  let zk: ApacheServer | undefined;
  let curator: CuratorHarness;
  const b = { client: 'b' };
  const ours = { client: 'ours' };
  const children = (path: string) => curator.children(path);
  /** Waits for `count` children; a parent not created yet counts as none. */
  const childCount = (path: string, count: number) =>
    until(() => children(path).catch(() => []), (c) => c.length === count, `${count} children of ${path}`);

  async function nodesWithData(path: string) {
    const nodes: Array<{ nodeName: string; dataHex: string; ephemeralOwner: string }> = [];
    for (const nodeName of (await children(path)).sort()) {
      const read = await curator.get(`${path}/${nodeName}`);
      const ephemeralOwner = read.ephemeralOwner.toString();
      nodes.push({ nodeName, dataHex: read.data.toString('hex'), ephemeralOwner });
    }
    return nodes;
  }

  /** Creates a node by our naming through the 'ours' session, as our recipes will. */
  async function plant(parent: string, name: string, mode: string, data: Uint8Array = new Uint8Array(0)) {
    return last(await curator.create(`${parent}/${name}`, data, mode, ours));
  }

  before(async function () {
    if (!apacheAvailable() || !curatorAvailable()) {
      console.log('    (Apache ZooKeeper or Curator jars/javac missing: skipping)');
      this.skip();
    }
    zk = await startApache();
    curator = await startCurator(zk.connectString);
    assert.notEqual(await curator.connect(zk.connectString, b), curator.sessionId);
    await curator.connect(zk.connectString, ours);
  });

  after(async function () {
    await curator?.close();
    await zk?.stop();
    const complete = RECORDED_KEYS.every((key) => key in recorded);
    if (process.env.RECORD_CURATOR_FIXTURES === '1' && complete) {
      await writeFile(FIXTURE, `${JSON.stringify(recorded, null, 2)}\n`);
    }
  });

  it('mutex: Curator\'s holder holds and its waiter watches it, by our decision too', async function () {
    const held = await curator.mutexAcquire('m1', '/interop/mutex');
    assert.equal(held.acquired, true);
    const waiting = curator.mutexAcquire('m2', '/interop/mutex', { ...b, waitMs: 15_000 });
    const mutexChildren = await childCount('/interop/mutex', 2);
    const holder = last(held.lockPath);
    const waiter = mutexChildren.find((c) => c !== holder)!;
    assert.deepEqual(decideContender(mutexChildren, holder, mutexPolicy), { kind: 'acquired', position: 0 });
    assert.deepEqual(decideContender(mutexChildren, waiter, mutexPolicy), watch(holder, 1));
    recorded.mutex = { path: '/interop/mutex', holder, waiter, nodes: await nodesWithData('/interop/mutex') };
    await curator.mutexRelease('m1');
    assert.equal((await waiting).lockPath, `/interop/mutex/${waiter}`);
    await curator.mutexRelease('m2');
  });

  it('read/write lock: writer, its downgrade read node, and a reader queued behind', async function () {
    const write = await curator.rwAcquire('rw1', '/interop/rw', 'write');
    const downgrade = await curator.rwAcquire('rw1', '/interop/rw', 'read');
    assert.equal(downgrade.acquired, true);
    const reader = curator.rwAcquire('rw2', '/interop/rw', 'read', { ...b, waitMs: 15_000 });
    const rwChildren = await childCount('/interop/rw', 3);
    const writeNode = last(write.lockPath);
    const downgradeNode = last(downgrade.lockPath);
    const readerNode = rwChildren.find((c) => c !== writeNode && c !== downgradeNode)!;
    const markers = [NodeMarker.read, NodeMarker.write];
    assert.equal(parseContenderName(writeNode, markers)?.marker, NodeMarker.write);
    const heldByUs = [writeNode];
    assert.equal(decideContender(rwChildren, downgradeNode, readWritePolicy, { heldByUs }).kind, 'acquired');
    assert.deepEqual(decideContender(rwChildren, readerNode, readWritePolicy), watch(writeNode, 2));
    recorded.readWrite = {
      path: '/interop/rw',
      write: writeNode,
      downgradeRead: downgradeNode,
      waitingRead: readerNode,
      nodes: await nodesWithData('/interop/rw'),
    };
    await curator.rwRelease('rw1', 'write');
    assert.equal((await reader).acquired, true);
    const holds = describeContenders(await children('/interop/rw'), readWritePolicy).map((s) => s.holds);
    assert.deepEqual(holds, [true, true]);
    await curator.rwRelease('rw1', 'read');
    await curator.rwRelease('rw2', 'read');
  });

  it('semaphore: two leases of two fill it; leases/ counts as Curator counts', async function () {
    const { leasesPath, locksPath } = semaphorePaths('/interop/semaphore');
    const lease1 = await curator.semaphoreAcquire('s1', '/interop/semaphore', 2);
    const lease2 = await curator.semaphoreAcquire('s2', '/interop/semaphore', 2, b);
    const third = await curator.semaphoreAcquire('s3', '/interop/semaphore', 2, { waitMs: 200 });
    assert.equal(third.acquired, false);
    const leaseChildren = await children(leasesPath);
    assert.deepEqual(leaseChildren.sort(), [lease1.leaseNode, lease2.leaseNode].sort());
    assert.deepEqual(decideLease(leaseChildren, lease2.leaseNode!, 2), { kind: 'acquired' });
    const overfull = decideLease([...leaseChildren, 'x'], lease2.leaseNode!, 2);
    assert.deepEqual(overfull, { kind: 'wait', leaseCount: 3 });
    recorded.semaphore = {
      path: '/interop/semaphore',
      maxLeases: 2,
      leases: await nodesWithData(leasesPath),
      locks: await children(locksPath),
      rootChildren: (await children('/interop/semaphore')).sort(),
    };
    await curator.semaphoreRelease('s1');
    await curator.semaphoreRelease('s2');
  });

  it('leader latch: alpha leads, beta watches alpha; participants as Curator lists them', async function () {
    await curator.latchStart('alpha', '/interop/latch', 'alpha');
    const alphaNode = last(String((await curator.nextLeadership('alpha', true)).ourPath));
    await curator.latchStart('beta', '/interop/latch', 'beta', b);
    const latchChildren = await childCount('/interop/latch', 2);
    const betaNode = latchChildren.find((c) => c !== alphaNode)!;
    assert.deepEqual(decideLeadership('latch', latchChildren, alphaNode), { kind: 'acquired', position: 0 });
    assert.deepEqual(decideLeadership('latch', latchChildren, betaNode), watch(alphaNode, 1));
    const latchNodes = await nodesWithData('/interop/latch');
    const withData = latchNodes.map((n) => ({ nodeName: n.nodeName, data: Buffer.from(n.dataHex, 'hex') }));
    const participants = describeParticipants('latch', withData).map((p) => ({
      id: p.id,
      isLeader: p.isLeader,
    }));
    assert.deepEqual(participants, (await curator.latchState('beta')).participants);
    recorded.latch = { path: '/interop/latch', leader: alphaNode, nodes: latchNodes };
    await curator.latchClose('alpha');
    await curator.nextLeadership('beta', true);
    await curator.latchClose('beta');
  });

  it('leader selector: lock- nodes with the id as data; terms end and requeue', async function () {
    await curator.selectorStart('first', '/interop/selector', 'first');
    await curator.nextSelectorTerm('first', true);
    await curator.selectorStart('second', '/interop/selector', 'second', b);
    await childCount('/interop/selector', 2);
    const selectorNodes = await nodesWithData('/interop/selector');
    const withIds = selectorNodes.map((n) => ({ nodeName: n.nodeName, data: Buffer.from(n.dataHex, 'hex') }));
    const participants = describeParticipants('selector', withIds);
    assert.deepEqual(participants.map((p) => [p.id, p.isLeader]), [['first', true], ['second', false]]);
    assert.deepEqual(await curator.selectorParticipants('second'), [
      { id: 'first', isLeader: true },
      { id: 'second', isLeader: false },
    ]);
    recorded.selector = { path: '/interop/selector', nodes: selectorNodes };
    await curator.selectorRelease('first');
    await curator.nextSelectorTerm('first', false);
    await curator.nextSelectorTerm('second', true);
    await curator.selectorClose('first');
    await curator.selectorClose('second');
  });

  it('managed nodes: GroupMember children; PersistentTtlNode: container + TTL child', async function () {
    await curator.groupJoin('g-alpha', '/interop/group', 'alpha', 'payload-a');
    await curator.groupJoin('g-beta', '/interop/group', 'beta', 'payload-b', b);
    const twoMembers = (nodes: unknown[]) => nodes.length === 2;
    const listGroup = () => nodesWithData('/interop/group').catch(() => []);
    const groupNodes = await until(listGroup, twoMembers, 'two members');
    assert.deepEqual(groupNodes.map((n) => n.nodeName), ['alpha', 'beta']);
    assert.equal(groupMemberPath('/interop/group', 'alpha'), '/interop/group/alpha');
    const membership = currentMembers(
      groupNodes.map((n) => ({ name: n.nodeName, data: Buffer.from(n.dataHex, 'hex') })),
      { id: 'alpha', payload: Buffer.from('payload-a') },
    );
    const asText = Object.fromEntries(
      [...membership].map(([id, bytes]) => [id, Buffer.from(bytes).toString()]),
    );
    const javaView = await until(() => curator.groupMembers('g-alpha'), (m) => 'beta' in m, 'beta cached');
    assert.deepEqual(asText, javaView);
    await curator.groupLeave('g-alpha');
    await curator.groupLeave('g-beta');

    const layout = ttlNodeLayout('/interop/ttl', 400);
    assert.equal((await curator.ttlStart('ttl', layout.nodePath, layout.ttlMs, 'kept')).created, true);
    await until(() => children(layout.nodePath), (c) => c.includes(TTL_TOUCH_CHILD), 'the touch child');
    const node = await curator.get(layout.nodePath);
    const touch = await curator.get(layout.touchPath);
    // Apache hides the container and TTL marks from clients (DataNode.copyStat reports owner 0), so a
    // recipe cannot tell these nodes from persistent ones by their Stat.
    assert.equal(node.ephemeralOwner, 0n);
    assert.equal(touch.ephemeralOwner, 0n);
    assert.equal(node.data.toString(), 'kept');
    const modes = [CreateMode.CONTAINER, CreateMode.PERSISTENT_WITH_TTL];
    assert.deepEqual([layout.nodeMode, layout.touchMode], modes);
    recorded.managedNodes = {
      group: groupNodes.map(({ nodeName, dataHex }) => ({ nodeName, dataHex })),
      ttl: {
        ttlMs: 400,
        nodeOwner: node.ephemeralOwner.toString(),
        touchOwner: touch.ephemeralOwner.toString(),
        data: node.data.toString(),
      },
    };
    await curator.ttlClose('ttl');
  });

  it('discovery: Curator\'s JSON reads with our decoder, ours with Curator\'s', async function () {
    const basePath = '/interop/services';
    await curator.register({ basePath, name: 'api', id: 'java-1', address: '10.0.0.1', port: 8080,
      registrationTimeUTC: 1_700_000_000_000, payload: { zone: 'eu-1', weight: 3 } });
    await curator.register({ basePath, name: 'api', id: 'java-2', address: '10.0.0.2', port: 8080,
      sslPort: 8443, registrationTimeUTC: 1_700_000_000_001 });
    const javaNodes = await nodesWithData(`${basePath}/api`);
    for (const node of javaNodes) {
      const expected = { name: 'api', id: node.nodeName };
      const decoded = decodeServiceInstance(Buffer.from(node.dataHex, 'hex'), { expected });
      assert.ok(decoded.ok, JSON.stringify(decoded));
      assert.equal(decoded.instance.status, 'up');
      assert.equal(BigInt(node.ephemeralOwner), curator.sessionId);
    }
    const instance = encodeServiceInstance({ name: 'api', id: 'node-1', address: '10.0.0.3', port: 9090,
      sslPort: null, payload: { region: 'eu' }, registrationTimeUTC: 1_700_000_000_002,
      serviceType: 'DYNAMIC', uriSpec: null, status: 'draining', zone: 'eu-1a', weight: 2, version: '1.4.2',
      metadata: { team: 'billing' } });
    await curator.create(`${basePath}/api/node-1`, instance, 'EPHEMERAL', ours);
    const viewed = await curator.instances(basePath, 'api');
    const node1 = viewed.find((i) => i.id === 'node-1');
    assert.deepEqual(node1, { name: 'api', id: 'node-1', address: '10.0.0.3', port: 9090, sslPort: null,
      payload: { region: 'eu' }, registrationTimeUTC: 1_700_000_000_002, serviceType: 'DYNAMIC',
      enabled: false, payloadClass: 'java.util.LinkedHashMap' });
    assert.deepEqual(viewed.map((i) => i.id).sort(), ['java-1', 'java-2', 'node-1']);
    recorded.discovery = {
      basePath,
      name: 'api',
      nodes: javaNodes.map((n) => ({ nodeName: n.nodeName, json: Buffer.from(n.dataHex, 'hex').toString() })),
      curatorViewOfOurs: node1,
    };
    await curator.unregister(basePath, 'java-1');
    assert.deepEqual((await children(`${basePath}/api`)).sort(), ['java-2', 'node-1']);
  });

  it('counters: SharedCount and DistributedAtomicLong bytes, both ways', async function () {
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
    const big = -(1n << 40n);
    await curator.create('/interop/long-ours', encodeAtomicLong(big));
    const continued = await curator.atomicAdd('/interop/long-ours', 1n);
    assert.deepEqual(continued, { succeeded: true, preValue: big, postValue: big + 1n });
    recorded.counters = {
      sharedCount: { '7': count7.toString('hex'), '-2': countMinus2.toString('hex') },
      atomicLong: { '5': long5.toString('hex') },
    };
  });

  it('queues: item names and the item envelope for each kind', async function () {
    await curator.queuePut('/interop/q/plain', 'one', { kind: 'plain' });
    await curator.queuePut('/interop/q/priority', 'p5', { kind: 'priority', priority: 5 });
    await curator.queuePut('/interop/q/priority', 'pm1', { kind: 'priority', priority: -1 });
    const delayUntilEpochMs = 1_700_000_000_000;
    await curator.queuePut('/interop/q/delay', 'later', { kind: 'delay', delayUntilEpochMs });
    await curator.queuePut('/interop/q/id', 'job', { kind: 'id', itemId: 'job/7|x' });
    const queues: Record<string, Array<{ nodeName: string; dataHex: string }>> = {};
    for (const kind of ['plain', 'priority', 'delay', 'id']) {
      const nodes = await nodesWithData(`/interop/q/${kind}`);
      queues[kind] = nodes.map(({ nodeName, dataHex }) => ({ nodeName, dataHex }));
    }
    assert.deepEqual(queues.priority!.map((n) => parsePriority(n.nodeName)).sort(), [-1, 5]);
    assert.equal(parseDelayUntil(queues.delay![0]!.nodeName), 1_700_000_000_000);
    assert.equal(parseIdItem(queues.id![0]!.nodeName).id, 'job_7_x');
    const items = decodeQueueItems(Buffer.from(queues.plain![0]!.dataHex, 'hex'));
    assert.deepEqual(items.map((item) => Buffer.from(item).toString()), ['one']);
    recorded.queues = queues;
  });

  it('shares a mutex: we queue behind Curator, then hold while Curator waits', async function () {
    await curator.mutexAcquire('java', '/shared/mutex');
    const mine = await plant('/shared/mutex', protectedNodeName(randomUUID(), NodeMarker.mutex), SEQUENTIAL);
    const decide = async () => decideContender(await children('/shared/mutex'), mine, mutexPolicy).kind;
    assert.equal(await decide(), 'watch');
    await curator.mutexRelease('java');
    assert.equal(await decide(), 'acquired');
    assert.equal((await curator.mutexAcquire('java-2', '/shared/mutex', { waitMs: 300 })).acquired, false);
    const javaWaits = curator.mutexAcquire('java-3', '/shared/mutex', { waitMs: 15_000 });
    await childCount('/shared/mutex', 2);
    assert.equal(await decide(), 'acquired');
    await curator.delete(`/shared/mutex/${mine}`, ours);
    assert.equal((await javaWaits).acquired, true);
    await curator.mutexRelease('java-3');
  });

  it('shares revocation: Curator\'s request reads as ours; ours reaches its holder', async function () {
    const mine = await plant('/shared/revoke', protectedNodeName(randomUUID(), NodeMarker.mutex), SEQUENTIAL);
    await curator.revoke(`/shared/revoke/${mine}`);
    const requested = decodeLockNodeData((await curator.get(`/shared/revoke/${mine}`)).data);
    assert.deepEqual(requested, { kind: 'revoke-requested' });
    await curator.delete(`/shared/revoke/${mine}`, ours);
    const held = await curator.mutexAcquire('java-revocable', '/shared/revoke', { revocable: true });
    await curator.set(held.lockPath!, encodeRevokeRequest(), ours);
    await curator.nextEvent((e) => e.event === 'revoke' && e.handle === 'java-revocable');
    await curator.mutexRelease('java-revocable');
  });

  it('shares a read/write lock, including our downgrade naming against Curator\'s writer', async function () {
    const rw = '/shared/rw';
    const write = await plant(rw, protectedNodeName(randomUUID(), NodeMarker.write), SEQUENTIAL);
    assert.equal(decideContender(await children(rw), write, readWritePolicy).kind, 'acquired');
    assert.equal((await curator.rwAcquire('java-r', rw, 'read', { waitMs: 300 })).acquired, false);
    const read = await plant(rw, downgradeReadNodeName(write, randomUUID()), 'EPHEMERAL');
    assert.equal(decideContender(await children(rw), read, readWritePolicy).kind, 'acquired');
    await curator.delete(`${rw}/${write}`, ours);
    // Our read node keeps the write node's sequence: Curator's writer stays out, its readers come in.
    assert.equal((await curator.rwAcquire('java-w', rw, 'write', { waitMs: 300 })).acquired, false);
    assert.equal((await curator.rwAcquire('java-r2', rw, 'read', { waitMs: 5_000 })).acquired, true);
    await curator.rwRelease('java-r2', 'read');
    await curator.delete(`${rw}/${read}`, ours);
    assert.equal((await curator.rwAcquire('java-w2', rw, 'write', { waitMs: 5_000 })).acquired, true);
    await curator.rwRelease('java-w2', 'write');
  });

  it('shares a leader latch: our participant, first in line, leads in Curator\'s eyes', async function () {
    const name = participantNodeName('latch', randomUUID());
    const latchNode = await plant('/shared/latch', name, SEQUENTIAL, encodeParticipantId('node-service'));
    await curator.latchStart('java-latch', '/shared/latch', 'java-service');
    const latchChildren = await childCount('/shared/latch', 2);
    assert.equal(decideLeadership('latch', latchChildren, latchNode).kind, 'acquired');
    const javaView = await curator.latchState('java-latch');
    assert.equal(javaView.leaderId, 'node-service');
    assert.equal(javaView.hasLeadership, false);
    await curator.delete(`/shared/latch/${latchNode}`, ours);
    await curator.nextLeadership('java-latch', true);
    await curator.latchClose('java-latch');
  });

  it('shares a leader selector: our participant leads, then Curator\'s takes over', async function () {
    const name = participantNodeName('selector', randomUUID());
    const ourNode = await plant('/shared/selector', name, SEQUENTIAL, encodeParticipantId('node-service'));
    await curator.selectorStart('java-selector', '/shared/selector', 'java-service');
    const both = await childCount('/shared/selector', 2);
    assert.equal(decideLeadership('selector', both, ourNode).kind, 'acquired');
    assert.deepEqual((await curator.selectorParticipants('java-selector')).map((p) => [p.id, p.isLeader]), [
      ['node-service', true],
      ['java-service', false],
    ]);
    await curator.delete(`/shared/selector/${ourNode}`, ours);
    await curator.nextSelectorTerm('java-selector', true);
    await curator.selectorClose('java-selector');
  });

  it('shares a semaphore: two leases of ours fill it for Curator until one is returned', async function () {
    const { leasesPath } = semaphorePaths('/shared/semaphore');
    const leaseA = await plant(leasesPath, protectedNodeName(randomUUID(), NodeMarker.lease), SEQUENTIAL);
    const leaseB = await plant(leasesPath, protectedNodeName(randomUUID(), NodeMarker.lease), SEQUENTIAL);
    assert.deepEqual(decideLease(await children(leasesPath), leaseB, 2), { kind: 'acquired' });
    const full = await curator.semaphoreAcquire('java-s', '/shared/semaphore', 2, { waitMs: 300 });
    assert.equal(full.acquired, false);
    await curator.delete(`${leasesPath}/${leaseA}`, ours);
    const freed = await curator.semaphoreAcquire('java-s', '/shared/semaphore', 2, { waitMs: 5_000 });
    assert.equal(freed.acquired, true);
    await curator.semaphoreRelease('java-s');
  });

  it('shares a double barrier: Curator and we enter together and leave with nothing left', async function () {
    const path = '/shared/barrier';
    const javaEnters = curator.barrierEnter('java-barrier', path, 2, { waitMs: 15_000 });
    const alone = await childCount(path, 1);
    assert.deepEqual(decideEnter(alone, 2), { kind: 'wait', members: 1 });
    recorded.doubleBarrier = { path, javaMember: alone[0] };
    const ourMember = await plant(path, randomUUID(), 'EPHEMERAL');
    const enter = decideEnter(await children(path), 2);
    assert.deepEqual(enter, { kind: 'pass', createReady: true });
    await curator.create(`${path}/${READY_NODE}`, new Uint8Array(0), 'PERSISTENT', ours);
    assert.equal((await javaEnters).entered, true);

    const javaLeaves = curator.barrierLeave('java-barrier', { waitMs: 15_000 });
    let ourNodeExists = true;
    for (let steps = 0; ; steps++) {
      assert.ok(steps < 50, 'leave takes too many steps');
      const current = await children(path);
      const decision = decideLeave(current, ourMember, ourNodeExists);
      assert.notEqual(decision.kind, 'missing');
      if (decision.kind === 'missing') break;
      if (decision.deleteOurs) {
        await curator.delete(`${path}/${ourMember}`, ours);
        ourNodeExists = false;
      }
      if (decision.kind === 'done') {
        await curator.delete(`${path}/${READY_NODE}`, ours).catch(() => undefined);
        break;
      }
      await until(() => children(path), (c) => !c.includes(decision.node), `${decision.node} to leave`);
    }
    assert.equal((await javaLeaves).left, true);
    assert.deepEqual(await children(path), []);
  });

  it('times Curator\'s uncontended cycles and contended hand-offs for the benchmarks', async function () {
    const { cycles, elapsedMs } = await curator.mutexCycles('/interop/cycles', 20);
    assert.equal(cycles, 20);
    assert.ok(elapsedMs > 0);
    const handoff = await curator.mutexHandoff(zk!.connectString, '/interop/handoff', 3, 12);
    assert.equal(handoff.acquisitions, 12);
    assert.ok(handoff.handoffP50Ms > 0 && handoff.handoffP99Ms >= handoff.handoffP50Ms);
    assert.deepEqual(await children('/interop/handoff'), []);
  });

  it('kills the JVM on close even while a command blocks', async function () {
    const doomed = await startCurator(zk!.connectString);
    await doomed.mutexAcquire('holder', '/interop/blocked');
    await doomed.connect(zk!.connectString, b);
    const blocked = doomed.mutexAcquire('waiter', '/interop/blocked', b);
    await doomed.kill();
    await assert.rejects(blocked, /exited/);
    await doomed.close();
  });
});
