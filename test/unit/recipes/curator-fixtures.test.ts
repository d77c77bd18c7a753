// Goal: our pure formats read exactly what real Curator 5.4 wrote, without a JVM. The fixture is a
// recording made by test/integration/curator-harness.test.ts (RECORD_CURATOR_FIXTURES=1) against Apache
// ZooKeeper 3.8: node names and data of a mutex, a read/write lock, a semaphore, a leader latch and
// selector, service instances, counters, queues and a double barrier, with who held and who led.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'mocha';
import { barrierMembers, decideEnter, READY_NODE } from '../../../recipes/barriers/double-barrier.js';
import { decodeAtomicLong, decodeSharedCount } from '../../../recipes/counters/formats.js';
import { decodeServiceInstance, encodeServiceInstance } from '../../../recipes/discovery/instance-format.js';
import { describeParticipants } from '../../../recipes/leader/participants.js';
import { decideContender, describeContenders, mutexPolicy, readWritePolicy } from
  '../../../recipes/locks/contenders.js';
import { decodeLockNodeData } from '../../../recipes/locks/lock-data.js';
import { currentMembers } from '../../../recipes/nodes/formats.js';
import { NodeMarker, parseContenderName, parseProtectedName } from '../../../recipes/locks/node-names.js';
import { decideLease, SEMAPHORE_LEASES_CHILD, SEMAPHORE_LOCKS_CHILD } from
  '../../../recipes/locks/semaphore-leases.js';
import {
  decodeQueueItems,
  parseDelayUntil,
  parseIdItem,
  parsePriority,
  queueItemName,
  sortQueueItems,
} from '../../../recipes/queues/formats.js';

interface RecordedNode {
  nodeName: string;
  dataHex: string;
  ephemeralOwner?: string;
}

interface Recording {
  mutex: { holder: string; waiter: string; nodes: RecordedNode[] };
  readWrite: { write: string; downgradeRead: string; waitingRead: string; nodes: RecordedNode[] };
  semaphore: { maxLeases: number; leases: RecordedNode[]; locks: string[]; rootChildren: string[] };
  latch: { leader: string; nodes: RecordedNode[] };
  selector: { nodes: RecordedNode[] };
  discovery: { name: string; nodes: Array<{ nodeName: string; json: string }>; curatorViewOfOurs: unknown };
  counters: { sharedCount: Record<string, string>; atomicLong: Record<string, string> };
  queues: Record<'plain' | 'priority' | 'delay' | 'id', RecordedNode[]>;
  doubleBarrier: { javaMember: string };
  managedNodes: { group: RecordedNode[]; ttl: { nodeOwner: string; touchOwner: string; data: string } };
}

const recording = JSON.parse(
  readFileSync(new URL('./fixtures/curator-5.4.json', import.meta.url), 'utf8'),
) as Recording;
const bytes = (hex: string) => Buffer.from(hex, 'hex');
const names = (nodes: RecordedNode[]) => nodes.map((n) => n.nodeName);

describe('what Curator 5.4 wrote, read by our formats', () => {
  it('mutex: protected lock- names; the holder holds, the waiter watches it; data is foreign', () => {
    const { holder, waiter, nodes } = recording.mutex;
    for (const node of nodes) {
      assert.ok(parseProtectedName(node.nodeName), node.nodeName);
      assert.equal(parseContenderName(node.nodeName, [NodeMarker.mutex])?.marker, 'lock-');
      assert.equal(decodeLockNodeData(bytes(node.dataHex)).kind, 'foreign');
    }
    assert.equal(decideContender(names(nodes), holder, mutexPolicy).kind, 'acquired');
    assert.deepEqual(decideContender(names(nodes), waiter, mutexPolicy), {
      kind: 'watch',
      predecessor: holder,
      position: 1,
    });
  });

  it('read/write lock: __WRIT__ and __READ__ names; the downgrade holds, the other reader waits', () => {
    const { write, downgradeRead, waitingRead, nodes } = recording.readWrite;
    const children = names(nodes);
    assert.equal(parseContenderName(write, [NodeMarker.read, NodeMarker.write])?.marker, '__WRIT__');
    assert.equal(decideContender(children, write, readWritePolicy).kind, 'acquired');
    const downgrade = decideContender(children, downgradeRead, readWritePolicy, { heldByUs: [write] });
    assert.equal(downgrade.kind, 'acquired');
    assert.deepEqual(decideContender(children, waitingRead, readWritePolicy), {
      kind: 'watch',
      predecessor: write,
      position: 2,
    });
    // Curator 5.4 gave the downgrade read node a sequence of its own, so to an observer it looks queued.
    const described = describeContenders(children, readWritePolicy);
    assert.deepEqual(described.map((s) => [s.contender.nodeName, s.holds]),
      [[write, true], [downgradeRead, false], [waitingRead, false]]);
  });

  it('semaphore: locks/ and leases/ directories, protected lease- nodes, both leases in the limit', () => {
    const { maxLeases, leases, rootChildren } = recording.semaphore;
    assert.deepEqual(rootChildren, [SEMAPHORE_LEASES_CHILD, SEMAPHORE_LOCKS_CHILD]);
    for (const lease of leases) {
      assert.equal(parseContenderName(lease.nodeName, [NodeMarker.lease])?.uuid?.length, 36);
      assert.deepEqual(decideLease(names(leases), lease.nodeName, maxLeases), { kind: 'acquired' });
    }
    assert.equal(decideLease(names(leases), leases[0]!.nodeName, 1).kind, 'wait');
  });

  it('leader latch: latch- names, ids in the data, the recorded leader first', () => {
    const participants = describeParticipants('latch', recording.latch.nodes.map((n) => ({
      nodeName: n.nodeName,
      data: bytes(n.dataHex),
    })));
    assert.deepEqual(participants.map((p) => [p.id, p.isLeader, p.nodeName === recording.latch.leader]), [
      ['alpha', true, true],
      ['beta', false, false],
    ]);
  });

  it('leader selector: protected lock- names, ids in the data, the first in order leads', () => {
    const nodes = recording.selector.nodes;
    for (const node of nodes) {
      assert.equal(parseContenderName(node.nodeName, [NodeMarker.mutex])?.marker, 'lock-');
    }
    const participants = describeParticipants('selector', nodes.map((n) => ({
      nodeName: n.nodeName,
      data: bytes(n.dataHex),
    })));
    assert.deepEqual(participants.map((p) => [p.id, p.isLeader]), [['first', true], ['second', false]]);
  });

  it('discovery: Curator\'s instance JSON decodes, @class split off the payload', () => {
    const [javaOne, javaTwo] = recording.discovery.nodes.map((node) => {
      const expected = { name: recording.discovery.name, id: node.nodeName };
      return decodeServiceInstance(Buffer.from(node.json), { expected });
    });
    assert.ok(javaOne?.ok && javaTwo?.ok);
    assert.equal(javaOne.payloadClass, 'java.util.LinkedHashMap');
    assert.deepEqual(javaOne.instance.payload, { zone: 'eu-1', weight: 3 });
    assert.deepEqual(
      { ...javaTwo.instance },
      {
        name: 'api', id: 'java-2', address: '10.0.0.2', port: 8080, sslPort: 8443, payload: null,
        registrationTimeUTC: 1_700_000_000_001, serviceType: 'DYNAMIC', uriSpec: null,
        status: 'up', zone: null, weight: 1, version: null, metadata: {},
      },
    );
  });

  it('discovery: our JSON starts with exactly Curator\'s keys in Curator\'s order', () => {
    const curatorKeys = Object.keys(JSON.parse(recording.discovery.nodes[0]!.json));
    const decoded = decodeServiceInstance(Buffer.from(recording.discovery.nodes[1]!.json));
    assert.ok(decoded.ok);
    const oursKeys = Object.keys(JSON.parse(Buffer.from(encodeServiceInstance(decoded.instance)).toString()));
    assert.deepEqual(oursKeys.slice(0, curatorKeys.length), curatorKeys);
    assert.equal((recording.discovery.curatorViewOfOurs as { enabled: boolean }).enabled, false);
  });

  it('double barrier: a member is a bare uuid beside `ready`; one member alone waits', () => {
    const member = recording.doubleBarrier.javaMember;
    assert.match(member, /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    assert.deepEqual(barrierMembers([member, READY_NODE]), [member]);
    assert.deepEqual(decideEnter([member], 2), { kind: 'wait', members: 1 });
  });

  it('managed nodes: members named by id with their payload; TTL node owners hidden as 0', () => {
    const { group, ttl } = recording.managedNodes;
    const members = currentMembers(group.map((n) => ({ name: n.nodeName, data: bytes(n.dataHex) })), {
      id: 'alpha',
      payload: Buffer.from('payload-a'),
    });
    assert.deepEqual([...members].map(([id, data]) => [id, Buffer.from(data).toString()]), [
      ['alpha', 'payload-a'],
      ['beta', 'payload-b'],
    ]);
    assert.deepEqual([ttl.nodeOwner, ttl.touchOwner, ttl.data], ['0', '0', 'kept']);
  });

  it('counters: SharedCount\'s 4 bytes and DistributedAtomicLong\'s 8 bytes', () => {
    for (const [value, hex] of Object.entries(recording.counters.sharedCount)) {
      assert.equal(decodeSharedCount(bytes(hex)), Number(value));
    }
    for (const [value, hex] of Object.entries(recording.counters.atomicLong)) {
      assert.equal(decodeAtomicLong(bytes(hex)), BigInt(value));
    }
  });

  it('queues: item names per kind, in Curator\'s order, and the item envelope', () => {
    const { plain, priority, delay, id } = recording.queues;
    assert.ok(plain[0]!.nodeName.startsWith(queueItemName({ kind: 'plain' })));
    assert.deepEqual(sortQueueItems('priority', names(priority)).map(parsePriority), [-1, 5]);
    assert.ok(priority.some((n) => n.nodeName.startsWith(queueItemName({ kind: 'priority', priority: 5 }))));
    const delayName = queueItemName({ kind: 'delay', delayUntilEpochMs: 1_700_000_000_000 });
    assert.ok(delay[0]!.nodeName.startsWith(delayName));
    assert.equal(parseDelayUntil(delay[0]!.nodeName), 1_700_000_000_000);
    assert.ok(id[0]!.nodeName.startsWith(queueItemName({ kind: 'id', itemId: 'job/7|x' })));
    assert.equal(parseIdItem(id[0]!.nodeName).id, 'job_7_x');
    const items = [...plain, ...priority, ...delay, ...id].map((n) =>
      Buffer.from(decodeQueueItems(bytes(n.dataHex))[0]!),
    );
    assert.deepEqual(items.map(String), ['one', 'pm1', 'p5', 'later', 'job']);
  });
});
