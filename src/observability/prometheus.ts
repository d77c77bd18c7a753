// Client-side Prometheus metrics on prom-client, opt-in: the application chooses the registry (its
// own, or prom-client's default) and installs the observer:
//
//   const registry = new Registry();
//   using metrics = installPrometheusMetrics({ registry });   // disposing uninstalls and unregisters
//   app.get('/metrics', async (_req, res) => res.type(registry.contentType).send(await registry.metrics()));
//
// Metric names start with `prefix` (default 'menagerie_'). Lock and leader paths become a `path`
// label through `pathLabel` (default: the path itself); past `pathLabelsMax` distinct values every new
// path is counted as '_other', so locks named per entity cannot blow up the series count.
//
// prom-client is loaded on the first call here, not when the package loads: an application that does
// not turn metrics on never loads it (its import costs start-up time and memory). It is a CommonJS
// package, so it is required synchronously and the API stays synchronous.

import { createRequire } from 'node:module';
import type { Registry } from 'prom-client';
import { ErrorCode } from '../protocol/index.js';
import { installObserver, type Observer } from './observer.js';

export interface PrometheusMetricsOptions {
  registry: Registry;
  /** Prepended to every metric name. Default 'menagerie_'. */
  prefix?: string;
  /** Maps a lock, election or cache path to its label value (e.g. strip an id). Default: the path. */
  pathLabel?: (path: string) => string;
  /** Distinct path label values kept before new ones become '_other'. Default 200. */
  pathLabelsMax?: number;
  /** Request latency buckets in seconds. */
  requestBuckets?: number[];
  /** Lock wait and hold, leadership term and disconnection buckets in seconds. */
  durationBuckets?: number[];
}

export const PATH_LABEL_OTHER = '_other';
const REQUEST_BUCKETS_S = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const DURATION_BUCKETS_S = [0.001, 0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 300, 900, 3600];

let promClientLoaded: typeof import('prom-client') | undefined;

/** prom-client, loaded on first use. */
function promClient(): typeof import('prom-client') {
  promClientLoaded ??= createRequire(import.meta.url)('prom-client') as typeof import('prom-client');
  return promClientLoaded;
}

/** The metrics one observer keeps, created on (and removed from) the application's registry. */
function createMetrics(registry: Registry, prefix: string, options: PrometheusMetricsOptions) {
  const { Counter, Gauge, Histogram } = promClient();
  const registers = [registry];
  const requestBuckets = options.requestBuckets ?? REQUEST_BUCKETS_S;
  const buckets = options.durationBuckets ?? DURATION_BUCKETS_S;
  return {
    requestSeconds: new Histogram({
      name: `${prefix}client_request_duration_seconds`,
      help: 'ZooKeeper request round trips by opcode and result (ok or the error name)',
      labelNames: ['op', 'result'] as const,
      buckets: requestBuckets,
      registers,
    }),
    stateChanges: new Counter({
      name: `${prefix}client_state_changes_total`,
      help: 'Client connection state changes, by new state',
      labelNames: ['state'] as const,
      registers,
    }),
    reconnects: new Counter({
      name: `${prefix}client_reconnects_total`,
      help: 'Connections re-established after a disconnection (same or new session)',
      registers,
    }),
    suspendedSeconds: new Histogram({
      name: `${prefix}client_suspended_seconds`,
      help: 'How long each disconnection lasted (the time SUSPENDED), observed when it ends',
      buckets,
      registers,
    }),
    suspendedClients: new Gauge({
      name: `${prefix}client_suspended`,
      help: 'Clients disconnected now, their session possibly alive (SUSPENDED)',
      registers,
    }),
    lockWaitSeconds: new Histogram({
      name: `${prefix}lock_wait_seconds`,
      help: 'Time from acquire to acquired (or given up), by lock path, kind and outcome',
      labelNames: ['path', 'kind', 'outcome'] as const,
      buckets,
      registers,
    }),
    lockHoldSeconds: new Histogram({
      name: `${prefix}lock_hold_seconds`,
      help: 'Time a lock node was held, by lock path, kind and how it ended (released or lost)',
      labelNames: ['path', 'kind', 'end'] as const,
      buckets,
      registers,
    }),
    lockWaiters: new Gauge({
      name: `${prefix}lock_waiters`,
      help: "This process's acquires waiting now (its share of the lock's queue)",
      labelNames: ['path', 'kind'] as const,
      registers,
    }),
    locksHeld: new Gauge({
      name: `${prefix}locks_held`,
      help: 'Lock nodes this process holds now',
      labelNames: ['path', 'kind'] as const,
      registers,
    }),
    leadershipChanges: new Counter({
      name: `${prefix}leadership_changes_total`,
      help: 'Leadership gained or lost by this process, by election path',
      labelNames: ['path', 'change'] as const,
      registers,
    }),
    leader: new Gauge({
      name: `${prefix}leader`,
      help: '1 while this process leads the election at path',
      labelNames: ['path'] as const,
      registers,
    }),
    termSeconds: new Histogram({
      name: `${prefix}leadership_term_seconds`,
      help: 'How long each leadership term of this process lasted',
      labelNames: ['path'] as const,
      buckets,
      registers,
    }),
    registrations: new Counter({
      name: `${prefix}discovery_registrations_total`,
      help: 'Service instance registrations, by service name and result',
      labelNames: ['service', 'result'] as const,
      registers,
    }),
    cacheRebuilds: new Counter({
      name: `${prefix}cache_rebuilds_total`,
      help: 'Whole-tree re-reads by caches after a reconnect or a new session',
      labelNames: ['path', 'reason'] as const,
      registers,
    }),
  };
}

const ERROR_LABELS = new Map<number, string>(
  Object.entries(ErrorCode).map(([name, code]) => [code, name.toLowerCase()]),
);

/** The `result` label of a request: 'ok', or ZooKeeper's error name in lower case ('no_node'). */
export function requestResultLabel(errorCode: number): string {
  if (errorCode === 0) return 'ok';
  return ERROR_LABELS.get(errorCode) ?? 'other_error';
}

/** Path label values, bounded: the first `max` distinct values are kept, the rest read '_other'. */
function boundedLabels(map: (path: string) => string, max: number): (path: string) => string {
  const seen = new Set<string>();
  return (path) => {
    const label = map(path);
    if (seen.has(label)) return label;
    if (seen.size >= max) return PATH_LABEL_OTHER;
    seen.add(label);
    return label;
  };
}

/** The prom-client observer; `metricNames` lists what it registered (for dashboards and tests). */
export function prometheusObserver(options: PrometheusMetricsOptions): Observer & { metricNames: string[] } {
  const prefix = options.prefix ?? 'menagerie_';
  const m = createMetrics(options.registry, prefix, options);
  const label = boundedLabels(options.pathLabel ?? ((p) => p), options.pathLabelsMax ?? 200);
  // Per client: when it was disconnected, and whether it was ever connected. Weak: clients come and go.
  const clients = new WeakMap<object, { disconnectedAtMs?: number; connectedBefore: boolean }>();
  const seconds = (fromMs: number) => (performance.now() - fromMs) / 1000;
  const observer: Observer = {
    request({ op, durationMs, errorCode }) {
      m.requestSeconds.observe({ op, result: requestResultLabel(errorCode) }, durationMs / 1000);
    },
    clientState({ client, state, atMs }) {
      m.stateChanges.inc({ state });
      const known = clients.get(client) ?? { connectedBefore: false };
      clients.set(client, known);
      const connected = state === 'connected' || state === 'connectedReadOnly';
      if (known.disconnectedAtMs !== undefined && state !== 'disconnected') {
        m.suspendedSeconds.observe((atMs - known.disconnectedAtMs) / 1000);
        m.suspendedClients.dec();
        known.disconnectedAtMs = undefined;
      }
      if (state === 'disconnected' && known.connectedBefore && known.disconnectedAtMs === undefined) {
        known.disconnectedAtMs = atMs;
        m.suspendedClients.inc();
      }
      if (connected) {
        if (known.connectedBefore) m.reconnects.inc();
        known.connectedBefore = true;
      }
    },
    lockWait(lock) {
      const labels = { path: label(lock.path), kind: lock.kind };
      const startedMs = performance.now();
      m.lockWaiters.inc(labels);
      return {
        end(outcome) {
          m.lockWaiters.dec(labels);
          m.lockWaitSeconds.observe({ ...labels, outcome }, seconds(startedMs));
        },
      };
    },
    lockHold(lock) {
      const labels = { path: label(lock.path), kind: lock.kind };
      const startedMs = performance.now();
      m.locksHeld.inc(labels);
      return {
        end(how) {
          m.locksHeld.dec(labels);
          m.lockHoldSeconds.observe({ ...labels, end: how }, seconds(startedMs));
        },
      };
    },
    leadershipTerm(term) {
      const path = label(term.path);
      const startedMs = performance.now();
      m.leadershipChanges.inc({ path, change: 'gained' });
      m.leader.set({ path }, 1);
      return {
        end() {
          m.leadershipChanges.inc({ path, change: 'lost' });
          m.leader.set({ path }, 0);
          m.termSeconds.observe({ path }, seconds(startedMs));
        },
      };
    },
    registration({ name }) {
      return {
        end(error) {
          m.registrations.inc({ service: name, result: error === undefined ? 'ok' : 'error' });
        },
      };
    },
    cacheRebuilt({ path, reason }) {
      m.cacheRebuilds.inc({ path: label(path), reason });
    },
  };
  const metricNames = Object.values(m).map((metric) => (metric as unknown as { name: string }).name);
  return Object.assign(observer, { metricNames });
}

/**
 * Creates the metrics on `options.registry` and installs their observer. Disposing the handle
 * uninstalls it and removes the metrics from the registry.
 */
export function installPrometheusMetrics(options: PrometheusMetricsOptions): Disposable & {
  observer: Observer & { metricNames: string[] };
  uninstall(): void;
} {
  const observer = prometheusObserver(options);
  const uninstallObserver = installObserver(observer);
  let done = false;
  const uninstall = () => {
    if (done) return;
    done = true;
    uninstallObserver();
    for (const name of observer.metricNames) options.registry.removeSingleMetric(name);
  };
  return { observer, uninstall, [Symbol.dispose]: uninstall };
}
