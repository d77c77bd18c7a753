// Client-side error facts: whether a failed request's outcome is unknown, the per-op results a
// failed multi carries, and our own protocol-violation error. ZooKeeper's codes stay KeeperErrors
// built by `KeeperError.from`; these helpers only add what the client knows about a failure.

import {
  ClosedError,
  DecodeError,
  FrameTooLargeError,
  ErrorCode,
  KeeperError,
  type KeeperErrorOptions,
} from '../protocol/index.js';

declare module '../protocol/errors.js' {
  interface KeeperError {
    /**
     * True when the request was written to a connection that was then lost before its reply came:
     * the server may or may not have applied it. Only set on ConnectionLoss errors of requests
     * that change state (writes, removeWatches, auth); false or absent means it did not happen.
     */
    indeterminate?: boolean;
    /** For a failed multi: the index of the op that failed. */
    multiOpIndex?: number;
    /** For a failed multi: every op's outcome (0 before the failing op, its code, -2 after). */
    multiResults?: ReadonlyArray<{ readonly type: 'error'; readonly code: number }>;
  }
}

/** A ConnectionLossError, marked indeterminate when the request may have been applied. */
export function connectionLoss(indeterminate: boolean, options: KeeperErrorOptions = {}): KeeperError {
  const error = KeeperError.from(ErrorCode.CONNECTION_LOSS, options);
  error.indeterminate = indeterminate;
  return error;
}

/** True for a ConnectionLoss whose request may or may not have been applied by the server. */
export function isIndeterminate(error: unknown): boolean {
  return error instanceof KeeperError && error.indeterminate === true;
}

/** The server broke the protocol (reply xid out of order, unknown notification, bad handshake). */
export class ProtocolViolationError extends DecodeError {}

/** The client was closed by its user; carries the reason when it was closed for one. */
export class ClientClosedError extends ClosedError {}

/**
 * The server answered a request with a reply over the client's frameBytesMax. Only that request
 * fails; the connection stays up. The server did process it (a write was applied): raise
 * frameBytesMax (and the server's jute.maxbuffer) to read such replies.
 */
export class ReplyTooLargeError extends FrameTooLargeError {
  constructor(frameBytes: number, frameBytesMax: number) {
    super(frameBytes, frameBytesMax);
    this.message =
      `the reply of ${frameBytes} bytes is over frameBytesMax (${frameBytesMax}); it was skipped`;
  }
}
