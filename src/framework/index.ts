// The framework's public surface: createFramework and its views, retry policies and the retry
// loop, connection states, transactions, protected names and the framework's errors.

export {
  Framework,
  NamespacedPersistentWatch,
  WatcherRemovingFramework,
  createFramework,
  type ChildrenResult as FrameworkChildrenResult,
  type CreateOptions as FrameworkCreateOptions,
  type CreateResult as FrameworkCreateResult,
  type DataResult as FrameworkDataResult,
  type DeleteOptions,
  type FrameworkOptions,
  type SignalOptions as FrameworkSignalOptions,
  type WatchOption as FrameworkWatchOption,
  type WatchOptions as FrameworkWatchOptions,
} from './framework.js';
export type { FrameworkClientOptions } from './core.js';
export { type FrameworkClock } from './abort.js';
export {
  ConnectionStateMachine,
  isConnectedState,
  isErrorState,
  type ConnectionErrorPolicy,
  type ConnectionInput,
  type ConnectionOutput,
  type ConnectionStateChange,
  type ConnectionStateName,
} from './connection-state.js';
export {
  EXPONENTIAL_RETRIES_MAX,
  boundedExponentialBackoff,
  defaultRetryPolicy,
  exponentialBackoff,
  noRetry,
  retryForever,
  retryNTimes,
  retryOnce,
  retryUntilElapsed,
  type ExponentialBackoffOptions,
  type RetryPolicy,
} from './retry-policy.js';
export {
  retryLoop,
  type AttemptContext,
  type Resolution,
  type Resolver,
  type RetryInfo,
  type RetryLoopOptions,
} from './retry-loop.js';
export { FrameworkClosedError, GuaranteedDeleteAbandonedError, isRetryable } from './errors.js';
export type { GuaranteedDeleteOutcome } from './guaranteed-delete.js';
export { Namespace } from './namespace.js';
export {
  PROTECTED_PREFIX,
  findProtectedChild,
  isProtectedName,
  protectedPath,
  unprotectedName,
} from './protected-name.js';
export {
  txn,
  type TransactionCheck,
  type TransactionCheckResult,
  type TransactionCreate,
  type TransactionCreateResult,
  type TransactionDelete,
  type TransactionDeleteResult,
  type TransactionOp,
  type TransactionResultOf,
  type TransactionResults,
  type TransactionSetData,
  type TransactionSetDataResult,
} from './transaction.js';
