// Goal: an ensemble of real processes (3 voters and an observer, one process each) keeps ZooKeeper's
// promises through crashes and pauses: every member shows the same data, a killed or paused leader is
// replaced and no acknowledged write is lost, the old leader catches up, a minority refuses writes, and
// clients (ours and the official C client) keep their sessions. Run against Apache ZooKeeper 3.8 and,
// once our zk-server runs ensembles (MENAGERIE_ENSEMBLE=1 or the probe says so), against ours.
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'mocha';
import { ConnectionLossError, NodeExistsError, ZooKeeperClient } from '../../../src/index.js';
import {
  ensembleUnavailable,
  startEnsemble,
  type Ensemble,
  type EnsembleKind,
  type EnsembleMember,
  type SyncMode,
} from '../../support/ensemble.js';
import { closeCClient, connectCClient, ZooKeeperC } from './c-client.js';

// Apache keeps 100 committed proposals in memory and never diffs from its txn log: a follower more
// than 100 writes behind gets a snapshot (SNAP), one fewer behind a DIFF.
const APACHE_SYNC_PROPERTIES = { 'zookeeper.commitLogCount': '100', 'zookeeper.snapshotSizeFactor': '-1' };

const KINDS: readonly EnsembleKind[] = ['apache', 'menagerie'];
let rootCounter = 0;

/** A session on exactly one member (no failover), or on several. */
async function clientOn(
  members: readonly EnsembleMember[],
  sessionTimeoutMs = 6_000,
): Promise<ZooKeeperClient> {
  const connectString = members.map((m) => m.connectString).join(',');
  const client = new ZooKeeperClient({ connectString, sessionTimeoutMs, reconnectDelayMaxMs: 200 });
  await client.connect({ timeoutMs: 15_000 });
  return client;
}

/** Polls `predicate` until it holds (bounded). */
async function waitUntil(what: string, predicate: () => boolean, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/** `count` creates under `prefix`, pipelined. */
async function writeMany(client: ZooKeeperClient, prefix: string, count: number): Promise<void> {
  await Promise.all(Array.from({ length: count }, (_, i) => createSurely(client, `${prefix}-${i}`, String(i))));
}

/**
 * Creates `path`, retrying on connection loss as an application would: the client may still be on a
 * member the test just killed (its socket's close is seen only after the first requests go out), and
 * NodeExists after a lost reply means an earlier attempt was applied.
 */
async function createSurely(client: ZooKeeperClient, path: string, data: string): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await client.create(path, data);
      return;
    } catch (err) {
      if (err instanceof NodeExistsError && attempt > 1) return;
      if (!(err instanceof ConnectionLossError) || attempt >= 5) throw err;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}

/** The children of `root` as every member sees them after a sync: all the same, returned once. */
async function agreedChildren(members: readonly EnsembleMember[], root: string): Promise<string[]> {
  const views = await childrenOnEach(members, root);
  const distinct = new Set([...views.values()].map((c) => c.join()));
  const sizes = [...views].map(([id, c]) => `member ${id}: ${c.length}`).join(', ');
  assert.equal(distinct.size, 1, `members disagree on ${root}: ${sizes}`);
  return [...views.values()][0]!;
}

interface WriteLoad {
  readonly acknowledged: readonly string[];
  readonly failures: number;
  /** Resolves once `count` creates were acknowledged (bounded). */
  waitFor(count: number): Promise<void>;
  stop(): Promise<void>;
}

/** Four writers creating children of `root` one after another through `client`, until stopped. */
function startWriteLoad(client: ZooKeeperClient, root: string): WriteLoad {
  const acknowledged: string[] = [];
  let failures = 0;
  let running = true;
  const writers = Array.from({ length: 4 }, async (_, w) => {
    for (let n = 0; running; n++) {
      const name = `w${w}-${n}`;
      try {
        await client.create(`${root}/${name}`, String(n), { signal: AbortSignal.timeout(15_000) });
        acknowledged.push(name);
      } catch {
        failures++; // in flight at a crash: may or may not have happened
      }
    }
  });
  return {
    acknowledged,
    get failures() {
      return failures;
    },
    waitFor: (count) => waitUntil(`${count} acknowledged writes`, () => acknowledged.length >= count),
    async stop() {
      running = false;
      await Promise.all(writers);
    },
  };
}

/** Every member (after a sync) has every acknowledged create of `load`, and they all agree. */
async function assertNothingLost(
  members: readonly EnsembleMember[],
  root: string,
  load: WriteLoad,
): Promise<void> {
  const views = await childrenOnEach(members, root);
  for (const [id, children] of views) {
    const present = new Set(children);
    const lost = load.acknowledged.filter((name) => !present.has(name));
    assert.deepEqual(lost, [], `member ${id} lacks acknowledged writes (${load.failures} writes failed)`);
  }
  assert.equal(new Set([...views.values()].map((c) => c.join())).size, 1, 'members agree');
}

/** Every acknowledged create of a write load, per member, read after a sync. */
async function childrenOnEach(
  members: readonly EnsembleMember[],
  root: string,
): Promise<Map<number, string[]>> {
  const seen = new Map<number, string[]>();
  for (const member of members) {
    await using client = await clientOn([member]);
    await client.sync(root);
    seen.set(member.id, (await client.getChildren(root)).children.sort());
  }
  return seen;
}

for (const kind of KINDS) {
  describe(`ensemble of real processes, 3 voters + 1 observer [${kind}]`, function () {
    this.timeout(60_000);
    let ensemble: Ensemble | undefined;
    const current = () => {
      if (ensemble === undefined) throw new Error('ensemble not started');
      return ensemble;
    };
    const voters = () => current().members.filter((m) => m.role === 'participant');
    const fresh = (name: string) => `/${name}-${kind}-${++rootCounter}`;

    before(async function () {
      this.timeout(120_000);
      const unavailable = await ensembleUnavailable(kind);
      if (unavailable !== undefined) {
        console.log(`    (${unavailable}: skipping the ${kind} ensemble specs)`);
        this.skip();
      }
      ensemble = await startEnsemble({
        kind,
        voters: 3,
        observers: 1,
        systemProperties: APACHE_SYNC_PROPERTIES,
        config: { maxSessionTimeout: 30_000 },
      });
    });

    // Each spec leaves the ensemble whole again: paused members resumed, dead ones restarted.
    afterEach(async function () {
      this.timeout(60_000);
      if (ensemble === undefined) return;
      for (const member of ensemble.members) {
        if (member.state === 'paused') member.resume();
        if (member.state === 'stopped') await member.restart();
      }
      await ensemble.waitServing(45_000);
    });

    after(async function () {
      this.timeout(30_000);
      await ensemble?.stop();
    });

    it('agrees on every write made through any member', async () => {
      const root = fresh('agree');
      const members = current().members;
      {
        await using first = await clientOn([members[0]!]);
        await first.create(root, 'start');
      }
      for (const member of members) {
        await using client = await clientOn([member]);
        await client.create(`${root}/via-${member.id}`, `written through ${member.id}`);
        await client.setData(root, `last write through ${member.id}`);
      }
      const views: string[] = [];
      for (const member of members) {
        await using client = await clientOn([member]);
        await client.sync(root);
        const { data, stat } = await client.getData(root);
        const { children } = await client.getChildren(root);
        const values = [];
        for (const child of children.sort()) {
          values.push(`${child}=${String((await client.getData(`${root}/${child}`)).data)}`);
        }
        views.push(JSON.stringify({ data: String(data), mzxid: String(stat.mzxid), values }));
      }
      assert.equal(new Set(views).size, 1, `members disagree:\n${views.join('\n')}`);
      const agreed = JSON.parse(views[0]!) as { data: string; values: string[] };
      assert.equal(agreed.data, `last write through ${members.at(-1)!.id}`);
      assert.equal(agreed.values.length, members.length);
    });

    it('replaces a killed leader under load, loses no write; the old one catches up', async () => {
      const ens = current();
      const root = fresh('load');
      const oldLeader = await ens.leader();
      await using writer = await clientOn(ens.members, 10_000);
      await writer.create(root);
      await writer.create(`${root}-owner`, null, { mode: 'EPHEMERAL' });
      const sessionId = writer.sessionId;
      const load = startWriteLoad(writer, root);
      try {
        await load.waitFor(40);
        await oldLeader.kill9();
        const newLeader = await ens.leader();
        assert.notEqual(newLeader.id, oldLeader.id);
        await load.waitFor(load.acknowledged.length + 40);
      } finally {
        await load.stop();
      }
      await oldLeader.restart();
      assert.match(await oldLeader.waitMode(['follower']), /follower/);
      await assertNothingLost(ens.members, root, load);
      assert.equal(writer.sessionId, sessionId, 'our client kept its session');
      assert.equal((await writer.exists(`${root}-owner`))?.ephemeralOwner, sessionId);
    });

    it('replaces a paused leader (SIGSTOP) and takes it back as follower (SIGCONT)', async () => {
      const ens = current();
      const root = fresh('paused');
      const oldLeader = await ens.leader();
      oldLeader.pause();
      const newLeader = await ens.leader();
      assert.notEqual(newLeader.id, oldLeader.id);
      {
        await using client = await clientOn(ens.members.filter((m) => m !== oldLeader));
        await client.create(root, 'written while the old leader slept');
      }
      oldLeader.resume();
      assert.equal(await oldLeader.waitMode(['follower']), 'follower');
      await using onOld = await clientOn([oldLeader]);
      await onOld.sync(root);
      assert.equal(String((await onOld.getData(root)).data), 'written while the old leader slept');
    });

    it('refuses writes in a minority and accepts them again once a majority is back', async () => {
      const ens = current();
      const root = fresh('minority');
      const leader = await ens.leader();
      const [first, second] = voters().filter((m) => m !== leader);
      await first!.kill9();
      await second!.kill9();
      // The lone leader (and the observer) must not commit: the write times out or loses its connection.
      const lone = new ZooKeeperClient({ connectString: leader.connectString, sessionTimeoutMs: 4_000 });
      try {
        await assert.rejects(lone.create(root, 'minority', { signal: AbortSignal.timeout(5_000) }));
      } finally {
        await lone.close();
      }
      await first!.restart();
      await ens.leader();
      await using client = await clientOn(ens.members.filter((m) => m.state === 'running'));
      await client.create(`${root}-after`, 'majority');
      await client.sync('/');
      assert.equal(String((await client.getData(`${root}-after`)).data), 'majority');
    });

    it('resynchronises by DIFF, SNAP and TRUNC, dropping a proposal that never committed', async () => {
      const ens = current();
      const root = fresh('resync');
      let unlogged = false;
      const syncedBy = async (member: EnsembleMember, mode: SyncMode, orMode: SyncMode = mode) => {
        const modes = member.syncModes();
        if (kind === 'menagerie' && modes.length === 0) {
          if (!unlogged) console.log('    (our member does not log its sync mode: only the data is checked)');
          unlogged = true;
          return;
        }
        const how = modes.join(',') || '?';
        const problem = `member ${member.id} synchronised by ${how}, not ${mode}`;
        assert.ok(modes.includes(mode) || modes.includes(orMode), `${problem}\n${await ens.describe()}`);
      };
      await using client = await clientOn(ens.members);
      await client.create(root);

      // DIFF: a follower misses a few writes.
      let leader = await ens.leader();
      const behind = voters().find((m) => m !== leader)!;
      await behind.kill9();
      await writeMany(client, `${root}/diff`, 20);
      await behind.restart();
      await behind.waitMode(['follower']);
      await syncedBy(behind, 'DIFF');
      assert.equal((await agreedChildren(ens.members, root)).length, 20);

      // TRUNC: the leader logs a proposal no follower receives, dies, and comes back to a new epoch.
      // (Before SNAP: a member that took a snapshot restarts with too few proposals to TRUNC from.)
      leader = await ens.leader();
      const [first, second] = voters().filter((m) => m !== leader);
      const onLeader = await clientOn([leader], 30_000);
      first!.pause();
      second!.pause();
      const orphan = onLeader.create(`${root}/orphan`, 'never committed').then(
        () => 'acknowledged',
        () => 'failed',
      );
      await new Promise((resolve) => setTimeout(resolve, 300)); // the leader logs it meanwhile
      await Promise.all([first!.kill9(), second!.kill9(), leader.kill9()]);
      assert.equal(await orphan, 'failed', 'a write without a quorum was acknowledged');
      await onLeader.close();
      await Promise.all([first!.restart(), second!.restart()]);
      await ens.leader();
      // Apache truncates only while the new leader has committed nothing newer (else it sends SNAP):
      // the old leader returns before any write of the new epoch (its session outlives this).
      await leader.restart();
      assert.equal(await leader.waitMode(['follower']), 'follower');
      // A loaded machine may kill the old leader before it has logged the orphan: then it has nothing
      // to truncate and gets an (empty) DIFF. The data check below still proves the orphan is gone.
      await syncedBy(leader, 'TRUNC', 'DIFF');
      await createSurely(client, `${root}/new-epoch`, '');
      const children = await agreedChildren(ens.members, root);
      assert.ok(children.includes('new-epoch'));
      assert.ok(!children.includes('orphan'), 'the uncommitted proposal survived on some member');
      assert.equal(children.length, 21);

      // SNAP: a follower misses more writes than the leader keeps proposals for.
      leader = await ens.leader();
      const lagging = voters().find((m) => m !== leader)!;
      await lagging.kill9();
      await writeMany(client, `${root}/snap`, 600);
      await lagging.restart();
      await lagging.waitMode(['follower']);
      await syncedBy(lagging, 'SNAP');
      assert.equal((await agreedChildren(ens.members, root)).length, 621);
    });

    it('keeps the official C client session across a leader kill', async () => {
      const ens = current();
      const leader = await ens.leader();
      const others = ens.members.filter((m) => m !== leader);
      // The C client tries hosts in order: connected to the leader first, it must fail over.
      const connectString = [leader, ...others].map((m) => m.connectString).join(',');
      const c = await connectCClient(connectString, 10_000);
      const path = fresh('c-client');
      try {
        await c.create(path, 'before', ZooKeeperC.constants.ZOO_EPHEMERAL);
        const sessionHex = c.client_id;
        const reconnected = new Promise<void>((resolve) => c.once('connect', () => resolve()));
        await leader.kill9();
        await reconnected;
        await c.set(path, 'after', -1);
        assert.equal(c.client_id, sessionHex, 'same session after failover');
        await using observer = await clientOn(others);
        await observer.sync(path);
        const { data, stat } = await observer.getData(path);
        assert.equal(String(data), 'after');
        assert.equal(stat.ephemeralOwner.toString(16), sessionHex, 'its ephemeral survives');
      } finally {
        await closeCClient(c);
      }
    });
  });
}

for (const kind of KINDS) {
  describe(`ensemble of real processes, 5 voters + 1 observer [${kind}]`, function () {
    this.timeout(90_000);
    let ensemble: Ensemble | undefined;
    const current = () => {
      if (ensemble === undefined) throw new Error('ensemble not started');
      return ensemble;
    };

    before(async function () {
      this.timeout(120_000);
      if ((await ensembleUnavailable(kind)) !== undefined) this.skip();
      const config = { maxSessionTimeout: 30_000 };
      ensemble = await startEnsemble({ kind, voters: 5, observers: 1, config });
    });

    after(async function () {
      this.timeout(30_000);
      await ensemble?.stop();
    });

    it('survives three leader kills in a row under load and a paused follower, losing nothing', async () => {
      const ens = current();
      const root = `/five-${kind}-${++rootCounter}`;
      await using writer = await clientOn(ens.members, 10_000);
      await writer.create(root);
      const sessionId = writer.sessionId;
      const load = startWriteLoad(writer, root);
      let paused: EnsembleMember | undefined;
      try {
        await load.waitFor(30);
        for (let round = 0; round < 3; round++) {
          const leader = await ens.leader();
          if (round === 1) {
            // From the second kill on, a follower is also paused (stopped, not dead): two voters down.
            paused = ens.members.find((m) => m.role === 'participant' && m !== leader)!;
            paused.pause();
          }
          await leader.kill9();
          const next = await ens.leader();
          assert.notEqual(next.id, leader.id);
          await load.waitFor(load.acknowledged.length + 30);
          await leader.restart(); // back before the next round, so never more than two voters are down
          await leader.waitMode(['follower', 'leader']);
        }
      } finally {
        await load.stop();
        paused?.resume();
      }
      await ens.waitServing(45_000);
      await ens.leader();
      if (paused !== undefined) assert.equal(await paused.waitMode(['follower']), 'follower');
      await assertNothingLost(ens.members, root, load);
      assert.equal(writer.sessionId, sessionId, 'our client kept its session through three failovers');
    });
  });
}
