// Limits of the client network layer, with units in their names, checked against each other when the
// module loads. The protocol's own limits (frame size) live in src/protocol/limits.ts.

import assert from 'node:assert/strict';
import { FRAME_BYTES_MAX_DEFAULT, FRAME_LENGTH_BYTES } from '../../src/protocol/limits.js';

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

/**
 * Unsent reply bytes above which the server stops reading the connection and starts none of its
 * queued reads (the client reads slowly); both resume once the socket drained.
 */
export const WRITE_QUEUE_BYTES_PAUSE = 4 * 1024 * 1024;

/**
 * Unsent bytes above which the connection is cut: a client that never reads its replies cannot make
 * the server buffer watch events without bound. It must leave room above the pause point for one
 * reply of the largest frame, or a client pipelining big reads would be cut for reading normally.
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

/** Unsent bytes a connection just below the pause point may reach with one reply of `frameBytesMax`. */
function writeQueueBytesNeeded(limits: ConnectionLimits, frameBytesMax: number): number {
  return limits.writeQueueBytesPause + FRAME_LENGTH_BYTES + frameBytesMax;
}

/**
 * Checks how the limits relate; throws a plain sentence for each mistake. With `frameBytesMax`
 * (jute.maxbuffer), also that one reply of the largest frame fits between the pause point and the cut.
 */
export function checkConnectionLimits(limits: ConnectionLimits, frameBytesMax?: number): ConnectionLimits {
  assert.ok(limits.outstandingRequestsMax >= 2, 'outstandingRequestsMax must be at least 2');
  assert.ok(limits.writeQueueBytesPause >= 1, 'writeQueueBytesPause must be positive');
  assert.ok(limits.outstandingRequestBytesMax >= 1, 'outstandingRequestBytesMax must be positive');
  const pausesFirst = limits.writeQueueBytesPause < limits.writeQueueBytesMax;
  assert.ok(pausesFirst, 'reading must pause before the write queue is cut');
  if (frameBytesMax !== undefined) {
    const needed = writeQueueBytesNeeded(limits, frameBytesMax);
    assert.ok(
      limits.writeQueueBytesMax >= needed,
      `writeQueueBytesMax must leave room for one ${frameBytesMax}-byte reply above the pause point ` +
        `(at least ${needed})`,
    );
  }
  return limits;
}

/**
 * The limits a server with this jute.maxbuffer runs with: the cut is raised, if needed, so that a
 * reply of the largest frame never cuts a client that reads (zoo.cfg may set jute.maxbuffer far above
 * the default), then everything is checked.
 */
export function connectionLimitsFor(limits: ConnectionLimits, frameBytesMax: number): ConnectionLimits {
  checkConnectionLimits(limits);
  const needed = writeQueueBytesNeeded(limits, frameBytesMax);
  const fitted = limits.writeQueueBytesMax >= needed ? limits : { ...limits, writeQueueBytesMax: needed };
  return checkConnectionLimits(fitted, frameBytesMax);
}

// The defaults must hold together as they are, for the default jute.maxbuffer.
checkConnectionLimits(DEFAULT_CONNECTION_LIMITS, FRAME_BYTES_MAX_DEFAULT);
assert.ok(FRAMES_BEFORE_SESSION_MAX <= OUTSTANDING_REQUESTS_PER_CONNECTION_MAX);
assert.ok(
  OUTSTANDING_REQUEST_BYTES_PER_CONNECTION_MAX >= FRAME_BYTES_MAX_DEFAULT + FRAME_LENGTH_BYTES,
  'one request of the largest default frame must fit in the outstanding bytes of a connection',
);
