// zk-cli's `locks ls|inspect`, `leader` and `services ls` read the recipes' node layouts correctly on
// Apache ZooKeeper 3.8 and on our server: locks, elections and services made by our recipes, and the
// same made by the real Curator 5.4 (InterProcessMutex, LeaderLatch, ServiceDiscovery) in a JVM.
import assert from 'node:assert/strict';
import { hostname } from 'node:os';
import { Writable, PassThrough } from 'node:stream';
import { after, before, describe, it } from 'mocha';
import { main } from '../../../src/cli/main.js';
import { LeaderLatch, Mutex, ReadWriteLock, Semaphore, ServiceDiscovery } from '../../../recipes/index.js';
import { describeOnRecipeServers } from '../recipes/discovery-support/servers.js';
import { curatorAvailable, startCurator, type CuratorHarness } from '../../support/curator.js';

interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

async function zkCli(connectString: string, ...words: string[]): Promise<CliRun> {
  let stdout = '';
  let stderr = '';
  const sink = (append: (text: string) => void) =>
    new Writable({
      write(chunk: Buffer, _encoding, callback) {
        append(chunk.toString('utf8'));
        callback();
      },
    });
  const io = {
    stdin: new PassThrough(),
    stdout: sink((t) => (stdout += t)),
    stderr: sink((t) => (stderr += t)),
    env: {},
  };
  const code = await main(['-server', connectString, ...words], io);
  // Before the command's output: "Connecting to ..." and the session's event, as zkCli.sh prints them.
  const connected = 'WatchedEvent state:SyncConnected type:None path:null\n';
  const at = stdout.indexOf(connected);
  return { code, stdout: at < 0 ? stdout : stdout.slice(at + connected.length), stderr };
}

async function zkCliJson<T>(connectString: string, ...words: string[]): Promise<T> {
  const run = await zkCli(connectString, ...words, '-j');
  assert.equal(run.code, 0, run.stderr);
  return JSON.parse(run.stdout) as T;
}

interface ContenderJson {
  nodeName: string;
  position: number;
  holds: boolean;
  marker: string;
  owner?: string;
  host?: string;
  pid?: number;
  sessionId?: string;
  czxid?: string;
  ctimeMs?: number;
  text?: string;
  waitsOn?: string;
}

interface LockJson {
  path: string;
  kind: string;
  holders: ContenderJson[];
  queue: ContenderJson[];
}

interface ElectionJson {
  recipe: string;
  participants: Array<ContenderJson & { id: string; isLeader: boolean }>;
}

const hex = (value: bigint) => `0x${value.toString(16)}`;

describeOnRecipeServers('zk-cli introspection', '/cli-introspection-', (suite) => {
  const { fx, path } = suite;
  it('locks inspect: the holder with owner, host, pid, session, token; waiters in queue order', async () => {
    const lockPath = `${path()}/jobs`;
    const [a, b, c] = await Promise.all([fx.framework(), fx.framework(), fx.framework()]);
    const lease = await new Mutex(a, lockPath, { owner: 'worker-a' }).acquire();
    const queued: string[] = [];
    const waitB = new Promise<string>((resolve) => {
      void new Mutex(b, lockPath, { owner: 'worker-b' })
        .acquire({ onQueued: resolve })
        .then((l) => fx.defer(l), () => undefined); // rejected when its framework closes
    });
    queued.push(await waitB);
    const waitC = new Promise<string>((resolve) => {
      void new Mutex(c, lockPath, { owner: 'worker-c' })
        .acquire({ onQueued: resolve })
        .then((l) => fx.defer(l), () => undefined); // rejected when its framework closes
    });
    queued.push(await waitC);
    const view = await zkCliJson<LockJson>(suite.server.connectString, 'locks', 'inspect', lockPath);
    assert.equal(view.kind, 'mutex');
    assert.equal(view.holders.length, 1);
    const holder = view.holders[0]!;
    assert.equal(holder.owner, 'worker-a');
    assert.equal(holder.host, hostname());
    assert.equal(holder.pid, process.pid);
    assert.equal(holder.sessionId, hex(a.sessionId));
    assert.equal(holder.czxid, hex(lease.fencingToken));
    assert.deepEqual(
      view.queue.map((q) => [q.owner, q.position, `${lockPath}/${q.nodeName}`]),
      [['worker-b', 1, queued[0]], ['worker-c', 2, queued[1]]],
    );
    assert.deepEqual(view.queue.map((q) => q.waitsOn), [holder.nodeName, view.queue[0]!.nodeName]);
    const text = await zkCli(suite.server.connectString, 'locks', 'inspect', lockPath);
    assert.equal(text.code, 0);
    assert.match(text.stdout, /\(mutex\): 1 holder, 2 waiting/);
    assert.match(text.stdout, /0\s+HOLDS\s+lock-\d+\s+worker-a/);
    assert.match(text.stdout, /2\s+WAITS\s+lock-\d+\s+worker-c/);
    await lease.release();
  });

  it('locks ls: every lock below a path with its kind, holders and waiters', async () => {
    const root = path();
    const zk = await fx.framework();
    const mutexLease = fx.defer(await new Mutex(zk, `${root}/a/mutex`, { owner: 'm' }).acquire());
    const rw = new ReadWriteLock(zk, `${root}/b/rw`);
    fx.defer(await rw.readLock.acquire());
    fx.defer(await new Semaphore(zk, `${root}/c/sem`, { maxLeases: 2 }).acquire());
    const listing = await zkCliJson<{ locks: LockJson[]; truncated: boolean }>(
      suite.server.connectString, 'locks', 'ls', root,
    );
    assert.equal(listing.truncated, false);
    const summary = listing.locks.map((l) => [l.path, l.kind, l.holders.length, l.queue.length]);
    assert.deepEqual(summary, [
      [`${root}/a/mutex`, 'mutex', 1, 0],
      [`${root}/b/rw`, 'read-write', 1, 0],
      [`${root}/c/sem`, 'semaphore', 1, 0],
    ]);
    assert.equal(listing.locks[0]!.holders[0]!.czxid, hex(mutexLease.fencingToken));
    const text = await zkCli(suite.server.connectString, 'locks', 'ls', root);
    assert.match(text.stdout, new RegExp(`${root}/a/mutex\\s+mutex\\s+1\\s+0\\s+m\\s`));
  });

  it('locks inspect on a missing path fails with exit code 1 and says so', async () => {
    const run = await zkCli(suite.server.connectString, 'locks', 'inspect', `${path()}/none`);
    assert.equal(run.code, 1);
    assert.match(run.stderr, /Node does not exist/);
    const usage = await zkCli(suite.server.connectString, 'locks', 'frob', '/x');
    assert.equal(usage.code, 2);
  });

  it('leader: our LeaderLatch leader and participants, in order', async () => {
    const election = `${path()}/election`;
    const [a, b] = await Promise.all([fx.framework(), fx.framework()]);
    const first = fx.defer(new LeaderLatch(a, election, { id: 'alpha' }));
    first.start();
    const term = await first.whenLeader();
    const second = fx.defer(new LeaderLatch(b, election, { id: 'beta' }));
    const queued = new Promise<void>((resolve) => {
      const poll = () => (second.ourPath === undefined ? setTimeout(poll, 10) : resolve());
      poll();
    });
    second.start();
    await queued;
    const view = await zkCliJson<ElectionJson>(suite.server.connectString, 'leader', election);
    assert.equal(view.recipe, 'latch');
    assert.deepEqual(view.participants.map((p) => [p.id, p.isLeader]), [['alpha', true], ['beta', false]]);
    assert.equal(view.participants[0]!.czxid, hex(term.term));
    const text = await zkCli(suite.server.connectString, 'leader', election);
    assert.match(text.stdout, /\(latch\): leader alpha, 2 participant/);
  });

  it('services ls: names with counts, then the instances of one service', async () => {
    const basePath = `${path()}/services`;
    const zk = await fx.framework();
    const discovery = fx.defer(new ServiceDiscovery(zk, { basePath }));
    await discovery.register({ name: 'api', id: 'api-1', address: '10.0.0.1', port: 8080 });
    const address = '10.0.0.2';
    await discovery.register({ name: 'api', id: 'api-2', address, port: 8080, status: 'draining' });
    await discovery.register({ name: 'worker', id: 'w-1', address: '10.0.0.3' });
    const names = await zkCliJson<Array<{ name: string; instances: number }>>(
      suite.server.connectString, 'services', 'ls', '-b', basePath,
    );
    assert.deepEqual(names, [{ name: 'api', instances: 2 }, { name: 'worker', instances: 1 }]);
    const run = await zkCli(suite.server.connectString, 'services', 'ls', '-b', basePath, 'api');
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /api-1\s+10\.0\.0\.1\s+8080\s+-\s+up\s+DYNAMIC\s+0x/);
    assert.match(run.stdout, /api-2\s+10\.0\.0\.2\s+8080\s+-\s+draining/);
  });

  describe('with the real Curator 5.4', function () {
    let curator: CuratorHarness | undefined;
    before(async function () {
      if (!curatorAvailable()) this.skip();
      this.timeout(60_000);
      curator = await startCurator(suite.server.connectString);
    });
    after(async () => curator?.close());

    it("locks inspect: Curator's InterProcessMutex holder (its IP address as host), our waiter", async () => {
      const lockPath = `${path()}/shared`;
      const held = await curator!.mutexAcquire('java-holder', lockPath, { waitMs: 5_000 });
      assert.ok(held.acquired);
      const zk = await fx.framework();
      const queued = new Promise<string>((resolve) => {
        void new Mutex(zk, lockPath, { owner: 'node-waiter' })
          .acquire({ onQueued: resolve })
          .then((l) => fx.defer(l), () => undefined); // rejected when its framework closes
      });
      const ourNode = await queued;
      const view = await zkCliJson<LockJson>(suite.server.connectString, 'locks', 'inspect', lockPath);
      assert.equal(view.holders.length, 1);
      const holder = view.holders[0]!;
      assert.equal(`${lockPath}/${holder.nodeName}`, held.lockPath);
      const javaNode = await curator!.get(held.lockPath!);
      assert.equal(holder.sessionId, hex(javaNode.ephemeralOwner));
      assert.equal(holder.czxid, hex(javaNode.czxid));
      assert.match(holder.host ?? '', /^[\d.:a-f]+$/); // Curator writes the client's IP address
      assert.equal(holder.owner, undefined);
      const queue = view.queue.map((q) => [q.owner, `${lockPath}/${q.nodeName}`]);
      assert.deepEqual(queue, [['node-waiter', ourNode]]);
      await curator!.mutexRelease('java-holder');
    });

    it("leader: Curator's LeaderLatch leads, ours waits behind it", async () => {
      const election = `${path()}/election`;
      await curator!.latchStart('java-latch', election, 'java-leader');
      await curator!.nextLeadership('java-latch', true);
      const zk = await fx.framework();
      const ours = fx.defer(new LeaderLatch(zk, election, { id: 'node-follower' }));
      ours.start();
      await new Promise<void>((resolve) => {
        const poll = () => (ours.ourPath === undefined ? setTimeout(poll, 10) : resolve());
        poll();
      });
      const view = await zkCliJson<ElectionJson>(suite.server.connectString, 'leader', election);
      assert.equal(view.recipe, 'latch');
      const expected = [['java-leader', true], ['node-follower', false]];
      assert.deepEqual(view.participants.map((p) => [p.id, p.isLeader]), expected);
      await curator!.latchClose('java-latch');
    });

    it("leader: Curator's LeaderSelector (lock- nodes, data = id) reads as a selector", async () => {
      const election = `${path()}/selector`;
      await curator!.selectorStart('java-selector', election, 'java-selector-id');
      await curator!.nextSelectorTerm('java-selector', true);
      const view = await zkCliJson<ElectionJson>(suite.server.connectString, 'leader', election);
      assert.equal(view.recipe, 'selector');
      assert.deepEqual(view.participants.map((p) => [p.id, p.isLeader]), [['java-selector-id', true]]);
      await curator!.selectorClose('java-selector');
    });

    it("locks inspect: Curator's read lock holders and its queued writer, in Curator's order", async () => {
      const lockPath = `${path()}/rw`;
      assert.ok((await curator!.rwAcquire('java-reader', lockPath, 'read', { waitMs: 5_000 })).acquired);
      const writeWait = { waitMs: 10_000, timeoutMs: 20_000 };
      const writer = curator!.rwAcquire('java-writer', lockPath, 'write', writeWait);
      // No event tells us the JVM's writer has queued: look until its node shows (bounded).
      let view: LockJson;
      let looks = 0;
      do {
        assert.ok(++looks < 200, 'the writer never queued');
        view = await zkCliJson<LockJson>(suite.server.connectString, 'locks', 'inspect', lockPath);
      } while (view.queue.length === 0);
      assert.equal(view.kind, 'read-write');
      assert.deepEqual(view.holders.map((h) => h.marker), ['__READ__']);
      assert.deepEqual(view.queue.map((q) => q.marker), ['__WRIT__']);
      await curator!.rwRelease('java-reader', 'read');
      assert.ok((await writer).acquired);
      await curator!.rwRelease('java-writer', 'write');
    });

    it("locks inspect: Curator's InterProcessSemaphoreV2 leases beside ours", async () => {
      const semPath = `${path()}/sem`;
      const taken = await curator!.semaphoreAcquire('java-sem', semPath, 3, { waitMs: 5_000 });
      assert.ok(taken.acquired);
      const zk = await fx.framework();
      fx.defer(await new Semaphore(zk, semPath, { maxLeases: 3, owner: 'node-lease' }).acquire());
      const view = await zkCliJson<LockJson>(suite.server.connectString, 'locks', 'inspect', semPath);
      assert.equal(view.kind, 'semaphore');
      assert.deepEqual(view.holders.map((h) => h.owner ?? 'curator'), ['curator', 'node-lease']);
      assert.equal(view.queue.length, 0);
      await curator!.semaphoreRelease('java-sem');
    });

    it("services ls: an instance Curator's ServiceDiscovery registered", async () => {
      const basePath = `${path()}/services`;
      await curator!.register({ basePath, name: 'billing', id: 'java-1', address: '10.1.2.3', port: 9000 });
      const run = await zkCli(suite.server.connectString, 'services', 'ls', '-b', basePath, 'billing');
      assert.equal(run.code, 0, run.stderr);
      assert.match(run.stdout, /java-1\s+10\.1\.2\.3\s+9000\s+-\s+up\s+DYNAMIC\s+0x[0-9a-f]+/);
      await curator!.unregister(basePath, 'java-1');
    });
  });
});
