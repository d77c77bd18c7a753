// Failover in a real 3-member ensemble, run against Apache ZooKeeper 3.8 and against our server:
// kill the member a client is connected to and check that its session, its ephemerals and its
// watches survive on another member, also when that member is the leader (a new election);
// read-only mode: with quorum lost a canBeReadOnly client reads from the lone member, then moves to
// read-write when the quorum is back; getConfig lists every member; and reconfig changes the
// membership and fires the config watch.
import assert from 'node:assert/strict';
import { describe, it } from 'mocha';
import {
  ConnectionLossError,
  NotReadOnlyError,
  ZooKeeperClient,
  isIndeterminate,
  type WatchedEvent,
} from '../../../src/index.js';
import {
  ensembleKindInstalled,
  ourEnsembleSupport,
  startEnsemble,
  type Ensemble,
  type EnsembleKind,
  type EnsembleMember,
  type EnsembleOptions,
} from '../../support/ensemble.js';
import { waitForState } from './support/wait.js';

const KINDS: readonly EnsembleKind[] = ['apache', 'menagerie'];
const NAMES: Record<EnsembleKind, string> = { apache: 'Apache ZooKeeper 3.8', menagerie: 'menagerie' };

/**
 * Starts the ensemble in a before-hook, or skips the suite with a printed reason when this kind
 * cannot run here; the returned getter hands the running ensemble to the specs, and an after-hook
 * stops it (also a start still under way).
 */
function useEnsemble(kind: EnsembleKind, options: Omit<EnsembleOptions, 'kind' | 'voters'>): () => Ensemble {
  let starting: Promise<Ensemble> | undefined;
  let ensemble: Ensemble | undefined;
  before(async function () {
    this.timeout(120_000);
    if (!ensembleKindInstalled(kind)) {
      console.log(`    (skipped: ${NAMES[kind]} is not installed here)`);
      this.skip();
    }
    if (kind === 'menagerie') {
      const support = await ourEnsembleSupport();
      if (!support.supported) {
        console.log(`    (skipped: our server does not run ensembles here: ${support.reason})`);
        this.skip();
      }
    }
    starting = startEnsemble({ kind, voters: 3, ...options });
    ensemble = await starting;
  });
  after(async function () {
    this.timeout(120_000); // waits for a start still under way
    const started = await starting?.catch(() => undefined);
    await started?.stop();
  });
  return () => {
    if (ensemble === undefined) throw new Error('the ensemble did not start');
    return ensemble;
  };
}

function memberOnPort(ensemble: Ensemble, port: number): EnsembleMember {
  const found = ensemble.members.find((m) => m.clientPort === port);
  if (found === undefined) throw new Error(`no member has client port ${port}`);
  return found;
}

/** Starts the members an earlier spec stopped, and waits until all of them serve again. */
async function restartStopped(ensemble: Ensemble): Promise<void> {
  await Promise.all(ensemble.members.filter((m) => m.state === 'stopped').map((m) => m.restart()));
  await ensemble.waitServing();
  await ensemble.leader();
}

for (const kind of KINDS) {
  describe(`client failover in a 3-member ${NAMES[kind]} ensemble`, function () {
    this.timeout(60_000);
    const ensemble = useEnsemble(kind, {
      tickTimeMs: 300,
      syncLimit: 10,
      config: { reconfigEnabled: true, skipACL: 'yes' },
    });

    it('keeps the session, ephemerals and watches when the connected member dies', async () => {
      await using client = new ZooKeeperClient({
        connectString: ensemble().connectString,
        sessionTimeoutMs: 6000,
      });
      await client.connect();
      const state = client.state;
      assert.ok(state.type === 'connected');
      const sessionId = client.sessionId;
      const doomed = memberOnPort(ensemble(), state.host.port);
      const others = ensemble().members.filter((m) => m !== doomed);
      await using observer = new ZooKeeperClient({
        connectString: others.map((m) => m.connectString).join(','),
      });
      await observer.connect();

      await client.create('/fail', 'v0');
      await client.create('/fail/eph', null, { mode: 'EPHEMERAL' });
      const { watch } = await client.getData('/fail', { watch: true });
      const persistent = await client.addWatch('/fail', { mode: 'persistentRecursive' });

      const disconnected = waitForState(client, 'disconnected');
      await doomed.kill9();
      await disconnected;
      const reconnected = await waitForState(client, 'connected', 30_000);
      assert.ok(reconnected.type === 'connected' && reconnected.host.port !== doomed.clientPort);
      assert.equal(client.sessionId, sessionId);

      await observer.sync('/');
      assert.equal((await observer.exists('/fail/eph'))?.ephemeralOwner, sessionId);
      await observer.setData('/fail', 'v1');
      assert.deepEqual(await watch, { type: 'nodeDataChanged', path: '/fail' });
      await observer.create('/fail/new');
      const seen: WatchedEvent[] = [];
      for await (const event of persistent) {
        seen.push(event);
        if (event.path === '/fail/new') break;
      }
      assert.deepEqual(seen.at(-1), { type: 'nodeCreated', path: '/fail/new' });
      // The client never goes back in time: its last zxid is at least the observer's write.
      assert.ok(client.lastZxidSeen > 0n);
      assert.equal((await client.getData('/fail')).data?.toString(), 'v1');
    });

    it('keeps the session and its ephemeral when the leader it is connected to dies', async () => {
      await restartStopped(ensemble());
      const leader = await ensemble().leader();
      const others = ensemble().members.filter((m) => m !== leader);
      // A random() just below 1 keeps the connect string's order: the client starts on the leader.
      await using client = new ZooKeeperClient({
        connectString: [leader, ...others].map((m) => m.connectString).join(','),
        sessionTimeoutMs: 8000,
        random: () => 0.999,
      });
      await client.connect();
      const state = client.state;
      assert.ok(state.type === 'connected' && state.host.port === leader.clientPort);
      const sessionId = client.sessionId;
      await client.create('/lead', 'v0');
      await client.create('/lead/eph', null, { mode: 'EPHEMERAL' });
      const { watch } = await client.exists('/lead/later', { watch: true });

      await leader.kill9();
      const reconnected = await waitForState(client, 'connected', 30_000);
      assert.ok(reconnected.type === 'connected' && reconnected.host.port !== leader.clientPort);
      assert.equal(client.sessionId, sessionId);
      const successor = await ensemble().leader();
      assert.notEqual(successor, leader);

      // The new leader took over the session and the data: writes commit and the watch fires.
      await client.create('/lead/later');
      assert.deepEqual(await watch, { type: 'nodeCreated', path: '/lead/later' });
      assert.equal((await client.exists('/lead/eph'))?.ephemeralOwner, sessionId);
      assert.deepEqual((await client.getChildren('/lead')).children.sort(), ['eph', 'later']);
    });

    it('reads the config listing every member', async () => {
      await restartStopped(ensemble());
      await using client = new ZooKeeperClient({ connectString: ensemble().connectString });
      await client.connect();
      const config = String((await client.getConfig()).data);
      assert.equal(config.match(/^server\.\d+=/gm)?.length, 3, config);
      for (const member of ensemble().members) {
        const line = new RegExp(`^server\\.${member.id}=[^\\n]*:${member.quorumPort}:`, 'm');
        assert.match(config, line, config);
      }
    });

    it('changes the membership with reconfig and fires the config watch', async () => {
      await restartStopped(ensemble());
      await using client = new ZooKeeperClient({ connectString: ensemble().connectString });
      await client.connect();
      const state = client.state;
      assert.ok(state.type === 'connected');
      const { data, stat, watch } = await client.getConfig({ watch: true });
      const config = String(data);
      assert.equal(config.match(/^server\.\d+=/gm)?.length, 3, config);
      const leaving = ensemble().members.find((m) => m.clientPort !== state.host.port)!;
      // Membership changes can make the server drop its connections, so the reply may be lost
      // (an indeterminate ConnectionLoss); the new config is then read after the reconnect.
      const result = await client
        .reconfig({ leaving: String(leaving.id), fromConfig: stat.mzxid })
        .catch(async (error: unknown) => {
          assert.ok(error instanceof ConnectionLossError && isIndeterminate(error), String(error));
          await waitForState(client, 'connected', 30_000);
          return client.getConfig();
        });
      assert.equal(result.data?.toString().match(/^server\.\d+=/gm)?.length, 2);
      assert.deepEqual(await watch, { type: 'nodeDataChanged', path: '/zookeeper/config' });
    });
  });

  describe(`client read-only mode with a 3-member ${NAMES[kind]} ensemble`, function () {
    this.timeout(60_000);
    // Apache reads readonlymode.enabled as a JVM property, ours from zoo.cfg. Apache 3.8 refuses
    // global sessions in read-only mode: a read-only server hands out local sessions only, so
    // local sessions must be enabled.
    const ensemble = useEnsemble(kind, {
      tickTimeMs: 300,
      syncLimit: 10,
      systemProperties: { 'readonlymode.enabled': 'true' },
      // Apache takes the zoo.cfg line as an unused zookeeper.* property; ours reads it.
      config: { localSessionsEnabled: true, 'readonlymode.enabled': true },
    });

    it('reads from a read-only member, then moves to read-write when quorum returns', async () => {
      await using writer = new ZooKeeperClient({ connectString: ensemble().connectString });
      await writer.connect();
      await writer.create('/ro', 'visible');
      await writer.close();
      const [lone, ...rest] = ensemble().members;
      await Promise.all(rest.map((m) => m.kill9()));
      await lone!.waitMode(['read-only'], 30_000);

      await using client = new ZooKeeperClient({
        connectString: ensemble().connectString,
        sessionTimeoutMs: 6000,
        canBeReadOnly: true,
        connectTimeoutMs: 1000,
        reconnectDelayMaxMs: 200,
      });
      await client.connect({ timeoutMs: 20_000 });
      assert.equal(client.state.type, 'connectedReadOnly');
      assert.equal((await client.getData('/ro')).data?.toString(), 'visible');
      await assert.rejects(client.create('/ro/new'), NotReadOnlyError);

      const readWrite = waitForState(client, 'connected', 40_000);
      await Promise.all(rest.map((m) => m.restart()));
      await readWrite;
      await client.create('/ro/new');
      assert.deepEqual((await client.getChildren('/ro')).children, ['new']);
    });
  });
}
