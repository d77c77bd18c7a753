// menagerie/recipes: locks, leader election, discovery, barriers, caches and more, built only on
// the public API in src/index.ts.

// The recipes of part 2: discovery, barriers, caches, counters, managed nodes and queues.
/** @public */
export * from './discovery/service-discovery.js';
/** @public */
export * from './discovery/service-cache.js';
/** @public */
export * from './discovery/service-provider.js';
/** @public */
export * from './cache/tree-cache.js';
/** @public */
export { EventStreamOverflowError } from './cache/events.js';
/** @public */
export * from './nodes/persistent-node.js';
/** @public */
export * from './barriers/barrier.js';
/** @public */
export * from './barriers/double-barrier-recipe.js';
/** @public */
export * from './counters/shared-value.js';
/** @public */
export * from './counters/distributed-atomic-long.js';
/** @public */
export * from './nodes/persistent-ttl-node.js';
/** @public */
export * from './nodes/group-member.js';
/** @public */
export * from './queues/distributed-queue.js';

// Formats shared with Curator (and kazoo where it reads Curator's): what recipes store in ZooKeeper.
/** @public */
export * from './discovery/instance-format.js';
/** @public */
export * from './discovery/paths.js';
/** @public */
export * from './discovery/provider.js';
/** @public */
export * from './counters/formats.js';
/** @internal */
export * from './counters/atomic-long.js';
/** @public */
export * from './queues/formats.js';
/** @public */
export * from './locks/lock-data.js';
/** @public */
export * from './locks/node-names.js';
/** @public */
export * from './nodes/formats.js';

// Locks: mutex, read/write lock, semaphores, multi-lock, leases with fencing tokens and guard().
/** @public */
export * from './locks/mutex.js';
/** @public */
export * from './locks/read-write-lock.js';
/** @public */
export * from './locks/semaphore.js';
/** @public */
export * from './locks/multi-lock.js';
/** @public */
export { Lease, LeaseLostError, type LeaseStateName, type ReleaseOptions } from './locks/lease.js';
/** @public */
export { LockTimeoutError } from './locks/lock-core.js';

// Leader election: latch, selector, runAsLeader.
/** @public */
export {
  LeaderLatch,
  type LeaderOptions,
  type LeadershipChange,
  type LeadershipTerm,
  type SuspendedPolicy,
} from './leader/latch.js';
/** @public */
export * from './leader/selector.js';

// The pure cores the recipes are built on: exported for tools (inspect, the CLI) and tests.
/** @internal */
export * from './barriers/double-barrier.js';
/** @internal */
export * from './cache/snapshot.js';
/** @internal */
export * from './discovery/registration.js';
/** @internal */
export * from './locks/contenders.js';
/** @internal */
export * from './locks/lease-state.js';
/** @internal */
export * from './locks/semaphore-leases.js';
/** @internal */
export * from './locks/multi-lock-order.js';
/** @internal */
export * from './leader/participants.js';
/** @internal */
export * from './queues/consumer.js';

