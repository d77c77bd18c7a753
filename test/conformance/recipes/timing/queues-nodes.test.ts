// Queue takes, persistent nodes and group members on both kinds of time (test/support/clock-kits.ts):
// a take times out at its deadline and a delayed item comes out when it is due; after a session
// expiry a PersistentNode and a GroupMember are back at the instant their framework reconnects on
// its new session, and a partitioned owner's node goes at the server's expiry and is back at the heal.
// Virtual time: exact; real time against Apache: the same spec as bounds.
import assert from 'node:assert/strict';
import { it } from 'mocha';
import { TimeoutError, type Framework } from '../../../../src/index.js';
import { DistributedQueue, GroupMember, PersistentNode } from '../../../../recipes/index.js';
import type { ClockKit } from '../../../../server/testing/index.js';
import { describeOnClocks, KIT_TICK_MS } from '../../../support/clock-kits.js';

const SESSION_TIMEOUT_MS = 3000;

/** Wall time (ms since the epoch) that moves with the kit's clock, for the delay queue. */
function wallTimeOf(k: ClockKit): () => number {
  const wallAtStartMs = Date.now();
  const clockAtStartMs = k.clock.nowMs();
  return () => Math.round(wallAtStartMs + (k.clock.nowMs() - clockAtStartMs));
}

/** `path`'s creations and deletions as seen by `observer`, each at its kit-clock time. */
async function watchNode(
  k: ClockKit,
  observer: Framework,
  path: string,
): Promise<Array<{ type: string; atMs: number }>> {
  const seen: Array<{ type: string; atMs: number }> = [];
  const arm = (): Promise<unknown> =>
    observer.exists(path, {
      watch: (event) => {
        seen.push({ type: event.type, atMs: k.clock.nowMs() });
        if (event.type === 'nodeCreated' || event.type === 'nodeDeleted') arm().catch(() => undefined);
      },
    });
  await arm();
  return seen;
}

/** When `framework` next reports RECONNECTED on a new session (kit-clock time). */
function nextNewSession(k: ClockKit, framework: Framework): { atMs: number | undefined } {
  const box: { atMs: number | undefined } = { atMs: undefined };
  const before = framework.sessionId;
  const stop = framework.onConnectionStateChange(({ state }) => {
    if (state === 'RECONNECTED' && framework.sessionId !== before) {
      box.atMs = k.clock.nowMs();
      stop();
    }
  });
  return box;
}

describeOnClocks('queues, persistent nodes and group members on the clock', (kit) => {
  it('a queue take times out at its deadline; a waiting take gets an item the moment it is put', async () => {
    const k = kit();
    const producer = await k.connect({ sessionTimeoutMs: SESSION_TIMEOUT_MS });
    const consumer = await k.connect({ sessionTimeoutMs: SESSION_TIMEOUT_MS });
    const queue = new DistributedQueue(consumer, '/queues/q', { clock: k.clock });
    const startMs = k.clock.nowMs();
    const timingOut = k.track(queue.take({ timeoutMs: 900 }));
    await k.settled(timingOut);
    assert.ok(timingOut.error instanceof TimeoutError, String(timingOut.error));
    k.assertElapsed(timingOut.atMs! - startMs, 900, 'the take timed out');
    const taking = k.track(queue.take({ timeoutMs: 5000 }));
    await k.advance(300);
    assert.equal(taking.settled, false);
    const putMs = k.clock.nowMs();
    await new DistributedQueue(producer, '/queues/q').put('hello');
    await k.settled(taking);
    assert.equal(taking.value?.items[0]?.toString(), 'hello');
    k.assertElapsed(taking.atMs! - putMs, 0, 'the take got the item as it was put');
  });

  it('a delay queue hands an item out when it is due, not before', async () => {
    const k = kit();
    const zk = await k.connect({ sessionTimeoutMs: SESSION_TIMEOUT_MS });
    const nowMs = wallTimeOf(k);
    const queue = new DistributedQueue(zk, '/queues/d', { kind: 'delay', clock: k.clock, nowMs });
    const startMs = k.clock.nowMs();
    await queue.put('later', { delayUntilEpochMs: nowMs() + 600 });
    const taking = k.track(queue.take({ timeoutMs: 5000 }));
    await k.settled(taking);
    assert.equal(taking.value?.items[0]?.toString(), 'later');
    k.assertElapsed(taking.atMs! - startMs, 600, 'the delayed item came out when due');
  });

  it('a PersistentNode is made again at the instant its framework is back on a new session', async () => {
    const k = kit();
    const owner = await k.connect({ sessionTimeoutMs: SESSION_TIMEOUT_MS });
    const observer = await k.connect({ sessionTimeoutMs: SESSION_TIMEOUT_MS });
    const node = k.own(new PersistentNode(owner, '/nodes/kept', { data: 'x', clock: k.clock }));
    await node.start({ timeoutMs: 2000 });
    const seen = await watchNode(k, observer, '/nodes/kept');
    const reconnected = nextNewSession(k, owner);
    const oldSession = owner.sessionId;
    const expiredMs = k.clock.nowMs();
    await k.expireSession(owner);
    await k.until(() => seen.length >= 2, { limitMs: 10_000 });
    assert.deepEqual(seen.map((event) => event.type), ['nodeDeleted', 'nodeCreated']);
    k.assertElapsed(seen[0]!.atMs - expiredMs, 0, 'the ephemeral went with the session');
    assert.ok(reconnected.atMs !== undefined);
    k.assertElapsed(seen[1]!.atMs - reconnected.atMs, 0, 'made again as the new session came');
    const { stat } = await observer.getData('/nodes/kept');
    assert.notEqual(stat.ephemeralOwner, oldSession);
    assert.equal(stat.ephemeralOwner, owner.sessionId, 'owned by the new session');
  });

  it('a partitioned owner: its node goes at the server\'s expiry, and is back at the heal', async () => {
    const k = kit();
    const owner = await k.connect({ sessionTimeoutMs: SESSION_TIMEOUT_MS });
    const observer = await k.connect({ sessionTimeoutMs: SESSION_TIMEOUT_MS });
    const node = k.own(new PersistentNode(owner, '/nodes/cut', { data: 'x', clock: k.clock }));
    await node.start({ timeoutMs: 2000 });
    const seen = await watchNode(k, observer, '/nodes/cut');
    const lastPacketMs = k.clock.nowMs();
    k.partition(owner);
    await k.until(() => seen.length >= 1, { limitMs: 10_000 });
    assert.equal(seen[0]!.type, 'nodeDeleted');
    // The server expires a session in the first tick bucket after its last packet + timeout: on
    // virtual time we know the buckets; Apache's are on its own clock, so there it is within a tick.
    const goneAfterMs = seen[0]!.atMs - lastPacketMs;
    const expiry = [SESSION_TIMEOUT_MS, SESSION_TIMEOUT_MS + KIT_TICK_MS] as const;
    k.assertElapsedWithin(goneAfterMs, ...expiry, 'deleted by the server\'s expiry');
    if (k.exactTime) {
      const expiryMs = (Math.floor((lastPacketMs + SESSION_TIMEOUT_MS) / KIT_TICK_MS) + 1) * KIT_TICK_MS;
      assert.equal(seen[0]!.atMs, expiryMs, 'deleted at the expiry instant');
    }
    await k.advance(500);
    const healedMs = k.clock.nowMs();
    k.heal(owner);
    await k.until(() => seen.length >= 2, { limitMs: 10_000 });
    assert.equal(seen[1]!.type, 'nodeCreated');
    k.assertElapsed(seen[1]!.atMs - healedMs, 0, 'made again as the partition healed');
    const { stat } = await observer.getData('/nodes/cut');
    assert.equal(stat.ephemeralOwner, owner.sessionId, 'owned by the new session');
  });

  it('a group member re-joins at the instant its framework is back on a new session', async () => {
    const k = kit();
    const zkA = await k.connect({ sessionTimeoutMs: SESSION_TIMEOUT_MS });
    const zkB = await k.connect({ sessionTimeoutMs: SESSION_TIMEOUT_MS });
    const memberA = k.own(new GroupMember(zkA, '/groups/g', 'a', 'A', { clock: k.clock }));
    const memberB = k.own(new GroupMember(zkB, '/groups/g', 'b', 'B', { clock: k.clock }));
    await memberA.start({ timeoutMs: 2000 });
    await memberB.start({ timeoutMs: 2000 });
    await k.until(() => memberB.currentMembers().has('a'));
    const seenByB: Array<{ type: string; atMs: number }> = [];
    memberB.onChange((event) => {
      if (event.type !== 'initialized' && event.path.endsWith('/a')) {
        seenByB.push({ type: event.type, atMs: k.clock.nowMs() });
      }
    });
    const reconnected = nextNewSession(k, zkA);
    const expiredMs = k.clock.nowMs();
    await k.expireSession(zkA);
    await k.until(() => seenByB.length >= 2, { limitMs: 10_000 });
    assert.deepEqual(seenByB.map((event) => event.type), ['deleted', 'created']);
    k.assertElapsed(seenByB[0]!.atMs - expiredMs, 0, 'B saw A leave with its session');
    k.assertElapsed(seenByB[1]!.atMs - reconnected.atMs!, 0, 'B saw A back as its new session came');
    assert.equal(memberB.currentMembers().get('a')?.toString(), 'A');
  });
});
