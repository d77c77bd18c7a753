// OpenTelemetry spans for what takes time in coordination: waiting for a lock, holding it, a
// leadership term, a service registration. Through @opentelemetry/api only, so this costs next to
// nothing until the application registers an SDK (then spans go wherever it exports them).
//
// Spans (all children of the context active where the recipe was called):
//   menagerie.lock.wait        from acquire() to acquired / timeout / abort; the fencing token when acquired
//   menagerie.lock.hold        from acquired to released or lost (status ERROR when lost)
//   menagerie.leadership.term  from becoming leader to the end of the term
//   menagerie.discovery.register  creating a service instance's node
// Attributes carry the path, the lock kind, the node and the fencing token (the node's czxid, as a
// decimal string: span attributes have no 64-bit integers).

import {
  SpanKind,
  SpanStatusCode,
  context,
  trace,
  type Attributes,
  type Span,
  type Tracer,
} from '@opentelemetry/api';
import type { Observer } from './observer.js';

export const TRACER_NAME = 'menagerie';

/** Attribute names, in one place for tests and dashboards. */
export const SpanAttribute = {
  lockPath: 'menagerie.lock.path',
  lockKind: 'menagerie.lock.kind',
  lockNode: 'menagerie.lock.node',
  lockOutcome: 'menagerie.lock.outcome',
  fencingToken: 'menagerie.fencing_token',
  holdEnd: 'menagerie.lock.hold_end',
  leaderPath: 'menagerie.leader.path',
  leaderRecipe: 'menagerie.leader.recipe',
  participantId: 'menagerie.leader.participant_id',
  servicePath: 'menagerie.service.path',
  serviceName: 'menagerie.service.name',
  serviceId: 'menagerie.service.id',
} as const;

function startSpan(tracer: Tracer, name: string, attributes: Attributes): Span {
  return tracer.startSpan(name, { kind: SpanKind.INTERNAL, attributes }, context.active());
}

function failed(span: Span, error: unknown): void {
  if (error instanceof Error) span.recordException(error);
  const message = error instanceof Error ? error.message : String(error);
  span.setStatus({ code: SpanStatusCode.ERROR, message });
}

/** The tracing observer; `tracer` defaults to the global provider's tracer named 'menagerie'. */
export function tracingObserver(tracer?: Tracer): Observer {
  const tracerNow = () => tracer ?? trace.getTracer(TRACER_NAME);
  return {
    lockWait(lock) {
      const span = startSpan(tracerNow(), 'menagerie.lock.wait', {
        [SpanAttribute.lockPath]: lock.path,
        [SpanAttribute.lockKind]: lock.kind,
      });
      return {
        end(outcome, node, error) {
          span.setAttribute(SpanAttribute.lockOutcome, outcome);
          if (node !== undefined) {
            span.setAttribute(SpanAttribute.lockNode, node.path);
            span.setAttribute(SpanAttribute.fencingToken, node.fencingToken.toString());
          }
          if (outcome === 'error' || outcome === 'timeout') failed(span, error ?? outcome);
          span.end();
        },
      };
    },
    lockHold(lock) {
      const span = startSpan(tracerNow(), 'menagerie.lock.hold', {
        [SpanAttribute.lockPath]: lock.path,
        [SpanAttribute.lockKind]: lock.kind,
        [SpanAttribute.lockNode]: lock.nodePath,
        [SpanAttribute.fencingToken]: lock.fencingToken.toString(),
      });
      return {
        end(how, reason) {
          span.setAttribute(SpanAttribute.holdEnd, how);
          if (how === 'lost') span.setStatus({ code: SpanStatusCode.ERROR, message: reason ?? 'lease lost' });
          span.end();
        },
      };
    },
    leadershipTerm(term) {
      const attributes: Attributes = {
        [SpanAttribute.leaderPath]: term.path,
        [SpanAttribute.leaderRecipe]: term.recipe,
        [SpanAttribute.fencingToken]: term.fencingToken.toString(),
      };
      if (term.participantId !== undefined) attributes[SpanAttribute.participantId] = term.participantId;
      const span = startSpan(tracerNow(), 'menagerie.leadership.term', attributes);
      return { end: () => span.end() };
    },
    registration(registration) {
      const span = startSpan(tracerNow(), 'menagerie.discovery.register', {
        [SpanAttribute.servicePath]: registration.path,
        [SpanAttribute.serviceName]: registration.name,
        [SpanAttribute.serviceId]: registration.id,
      });
      return {
        end(error) {
          if (error !== undefined) failed(span, error);
          span.end();
        },
      };
    },
  };
}

/** The trace id of the span active here, if a recording span is active (for lock node data). */
export function activeTraceId(): string | undefined {
  const spanContext = trace.getSpan(context.active())?.spanContext();
  if (spanContext === undefined || !trace.isSpanContextValid(spanContext)) return undefined;
  return spanContext.traceId;
}
