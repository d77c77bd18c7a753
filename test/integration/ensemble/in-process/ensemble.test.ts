// A 3-member ensemble in this process over the in-memory seams: it elects one leader, replicates
// writes made through any member, serves our client on a follower (create, get, set, delete, multi,
// sync, watches), removes ephemerals everywhere when their session closes, elects again when the leader
// stops, keeps a session that moves to another member, and lets an observer serve.
import assert from 'node:assert/strict';
import { describe, it } from 'mocha';
import { ZooKeeperClient, type WatchedEvent } from '../../../../src/index.js';
import {
  startEnsemble as startInProcess,
  type RunningEnsemble,
  type RunningMember,
  type StartEnsembleOptions,
} from '../../../../server/ensemble/server.js';
import { fourLetterWord } from '../../../support/ports.js';

function client(members: RunningMember | RunningMember[], sessionTimeoutMs = 4000): ZooKeeperClient {
  const list = Array.isArray(members) ? members : [members];
  return new ZooKeeperClient({ connectString: list.map((m) => m.connectString).join(','), sessionTimeoutMs });
}

function followers(ensemble: RunningEnsemble): RunningMember[] {
  return [...ensemble.members.values()].filter((m) => m.mode === 'follower');
}

/** Reads `path` on every member through its own client (after a sync) and returns the values. */
async function valuesEverywhere(ensemble: RunningEnsemble, path: string): Promise<Array<string | null>> {
  const values: Array<string | null> = [];
  for (const member of ensemble.members.values()) {
    await using c = client(member);
    await c.connect();
    await c.sync(path);
    const stat = await c.exists(path);
    values.push(stat === null ? null : (String((await c.getData(path)).data) ?? null));
  }
  return values;
}

const SEAMS = [
  { name: 'memory seams', transport: 'memory', storage: 'memory' },
  { name: 'TCP and disk', transport: 'tcp', storage: 'disk' },
] as const;

for (const seams of SEAMS) describe(`ensemble in process (${seams.name})`, function () {
  this.timeout(20_000);
  const startEnsemble = (options: StartEnsembleOptions) => startInProcess({ ...seams, ...options });

  it('elects one leader, and srvr reports the modes', async () => {
    await using ensemble = await startEnsemble({ size: 3 });
    const leader = await ensemble.settled();
    const modes = [...ensemble.members.values()].map((m) => m.mode).sort();
    assert.deepEqual(modes, ['follower', 'follower', 'leader']);
    const srvr = await fourLetterWord(leader.port, 'srvr');
    assert.match(srvr, /Mode: leader/);
    const follower = followers(ensemble)[0]!;
    assert.match(await fourLetterWord(follower.port, 'srvr'), /Mode: follower/);
  });

  it('shows the ensemble in /zookeeper/config', async () => {
    await using ensemble = await startEnsemble({ size: 3, observers: 1 });
    await ensemble.settled();
    await using c = client(followers(ensemble)[0]!);
    await c.connect();
    const text = String((await c.getData('/zookeeper/config')).data);
    assert.equal(text.match(/^server\.\d+=127\.0\.0\.1:\d+:\d+:participant/gm)?.length, 3);
    assert.match(text, /^server\.4=127\.0\.0\.1:\d+:\d+:observer/m);
    assert.match(text, /\nversion=0$/);
  });

  it('replicates a write made through a follower to every member', async () => {
    await using ensemble = await startEnsemble({ size: 3 });
    await ensemble.settled();
    const follower = followers(ensemble)[0]!;
    await using c = client(follower);
    await c.connect();
    await c.create('/replicated', 'v1');
    assert.deepEqual(await valuesEverywhere(ensemble, '/replicated'), ['v1', 'v1', 'v1']);
  });

  it('serves our client on a follower: create, get, set, delete, multi, sync, watches', async () => {
    await using ensemble = await startEnsemble({ size: 3 });
    await ensemble.settled();
    const [first, second] = followers(ensemble);
    await using c = client(first!);
    await c.connect();
    await c.create('/app', 'a');
    assert.equal(String((await c.getData('/app')).data), 'a');
    const stat = await c.setData('/app', 'b', { version: 0 });
    assert.equal(stat.version, 1);
    const results = await c.multi([
      ZooKeeperClient.op.create('/app/x', 'x'),
      ZooKeeperClient.op.setData('/app', 'c', { version: 1 }),
    ]);
    assert.equal(results.length, 2);
    assert.deepEqual((await c.getChildren('/app')).children, ['x']);
    // A watch set on one follower fires for a write made through another member.
    const watched = await c.getData('/app', { watch: true });
    await using other = client(second!);
    await other.connect();
    await other.setData('/app', 'd');
    const event: WatchedEvent = await watched.watch;
    assert.equal(event.type, 'nodeDataChanged');
    await c.sync('/app');
    assert.equal(String((await c.getData('/app')).data), 'd');
    await c.delete('/app/x');
    assert.equal(await c.exists('/app/x'), null);
  });

  it('removes a closed session\'s ephemerals on every member', async () => {
    await using ensemble = await startEnsemble({ size: 3 });
    await ensemble.settled();
    const follower = followers(ensemble)[0]!;
    const owner = client(follower);
    await owner.connect();
    await owner.create('/eph', 'e', { mode: 'EPHEMERAL' });
    assert.deepEqual(await valuesEverywhere(ensemble, '/eph'), ['e', 'e', 'e']);
    await owner.close();
    assert.deepEqual(await valuesEverywhere(ensemble, '/eph'), [null, null, null]);
  });

  it('elects a new leader when the leader stops, and writes go on', async () => {
    await using ensemble = await startEnsemble({ size: 3 });
    const leader = await ensemble.settled();
    await using c = client([...ensemble.members.values()].filter((m) => m !== leader));
    await c.connect();
    await c.create('/before', 'b');
    await ensemble.stopMember(leader.myId);
    const next = await ensemble.settled();
    assert.notEqual(next.myId, leader.myId);
    await c.create('/after', 'a');
    assert.deepEqual(await valuesEverywhere(ensemble, '/before'), ['b', 'b']);
    assert.deepEqual(await valuesEverywhere(ensemble, '/after'), ['a', 'a']);
  });

  it('keeps a session that moves to another member', async () => {
    await using ensemble = await startEnsemble({ size: 3 });
    await ensemble.settled();
    await using c = client(followers(ensemble));
    await c.connect();
    await c.create('/mine', 'm', { mode: 'EPHEMERAL' });
    const sessionId = c.sessionId;
    const state = c.state;
    assert.ok(state.type === 'connected');
    const connected = [...ensemble.members.values()].find((m) => m.port === state.host.port)!;
    await ensemble.stopMember(connected.myId);
    const signal = AbortSignal.timeout(10_000);
    for await (const next of c.states({ signal })) {
      if (next.type === 'connected' && next.host.port !== connected.port) break;
    }
    await c.create('/moved', 'x');
    assert.equal(c.sessionId, sessionId);
    assert.deepEqual((await c.getEphemerals('/')).sort(), ['/mine']);
    assert.deepEqual(await valuesEverywhere(ensemble, '/mine'), ['m', 'm']);
  });

  it('lets an observer serve reads and forward writes', async () => {
    await using ensemble = await startEnsemble({ size: 3, observers: 1 });
    await ensemble.settled();
    const observer = ensemble.member(4);
    assert.equal(observer.mode, 'observer');
    assert.match(await fourLetterWord(observer.port, 'srvr'), /Mode: observer/);
    await using c = client(observer);
    await c.connect();
    await c.create('/from-observer', 'o');
    assert.equal(String((await c.getData('/from-observer')).data), 'o');
    assert.deepEqual(await valuesEverywhere(ensemble, '/from-observer'), ['o', 'o', 'o', 'o']);
  });
});
