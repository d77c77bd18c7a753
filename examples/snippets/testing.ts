// The code shown in docs/testing.md, type-checked with the rest of the repo. The same steps run as
// specs in test/unit/framework/virtual-time.test.ts.
import assert from 'node:assert/strict';
import { ZooKeeperClient, createFramework, retryNTimes } from '../../src/index.js';
import { Barrier, LockTimeoutError, Mutex } from '../../recipes/index.js';
import {
  ClientFaults,
  InProcessServer,
  RealClockKit,
  TestingCluster,
  TestingServer,
  VirtualClock,
  VirtualClockKit,
} from '../../server/testing/index.js';

export async function realServer(): Promise<void> {
  await using server = await TestingServer.start();
  await using zk = createFramework({ connectString: server.connectString, sessionTimeoutMs: 4000 });
  await zk.blockUntilConnected();
  await server.expireSession(zk.sessionId); // the framework goes LOST, then RECONNECTED on a new session
}

export async function oneClientsFaults(connectString: string): Promise<void> {
  const faults = new ClientFaults();
  await using zk = createFramework({ connectString, client: { transport: faults.transport } });
  faults.partition(); // SUSPENDED after the read timeout; LOST if it lasts the session timeout
  faults.heal(); // RECONNECTED on the same session, if healed in time
}

export async function suspendedThenLost(): Promise<void> {
  await using server = new InProcessServer({ clock: new VirtualClock() });
  const { clock } = server;
  await using zk = createFramework({ ...server.frameworkOptions(), sessionTimeoutMs: 6000 });
  await zk.blockUntilConnected();
  const states: string[] = [];
  const fromMs = clock.nowMs(); // the last reply arrived now
  zk.onConnectionStateChange(({ state, atMs }) => states.push(`${state}@${atMs - fromMs}`));

  server.partition(); // bytes stop flowing both ways; connections stay open
  await clock.advance(6000); // no sleeping: timers fire in order as virtual time passes
  assert.deepEqual(states, ['SUSPENDED@4000', 'LOST@6000']);

  server.heal();
  await clock.advanceUntil(() => states.length === 3); // a new session: RECONNECTED
}

export async function lockTimeout(): Promise<void> {
  await using server = new InProcessServer();
  const { clock } = server;
  await using holder = createFramework({ ...server.frameworkOptions(), retry: retryNTimes(3, 100) });
  await using waiter = createFramework({ ...server.frameworkOptions(), retry: retryNTimes(3, 100) });
  await using held = await new Mutex(holder, '/locks/job', { clock }).acquire();
  const waiting = new Mutex(waiter, '/locks/job', { clock }).acquire({ timeoutMs: 5000 });
  const timedOut = assert.rejects(waiting, LockTimeoutError); // listen before time moves
  await clock.advance(5000);
  await timedOut;
  console.log(held.fencingToken);
}

export async function plainClient(): Promise<void> {
  await using server = new InProcessServer();
  await using client = new ZooKeeperClient({ ...server.clientOptions(), sessionTimeoutMs: 6000 });
  await client.connect();
  await client.create('/a', 'x');
  await server.expireSession(client.sessionId); // the client ends: state 'expired', then 'closed'
}

export async function cluster(): Promise<void> {
  await using cluster = await TestingCluster.start({ size: 3 }); // resolves once a leader serves
  await using zk = createFramework({ connectString: cluster.connectString, sessionTimeoutMs: 10_000 });
  await zk.blockUntilConnected();
  await zk.create('/mine', { mode: 'EPHEMERAL' });

  const leader = await cluster.leader(); // waits until a leader serves and every running member too
  await cluster.kill(leader); // a crash: its connections and peer links close
  const next = await cluster.leader(); // the others elected a new one (well under a second)
  await zk.create('/after'); // the framework reconnected and kept its session
  await cluster.restart(leader); // same id, same client port, caught up from the leader
  assert.notEqual(next.id, leader.id);
}

export async function oneSpecTwoClocks(apache: { connectString: string }, onApache: boolean): Promise<void> {
  const kit = onApache ? RealClockKit.on(apache.connectString, 'Apache') : VirtualClockKit.start();
  const zk = await kit.connect({ sessionTimeoutMs: 3000 });
  const startMs = kit.clock.nowMs();
  const wait = kit.track(new Barrier(zk, '/b', { clock: kit.clock }).wait({ timeoutMs: 800 }));
  await kit.settled(wait); // virtual: moves time; real: waits ~800 ms
  kit.assertElapsed(wait.atMs! - startMs, 800, 'the barrier wait timed out');
  await kit.close();
}
