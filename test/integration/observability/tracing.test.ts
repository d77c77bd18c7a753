// OpenTelemetry spans of the recipes, captured by an in-memory exporter on a real server: a lock
// acquire gives a wait span (with the fencing token) then a hold span, both children of the caller's
// span; a timeout and a lost lease end theirs in error; a leadership term and a registration get
// spans too; and the lock node carries the trace id, so `locks inspect` names the trace.
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'mocha';
import { context, trace, type Span } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
  type ReadableSpan,
} from '@opentelemetry/sdk-trace-base';
import { createFramework, retryNTimes, SpanAttribute, type Framework } from '../../../src/index.js';
import { inspectLockAt } from '../../../src/cli/introspection.js';
import { LeaderLatch, LockTimeoutError, Mutex, ServiceDiscovery, breakLock } from '../../../recipes/index.js';
import { startServer } from '../../../server/index.js';

describe('OpenTelemetry spans of locks, leadership and discovery', function () {
  this.timeout(30_000);
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  const contextManager = new AsyncLocalStorageContextManager();
  let server: Awaited<ReturnType<typeof startServer>>;
  let fw: Framework;
  let pathNumber = 0;
  const nextPath = () => `/tracing-${++pathNumber}`;

  before(async () => {
    context.setGlobalContextManager(contextManager.enable());
    trace.setGlobalTracerProvider(provider);
    server = await startServer({ clientPort: 0, tickTimeMs: 200 });
    fw = createFramework({ connectString: server.connectString, retry: retryNTimes(3, 50) });
    await fw.blockUntilConnected();
  });

  after(async () => {
    await fw?.close();
    await server?.stop();
    trace.disable();
    context.disable();
    await provider.shutdown();
  });

  afterEach(() => exporter.reset());

  /** Runs `body` inside a parent span of the test's own, returning the span. */
  async function withParent(body: (parent: Span) => Promise<void>): Promise<Span> {
    return trace.getTracer('test').startActiveSpan('test.job', async (parent) => {
      try {
        await body(parent);
      } finally {
        parent.end();
      }
      return parent;
    });
  }

  const named = (name: string) => exporter.getFinishedSpans().filter((s) => s.name === name);
  const parentId = (span: ReadableSpan) => span.parentSpanContext?.spanId;
  const nanos = ([seconds, ns]: [number, number]) => BigInt(seconds) * 1_000_000_000n + BigInt(ns);

  it('a lock acquire: a wait span with the fencing token, then a hold span until release', async () => {
    const path = nextPath();
    let token = 0n;
    let traceIdInNode: string | undefined;
    const parent = await withParent(async () => {
      const lease = await new Mutex(fw, path).acquire();
      token = lease.fencingToken;
      traceIdInNode = (await inspectLockAt(fw.client, path)).holders[0]?.traceId;
      assert.equal(named('menagerie.lock.hold').length, 0, 'the hold span ends with the hold');
      await lease.release();
    });
    const [wait] = named('menagerie.lock.wait');
    const [hold] = named('menagerie.lock.hold');
    assert.ok(wait && hold);
    assert.equal(wait.attributes[SpanAttribute.lockPath], path);
    assert.equal(wait.attributes[SpanAttribute.lockKind], 'mutex');
    assert.equal(wait.attributes[SpanAttribute.lockOutcome], 'acquired');
    assert.equal(wait.attributes[SpanAttribute.fencingToken], token.toString());
    assert.equal(hold.attributes[SpanAttribute.fencingToken], token.toString());
    assert.equal(hold.attributes[SpanAttribute.lockPath], path);
    assert.equal(hold.attributes[SpanAttribute.holdEnd], 'released');
    assert.equal(hold.status.code, 0); // UNSET: a normal end
    assert.equal(parentId(wait), parent.spanContext().spanId);
    assert.equal(parentId(hold), parent.spanContext().spanId);
    // A span's start is Date.now() (whole ms) and its end performance.now() plus an offset, so two
    // back-to-back spans can look up to a millisecond out of order.
    const clockSlackNs = 1_000_000n;
    const holdStartNs = nanos(hold.startTime) + clockSlackNs;
    assert.ok(holdStartNs >= nanos(wait.endTime), 'the hold begins when the wait ends');
    assert.equal(traceIdInNode, parent.spanContext().traceId, 'the lock node names the trace');
  });

  it('a wait that times out ends in error; a hold whose node is deleted ends as lost', async () => {
    const path = nextPath();
    const lease = await new Mutex(fw, path).acquire();
    const other = createFramework({ connectString: server.connectString, retry: retryNTimes(3, 50) });
    try {
      await assert.rejects(new Mutex(other, path).acquire({ timeoutMs: 100 }), LockTimeoutError);
      const lost = new Promise((resolve) => lease.on('lost', resolve));
      await breakLock(other, path);
      await lost;
    } finally {
      await other.close();
      await lease.release();
    }
    const waits = named('menagerie.lock.wait');
    const timedOut = waits.find((s) => s.attributes[SpanAttribute.lockOutcome] === 'timeout');
    assert.ok(timedOut);
    assert.equal(timedOut.status.code, 2); // ERROR
    const [hold] = named('menagerie.lock.hold');
    assert.equal(hold?.attributes[SpanAttribute.holdEnd], 'lost');
    assert.equal(hold?.status.code, 2);
  });

  it('a leadership term is one span carrying the term, from leading to the end of the term', async () => {
    const path = nextPath();
    const latch = new LeaderLatch(fw, path, { id: 'alpha' });
    latch.start();
    const term = await latch.whenLeader();
    assert.equal(named('menagerie.leadership.term').length, 0);
    await latch.close();
    const [span] = named('menagerie.leadership.term');
    assert.ok(span);
    assert.equal(span.attributes[SpanAttribute.leaderPath], path);
    assert.equal(span.attributes[SpanAttribute.leaderRecipe], 'latch');
    assert.equal(span.attributes[SpanAttribute.fencingToken], term.term.toString());
    assert.equal(span.attributes[SpanAttribute.participantId], 'alpha');
  });

  it('a service registration is a span with the service name and id', async () => {
    const basePath = `${nextPath()}/services`;
    await using discovery = new ServiceDiscovery(fw, { basePath });
    await discovery.register({ name: 'api', id: 'api-1', address: '127.0.0.1', port: 8080 });
    const [span] = named('menagerie.discovery.register');
    assert.ok(span);
    assert.equal(span.attributes[SpanAttribute.serviceName], 'api');
    assert.equal(span.attributes[SpanAttribute.serviceId], 'api-1');
    assert.equal(span.attributes[SpanAttribute.servicePath], `${basePath}/api/api-1`);
  });
});
