// Client-side Prometheus metrics against real servers (ours and Apache 3.8): the scrape of the
// application's registry counts exactly the requests, lock waits and holds, waiters, leadership terms,
// reconnects, SUSPENDED spells and cache rebuilds the test caused.
import assert from 'node:assert/strict';
import { afterEach, beforeEach, it } from 'mocha';
import { Registry } from 'prom-client';
import { installPrometheusMetrics, ZooKeeperClient } from '../../../src/index.js';
import { LeaderLatch, Mutex, TreeCache } from '../../../recipes/index.js';
import { describeOnRecipeServers, nextState } from '../recipes/discovery-support/servers.js';

/** The value of one series in Prometheus text format, or undefined when absent. */
function scraped(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    const labelText = line.slice(name.length).match(/^\{([^}]*)\}/)?.[1] ?? '';
    const found = new Map([...labelText.matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1]!, m[2]!]));
    if (Object.entries(labels).every(([key, value]) => found.get(key) === value)) {
      return Number(line.slice(line.lastIndexOf(' ') + 1));
    }
  }
  return undefined;
}

describeOnRecipeServers('client metrics on prom-client', '/client-metrics-', (suite) => {
  const { fx, path } = suite;
  let registry: Registry;
  let metrics: ReturnType<typeof installPrometheusMetrics>;
  beforeEach(() => {
    registry = new Registry();
    metrics = installPrometheusMetrics({ registry, prefix: 'app_zk_' });
  });
  afterEach(() => metrics.uninstall());

  it('request latency by opcode and result: one sample per request', async () => {
    const root = path();
    await using client = new ZooKeeperClient({ connectString: suite.server.connectString });
    await client.connect();
    await client.create(root, 'x');
    for (let i = 0; i < 3; i++) await client.getData(root);
    await assert.rejects(client.getData(`${root}/missing`));
    const text = await registry.metrics();
    const count = 'app_zk_client_request_duration_seconds_count';
    assert.equal(scraped(text, count, { op: 'create2', result: 'ok' }), 1); // the wire opcode's name
    assert.equal(scraped(text, count, { op: 'getData', result: 'ok' }), 3);
    assert.equal(scraped(text, count, { op: 'getData', result: 'no_node' }), 1);
    const sum = scraped(text, 'app_zk_client_request_duration_seconds_sum', { op: 'getData', result: 'ok' });
    assert.ok(sum! > 0);
  });

  it('lock wait and hold times, waiters and holders while they last', async () => {
    const lockPath = `${path()}/lock`;
    const [a, b] = await Promise.all([fx.framework(), fx.framework()]);
    const lease = await new Mutex(a, lockPath).acquire();
    const queued = new Promise<void>((resolve) => {
      void new Mutex(b, lockPath)
        .acquire({ onQueued: () => resolve() })
        .then((second) => second.release(), () => undefined);
    });
    await queued;
    const labels = { path: lockPath, kind: 'mutex' };
    let text = await registry.metrics();
    assert.equal(scraped(text, 'app_zk_locks_held', labels), 1);
    assert.equal(scraped(text, 'app_zk_lock_waiters', labels), 1);
    const secondHold = new Promise<void>((resolve) => {
      const poll = async () => {
        const now = await registry.metrics();
        const holds = scraped(now, 'app_zk_lock_hold_seconds_count', { ...labels, end: 'released' });
        if (holds === 2) resolve();
        else setTimeout(() => void poll(), 10);
      };
      void poll();
    });
    await lease.release();
    await secondHold; // the waiter got the lock, and released it
    text = await registry.metrics();
    const acquired = { ...labels, outcome: 'acquired' };
    assert.equal(scraped(text, 'app_zk_lock_wait_seconds_count', acquired), 2);
    assert.equal(scraped(text, 'app_zk_lock_waiters', labels), 0);
    assert.equal(scraped(text, 'app_zk_locks_held', labels), 0);
  });

  it('leadership changes and the leader gauge follow a latch', async () => {
    const election = `${path()}/election`;
    const zk = await fx.framework();
    const latch = new LeaderLatch(zk, election, { id: 'a' });
    latch.start();
    await latch.whenLeader();
    let text = await registry.metrics();
    assert.equal(scraped(text, 'app_zk_leader', { path: election }), 1);
    assert.equal(scraped(text, 'app_zk_leadership_changes_total', { path: election, change: 'gained' }), 1);
    await latch.close();
    text = await registry.metrics();
    assert.equal(scraped(text, 'app_zk_leader', { path: election }), 0);
    assert.equal(scraped(text, 'app_zk_leadership_changes_total', { path: election, change: 'lost' }), 1);
    assert.equal(scraped(text, 'app_zk_leadership_term_seconds_count', { path: election }), 1);
  });

  it('a dropped connection: one reconnect, one SUSPENDED spell, one cache rebuild', async () => {
    const root = path();
    const { zk, proxy } = await fx.proxied();
    await zk.create(`${root}/a`, { createParents: true });
    const cache = fx.defer(new TreeCache(zk, root));
    await cache.start();
    const before = await registry.metrics();
    assert.equal(scraped(before, 'app_zk_client_reconnects_total'), 0);
    const rebuilt = new Promise<void>((resolve) => {
      const poll = async () => {
        const now = await registry.metrics();
        if (scraped(now, 'app_zk_cache_rebuilds_total', { path: root, reason: 'reconnect' }) === 1) resolve();
        else setTimeout(() => void poll(), 10);
      };
      void poll();
    });
    const states = nextState(zk, ['SUSPENDED', 'RECONNECTED']);
    proxy.dropAll();
    await states;
    await rebuilt;
    const text = await registry.metrics();
    assert.equal(scraped(text, 'app_zk_client_reconnects_total'), 1);
    assert.equal(scraped(text, 'app_zk_client_suspended_seconds_count'), 1);
    assert.equal(scraped(text, 'app_zk_client_suspended'), 0);
    assert.ok(scraped(text, 'app_zk_client_state_changes_total', { state: 'disconnected' })! >= 1);
  });
});
