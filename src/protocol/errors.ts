// Errors, sorted by who is at fault. Codes the ZooKeeper server (or its protocol) defines become
// `KeeperError` subclasses through one table; our own failures (a frame we cannot decode, a closed
// client, a timeout, a bad argument) are `MenagerieError`s and never pretend to be server codes.

/** ZooKeeper's error codes, as `KeeperException.Code` numbers them (3.8 and 3.9). */
export const ErrorCode = {
  OK: 0,
  SYSTEM_ERROR: -1,
  RUNTIME_INCONSISTENCY: -2,
  DATA_INCONSISTENCY: -3,
  CONNECTION_LOSS: -4,
  MARSHALLING_ERROR: -5,
  UNIMPLEMENTED: -6,
  OPERATION_TIMEOUT: -7,
  BAD_ARGUMENTS: -8,
  UNKNOWN_SESSION: -12,
  NEW_CONFIG_NO_QUORUM: -13,
  RECONFIG_IN_PROGRESS: -14,
  API_ERROR: -100,
  NO_NODE: -101,
  NO_AUTH: -102,
  BAD_VERSION: -103,
  NO_CHILDREN_FOR_EPHEMERALS: -108,
  NODE_EXISTS: -110,
  NOT_EMPTY: -111,
  SESSION_EXPIRED: -112,
  INVALID_CALLBACK: -113,
  INVALID_ACL: -114,
  AUTH_FAILED: -115,
  SESSION_MOVED: -118,
  NOT_READ_ONLY: -119,
  EPHEMERAL_ON_LOCAL_SESSION: -120,
  NO_WATCHER: -121,
  REQUEST_TIMEOUT: -122,
  RECONFIG_DISABLED: -123,
  SESSION_CLOSED_REQUIRE_SASL_AUTH: -124,
  QUOTA_EXCEEDED: -125,
  THROTTLED_OP: -127,
} as const;

export type ErrorCodeName = keyof typeof ErrorCode;
export type ErrorCodeValue = (typeof ErrorCode)[ErrorCodeName];

export interface KeeperErrorOptions {
  path?: string;
  cause?: unknown;
}

/** An error with one of ZooKeeper's codes, from the server or from the protocol's own rules. */
export class KeeperError extends Error {
  /** ZooKeeper's numeric code (negative). */
  readonly code: number;
  /** The znode the failed operation named, when there is one. */
  readonly path: string | undefined;

  constructor(code: number, message?: string, options: KeeperErrorOptions = {}) {
    super(
      message ?? `${describeCode(code)}${options.path === undefined ? '' : ` for ${options.path}`}`,
      options.cause === undefined ? undefined : { cause: options.cause },
    );
    this.name = errorClassNames.get(code) ?? 'KeeperError';
    this.code = code;
    this.path = options.path;
  }

  /** The code's name as ZooKeeper spells it (`NONODE`, `BADVERSION`, …). */
  get codeName(): string {
    return (codeNames.get(this.code) ?? `UNKNOWN(${this.code})`).replaceAll('_', '');
  }

  /** Builds the subclass registered for `code` (KeeperError itself for an unknown code). */
  static from(code: number, options: KeeperErrorOptions = {}): KeeperError {
    const Class = errorClasses.get(code);
    return Class ? new Class(undefined, options) : new KeeperError(code, undefined, options);
  }
}

type KeeperErrorClass = new (message?: string, options?: KeeperErrorOptions) => KeeperError;

const codeNames = new Map<number, ErrorCodeName>(
  (Object.entries(ErrorCode) as Array<[ErrorCodeName, number]>).map(([name, code]) => [code, name]),
);
const errorClasses = new Map<number, KeeperErrorClass>();
const errorClassNames = new Map<number, string>();

const descriptions: Record<ErrorCodeName, string> = {
  OK: 'ok',
  SYSTEM_ERROR: 'system error',
  RUNTIME_INCONSISTENCY: 'runtime inconsistency (an earlier operation of the multi failed)',
  DATA_INCONSISTENCY: 'data inconsistency',
  CONNECTION_LOSS: 'connection loss',
  MARSHALLING_ERROR: 'marshalling error',
  UNIMPLEMENTED: 'unimplemented operation',
  OPERATION_TIMEOUT: 'operation timeout',
  BAD_ARGUMENTS: 'bad arguments',
  UNKNOWN_SESSION: 'unknown session',
  NEW_CONFIG_NO_QUORUM: 'new config has no quorum',
  RECONFIG_IN_PROGRESS: 'another reconfig is in progress',
  API_ERROR: 'API error',
  NO_NODE: 'no node',
  NO_AUTH: 'not authorized',
  BAD_VERSION: 'bad version',
  NO_CHILDREN_FOR_EPHEMERALS: 'ephemeral nodes cannot have children',
  NODE_EXISTS: 'node exists',
  NOT_EMPTY: 'node has children',
  SESSION_EXPIRED: 'session expired',
  INVALID_CALLBACK: 'invalid callback',
  INVALID_ACL: 'invalid ACL',
  AUTH_FAILED: 'authentication failed',
  SESSION_MOVED: 'session moved to another server',
  NOT_READ_ONLY: 'server is read-only',
  EPHEMERAL_ON_LOCAL_SESSION: 'ephemeral on a local session',
  NO_WATCHER: 'no such watcher',
  REQUEST_TIMEOUT: 'request timeout',
  RECONFIG_DISABLED: 'reconfig is disabled',
  SESSION_CLOSED_REQUIRE_SASL_AUTH: 'session closed: SASL authentication required',
  QUOTA_EXCEEDED: 'quota exceeded',
  THROTTLED_OP: 'operation throttled',
};

/** A short human description of a code, for messages and logs. */
export function describeCode(code: number): string {
  const name = codeNames.get(code);
  return name === undefined ? `unknown error ${code}` : `${descriptions[name]} (${code})`;
}

function register(code: ErrorCodeValue, className: string): KeeperErrorClass {
  const Class = class extends KeeperError {
    constructor(message?: string, options?: KeeperErrorOptions) {
      super(code, message, options);
    }
  };
  Object.defineProperty(Class, 'name', { value: className });
  errorClasses.set(code, Class);
  errorClassNames.set(code, className);
  return Class;
}

export const SystemError = register(ErrorCode.SYSTEM_ERROR, 'SystemError');
export const RuntimeInconsistencyError = register(ErrorCode.RUNTIME_INCONSISTENCY, 'RuntimeInconsistencyError');
export const DataInconsistencyError = register(ErrorCode.DATA_INCONSISTENCY, 'DataInconsistencyError');
export const ConnectionLossError = register(ErrorCode.CONNECTION_LOSS, 'ConnectionLossError');
export const MarshallingError = register(ErrorCode.MARSHALLING_ERROR, 'MarshallingError');
export const UnimplementedError = register(ErrorCode.UNIMPLEMENTED, 'UnimplementedError');
export const OperationTimeoutError = register(ErrorCode.OPERATION_TIMEOUT, 'OperationTimeoutError');
export const BadArgumentsError = register(ErrorCode.BAD_ARGUMENTS, 'BadArgumentsError');
export const UnknownSessionError = register(ErrorCode.UNKNOWN_SESSION, 'UnknownSessionError');
export const NewConfigNoQuorumError = register(ErrorCode.NEW_CONFIG_NO_QUORUM, 'NewConfigNoQuorumError');
export const ReconfigInProgressError = register(ErrorCode.RECONFIG_IN_PROGRESS, 'ReconfigInProgressError');
export const ApiError = register(ErrorCode.API_ERROR, 'ApiError');
export const NoNodeError = register(ErrorCode.NO_NODE, 'NoNodeError');
export const NoAuthError = register(ErrorCode.NO_AUTH, 'NoAuthError');
export const BadVersionError = register(ErrorCode.BAD_VERSION, 'BadVersionError');
export const NoChildrenForEphemeralsError = register(
  ErrorCode.NO_CHILDREN_FOR_EPHEMERALS,
  'NoChildrenForEphemeralsError',
);
export const NodeExistsError = register(ErrorCode.NODE_EXISTS, 'NodeExistsError');
export const NotEmptyError = register(ErrorCode.NOT_EMPTY, 'NotEmptyError');
export const SessionExpiredError = register(ErrorCode.SESSION_EXPIRED, 'SessionExpiredError');
export const InvalidCallbackError = register(ErrorCode.INVALID_CALLBACK, 'InvalidCallbackError');
export const InvalidAclError = register(ErrorCode.INVALID_ACL, 'InvalidAclError');
export const AuthFailedError = register(ErrorCode.AUTH_FAILED, 'AuthFailedError');
export const SessionMovedError = register(ErrorCode.SESSION_MOVED, 'SessionMovedError');
export const NotReadOnlyError = register(ErrorCode.NOT_READ_ONLY, 'NotReadOnlyError');
export const EphemeralOnLocalSessionError = register(
  ErrorCode.EPHEMERAL_ON_LOCAL_SESSION,
  'EphemeralOnLocalSessionError',
);
export const NoWatcherError = register(ErrorCode.NO_WATCHER, 'NoWatcherError');
export const RequestTimeoutError = register(ErrorCode.REQUEST_TIMEOUT, 'RequestTimeoutError');
export const ReconfigDisabledError = register(ErrorCode.RECONFIG_DISABLED, 'ReconfigDisabledError');
export const SessionClosedRequireSaslAuthError = register(
  ErrorCode.SESSION_CLOSED_REQUIRE_SASL_AUTH,
  'SessionClosedRequireSaslAuthError',
);
export const QuotaExceededError = register(ErrorCode.QUOTA_EXCEEDED, 'QuotaExceededError');
export const ThrottledOpError = register(ErrorCode.THROTTLED_OP, 'ThrottledOpError');

/** Every code with the class registered for it (OK has none). */
export function errorClassFor(code: number): KeeperErrorClass | undefined {
  return errorClasses.get(code);
}

// ----- our own errors: never ZooKeeper codes -----

/** Base of the errors menagerie raises itself. */
export class MenagerieError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** Bytes that are not a valid jute record or frame. Carries the reason, never a partial value. */
export class DecodeError extends MenagerieError {}

/** A frame whose declared length is negative or over the limit; nothing was allocated for it. */
export class FrameTooLargeError extends DecodeError {
  constructor(
    readonly frameBytes: number,
    readonly frameBytesMax: number,
  ) {
    super(
      frameBytes < 0
        ? `frame length ${frameBytes} is negative`
        : `frame of ${frameBytes} bytes exceeds the limit of ${frameBytesMax} bytes (jute.maxbuffer)`,
    );
  }
}

/** The client, connection or server was closed; the operation cannot run. */
export class ClosedError extends MenagerieError {}

/** A wait (for a connection, a lock, a barrier) ran out of time. */
export class TimeoutError extends MenagerieError {}

/** An argument that can never be valid (bad path, bad version, data over the limit); nothing was sent. */
export class InvalidArgumentError extends MenagerieError {}
