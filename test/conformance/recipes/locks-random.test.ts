// Random schedules (seeded, bounded) on a real server: several clients, two behind a proxy that drops
// their connections now and then, acquire / tryAcquire / abort / time out / release a mutex at random.
// At every acquisition no other lease is `held`, fencing tokens strictly increase, and once everyone
// is done no contender node is left.
import assert from 'node:assert/strict';
import { describe, it } from 'mocha';
import { createFramework, retryNTimes, type Framework } from '../../../src/index.js';
import { LockTimeoutError, Mutex, type Lease } from '../../../recipes/index.js';
import { startControlledProxy, type ControlledProxy } from '../../support/controlled-proxy.js';
import { eventually } from '../../integration/framework/support/wait.js';
import { ephemeralsUnder } from './nodes.js';
import { serverFactories, type ServerUnderTest } from './servers.js';

/** mulberry32: a small seeded generator, so a failing schedule can be replayed from its seed. */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

for (const factory of serverFactories) {
  describe(`random mutex schedules on ${factory.name}`, function () {
    this.timeout(40_000);
    let server: ServerUnderTest;

    before(async function () {
      if (!factory.available()) this.skip();
      this.timeout(60_000);
      server = await factory.start();
    });

    after(async () => {
      await server?.stop();
    });

    for (const seed of [1, 2]) {
      it(`seed ${seed}: one holder at a time, increasing tokens, no node left`, async () => {
        const random = seeded(seed);
        const path = `/random/mutex-${seed}`;
        const proxies: ControlledProxy[] = [await startControlledProxy(server.port)];
        const frameworks: Framework[] = [];
        try {
          for (let i = 0; i < 4; i++) {
            const viaProxy = i < 2;
            const fw = createFramework({
              connectString: viaProxy ? proxies[0]!.connectString : server.connectString,
              sessionTimeoutMs: 4000,
              retry: retryNTimes(5, 20),
              client: { connectTimeoutMs: 300, reconnectDelayMaxMs: 50 },
            });
            frameworks.push(fw);
            await fw.blockUntilConnected();
          }
          const live = new Set<Lease>();
          const tokens: bigint[] = [];
          const takeLease = (lease: Lease) => {
            for (const other of live) assert.notEqual(other.state, 'held', 'two held leases at once');
            live.add(lease);
            tokens.push(lease.fencingToken);
          };
          const client = async (fw: Framework, index: number) => {
            const mutex = new Mutex(fw, path, { owner: `client-${index}` });
            for (let step = 0; step < 8; step++) {
              const roll = random();
              let lease: Lease | undefined;
              if (roll < 0.3) {
                lease = await mutex.tryAcquire();
              } else if (roll < 0.5) {
                const controller = new AbortController();
                const acquiring = mutex.acquire({ signal: controller.signal });
                setTimeout(() => controller.abort(new Error('gave up')), Math.floor(random() * 30));
                lease = await acquiring.catch(() => undefined);
              } else {
                lease = await mutex.acquire({ timeoutMs: 50 + Math.floor(random() * 400) }).catch((error) => {
                  if (!(error instanceof LockTimeoutError)) throw error;
                  return undefined;
                });
              }
              if (lease === undefined) continue;
              takeLease(lease);
              if (index === 0 && random() < 0.3) proxies[0]!.dropAll();
              await fw.sync('/').catch(() => undefined);
              live.delete(lease);
              await lease.release();
            }
          };
          await Promise.all(frameworks.map((fw, i) => client(fw, i)));
          for (let i = 1; i < tokens.length; i++) assert.ok(tokens[i]! > tokens[i - 1]!, 'tokens increase');
          assert.ok(tokens.length > 0, 'someone got the lock');
          // release() resolves once its delete is sent: let every session's last requests land, and
          // any delete that went to the background through a dropped connection finish.
          await Promise.all(frameworks.map((fw) => fw.sync('/').catch(() => undefined)));
          await Promise.all(frameworks.map((fw) => fw.guaranteedDeletesSettled()));
          await eventually(async () => (await ephemeralsUnder(frameworks[3]!, path)).length === 0, 10_000)
            .catch(() => undefined);
          assert.deepEqual(await ephemeralsUnder(frameworks[3]!, path), []);
        } finally {
          await Promise.all(frameworks.map((fw) => fw.close()));
          await Promise.all(proxies.map((p) => p.close()));
        }
      });
    }
  });
}
