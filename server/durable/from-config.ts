// zoo.cfg → the options of a data directory: the persistence keys of a loaded ServerConfig, in
// Apache's units. A standalone server's DurableStore and an ensemble peer's DiskPeerStorage both
// keep a data dir, so both take these fields (and add their own).

import type { ServerConfig } from '../config/index.js';
import type { PersistenceFileSystem, PersistenceLogger } from '../persistence/file-system.js';
import { PersistenceError } from '../persistence/types.js';

const HOUR_MS = 60 * 60 * 1000;

/** How a data directory is kept: where, how durably, and when snapshots are taken and purged. */
export interface DataDirOptions {
  /** Holds `version-2/snapshot.*` (and the logs, unless dataLogDir is given). */
  readonly dataDir: string;
  /** Holds `version-2/log.*`; dataDir when not given, as in Apache. */
  readonly dataLogDir?: string;
  /** zoo.cfg forceSync (default true); false reports txns durable before the disk has them. */
  readonly forceSync?: boolean;
  /** fsync.warningthresholdms: a log fsync slower than this is logged as a warning (default 1000). */
  readonly fsyncWarningThresholdMs?: number;
  /** zookeeper.preAllocSize in bytes (default 64 MiB). */
  readonly preAllocBytes?: number;
  /** zoo.cfg snapCount (default 100,000; randomised as Apache does). */
  readonly snapCount?: number;
  /** zookeeper.snapSizeLimitInKb in bytes (default 4 GiB of log). */
  readonly snapSizeBytes?: number;
  /** zookeeper.snapshot.trust.empty: accept logs without any snapshot. */
  readonly trustEmptySnapshot?: boolean;
  /** autopurge.snapRetainCount (default 3, at least 3). */
  readonly autopurgeSnapRetainCount?: number;
  /** autopurge.purgeInterval in ms; 0 or absent: no autopurge (Apache's default). */
  readonly autopurgeIntervalMs?: number;
  /** Write the tree digest into snapshots (default true, as Apache 3.8's zookeeper.digest.enabled). */
  readonly snapshotDigest?: boolean;
  /** Uniform in [0, 1) for the snapshot schedule (default Math.random). */
  readonly random?: () => number;
  /** The clock restored sessions are re-armed on (default Date.now; the shell's expiry clock). */
  readonly nowMs?: () => number;
  /** A pino logger fits. */
  readonly logger?: PersistenceLogger;
  /** Told how long each fsync of the transaction log took (the fsynctime metric). */
  readonly onFsync?: (elapsedMs: number) => void;
  /** The file system persistence writes through (tests inject disk-full and I/O faults). */
  readonly fileSystem?: PersistenceFileSystem;
}

/** The data dir options for `config` (which must have a dataDir); `extra` adds or overrides fields. */
export function dataDirOptions<T extends DataDirOptions = DataDirOptions>(
  config: ServerConfig,
  extra: Partial<T> = {},
): T {
  if (config.dataDir === undefined) throw new PersistenceError('dataDir is not set: nothing to persist to');
  const fromConfig: DataDirOptions = {
    dataDir: config.dataDir,
    dataLogDir: config.dataLogDir,
    forceSync: config.forceSync,
    fsyncWarningThresholdMs: config.fsyncWarningThresholdMs,
    preAllocBytes: config.preAllocSizeKb * 1024,
    snapCount: config.snapCount,
    autopurgeSnapRetainCount: config.autopurgeSnapRetainCount,
    autopurgeIntervalMs: Math.max(0, config.autopurgePurgeIntervalHours) * HOUR_MS,
  };
  return { ...fromConfig, ...extra } as T;
}
