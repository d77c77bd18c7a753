// How the framework sorts a failure: retry it (the connection failed, the request was not applied
// or was a read), resolve it first (a write whose outcome is unknown), or hand it to the caller
// (session expired, a logical answer like NoNode, our own errors). Also the framework's own errors.

import { ClosedError, ErrorCode, KeeperError, MenagerieError, TimeoutError } from '../protocol/index.js';
import { connectionLoss, isIndeterminate } from '../client/index.js';

/** Codes that say "the request did not get an answer", never "the answer is no". */
const RETRYABLE_CODES: ReadonlySet<number> = new Set([
  ErrorCode.CONNECTION_LOSS,
  ErrorCode.OPERATION_TIMEOUT,
  // The server refused the request because the session moved to another server: nothing applied.
  ErrorCode.SESSION_MOVED,
]);

/** True for a failure that another attempt may cure (connection loss, operation timeout). */
export function isRetryable(error: unknown): error is KeeperError {
  return error instanceof KeeperError && RETRYABLE_CODES.has(error.code);
}

/** True for a write that may or may not have been applied (re-exported from the client). */
export { isIndeterminate };

/** The framework was closed; carries the reason in `cause` when it closed for one. */
export class FrameworkClosedError extends ClosedError {}

/** True when `error` is a KeeperError with `code`. */
export function hasCode(error: unknown, code: number): error is KeeperError {
  return error instanceof KeeperError && error.code === code;
}

/**
 * The error of a wait for the connection that ran out of time: a ConnectionLoss that nothing was
 * sent for, so the retry loop may try again, with the timeout as its cause.
 */
export function connectionWaitTimedOut(timeoutMs: number): KeeperError {
  return connectionLoss(false, { cause: new TimeoutError(`no connection within ${timeoutMs} ms`) });
}

/** A guaranteed delete was still pending when the framework closed or its session ended. */
export class GuaranteedDeleteAbandonedError extends MenagerieError {}
