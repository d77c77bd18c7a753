// The observability code shown in docs/observability.md, type-checked (never run here; the tests in
// test/integration/observability/ run the same calls).
import { createServer } from 'node:http';
import { context, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { BasicTracerProvider, BatchSpanProcessor, ConsoleSpanExporter } from '@opentelemetry/sdk-trace-base';
import { Registry } from 'prom-client';
import { installPrometheusMetrics } from '../../src/index.js';

export function clientMetrics(): void {
  const registry = new Registry(); // or prom-client's default `register`
  const metrics = installPrometheusMetrics({
    registry,
    prefix: 'menagerie_', // the default
    pathLabel: (path) => path.replace(/\/order-\d+$/, '/order-*'), // optional: group per-entity locks
  });
  const server = createServer((_request, response) => {
    void registry.metrics().then((text) => {
      response.setHeader('Content-Type', registry.contentType);
      response.end(text);
    });
  });
  server.listen(9464);
  server.on('close', () => metrics.uninstall()); // removes the metrics from the registry again
}

export function tracing(): void {
  // Any OpenTelemetry SDK will do (@opentelemetry/sdk-node sets all of this up); the parts by hand:
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  const exporter = new ConsoleSpanExporter();
  const provider = new BasicTracerProvider({ spanProcessors: [new BatchSpanProcessor(exporter)] });
  trace.setGlobalTracerProvider(provider);
}
