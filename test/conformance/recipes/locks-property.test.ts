// Model-based property test of the mutex (fast-check commands) on our embedded test kit server: random
// sequences of tryAcquire / acquire / release / session expiry / connection drops over three clients.
// At every acquisition no other lease is `held`, fencing tokens strictly increase, a lock the model
// says is free is acquired, and once everyone is done no contender node is left.
// `LOCK_PROPERTY_RUNS=100 npx mocha test/conformance/recipes/locks-property.test.ts` for a longer run.
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { describe, it } from 'mocha';
import { createFramework, retryNTimes, type Framework } from '../../../src/index.js';
import { Mutex, type Lease } from '../../../recipes/index.js';
import { TestingServer } from '../../../server/testing/index.js';
import { eventually } from '../../integration/framework/support/wait.js';
import { ephemeralsUnder } from './nodes.js';

const CLIENTS = 3;
const RUNS = Number(process.env.LOCK_PROPERTY_RUNS ?? 25);

/** What the model knows: who holds the lock (per our leases), and the last fencing token seen. */
interface Model {
  holder: number | undefined;
}

/** The system under test: one framework, mutex and maybe lease per client. */
interface Real {
  server: TestingServer;
  frameworks: Framework[];
  mutexes: Mutex[];
  leases: (Lease | undefined)[];
  tokens: bigint[];
}

function checkExclusive(real: Real, taker: number, lease: Lease): void {
  real.leases.forEach((other, i) => {
    if (i !== taker && other !== undefined) assert.notEqual(other.state, 'held', `clients ${i} and ${taker}`);
  });
  const last = real.tokens.at(-1);
  if (last !== undefined) assert.ok(lease.fencingToken > last, 'fencing tokens strictly increase');
  real.tokens.push(lease.fencingToken);
}

/** Resolves once `lease` is in one of `states` (leases move on their own after connection events). */
function leaseReaches(lease: Lease, states: readonly string[]): Promise<void> {
  return new Promise((resolve) => {
    if (states.includes(lease.state)) return resolve();
    const off = lease.on('state', () => {
      if (!states.includes(lease.state)) return;
      off();
      resolve();
    });
  });
}

class TryAcquire implements fc.AsyncCommand<Model, Real> {
  constructor(readonly client: number) {}
  check(model: Readonly<Model>) {
    return model.holder !== this.client;
  }
  async run(model: Model, real: Real) {
    // Someone's released node may not be deleted yet (releases leave at the end of the turn), so a
    // free model does not promise success here; only safety is checked.
    const lease = await real.mutexes[this.client]!.tryAcquire();
    if (lease === undefined) return;
    assert.equal(model.holder, undefined, `client ${this.client} got a lock the model says is held`);
    checkExclusive(real, this.client, lease);
    real.leases[this.client] = lease;
    model.holder = this.client;
  }
  toString() {
    return `tryAcquire(${this.client})`;
  }
}

class Acquire implements fc.AsyncCommand<Model, Real> {
  constructor(readonly client: number) {}
  check(model: Readonly<Model>) {
    return model.holder === undefined; // a free lock must be granted, not waited for forever
  }
  async run(model: Model, real: Real) {
    const lease = await real.mutexes[this.client]!.acquire({ timeoutMs: 10_000 });
    checkExclusive(real, this.client, lease);
    real.leases[this.client] = lease;
    model.holder = this.client;
  }
  toString() {
    return `acquire(${this.client})`;
  }
}

class Release implements fc.AsyncCommand<Model, Real> {
  constructor(readonly client: number, readonly confirm: boolean) {}
  check(model: Readonly<Model>) {
    return model.holder === this.client;
  }
  async run(model: Model, real: Real) {
    const lease = real.leases[this.client]!;
    assert.equal(lease.state, 'held');
    await lease.release({ confirm: this.confirm });
    real.leases[this.client] = undefined;
    model.holder = undefined;
  }
  toString() {
    return `release(${this.client}${this.confirm ? ', confirm' : ''})`;
  }
}

class ExpireSession implements fc.AsyncCommand<Model, Real> {
  constructor(readonly client: number) {}
  check() {
    return true;
  }
  async run(model: Model, real: Real) {
    const fw = real.frameworks[this.client]!;
    const lease = real.leases[this.client];
    await real.server.expireSession(fw.sessionId);
    // The server deleted the session's node: the lease must say so before anyone can be granted it
    // in this model (in production the uncertain deadline covers the gap).
    if (lease !== undefined) {
      await leaseReaches(lease, ['lost']);
      assert.ok(lease.signal.aborted);
      real.leases[this.client] = undefined;
      model.holder = undefined;
    }
    await fw.blockUntilConnected();
  }
  toString() {
    return `expireSession(${this.client})`;
  }
}

class DropConnections implements fc.AsyncCommand<Model, Real> {
  check() {
    return true;
  }
  async run(model: Model, real: Real) {
    real.server.dropConnections();
    await Promise.all(real.frameworks.map((fw) => fw.blockUntilConnected()));
    // Same sessions: the holder's lease comes back to held (after being uncertain, perhaps).
    if (model.holder !== undefined) await leaseReaches(real.leases[model.holder]!, ['held']);
  }
  toString() {
    return 'dropConnections()';
  }
}

const client = fc.integer({ min: 0, max: CLIENTS - 1 });
const commands = fc.commands(
  [
    client.map((i) => new TryAcquire(i)),
    client.map((i) => new Acquire(i)),
    fc.tuple(client, fc.boolean()).map(([i, confirm]) => new Release(i, confirm)),
    client.map((i) => new ExpireSession(i)),
    fc.constant(new DropConnections()),
  ],
  { maxCommands: 20 },
);

describe('mutex model-based property (test kit server)', function () {
  this.timeout(120_000);

  it('an acquire just after its session expired starts over on a new session (the model found it)', () =>
    acquireAfterExpiry());

  it(`${RUNS} random schedules: one holder, rising tokens, free is granted, no node left`, async () => {
    await using server = await TestingServer.start({ tickTimeMs: 200 });
    let run = 0;
    await fc.assert(
      fc.asyncProperty(commands, async (cmds) => {
        const path = `/property/mutex-${++run}`;
        const frameworks: Framework[] = [];
        try {
          for (let i = 0; i < CLIENTS; i++) {
            const fw = createFramework({
              connectString: server.connectString,
              sessionTimeoutMs: 4000,
              retry: retryNTimes(10, 20),
              client: { connectTimeoutMs: 500, reconnectDelayMaxMs: 20 },
            });
            frameworks.push(fw);
            await fw.blockUntilConnected();
          }
          const real: Real = {
            server,
            frameworks,
            mutexes: frameworks.map((fw, i) => new Mutex(fw, path, { owner: `client-${i}` })),
            leases: frameworks.map(() => undefined),
            tokens: [],
          };
          await fc.asyncModelRun(() => ({ model: { holder: undefined }, real }), cmds);
          await Promise.all(real.leases.map((lease) => lease?.release({ confirm: true })));
          await Promise.all(frameworks.map((fw) => fw.guaranteedDeletesSettled()));
          const observer = frameworks[0]!;
          await eventually(async () => (await ephemeralsUnder(observer, path)).length === 0, 5_000)
            .catch(() => undefined);
          assert.deepEqual(await ephemeralsUnder(observer, path), [], 'no contender node left');
        } finally {
          await Promise.all(frameworks.map((fw) => fw.close()));
        }
      }),
      { numRuns: RUNS },
    );
  });
});

/** The create of an acquire fails with SESSION_EXPIRED; the acquire starts over rather than rejecting. */
async function acquireAfterExpiry(): Promise<void> {
  await using server = await TestingServer.start({ tickTimeMs: 200 });
  await using fw = createFramework({
    connectString: server.connectString,
    retry: retryNTimes(10, 20),
    client: { connectTimeoutMs: 500, reconnectDelayMaxMs: 20 },
  });
  await fw.blockUntilConnected();
  const before = fw.sessionId;
  await server.expireSession(before);
  const lease = await new Mutex(fw, '/property/after-expiry').acquire({ timeoutMs: 10_000 });
  assert.equal(lease.state, 'held');
  assert.notEqual(lease.held.node.sessionId, before);
  await lease.release({ confirm: true });
}
