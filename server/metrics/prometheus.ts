// The Prometheus endpoint, as Apache's PrometheusMetricsProvider serves it
// (metricsProvider.className=org.apache.zookeeper.metrics.prometheus.PrometheusMetricsProvider,
// metricsProvider.httpHost, metricsProvider.httpPort, GET /metrics). Names and types are Apache 3.8's:
// the mntr entries without the zk_ prefix as gauges (znode_count, watch_count, avg_latency, ...) but for
// the ServerMetrics counters among them (connection_rejected, ...), and the readlatency /
// updatelatency / fsynctime summaries in milliseconds (test/integration/observability/
// prometheus-names.test.ts checks them against Apache's jar and mntr). Built on prom-client, on a
// registry of its own (never the global one).

import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Counter, Gauge, Registry, Summary } from 'prom-client';
import { operationFor } from '../../src/protocol/index.js';
import { monitorEntries, type FourLetterWordSource } from '../net/four-letter-words.js';
import { QUORUM_GAUGE_NAMES } from './quorum.js';

/** The class name that turns the endpoint on, as in Apache's zoo.cfg. */
export const PROMETHEUS_PROVIDER_CLASS = 'org.apache.zookeeper.metrics.prometheus.PrometheusMetricsProvider';

/** mntr entries that are not numbers. */
const NOT_GAUGES = new Set(['version', 'server_state']);
/** mntr entries that Apache registers as counters (ServerMetrics), not gauges. */
const COUNTER_NAMES: ReadonlySet<string> = new Set([
  'connection_rejected', 'digest_mismatches_count', 'stale_sessions_expired',
]);
const QUANTILES = [0.5, 0.9, 0.99];

/** Builds the registry: gauges read from `source` at each scrape, summaries fed by request latencies. */
export function serverMetricsRegistry(source: FourLetterWordSource): Registry {
  const registry = new Registry();
  for (const [name, value] of monitorEntries(source)) {
    // A member's quorum entries come and go with leadership: registerQuorumMetrics keeps them always.
    if (NOT_GAUGES.has(name) || QUORUM_GAUGE_NAMES.has(name) || typeof value !== 'number') continue;
    const read = () => Number(monitorEntries(source).find(([key]) => key === name)?.[1] ?? 0);
    if (COUNTER_NAMES.has(name)) {
      new Counter({
        name,
        help: `${name}, as mntr reports it`,
        registers: [registry],
        collect() {
          this.reset();
          this.inc(read());
        },
      });
      continue;
    }
    new Gauge({
      name,
      help: `${name}, as mntr reports it`,
      registers: [registry],
      collect() {
        this.set(read());
      },
    });
  }
  const summary = (name: string, help: string) =>
    new Summary({
      name,
      help,
      percentiles: QUANTILES,
      maxAgeSeconds: 60,
      ageBuckets: 5,
      registers: [registry],
    });
  const readLatency = summary('readlatency', 'Read request latency in milliseconds');
  const updateLatency = summary('updatelatency', 'Update request latency in milliseconds');
  summary('fsynctime', 'Time to fsync the transaction log in milliseconds');
  source.stats.onRequestLatency = (latencyMs, opcode) => {
    const traits = operationFor(opcode)?.traits;
    if (traits?.write === true) updateLatency.observe(latencyMs);
    else if (traits?.read === true) readLatency.observe(latencyMs); // pings and auth are neither
  };
  return registry;
}

export interface MetricsServerOptions {
  readonly host: string;
  readonly port: number;
}

/** Serves `/metrics` in the Prometheus text format; `stop()` (or `await using`) closes it. */
export class MetricsServer implements AsyncDisposable {
  private stopping: Promise<void> | undefined;

  private constructor(
    private readonly server: Server,
    private readonly source: FourLetterWordSource,
    readonly registry: Registry,
  ) {}

  static async start(source: FourLetterWordSource, options: MetricsServerOptions): Promise<MetricsServer> {
    const registry = serverMetricsRegistry(source);
    const server = createServer((request, response) => {
      const path = URL.canParse(request.url ?? '/', 'http://metrics')
        ? new URL(request.url ?? '/', 'http://metrics').pathname
        : '';
      if (request.method !== 'GET' || path !== '/metrics') {
        response.writeHead(404, { 'content-type': 'text/plain' }).end('Not found\n');
        return;
      }
      registry.metrics().then(
        (text) => response.writeHead(200, { 'content-type': registry.contentType }).end(text),
        (error: unknown) =>
          response.writeHead(500, { 'content-type': 'text/plain' }).end(`${String(error)}\n`),
      );
    });
    server.keepAliveTimeout = 1_000;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port, options.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    return new MetricsServer(server, source, registry);
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  /** Records one fsync of the transaction log (the durable store reports them). */
  readonly observeFsync = (elapsedMs: number): void => {
    (this.registry.getSingleMetric('fsynctime') as Summary | undefined)?.observe(elapsedMs);
  };

  stop(): Promise<void> {
    this.stopping ??= new Promise<void>((resolve) => {
      this.source.stats.onRequestLatency = undefined;
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
    return this.stopping;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.stop();
  }
}
