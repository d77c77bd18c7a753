// The durable store a standalone server holds: it owns the data dir (and a separate dataLogDir),
// recovers a ServerCore from it at open, is the core's TxnPersister (group-committed txn log), takes
// fuzzy background snapshots every randomised snapCount txns, purges old files on a timer, and
// flushes and stops everything on close. Shell wiring: `const store = await DurableStore.open(...)`,
// then serve `store.core` with `store.persister`, and `await store.close()` after the listener stops.

import { ClosedError } from '../../src/protocol/errors.js';
import type { Txn, TxnPersister } from '../core/api.js';
import { ServerCore, txnCodecFor, type ServerCoreOptions } from '../core/server-core.js';
import {
  silentLogger,
  type PersistenceFileSystem,
  type PersistenceLogger,
} from '../persistence/file-system.js';
import { Persistence } from '../persistence/persistence.js';
import { purge, SNAP_RETAIN_COUNT_MIN, type PurgePlan } from '../persistence/purge.js';
import type { TornTail } from '../persistence/recovery.js';
import type { SnapshotWritten } from '../persistence/snapshot-files.js';
import { PersistenceError } from '../persistence/types.js';
import { CoreRecoveryTarget, coreSnapshotSource, killOrphanEphemerals } from './core-adapter.js';
import type { DataDirOptions } from './from-config.js';

export interface DurableStoreOptions extends DataDirOptions {
  /** How to build the core, when open() is not given one to recover into. */
  readonly core?: ServerCoreOptions;
}

/** What open() found on disk. */
export interface RecoveryReport {
  /** The snapshot file loaded, or undefined for an empty data dir. */
  readonly snapshotFile: string | undefined;
  readonly skippedSnapshots: readonly string[];
  readonly txnsReplayed: number;
  readonly lastZxid: bigint;
  readonly tornTail: TornTail | undefined;
  readonly discardedLogs: readonly string[];
  /** Sessions restored (they expire one timeout after open unless their clients come back). */
  readonly sessions: number;
  /** Owners of ephemerals whose session was gone; their nodes were deleted, as Apache does. */
  readonly orphanSessions: readonly bigint[];
  /** Whether the snapshot's digest matched the replayed tree; undefined when nothing to compare. */
  readonly digestMatched: boolean | undefined;
  /**
   * Whether the TxnDigest logged with the last replayed txn (Apache 3.8 writes one after each txn)
   * matched the tree after it; undefined when no replayed txn carries one (our logs, for now).
   */
  readonly txnDigestMatched: boolean | undefined;
}

export class DurableStore implements AsyncDisposable {
  /** The TxnPersister seam for the write pipeline: resolves once the txn is durable. */
  readonly persister: TxnPersister;
  private purgeTimer: NodeJS.Timeout | undefined;
  private purging: Promise<PurgePlan | undefined> | undefined;
  private closing: Promise<void> | undefined;
  private failure: unknown;

  private constructor(
    readonly options: DurableStoreOptions,
    readonly core: ServerCore,
    readonly recovery: RecoveryReport,
    private readonly persistence: Persistence,
    private readonly logger: PersistenceLogger,
  ) {
    this.persister = { persist: (txn) => this.persist(txn) };
  }

  /**
   * Recovers the data dir into a new core (newest valid snapshot + log replay, torn tail cut), writes
   * a clean snapshot of it as Apache does at startup, and starts autopurge. Throws a PersistenceError
   * naming the file for a newer or unknown format, a wrong dbid or a log corrupt before its end.
   * With `into`, recovers into that core (which must be fresh: nothing applied), else builds one
   * from `options.core`. The core is changed only once a snapshot verified and the log was read.
   */
  static async open(options: DurableStoreOptions, into?: ServerCore): Promise<DurableStore> {
    const logger = options.logger ?? silentLogger;
    const coreOptions = options.core;
    if (into === undefined && coreOptions === undefined) {
      throw new TypeError('DurableStore.open needs a core to recover into or options.core');
    }
    const core = into ?? new ServerCore(coreOptions!);
    if (core.lastProcessedZxid !== 0n) throw new TypeError('DurableStore.open: the core is not fresh');
    const retainCount = options.autopurgeSnapRetainCount ?? SNAP_RETAIN_COUNT_MIN;
    if ((options.autopurgeIntervalMs ?? 0) > 0 && retainCount < SNAP_RETAIN_COUNT_MIN) {
      throw new PersistenceError(`autopurge.snapRetainCount must be at least ${SNAP_RETAIN_COUNT_MIN}`);
    }
    const withDigest = options.snapshotDigest !== false;
    const persistence = await Persistence.open({
      dataDir: options.dataDir,
      dataLogDir: options.dataLogDir,
      forceSync: options.forceSync,
      fsyncWarningThresholdMs: options.fsyncWarningThresholdMs,
      preAllocBytes: options.preAllocBytes,
      snapCount: options.snapCount,
      snapSizeBytes: options.snapSizeBytes,
      trustEmptySnapshot: options.trustEmptySnapshot,
      random: options.random,
      fileSystem: options.fileSystem,
      logger,
      onFsync: options.onFsync,
      snapshotSource: () => coreSnapshotSource(core, { withDigest }),
    });
    try {
      const nowMs = (options.nowMs ?? Date.now)();
      const recovered = await persistence.recover(
        () => new CoreRecoveryTarget(core, nowMs, txnCodecFor),
      );
      const { digestMatched, txnDigestMatched } = recovered.target.finish();
      if (digestMatched === false) {
        logger.error('the snapshot digest does not match the tree replayed to its zxid');
      }
      if (txnDigestMatched === false) {
        logger.error('the digest logged with the last replayed transaction does not match the replayed tree');
      }
      const orphanSessions = killOrphanEphemerals(core);
      const recovery: RecoveryReport = {
        snapshotFile: recovered.snapshot?.file,
        skippedSnapshots: recovered.skippedSnapshots,
        txnsReplayed: recovered.txnsReplayed,
        lastZxid: core.lastProcessedZxid,
        tornTail: recovered.tornTail,
        discardedLogs: recovered.discardedLogs,
        sessions: core.sessions().length,
        orphanSessions,
        digestMatched,
        txnDigestMatched,
      };
      logger.info(
        `recovered zxid 0x${core.lastProcessedZxid.toString(16)} from ` +
          `${recovery.snapshotFile ?? 'an empty data dir'} + ${recovery.txnsReplayed} txns, ` +
          `${recovery.sessions} sessions`,
      );
      // A clean snapshot at start, as Apache's loadData takes: the next start need not replay again,
      // and a fresh data dir gets the snapshot.0 Apache requires before it trusts any log.
      await persistence.snapshot(coreSnapshotSource(core, { withDigest }));
      const store = new DurableStore(options, core, recovery, persistence, logger);
      store.startAutopurge(retainCount);
      return store;
    } catch (error) {
      await persistence.close().catch(() => {});
      throw error;
    }
  }

  get dataDir(): string {
    return this.options.dataDir;
  }

  get dataLogDir(): string {
    return this.options.dataLogDir ?? this.options.dataDir;
  }

  /** Persist failures so far: after one, this core must be dropped (see `persist`). */
  get failed(): boolean {
    return this.failure !== undefined;
  }

  /**
   * Appends `txn` and resolves once it is durable. Apply it to the core only after that. When it
   * rejects (disk full, I/O error), the txn and everything prepared behind it are not durable; the
   * core cannot drop changes it prepared, so this store refuses further writes: close it and open a
   * new one on the same directories (a core rebuilt from what is on disk) when the disk is back.
   */
  private persist(txn: Txn): Promise<void> {
    if (this.closing !== undefined) return Promise.reject(new ClosedError('the durable store is closed'));
    if (this.failure !== undefined) return Promise.reject(this.failure);
    return this.persistence.persist(txn).catch((error: unknown) => {
      this.failure ??= error;
      throw error;
    });
  }

  /** Writes a snapshot of the core now (rolls the log first); the core keeps applying meanwhile. */
  async snapshot(): Promise<SnapshotWritten> {
    if (this.closing !== undefined) throw new ClosedError('the durable store is closed');
    const withDigest = this.options.snapshotDigest !== false;
    return await this.persistence.snapshot(coreSnapshotSource(this.core, { withDigest }));
  }

  /** Resolves when the background snapshot under way, if any, is written. */
  async snapshotDone(): Promise<void> {
    await this.persistence.snapshotDone();
  }

  /** Keeps the newest `retainCount` snapshots and the logs they need (as autopurge does). */
  async purge(retainCount?: number): Promise<PurgePlan> {
    const count = retainCount ?? this.options.autopurgeSnapRetainCount ?? SNAP_RETAIN_COUNT_MIN;
    return await purge(this.dataDir, this.dataLogDir, count);
  }

  /** Counters of the log (txns, flushes, syncs, files), for tests and metrics. */
  get logStats() {
    return { ...this.persistence.log.stats };
  }

  private startAutopurge(retainCount: number): void {
    const intervalMs = this.options.autopurgeIntervalMs ?? 0;
    if (!(intervalMs > 0)) return;
    const run = () => {
      if (this.purging !== undefined || this.closing !== undefined) return;
      this.purging = this.purge(retainCount)
        .then((plan) => {
          const deleted = plan.deletedSnapshots.length + plan.deletedLogs.length;
          if (deleted > 0) this.logger.info(`autopurge deleted ${deleted} old snapshot and log files`);
          return plan;
        })
        .catch((error: unknown) => {
          this.logger.warn(`autopurge failed: ${String(error)}`);
          return undefined;
        })
        .finally(() => (this.purging = undefined));
    };
    // Apache's DatadirCleanupManager runs once at start, then every interval.
    run();
    this.purgeTimer = setInterval(run, intervalMs);
    this.purgeTimer.unref();
  }

  /** Stops autopurge, waits for a snapshot under way, flushes and closes the log. Idempotent. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      if (this.purgeTimer !== undefined) clearInterval(this.purgeTimer);
      await this.purging;
      await this.persistence.close();
    })();
    return this.closing;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}
