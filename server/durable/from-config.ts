// zoo.cfg → DurableStore options: the persistence keys of a loaded ServerConfig, in Apache's units.

import type { ServerConfig } from '../config/index.js';
import { PersistenceError } from '../persistence/types.js';
import type { DurableStoreOptions } from './durable-store.js';

const HOUR_MS = 60 * 60 * 1000;

/** The store options for `config` (which must have a dataDir); `extra` adds or overrides fields. */
export function durableStoreOptions(
  config: ServerConfig,
  extra: Partial<DurableStoreOptions> = {},
): DurableStoreOptions {
  if (config.dataDir === undefined) throw new PersistenceError('dataDir is not set: nothing to persist to');
  return {
    dataDir: config.dataDir,
    dataLogDir: config.dataLogDir,
    forceSync: config.forceSync,
    preAllocBytes: config.preAllocSizeKb * 1024,
    snapCount: config.snapCount,
    autopurgeSnapRetainCount: config.autopurgeSnapRetainCount,
    autopurgeIntervalMs: Math.max(0, config.autopurgePurgeIntervalHours) * HOUR_MS,
    ...extra,
  };
}
