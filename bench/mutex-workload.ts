// The mutex figures measured the way the Curator harness and kazoo_lock.py measure theirs, for a
// mutex written in TypeScript: uncontended acquire + release cycles on one client, and the hand-off
// latency among several contenders (from one holder starting its release to the next holder
// returning from acquire). Used by typeScriptMutexSide in recipes.ts for our Mutex.

/** Takes the lock; disposing the lease releases it. */
export type AcquireLock = (signal: AbortSignal) => Promise<AsyncDisposable>;

export async function mutexCycles(acquire: AcquireLock, cycles: number, signal: AbortSignal) {
  const startMs = performance.now();
  for (let i = 0; i < cycles; i++) {
    signal.throwIfAborted();
    const lease = await acquire(signal);
    await lease[Symbol.asyncDispose]();
  }
  return { cycles, elapsedMs: performance.now() - startMs };
}

/** `contenders` acquire functions (each on its own client/session) share `acquisitions` in all. */
export async function mutexHandoff(contenders: AcquireLock[], acquisitions: number, signal: AbortSignal) {
  let remaining = acquisitions;
  let releasedAtMs: number | undefined;
  const handoffsMs: number[] = [];
  const contend = async (acquire: AcquireLock) => {
    while (remaining-- > 0) {
      signal.throwIfAborted();
      const lease = await acquire(signal);
      const acquiredMs = performance.now();
      if (releasedAtMs !== undefined) handoffsMs.push(acquiredMs - releasedAtMs);
      releasedAtMs = performance.now();
      await lease[Symbol.asyncDispose]();
    }
  };
  const startMs = performance.now();
  await Promise.all(contenders.map(contend));
  const sorted = handoffsMs.sort((a, b) => a - b);
  return {
    acquisitions,
    elapsedMs: performance.now() - startMs,
    handoffP50Ms: sorted[Math.floor(sorted.length / 2)] ?? 0,
    handoffP99Ms: sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * 99) / 100))] ?? 0,
  };
}
