// Leader latch on the test kit's in-process server and virtual clock: when the leader's session
// expires, the next participant leads at exactly that virtual instant, and the old leader, once it
// runs again, reports that it has lost leadership. (A partitioned leader's schedule runs on both virtual
// and real time in test/conformance/recipes/timing/locks-leader.test.ts.)
import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'mocha';
import { createFramework, type Framework } from '../../../../src/index.js';
import { LeaderLatch, type LeadershipChange } from '../../../../recipes/index.js';
import { InProcessServer, VirtualClock } from '../../../../server/testing/index.js';

const SESSION_TIMEOUT_MS = 6000;
const TICK_MS = 500;
const START_MS = 1_000_000;

describe('leader latch on a virtual clock', () => {
  const open: Array<{ close(): Promise<unknown> }> = [];
  const clocks: VirtualClock[] = [];

  // Closing deletes nodes and ends sessions: virtual time has to move for every clock in play.
  afterEach(async () => {
    for (const thing of open.splice(0).reverse()) {
      let done = false;
      const closing = thing.close().finally(() => (done = true));
      for (let step = 0; step < 200 && !done; step++) {
        for (const clock of clocks) await clock.advance(100);
      }
      await closing;
    }
    clocks.splice(0);
  });

  function serve(): InProcessServer {
    const server = new InProcessServer({ clock: new VirtualClock(START_MS), tickTimeMs: TICK_MS });
    open.push(server);
    clocks.push(server.clock);
    return server;
  }

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

  function latchOn(framework: Framework, id: string, clock: VirtualClock): LeaderLatch {
    const latch = new LeaderLatch(framework, '/leader/job', { id, clock });
    open.push(latch);
    latch.start();
    return latch;
  }

  function record(latch: LeaderLatch, clock: VirtualClock, fromMs: number): string[] {
    const seen: string[] = [];
    latch.onChange((change: LeadershipChange) => {
      const what = change.isLeader ? 'leader' : change.uncertain === true ? 'uncertain' : 'not-leader';
      seen.push(`${what}@${clock.nowMs() - fromMs}`);
    });
    return seen;
  }

  it('the next participant leads at the instant the stalled leader\'s session expires', async () => {
    const server = serve();
    const { clock } = server;
    const stalledClock = new VirtualClock(START_MS); // the first leader's process stands still
    clocks.push(stalledClock);
    const first = latchOn(await frameworkOn(server, stalledClock), 'first', stalledClock);
    const firstTerm = await first.whenLeader();
    const second = latchOn(await frameworkOn(server), 'second', clock);
    await clock.settle();
    assert.equal(second.hasLeadership, false);
    const lastPacketMs = clock.nowMs();
    // The server expires a session in the first tick bucket after its last packet + timeout.
    const expiryMs = (Math.floor((lastPacketMs + SESSION_TIMEOUT_MS) / TICK_MS) + 1) * TICK_MS;
    const secondSeen = record(second, clock, lastPacketMs);
    const firstSeen = record(first, clock, lastPacketMs);
    await clock.advance(expiryMs - lastPacketMs - 1);
    assert.deepEqual(secondSeen, []);
    await clock.advance(1);
    assert.deepEqual(secondSeen, [`leader@${expiryMs - lastPacketMs}`]);
    assert.ok(second.hasLeadership);
    assert.ok(second.term!.term > firstTerm.term, 'a higher term');
    // The server closed the expired session's connection; the old leader's client reconnects, is
    // told its session expired, and gives leadership up in the same instant, with no timer of its own.
    assert.deepEqual(firstSeen, [`not-leader@${expiryMs - lastPacketMs}`]);
    assert.equal(first.hasLeadership, false);
    assert.ok(firstTerm.signal.aborted, 'the old term\'s signal aborted');
    // Its process runs again: it rejoins as a follower; the second keeps leading.
    await stalledClock.advance(clock.nowMs() - stalledClock.nowMs());
    await clock.advance(1000);
    assert.equal(first.hasLeadership, false);
    assert.ok(second.hasLeadership);
    assert.deepEqual(secondSeen, [`leader@${expiryMs - lastPacketMs}`]);
  });
});
