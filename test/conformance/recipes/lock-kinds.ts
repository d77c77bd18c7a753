// Every exclusive lock kind behind one small interface, so the lock contract is written once and run
// for each: mutex, semaphore mutex, the write lock, a one-lease semaphore and a multi-lock.
import type { Framework } from '../../../src/index.js';
import {
  MultiLock,
  Mutex,
  ReadWriteLock,
  Semaphore,
  SemaphoreMutex,
  type AcquireOptions,
} from '../../../recipes/index.js';

export interface LeaseLike extends AsyncDisposable {
  readonly state: string;
  readonly signal: AbortSignal;
  /** The first (or only) fencing token. */
  readonly token: bigint;
  release(options?: { confirm?: boolean }): Promise<void>;
}

export interface ExclusiveLock {
  acquire(options?: AcquireOptions): Promise<LeaseLike>;
  tryAcquire(): Promise<LeaseLike | undefined>;
}

export interface LockKind {
  readonly name: string;
  make(fw: Framework, path: string): ExclusiveLock;
}

/** Adapts a lock whose leases carry `fencingToken` to the contract's interface. */
function adapt<L extends { fencingToken: bigint } & Omit<LeaseLike, 'token'>>(lock: {
  acquire(options?: AcquireOptions): Promise<L>;
  tryAcquire(): Promise<L | undefined>;
}): ExclusiveLock {
  const wrap = (lease: L): LeaseLike => {
    return {
      get state() {
        return lease.state;
      },
      get signal() {
        return lease.signal;
      },
      get token() {
        return lease.fencingToken;
      },
      release: (options) => lease.release(options),
      [Symbol.asyncDispose]: () => lease.release(),
    };
  };
  return {
    acquire: async (options) => wrap(await lock.acquire(options)),
    tryAcquire: async () => {
      const lease = await lock.tryAcquire();
      return lease === undefined ? undefined : wrap(lease);
    },
  };
}

export const exclusiveLockKinds: LockKind[] = [
  { name: 'Mutex', make: (fw, path) => adapt(new Mutex(fw, path)) },
  { name: 'SemaphoreMutex', make: (fw, path) => adapt(new SemaphoreMutex(fw, path)) },
  { name: 'ReadWriteLock.writeLock', make: (fw, path) => adapt(new ReadWriteLock(fw, path).writeLock) },
  { name: 'Semaphore(maxLeases 1)', make: (fw, path) => adapt(new Semaphore(fw, path, { maxLeases: 1 })) },
  {
    name: 'MultiLock',
    make: (fw, path) => {
      const multi = new MultiLock(fw, [`${path}/b`, `${path}/a`]);
      const wrap = (lease: Awaited<ReturnType<MultiLock['acquire']>>): LeaseLike => ({
        get state() {
          return lease.state;
        },
        get signal() {
          return lease.signal;
        },
        get token() {
          return lease.fencingTokens[0]!;
        },
        release: (options) => lease.release(options),
        [Symbol.asyncDispose]: () => lease.release(),
      });
      return {
        acquire: async (options) => wrap(await multi.acquire(options)),
        tryAcquire: async () => {
          const lease = await multi.tryAcquire();
          return lease === undefined ? undefined : wrap(lease);
        },
      };
    },
  },
];
