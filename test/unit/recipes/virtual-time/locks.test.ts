// Lock recipes on the test kit's in-process server and virtual clock, asserting exact virtual times:
// acquire timeouts fire at their deadline, a partitioned holder's lease goes uncertain at SUSPENDED
// and lost at its deadline, and a waiter gets the lock at the instant the holder's session expires.
import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'mocha';
import { ZooKeeperClient, createFramework, type Framework } from '../../../../src/index.js';
import { LockTimeoutError, Mutex, Semaphore, type Lease } from '../../../../recipes/index.js';
import { InProcessServer, VirtualClock } from '../../../../server/testing/index.js';

const SESSION_TIMEOUT_MS = 6000;
const TICK_MS = 500;
const START_MS = 1_000_000;

describe('lock recipes on a virtual clock', () => {
  const open: Array<{ close(): Promise<unknown> }> = [];

  afterEach(async () => {
    for (const thing of open.splice(0).reverse()) await thing.close();
  });

  function serve(): InProcessServer {
    const server = new InProcessServer({ clock: new VirtualClock(START_MS), tickTimeMs: TICK_MS });
    open.push(server);
    return server;
  }

  /** A framework on the server; a `clock` of its own models a process whose time stands still. */
  async function frameworkOn(server: InProcessServer, clock = server.clock): Promise<Framework> {
    const framework = createFramework({
      ...server.frameworkOptions(),
      clock,
      sessionTimeoutMs: SESSION_TIMEOUT_MS,
    });
    open.push(framework);
    await framework.blockUntilConnected();
    return framework;
  }

  async function childrenOf(server: InProcessServer, path: string): Promise<string[]> {
    const direct = new ZooKeeperClient(server.clientOptions());
    open.push(direct);
    await direct.connect();
    return (await direct.getChildren(path)).children;
  }

  /** Settles `promise` into a box the test can look at between clock steps. */
  function track<T>(promise: Promise<T>): { outcome: T | Error | 'pending' } {
    const box: { outcome: T | Error | 'pending' } = { outcome: 'pending' };
    promise.then(
      (value) => (box.outcome = value),
      (error: Error) => (box.outcome = error),
    );
    return box;
  }

  it('Mutex and Semaphore acquires time out exactly at their deadlines, leaving no contender', async () => {
    const server = serve();
    const { clock } = server;
    const holder = await frameworkOn(server);
    const waiter = await frameworkOn(server);
    const held = await new Mutex(holder, '/locks/m', { clock }).acquire();
    const pool = new Semaphore(holder, '/sem/s', { maxLeases: 1, clock });
    const poolLease = await pool.acquire();
    const startMs = clock.nowMs();
    const mutexWait = track(new Mutex(waiter, '/locks/m', { clock }).acquire({ timeoutMs: 3000 }));
    const semaphore = new Semaphore(waiter, '/sem/s', { maxLeases: 1, clock });
    const semWait = track(semaphore.acquire({ timeoutMs: 4500 }));
    await clock.advance(2999);
    assert.equal(mutexWait.outcome, 'pending');
    await clock.advance(1);
    assert.ok((mutexWait.outcome as unknown) instanceof LockTimeoutError, String(mutexWait.outcome));
    assert.equal(semWait.outcome, 'pending');
    await clock.advance(1499);
    assert.equal(semWait.outcome, 'pending', 'semaphore still waiting at +4499');
    await clock.advance(1);
    assert.ok((semWait.outcome as unknown) instanceof LockTimeoutError, String(semWait.outcome));
    assert.equal(clock.nowMs() - startMs, 4500);
    assert.deepEqual((await childrenOf(server, '/locks/m')).length, 1, 'only the holder is queued');
    await held.release();
    await poolLease.release();
  });

  it('partitioned holder: uncertain at SUSPENDED (2/3), lost at its deadline (9/10), LOST at 1', async () => {
    const server = serve();
    const { clock } = server;
    const holder = await frameworkOn(server);
    const lease = await new Mutex(holder, '/locks/p', { clock }).acquire();
    const lastHeardMs = clock.nowMs(); // the acquire's last reply arrived now
    const leaseStates: string[] = [];
    const connectionStates: string[] = [];
    lease.held.on('state', (state: { kind: string }) => {
      leaseStates.push(`${state.kind}@${clock.nowMs() - lastHeardMs}`);
    });
    holder.onConnectionStateChange(({ state, atMs }) => {
      connectionStates.push(`${state}@${atMs - lastHeardMs}`);
    });
    server.partition();
    await clock.advance(3999);
    assert.equal(lease.state, 'held');
    await clock.advance(1);
    assert.deepEqual(lease.detail, { kind: 'uncertain', deadlineMs: lastHeardMs + 5400 });
    assert.equal(lease.signal.aborted, false);
    await clock.advance(1399);
    assert.equal(lease.state, 'uncertain');
    await clock.advance(1);
    assert.equal(lease.state, 'lost');
    assert.ok(lease.signal.aborted, 'the lease signal aborts at the deadline');
    await clock.advance(600);
    assert.deepEqual(leaseStates, ['uncertain@4000', 'lost@5400']);
    assert.deepEqual(connectionStates, ['SUSPENDED@4000', 'LOST@6000']);
    server.heal();
    await clock.advanceUntil(() => connectionStates.length === 3);
    assert.match(connectionStates[2]!, /^RECONNECTED@/);
    await lease.release();
  });

  it('a waiter gets the lock at the instant a stalled holder\'s session expires', async () => {
    const server = serve();
    const { clock } = server;
    // The holder's clock stands still (a paused process): it sends no pings after acquiring.
    const stalledClock = new VirtualClock(START_MS);
    const holder = await frameworkOn(server, stalledClock);
    const waiter = await frameworkOn(server);
    const held: Lease = await new Mutex(holder, '/locks/e', { clock: stalledClock }).acquire();
    const holderSession = holder.sessionId;
    const lastPacketMs = clock.nowMs();
    // The server expires a session in the first tick bucket after its last packet + timeout.
    const expiryMs = (Math.floor((lastPacketMs + SESSION_TIMEOUT_MS) / TICK_MS) + 1) * TICK_MS;
    let acquiredAtMs: number | undefined;
    const waiting = new Mutex(waiter, '/locks/e', { clock }).acquire().then((lease) => {
      acquiredAtMs = clock.nowMs();
      return lease;
    });
    await clock.advance(expiryMs - lastPacketMs - 1);
    assert.equal(acquiredAtMs, undefined, 'still waiting 1 ms before the expiry');
    assert.ok(server.sessionIds().includes(holderSession));
    await clock.advance(1);
    assert.equal(acquiredAtMs, expiryMs, 'acquired at the expiry instant');
    assert.ok(!server.sessionIds().includes(holderSession), 'the holder\'s session is gone');
    const lease = await waiting;
    assert.ok(lease.fencingToken > held.fencingToken, 'a higher fencing token');
    assert.deepEqual(await childrenOf(server, '/locks/e'), [lease.nodePath.split('/').pop()]);
    await lease.release();
    await server.close(); // the stalled holder cannot finish a close handshake on its frozen clock
  });
});
