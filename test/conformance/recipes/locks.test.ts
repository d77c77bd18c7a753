// The lock contract, written once and run for every exclusive lock kind on every server: tryAcquire
// and timeouts and aborts leave no contender node (kazoo #732), two clients never hold at once,
// fencing tokens strictly increase, release is idempotent and hands the lock on.
import assert from 'node:assert/strict';
import { describe, it } from 'mocha';
import { createFramework, retryNTimes, type Framework } from '../../../src/index.js';
import { LockTimeoutError } from '../../../recipes/index.js';
import { eventually } from '../../integration/framework/support/wait.js';
import { ephemeralsUnder } from './nodes.js';
import { exclusiveLockKinds } from './lock-kinds.js';
import { serverFactories, type ServerUnderTest } from './servers.js';

for (const factory of serverFactories) {
  describe(`lock contract on ${factory.name}`, function () {
    this.timeout(20_000);
    let server: ServerUnderTest;
    let observer: Framework;
    const frameworks: Framework[] = [];
    let pathCounter = 0;

    before(async function () {
      if (!factory.available()) this.skip();
      this.timeout(60_000);
      server = await factory.start();
      observer = await connect();
    });

    afterEach(async () => {
      await Promise.all(frameworks.splice(1).map((f) => f.close()));
    });

    after(async () => {
      await Promise.all(frameworks.splice(0).map((f) => f.close()));
      await server?.stop();
    });

    async function connect(): Promise<Framework> {
      const fw = createFramework({
        connectString: server.connectString,
        sessionTimeoutMs: 4000,
        retry: retryNTimes(3, 50),
      });
      frameworks.push(fw);
      await fw.blockUntilConnected();
      return fw;
    }

    const freshPath = (kind: string) => `/contract/${kind.replace(/[^a-zA-Z]/g, '')}-${++pathCounter}`;

    for (const kind of exclusiveLockKinds) {
      describe(kind.name, () => {
        it('tryAcquire takes a free lock; a second client gets undefined, leaving no node', async () => {
          const path = freshPath(kind.name);
          const [a, b] = [await connect(), await connect()];
          const first = await kind.make(a, path).tryAcquire();
          assert.ok(first, 'a free lock is taken');
          assert.equal(first.state, 'held');
          assert.equal(await kind.make(b, path).tryAcquire(), undefined);
          assert.equal((await ephemeralsUnder(observer, path)).length, countNodesHeld(kind.name));
          await first.release();
          await first.release({ confirm: true }); // idempotent; waits until the server deleted it
          assert.deepEqual(await ephemeralsUnder(observer, path), []);
        });

        it('an acquire that times out rejects with LockTimeoutError and leaves no node', async () => {
          const path = freshPath(kind.name);
          const [a, b] = [await connect(), await connect()];
          await using held = await kind.make(a, path).acquire();
          const before = await ephemeralsUnder(observer, path);
          await assert.rejects(kind.make(b, path).acquire({ timeoutMs: 200 }), LockTimeoutError);
          await b.guaranteedDeletesSettled();
          assert.deepEqual(await ephemeralsUnder(observer, path), before);
          assert.equal(held.state, 'held');
        });

        it('an aborted acquire rejects with the reason and leaves no node', async () => {
          const path = freshPath(kind.name);
          const [a, b] = [await connect(), await connect()];
          await using held = await kind.make(a, path).acquire();
          const before = await ephemeralsUnder(observer, path);
          const controller = new AbortController();
          const waiting = kind.make(b, path).acquire({
            signal: controller.signal,
            onQueued: () => controller.abort(new Error('caller gave up')),
          });
          await assert.rejects(waiting, /caller gave up/);
          await b.guaranteedDeletesSettled();
          assert.deepEqual(await ephemeralsUnder(observer, path), before);
          assert.equal(held.state, 'held');
        });

        it('an acquire aborted while its node is being created leaves no node', async () => {
          const path = freshPath(kind.name);
          const [a, b] = [await connect(), await connect()];
          await using held = await kind.make(a, path).acquire();
          const before = await ephemeralsUnder(observer, path);
          for (let i = 0; i < 3; i++) {
            const controller = new AbortController();
            const waiting = kind.make(b, path).acquire({ signal: controller.signal });
            await Promise.resolve();
            controller.abort(new Error('early abort'));
            await assert.rejects(waiting, /early abort/);
          }
          // A create that landed after the abort is undone in the background: wait for that.
          await eventually(async () => (await ephemeralsUnder(observer, path)).length === before.length);
          await b.guaranteedDeletesSettled();
          assert.deepEqual(await ephemeralsUnder(observer, path), before);
          assert.equal(held.state, 'held');
        });

        it('two clients never hold at once, and fencing tokens strictly increase', async () => {
          const path = freshPath(kind.name);
          const clients = [await connect(), await connect(), await connect()];
          let holders = 0;
          let maxHolders = 0;
          const tokens: bigint[] = [];
          await Promise.all(
            clients.map(async (fw) => {
              const lock = kind.make(fw, path);
              for (let i = 0; i < 4; i++) {
                await using lease = await lock.acquire({ timeoutMs: 15_000 });
                holders++;
                maxHolders = Math.max(maxHolders, holders);
                tokens.push(lease.token);
                await new Promise((resolve) => setImmediate(resolve));
                await observer.sync('/'); // a server round trip while holding
                holders--;
              }
            }),
          );
          assert.equal(maxHolders, 1);
          assert.equal(tokens.length, 12);
          for (let i = 1; i < tokens.length; i++) {
            assert.ok(tokens[i]! > tokens[i - 1]!, `token ${i} increases`);
          }
          assert.deepEqual(await ephemeralsUnder(observer, path), []);
        });

        it('release hands the lock to a waiter', async () => {
          const path = freshPath(kind.name);
          const [a, b] = [await connect(), await connect()];
          const first = await kind.make(a, path).acquire();
          let queued!: () => void;
          const inQueue = new Promise<void>((resolve) => (queued = resolve));
          const second = kind.make(b, path).acquire({ onQueued: () => queued() });
          await inQueue;
          await first.release();
          const lease = await second;
          assert.equal(lease.state, 'held');
          assert.ok(lease.token > first.token);
          await lease.release();
        });
      });
    }
  });
}

/** Ephemeral nodes one holder keeps: a lease node for semaphores, one lock node per path otherwise. */
function countNodesHeld(kind: string): number {
  return kind === 'MultiLock' ? 2 : 1;
}
