// Client-side observability: the observer hooks every layer calls, Prometheus metrics (opt-in, on
// the application's prom-client registry) and OpenTelemetry spans (through @opentelemetry/api: a
// no-op until the application registers an SDK). Loading this module installs the tracing observer.

import { installObserver } from './observer.js';
import { tracingObserver } from './tracing.js';

export {
  OBSERVERS_MAX,
  installObserver,
  installedObservers,
  lockKindOf,
  observeCacheRebuild,
  observeClientState,
  observeLeadershipTerm,
  observeLockHold,
  observeLockWait,
  observeRegistration,
  observeRequest,
  type ClientStateObservation,
  type LeadershipObservation,
  type LeadershipTermRef,
  type LeaseEvents,
  type LockHoldObservation,
  type LockRef,
  type LockWaitObservation,
  type LockWaitOutcome,
  type Observer,
  type RegistrationObservation,
  type RegistrationRef,
  type RequestObservation,
} from './observer.js';
export {
  PATH_LABEL_OTHER,
  installPrometheusMetrics,
  prometheusObserver,
  requestResultLabel,
  type PrometheusMetricsOptions,
} from './prometheus.js';
export { SpanAttribute, TRACER_NAME, activeTraceId, tracingObserver } from './tracing.js';

/**
 * The tracing observer installed by default (spans cost nothing without an OpenTelemetry SDK).
 * Call it to uninstall, e.g. to trace through a tracer of your own with `tracingObserver(tracer)`.
 */
export const defaultTracing = installObserver(tracingObserver());
