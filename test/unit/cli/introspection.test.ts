// The introspection readers and their text on a fake tree: layouts detected from node names, holders
// and queue in Curator's order for every lock kind, owner JSON, Curator's IP address and participant
// ids told apart, nodes gone between listing and reading, bounded walks, and the printed tables.
import assert from 'node:assert/strict';
import { describe, it } from 'mocha';
import { ErrorCode, KeeperError, type Stat } from '../../../src/index.js';
import {
  CONTENDERS_READ_MAX,
  detectLockKind,
  inspectElection,
  inspectLockAt,
  listInstances,
  listLocks,
  type NodeReader,
} from '../../../src/cli/introspection.js';
import { formatAge, formatLockList, formatLockView, hex } from '../../../src/cli/recipe-commands.js';
import { encodeLockNodeData, encodeServiceInstance, serviceInstance } from '../../../recipes/index.js';

const UUID = ['1ccdb2b9-7f9a-4570-9555-201c91ec2dcb', '2ccdb2b9-7f9a-4570-9555-201c91ec2dcb'];
const node = (i: number, marker: string, seq: number) =>
  `_c_${UUID[i % 2]}-${marker}${String(seq).padStart(10, '0')}`;

/** A tree of paths → data; `vanish` lists nodes that are listed but gone when read. */
class FakeTree implements NodeReader {
  readonly nodes = new Map<string, { data: Uint8Array; czxid: bigint; ctime: number; owner: bigint }>();
  readonly vanish = new Set<string>();
  reads = 0;
  private zxid = 100n;

  add(path: string, data: string | Uint8Array = '', owner = 0n, ctime = 1_000): this {
    const bytes = typeof data === 'string' ? new TextEncoder().encode(data) : data;
    this.nodes.set(path, { data: bytes, czxid: this.zxid++, ctime, owner });
    const parent = path.slice(0, path.lastIndexOf('/')) || '/';
    if (path !== '/' && !this.nodes.has(parent)) this.add(parent);
    return this;
  }

  async getChildren(path: string) {
    this.reads++;
    if (!this.nodes.has(path)) throw KeeperError.from(ErrorCode.NO_NODE, { path });
    const prefix = path === '/' ? '/' : `${path}/`;
    const children = [...this.nodes.keys()]
      .filter((p) => p.startsWith(prefix) && p !== path && !p.slice(prefix.length).includes('/'))
      .map((p) => p.slice(prefix.length));
    return { children };
  }

  async getData(path: string) {
    this.reads++;
    const entry = this.nodes.get(path);
    if (entry === undefined || this.vanish.has(path)) throw KeeperError.from(ErrorCode.NO_NODE, { path });
    const stat = {
      czxid: entry.czxid, mzxid: entry.czxid, ctime: BigInt(entry.ctime), mtime: BigInt(entry.ctime),
      version: 0, cversion: 0, aversion: 0, ephemeralOwner: entry.owner, dataLength: entry.data.length,
      numChildren: 0, pzxid: entry.czxid,
    } as Stat;
    return { data: entry.data, stat };
  }
}

const owner = (name: string) =>
  encodeLockNodeData({ owner: name, host: 'web-3', pid: 42, requestedAt: 900, traceId: `trace-${name}` });

describe('zk-cli introspection readers', () => {
  it('detects each layout from its node names', () => {
    assert.equal(detectLockKind([node(0, 'lock-', 1)]), 'mutex');
    assert.equal(detectLockKind([node(0, 'lock-', 1), node(1, '__READ__', 2)]), 'read-write');
    assert.equal(detectLockKind(['x', node(0, 'latch-', 3)]), 'latch');
    assert.equal(detectLockKind(['leases', 'locks']), 'semaphore');
    assert.equal(detectLockKind(['a', 'b', 'lock-notanumber']), undefined);
  });

  it('mutex: first node holds, the rest wait in order; owner JSON, IP and gone nodes apart', async () => {
    const tree = new FakeTree()
      .add(`/l/${node(0, 'lock-', 7)}`, '10.1.2.3', 0x55n, 2_000) // Curator: the client's IP address
      .add(`/l/${node(1, 'lock-', 3)}`, owner('billing'), 0x44n, 1_000)
      .add(`/l/${node(0, 'lock-', 9)}`, 'x', 0x66n);
    tree.vanish.add(`/l/${node(0, 'lock-', 9)}`);
    const view = await inspectLockAt(tree, '/l');
    assert.equal(view.kind, 'mutex');
    assert.deepEqual(view.holders.map((h) => [h.sequence, h.owner, h.host, h.pid, h.traceId]), [
      [3, 'billing', 'web-3', 42, 'trace-billing'],
    ]);
    assert.equal(view.holders[0]!.sessionId, 0x44n);
    assert.deepEqual(view.queue.map((q) => [q.position, q.sequence, q.host, q.owner, q.present]), [
      [1, 7, '10.1.2.3', undefined, true],
      [2, 9, undefined, undefined, false],
    ]);
    const text = formatLockView(view, 4_000);
    assert.match(text, /^\/l \(mutex\): 1 holder, 2 waiting\n/);
    assert.match(text, /0 +HOLDS +lock-3 +billing +web-3 +42 +0x44 +0x\w+ +3\.0s/);
    assert.match(text, /1 +WAITS +lock-7 +- +10\.1\.2\.3 +- +0x55 +0x\w+ +2\.0s +lock-3\n/);
    assert.match(text, /2 +WAITS +lock-9 +\(gone\)/);
    assert.match(text, /trace trace-billing for /);
  });

  it('reads at most CONTENDERS_READ_MAX nodes of a long queue; the rest are named only', async () => {
    const tree = new FakeTree();
    const total = CONTENDERS_READ_MAX + 5;
    for (let seq = 0; seq < total; seq++) tree.add(`/long/${node(seq, 'lock-', seq)}`, owner(`w${seq}`));
    tree.reads = 0;
    const view = await inspectLockAt(tree, '/long');
    assert.equal(view.holders.length + view.queue.length, total);
    assert.equal(tree.reads, 1 + CONTENDERS_READ_MAX);
    const last = view.queue[view.queue.length - 1]!;
    assert.deepEqual([last.unread, last.owner, last.sequence], [true, undefined, total - 1]);
    assert.match(formatLockView(view, 0), /\(not read\)/);
  });

  it('read/write lock: readers ahead of the first writer hold together', async () => {
    const tree = new FakeTree()
      .add(`/rw/${node(0, '__READ__', 1)}`)
      .add(`/rw/${node(1, '__READ__', 2)}`)
      .add(`/rw/${node(0, '__WRIT__', 3)}`)
      .add(`/rw/${node(1, '__READ__', 4)}`);
    const view = await inspectLockAt(tree, '/rw');
    assert.equal(view.kind, 'read-write');
    assert.deepEqual(view.holders.map((h) => h.sequence), [1, 2]);
    assert.deepEqual(view.queue.map((q) => [q.marker, q.sequence]), [['__WRIT__', 3], ['__READ__', 4]]);
    // The writer waits on the reader just ahead; the reader behind it waits on the writer.
    assert.deepEqual(view.queue.map((q) => q.waitsOn), [node(1, '__READ__', 2), node(0, '__WRIT__', 3)]);
    assert.match(formatLockView(view, 2_000), /WAITS +__READ__4 .* __WRIT__3\n/);
  });

  it('semaphore: leases hold, acquirers queue on the internal mutex', async () => {
    const tree = new FakeTree()
      .add(`/s/leases/${node(0, 'lease-', 1)}`, owner('a'))
      .add(`/s/leases/${node(1, 'lease-', 2)}`, owner('b'))
      .add(`/s/locks/${node(1, 'lock-', 5)}`, owner('c'));
    const view = await inspectLockAt(tree, '/s');
    assert.equal(view.kind, 'semaphore');
    assert.deepEqual(view.holders.map((h) => h.owner), ['a', 'b']);
    assert.deepEqual(view.queue.map((q) => q.owner), ['c']);
    assert.match(formatLockView(view, 2_000), /2 leases, 1 queued for the internal mutex/);
  });

  it('elections: latch and selector layouts, participant ids from node data, the first leads', async () => {
    const tree = new FakeTree()
      .add(`/e/${node(0, 'latch-', 4)}`, 'beta')
      .add(`/e/${node(1, 'latch-', 2)}`, 'alpha')
      .add(`/s/${node(0, 'lock-', 8)}`, 'selector-1');
    const latch = await inspectElection(tree, '/e');
    assert.equal(latch.recipe, 'latch');
    assert.deepEqual(latch.participants.map((p) => [p.id, p.isLeader]), [['alpha', true], ['beta', false]]);
    const selector = await inspectElection(tree, '/s');
    assert.equal(selector.recipe, 'selector');
    assert.deepEqual(selector.participants.map((p) => p.id), ['selector-1']);
  });

  it('locks ls: lock directories anywhere below, /zookeeper skipped, the walk bounded', async () => {
    const tree = new FakeTree()
      .add(`/app/a/${node(0, 'lock-', 1)}`, owner('a'))
      .add(`/app/b/c/${node(0, 'latch-', 1)}`, 'leader')
      .add('/app/plain/child')
      .add(`/zookeeper/${node(0, 'lock-', 1)}`);
    const listing = await listLocks(tree, '/');
    assert.equal(listing.truncated, false);
    const found = listing.locks.map((l) => [l.path, l.kind]);
    assert.deepEqual(found, [['/app/a', 'mutex'], ['/app/b/c', 'latch']]);
    assert.match(formatLockList(listing.locks, 5_000), /\/app\/a +mutex +1 +0 +a +web-3 /);
    const bounded = await listLocks(tree, '/', { nodesMax: 3 });
    assert.equal(bounded.truncated, true);
    await assert.rejects(listLocks(tree, '/missing'), (e: unknown) => e instanceof KeeperError);
  });

  it('services: instances decoded from Curator JSON, broken ones reported with their problem', async () => {
    const instance = serviceInstance({ name: 'api', id: 'api-1', address: '10.0.0.1', port: 80 });
    const tree = new FakeTree()
      .add('/services/api/api-1', encodeServiceInstance(instance), 0x9n)
      .add('/services/api/api-2', 'not json');
    const views = await listInstances(tree, '/services', 'api');
    assert.equal(views.length, 2);
    assert.ok(views[0]!.ok && views[0]!.instance.address === '10.0.0.1' && views[0]!.sessionId === 0x9n);
    assert.ok(!views[1]!.ok && /not JSON/.test(views[1]!.problem));
  });

  it('formats ages and ids', () => {
    assert.equal(formatAge(undefined, 0), '-');
    assert.equal(formatAge(0, 12_345), '12.3s');
    assert.equal(formatAge(0, 245_000), '4m05s');
    assert.equal(formatAge(0, 7_380_000), '2h03m');
    assert.equal(formatAge(0, 3 * 86_400_000 + 3_600_000), '3d01h');
    assert.equal(formatAge(10, 0), '0.0s'); // a clock behind the server's reads as now
    assert.equal(hex(-1n), '0xffffffffffffffff');
  });
});
