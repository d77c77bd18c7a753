// DistributedAtomicLong on the test kit's virtual clock: when every optimistic attempt loses a race
// and the promoted lock is held elsewhere, the operation reports `succeeded: false` exactly at the
// lock timeout and changes nothing; once the lock is free and the race is over, it goes through.
import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'mocha';
import { ErrorCode, KeeperError, createFramework, type Framework } from '../../../../src/index.js';
import { DistributedAtomicLong, Mutex, type AtomicResult } from '../../../../recipes/index.js';
import { InProcessServer, VirtualClock } from '../../../../server/testing/index.js';

/** The framework, except that every versioned setData loses to another writer (BAD_VERSION). */
function alwaysRaced(framework: Framework, raced: { on: boolean }): Framework {
  return new Proxy(framework, {
    get(target, property) {
      if (property === 'setData' && raced.on) {
        return async (path: string) => {
          throw KeeperError.from(ErrorCode.BAD_VERSION, { path });
        };
      }
      const value: unknown = Reflect.get(target, property, target);
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
}

describe('distributed atomic long on a virtual clock', () => {
  const open: Array<{ close(): Promise<unknown> }> = [];

  afterEach(async () => {
    for (const thing of open.splice(0).reverse()) await thing.close();
  });

  it('a promoted-lock operation gives up exactly at lockTimeoutMs, changing nothing', async () => {
    const server = new InProcessServer({ clock: new VirtualClock(1_000_000) });
    open.push(server);
    const { clock } = server;
    const frameworks: Framework[] = [];
    for (let i = 0; i < 2; i++) {
      const framework = createFramework({ ...server.frameworkOptions(), sessionTimeoutMs: 6000 });
      open.push(framework);
      await framework.blockUntilConnected();
      frameworks.push(framework);
    }
    const [holder, counterSide] = frameworks as [Framework, Framework];
    const raced = { on: true };
    const zk = alwaysRaced(counterSide, raced);
    const counter = new DistributedAtomicLong(zk, '/counters/c', {
      attemptsMax: 3,
      promotedLock: new Mutex(zk, '/locks/counter', { clock }),
      lockTimeoutMs: 2500,
    });
    assert.equal(await counter.initialize(5n), true);
    const held = await new Mutex(holder, '/locks/counter', { clock }).acquire();
    let result: AtomicResult | undefined;
    const startMs = clock.nowMs();
    const running = counter.increment().then((r) => (result = r));
    await clock.advance(2499);
    assert.equal(result, undefined, 'still waiting for the promoted lock at +2499');
    await clock.advance(1);
    assert.deepEqual(result, { succeeded: false, preValue: 5n, postValue: 5n });
    assert.equal(clock.nowMs() - startMs, 2500);
    await running;
    assert.equal((await counter.get()).preValue, 5n, 'nothing changed');
    // With the lock free and the races over, the increment goes through.
    await held.release();
    raced.on = false;
    const settled = await counter.increment();
    assert.deepEqual(settled, { succeeded: true, preValue: 5n, postValue: 6n });
  });
});
