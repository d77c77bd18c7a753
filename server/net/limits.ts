// Limits of the client network layer, with units in their names, checked against each other when the
// module loads. The protocol's own limits (frame size) live in src/protocol/limits.ts.

import assert from 'node:assert/strict';

/**
 * Requests a connection may have queued or in flight before the server stops reading its socket
 * (Apache throttles the same way, disabling receive). Reading resumes below half of it.
 */
export const OUTSTANDING_REQUESTS_PER_CONNECTION_MAX = 1000;

/**
 * Bytes of requests a connection may have queued or in flight before the server stops reading it
 * (a thousand 1 MB requests would otherwise be a gigabyte).
 */
export const OUTSTANDING_REQUEST_BYTES_PER_CONNECTION_MAX = 16 * 1024 * 1024;

/** Unsent reply bytes above which the server stops reading the connection (the client reads slowly). */
export const WRITE_QUEUE_BYTES_PAUSE = 4 * 1024 * 1024;

/**
 * Unsent bytes above which the connection is cut: a client that never reads its replies cannot make
 * the server buffer watch events without bound.
 */
export const WRITE_QUEUE_BYTES_MAX = 64 * 1024 * 1024;

/** Frames a connection may pipeline behind its ConnectRequest before the session exists. */
export const FRAMES_BEFORE_SESSION_MAX = OUTSTANDING_REQUESTS_PER_CONNECTION_MAX;

/**
 * How long a connection may stay without a session (no ConnectRequest, or a four-letter word not yet
 * complete) before it is closed; Apache's sessionless connection timeout is the same 10 s.
 */
export const SESSIONLESS_CONNECTION_TIMEOUT_MS = 10_000;

/** How long stop() waits for in-flight writes to be persisted and applied before closing sockets. */
export const STOP_DRAIN_TIMEOUT_MS = 5_000;

/** The per-connection limits together, so a server (or a test) can tighten them. */
export interface ConnectionLimits {
  readonly outstandingRequestsMax: number;
  readonly outstandingRequestBytesMax: number;
  readonly writeQueueBytesPause: number;
  readonly writeQueueBytesMax: number;
}

export const DEFAULT_CONNECTION_LIMITS: ConnectionLimits = {
  outstandingRequestsMax: OUTSTANDING_REQUESTS_PER_CONNECTION_MAX,
  outstandingRequestBytesMax: OUTSTANDING_REQUEST_BYTES_PER_CONNECTION_MAX,
  writeQueueBytesPause: WRITE_QUEUE_BYTES_PAUSE,
  writeQueueBytesMax: WRITE_QUEUE_BYTES_MAX,
};

/** Checks how the limits relate; throws a plain sentence for each mistake. */
export function checkConnectionLimits(limits: ConnectionLimits): ConnectionLimits {
  assert.ok(limits.outstandingRequestsMax >= 2, 'outstandingRequestsMax must be at least 2');
  assert.ok(limits.writeQueueBytesPause >= 1, 'writeQueueBytesPause must be positive');
  assert.ok(limits.outstandingRequestBytesMax >= 1, 'outstandingRequestBytesMax must be positive');
  const pausesFirst = limits.writeQueueBytesPause < limits.writeQueueBytesMax;
  assert.ok(pausesFirst, 'reading must pause before the write queue is cut');
  return limits;
}

checkConnectionLimits(DEFAULT_CONNECTION_LIMITS);
assert.ok(FRAMES_BEFORE_SESSION_MAX <= OUTSTANDING_REQUESTS_PER_CONNECTION_MAX);
