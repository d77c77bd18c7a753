// The observer hooks and the prom-client observer without a server: hooks reach every installed
// observer (and nothing when none wants them), a throwing observer is ignored, lock waits end with the
// right outcome, and the Prometheus metrics count and time exactly what the hooks reported.
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { describe, it } from 'mocha';
import { Registry } from 'prom-client';
import {
  PATH_LABEL_OTHER,
  installObserver,
  installPrometheusMetrics,
  lockKindOf,
  observeCacheRebuild,
  observeClientState,
  observeLeadershipTerm,
  observeLockHold,
  observeLockWait,
  observeRequest,
  requestResultLabel,
  type LockWaitOutcome,
  type Observer,
} from '../../../src/index.js';
import { LockTimeoutError } from '../../../recipes/index.js';

/** One sample of a metric by name (`_count`, `_sum` for histograms) and labels; undefined if none. */
async function sample(registry: Registry, name: string, labels: Record<string, string> = {}) {
  const base = name.replace(/_(count|sum)$/, '');
  const metric = registry.getSingleMetric(base) ?? registry.getSingleMetric(name);
  if (metric === undefined) return undefined;
  const { values } = await metric.get();
  const found = values.find(
    (v) =>
      ((v as { metricName?: string }).metricName ?? name) === name &&
      Object.entries(labels).every(([key, value]) => String(v.labels[key]) === value),
  );
  return found?.value;
}

describe('observability hooks', () => {
  it('reach installed observers only while installed, and survive an observer that throws', () => {
    const seen: string[] = [];
    const thrower: Observer = {
      cacheRebuilt: () => {
        throw new Error('broken observer');
      },
    };
    const recorder: Observer = { cacheRebuilt: ({ path, reason }) => void seen.push(`${path}:${reason}`) };
    const offThrower = installObserver(thrower);
    const offRecorder = installObserver(recorder);
    observeCacheRebuild('/a', 'reconnect');
    offRecorder();
    observeCacheRebuild('/b', 'reconnect');
    offThrower[Symbol.dispose]();
    offThrower(); // idempotent
    assert.deepEqual(seen, ['/a:reconnect']);
  });

  it('time requests only when an observer wants them', () => {
    assert.equal(observeRequest('getData'), undefined);
    const seen: Array<[string, number]> = [];
    using _installed = installObserver({ request: ({ op, errorCode }) => void seen.push([op, errorCode]) });
    const done = observeRequest('create');
    assert.ok(done);
    done(-101);
    assert.deepEqual(seen, [['create', -101]]);
  });

  it('end a lock wait as acquired, busy, timeout, aborted or error', async () => {
    const outcomes: Array<[LockWaitOutcome, string | undefined]> = [];
    using _installed = installObserver({
      lockWait: (lock) => ({
        end: (outcome, node) => void outcomes.push([outcome, node?.fencingToken.toString() ?? lock.kind]),
      }),
    });
    const node = { path: '/l/_c_x-lock-0000000001', czxid: 42n };
    assert.equal(await observeLockWait('/l', 'lock-', undefined, async () => node), node);
    await observeLockWait('/l', '__READ__', undefined, async () => undefined);
    const timedOut = () => Promise.reject(new LockTimeoutError('/l'));
    await assert.rejects(observeLockWait('/l', 'lock-', undefined, timedOut));
    const controller = new AbortController();
    controller.abort(new Error('stop'));
    const aborted = () => Promise.reject(new Error('x'));
    await assert.rejects(observeLockWait('/l', 'latch-', controller.signal, aborted));
    await assert.rejects(observeLockWait('/l', 'lock-', undefined, () => Promise.reject(new Error('boom'))));
    assert.deepEqual(outcomes, [
      ['acquired', '42'],
      ['busy', 'read'],
      ['timeout', 'mutex'],
      ['aborted', 'latch'],
      ['error', 'mutex'],
    ]);
  });

  it('name lock kinds by Curator markers and request results by error name', () => {
    assert.equal(lockKindOf('_c_0e2b6c1a-2f0c-4a52-9f7b-7d3c6d0c2a11-__WRIT__0000000003'), 'write');
    assert.equal(lockKindOf('_c_0e2b6c1a-2f0c-4a52-9f7b-7d3c6d0c2a11-lock-0000000003'), 'mutex');
    assert.equal(lockKindOf('lease-'), 'lease');
    assert.equal(lockKindOf('member-1'), 'lock');
    assert.equal(requestResultLabel(0), 'ok');
    assert.equal(requestResultLabel(-101), 'no_node');
    assert.equal(requestResultLabel(-4), 'connection_loss');
    assert.equal(requestResultLabel(-12345), 'other_error');
  });
});

describe('Prometheus metrics observer', () => {
  it('counts requests, reconnects, time suspended, lock waits and holds, terms and rebuilds', async () => {
    const registry = new Registry();
    using _metrics = installPrometheusMetrics({ registry, prefix: 't_' });
    observeRequest('getData')!(0);
    observeRequest('getData')!(0);
    observeRequest('getData')!(-101);
    const client = {};
    for (const state of ['disconnected', 'connected', 'disconnected', 'disconnected', 'connected']) {
      observeClientState(client, state);
    }
    const acquire = async () => ({ path: '/x', czxid: 7n });
    const waited = await observeLockWait('/locks/a', 'lock-', undefined, acquire);
    assert.equal(waited.czxid, 7n);
    const lease = new EventEmitter();
    const nodePath = '/locks/a/_c_0e2b6c1a-2f0c-4a52-9f7b-7d3c6d0c2a11-lock-0000000001';
    observeLockHold({ path: nodePath, czxid: 7n }, lease);
    assert.equal(await sample(registry, 't_locks_held', { path: '/locks/a', kind: 'mutex' }), 1);
    lease.emit('state', { kind: 'uncertain' });
    lease.emit('state', { kind: 'released' });
    lease.emit('state', { kind: 'released' }); // counted once
    const term = observeLeadershipTerm({ path: '/election', recipe: 'latch', fencingToken: 9n });
    assert.equal(await sample(registry, 't_leader', { path: '/election' }), 1);
    term.end();
    term.end();
    observeCacheRebuild('/cache', 'new-session');

    const ok = { op: 'getData', result: 'ok' };
    assert.equal(await sample(registry, 't_client_request_duration_seconds_count', ok), 2);
    const noNode = { op: 'getData', result: 'no_node' };
    assert.equal(await sample(registry, 't_client_request_duration_seconds_count', noNode), 1);
    assert.equal(await sample(registry, 't_client_reconnects_total'), 1);
    assert.equal(await sample(registry, 't_client_suspended_seconds_count'), 1);
    assert.equal(await sample(registry, 't_client_suspended'), 0);
    assert.equal(await sample(registry, 't_client_state_changes_total', { state: 'disconnected' }), 3);
    const acquired = { path: '/locks/a', kind: 'mutex', outcome: 'acquired' };
    assert.equal(await sample(registry, 't_lock_wait_seconds_count', acquired), 1);
    assert.equal(await sample(registry, 't_lock_waiters', { path: '/locks/a', kind: 'mutex' }), 0);
    const released = { path: '/locks/a', kind: 'mutex', end: 'released' };
    assert.equal(await sample(registry, 't_lock_hold_seconds_count', released), 1);
    assert.equal(await sample(registry, 't_locks_held', { path: '/locks/a', kind: 'mutex' }), 0);
    const changes = (change: string) => ({ path: '/election', change });
    assert.equal(await sample(registry, 't_leadership_changes_total', changes('gained')), 1);
    assert.equal(await sample(registry, 't_leadership_changes_total', changes('lost')), 1);
    assert.equal(await sample(registry, 't_leader', { path: '/election' }), 0);
    const rebuilds = { path: '/cache', reason: 'new-session' };
    assert.equal(await sample(registry, 't_cache_rebuilds_total', rebuilds), 1);
  });

  it('bounds path labels, and disposing removes its metrics from the registry', async () => {
    const registry = new Registry();
    const metrics = installPrometheusMetrics({ registry, pathLabelsMax: 2 });
    for (const path of ['/a', '/b', '/c', '/d', '/a']) observeCacheRebuild(path, 'reconnect');
    const name = 'menagerie_cache_rebuilds_total';
    assert.equal(await sample(registry, name, { path: '/a' }), 2);
    assert.equal(await sample(registry, name, { path: PATH_LABEL_OTHER }), 2);
    assert.ok((await registry.metrics()).includes('menagerie_client_request_duration_seconds'));
    metrics[Symbol.dispose]();
    metrics.uninstall();
    assert.equal(registry.getMetricsAsArray().length, 0);
    observeCacheRebuild('/a', 'reconnect'); // uninstalled: nothing to count, nothing to throw
  });
});
