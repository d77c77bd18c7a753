// Server metrics: the Prometheus endpoint (Apache's PrometheusMetricsProvider names).

export {
  MetricsServer,
  PROMETHEUS_PROVIDER_CLASS,
  serverMetricsRegistry,
  type MetricsServerOptions,
} from './prometheus.js';
export { registerQuorumMetrics, type QuorumMetricsSource, type QuorumStatsView } from './quorum.js';
