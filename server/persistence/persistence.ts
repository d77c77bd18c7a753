// The persistence shell a server holds: Apache's FileTxnSnapLog and the logging half of its
// SyncRequestProcessor. `persist(txn)` appends with group commit and resolves once the txn is
// durable; every randomised snapCount txns it rolls the log and writes a fuzzy snapshot of the live
// tree in the background (skipped, as in Apache, while one is still being written).

import path from 'node:path';
import { silentLogger, type PersistenceFileSystem, type PersistenceLogger } from './file-system.js';
import { VERSION_DIR } from './names.js';
import { recover, type Recovered } from './recovery.js';
import { writeSnapshot, type SnapshotWritten } from './snapshot-files.js';
import { SnapshotSchedule } from './snapshot-schedule.js';
import { TxnLog } from './txn-log.js';
import type { RecoveryTarget, SnapshotSource, Txn } from './types.js';

export interface PersistenceOptions {
  readonly dataDir: string;
  /** Where logs go; dataDir when not given. */
  readonly dataLogDir?: string;
  readonly forceSync?: boolean;
  /** A log fsync slower than this is logged as a warning (Apache's fsync.warningthresholdms). */
  readonly fsyncWarningThresholdMs?: number;
  readonly preAllocBytes?: number;
  readonly snapCount?: number;
  readonly snapSizeBytes?: number;
  readonly trustEmptySnapshot?: boolean;
  /** Uniform in [0, 1); randomises when snapshots happen. */
  readonly random?: () => number;
  /** The live tree as a snapshot reads it; without it, automatic snapshots are off. */
  readonly snapshotSource?: () => SnapshotSource;
  readonly fileSystem?: PersistenceFileSystem;
  readonly logger?: PersistenceLogger;
  /** Told how long each fsync of the transaction log took. */
  readonly onFsync?: (elapsedMs: number) => void;
}

export class Persistence implements AsyncDisposable {
  private readonly schedule: SnapshotSchedule;
  private readonly logger: PersistenceLogger;
  private snapshotting: Promise<SnapshotWritten | undefined> | null = null;
  private closed = false;

  private constructor(
    readonly options: PersistenceOptions,
    readonly log: TxnLog,
  ) {
    this.logger = options.logger ?? silentLogger;
    this.schedule = new SnapshotSchedule({
      snapCount: options.snapCount,
      snapSizeBytes: options.snapSizeBytes,
      random: options.random ?? Math.random,
    });
  }

  static async open(options: PersistenceOptions): Promise<Persistence> {
    const log = await TxnLog.open({
      directory: path.join(options.dataLogDir ?? options.dataDir, VERSION_DIR),
      forceSync: options.forceSync,
      fsyncWarningThresholdMs: options.fsyncWarningThresholdMs,
      preAllocBytes: options.preAllocBytes,
      fileSystem: options.fileSystem,
      logger: options.logger,
      onFsync: options.onFsync,
    });
    return new Persistence(options, log);
  }

  get snapshotDirectory(): string {
    return path.join(this.options.dataDir, VERSION_DIR);
  }

  /** Loads the data dir into a fresh tree (call before the first `persist`). */
  recover<T extends RecoveryTarget>(newTarget: () => T): Promise<Recovered<T>> {
    return recover(
      {
        dataDir: this.options.dataDir,
        dataLogDir: this.options.dataLogDir,
        trustEmptySnapshot: this.options.trustEmptySnapshot,
        fileSystem: this.options.fileSystem,
        logger: this.options.logger,
      },
      newTarget,
    );
  }

  /** The TxnPersister seam: resolves once `txn` is durable. */
  persist(txn: Txn): Promise<void> {
    const durable = this.log.append(txn);
    if (this.schedule.due(this.log.txnCountSinceRoll, this.log.currentLogBytes)) {
      this.schedule.reset();
      this.log.roll();
      if (this.options.snapshotSource !== undefined) this.snapshotInBackground(this.options.snapshotSource);
    }
    return durable;
  }

  /**
   * After `persist` failed (TxnLogFailedError): once the core has dropped the changes it prepared on
   * top of the failed txns, this rolls the log back and accepts appends again. It throws if the
   * rollback itself fails; if the disk is still full, the next append fails again and resume() is
   * needed again.
   */
  async resume(): Promise<void> {
    await this.log.resume();
  }

  /** Writes a snapshot now (at start, after loading, or on becoming leader); rolls the log first. */
  async snapshot(source: SnapshotSource): Promise<SnapshotWritten> {
    this.log.roll();
    this.schedule.reset();
    return await writeSnapshot(source, {
      directory: this.snapshotDirectory,
      fileSystem: this.options.fileSystem,
      sync: this.options.forceSync !== false,
    });
  }

  /** Resolves when the background snapshot under way (if any) is done. */
  async snapshotDone(): Promise<void> {
    await this.snapshotting;
  }

  private snapshotInBackground(sourceOf: () => SnapshotSource): void {
    if (this.snapshotting !== null) {
      this.logger.warn('too busy to snapshot (the previous one is still being written), skipping');
      return;
    }
    const source = sourceOf();
    this.snapshotting = writeSnapshot(source, {
      directory: this.snapshotDirectory,
      fileSystem: this.options.fileSystem,
      sync: this.options.forceSync !== false,
    })
      .then((written) => {
        this.logger.info(`snapshot ${written.file} written: ${written.nodes} nodes, ${written.bytes} bytes`);
        return written;
      })
      .catch((error: unknown) => {
        this.logger.warn(`snapshot at zxid 0x${source.zxid.toString(16)} failed: ${String(error)}`);
        return undefined;
      })
      .finally(() => {
        this.snapshotting = null;
      });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.snapshotting;
    await this.log.close();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}
