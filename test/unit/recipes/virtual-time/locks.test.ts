// Lock recipes on the test kit's in-process server and a stalled second clock, asserting exact virtual
// times: a waiter gets the lock at the instant the holder's session expires. (Timeouts and a
// partitioned holder run on both clocks in test/conformance/recipes/timing/locks-leader.test.ts; a
// stalled process clock has no real-time twin.)
import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'mocha';
import { ZooKeeperClient, createFramework, type Framework } from '../../../../src/index.js';
import { Mutex, type Lease } from '../../../../recipes/index.js';
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
