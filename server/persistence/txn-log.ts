// The transaction log writer, with group commit. `append` encodes a txn at once and queues it; one
// flush loop writes everything queued in one write and then syncs once, so one fdatasync covers every
// txn that arrived while the previous one ran. A txn's promise resolves only after a sync that covers
// it. A failed write or sync fails its whole batch and everything queued behind it (they may have
// been prepared on top of it), rolls the file back to the last synced end, and the log refuses
// appends until `resume()` succeeds. Files are preallocated with zeros in `preAllocBytes` steps,
// as Apache's FilePadding does, so a sync rarely has to update the file's size.

import path from 'node:path';
import { mkdir, unlink } from 'node:fs/promises';
import { ClosedError } from '../../src/protocol/errors.js';
import {
  nodeFileSystem,
  silentLogger,
  syncDirectory,
  writeFully,
  type PersistenceFile,
  type PersistenceFileSystem,
  type PersistenceLogger,
} from './file-system.js';
import { logFileName } from './names.js';
import {
  encodeLogEntryOfPayload,
  encodeLogFileHeader,
  encodeTxnPayload,
  FILE_HEADER_BYTES,
} from './txn-format.js';
import { TxnLogFailedError, type Txn } from './types.js';

/** Apache's default zookeeper.preAllocSize: 64 MiB. */
export const PREALLOC_BYTES_DEFAULT = 64 * 1024 * 1024;
/** Apache's fsync.warningthresholdms. */
export const FSYNC_WARNING_THRESHOLD_MS_DEFAULT = 1000;
/** Most bytes one flush writes; the rest waits for the next flush (bounds memory, not batching). */
export const BATCH_BYTES_MAX_DEFAULT = 16 * 1024 * 1024;

export interface TxnLogOptions {
  /** The directory holding log.* files (`<dataLogDir>/version-2`); created if missing. */
  readonly directory: string;
  /** zoo.cfg forceSync; false acknowledges txns before they reach the disk. */
  readonly forceSync?: boolean;
  readonly preAllocBytes?: number;
  /** A sync slower than this is logged as a warning (Apache's fsync.warningthresholdms, 1000). */
  readonly fsyncWarningThresholdMs?: number;
  /** Told how long each fsync of the log took (the fsynctime metric). */
  readonly onFsync?: (elapsedMs: number) => void;
  readonly batchBytesMax?: number;
  readonly fileSystem?: PersistenceFileSystem;
  readonly logger?: PersistenceLogger;
}

/** Counters for tests and metrics. */
export interface TxnLogStats {
  txns: number;
  flushes: number;
  syncs: number;
  /** Syncs slower than fsync.warningthresholdms (each logged as a warning). */
  slowSyncs: number;
  filesCreated: number;
}

interface QueuedTxn {
  readonly kind: 'txn';
  readonly zxid: bigint;
  readonly entry: Buffer;
  readonly resolve: () => void;
  readonly reject: (error: Error) => void;
}
type QueueItem = QueuedTxn | { readonly kind: 'roll' };

interface OpenLogFile {
  readonly name: string;
  readonly handle: PersistenceFile;
  /** Where the next entry goes. */
  position: number;
  /** Where the last sync left the file: a failure rolls back to here. */
  durablePosition: number;
  /** The file's size as preallocated. */
  allocated: number;
}

/** Apache's FilePadding.calculateFileSizeWithPadding. */
export function paddedFileSize(position: number, fileSize: number, preAllocBytes: number): number {
  if (preAllocBytes > 0 && position + 4096 >= fileSize) {
    if (position > fileSize) {
      const size = position + preAllocBytes;
      return size - (size % preAllocBytes);
    }
    return fileSize + preAllocBytes;
  }
  return fileSize;
}

export class TxnLog implements AsyncDisposable {
  readonly stats: TxnLogStats = { txns: 0, flushes: 0, syncs: 0, slowSyncs: 0, filesCreated: 0 };
  private readonly forceSync: boolean;
  private readonly preAllocBytes: number;
  private readonly fsyncWarningThresholdMs: number;
  private readonly batchBytesMax: number;
  private readonly fileSystem: PersistenceFileSystem;
  private readonly logger: PersistenceLogger;
  private queue: QueueItem[] = [];
  private flushing: Promise<void> = Promise.resolve();
  private flushRunning = false;
  private current: OpenLogFile | null = null;
  private failure: Error | null = null;
  /** Files written since their last sync: a failure rolls each back to its durable end. */
  private unsynced: OpenLogFile[] = [];
  private closed = false;
  private txnsSinceRoll = 0;

  private constructor(readonly options: TxnLogOptions) {
    this.forceSync = options.forceSync ?? true;
    this.preAllocBytes = options.preAllocBytes ?? PREALLOC_BYTES_DEFAULT;
    this.fsyncWarningThresholdMs = options.fsyncWarningThresholdMs ?? FSYNC_WARNING_THRESHOLD_MS_DEFAULT;
    this.batchBytesMax = options.batchBytesMax ?? BATCH_BYTES_MAX_DEFAULT;
    this.fileSystem = options.fileSystem ?? nodeFileSystem;
    this.logger = options.logger ?? silentLogger;
  }

  /** Opens the log for appending. The first append starts a new file named by its zxid, as Apache does. */
  static async open(options: TxnLogOptions): Promise<TxnLog> {
    await mkdir(options.directory, { recursive: true });
    const log = new TxnLog(options);
    if (!log.forceSync) {
      log.logger.warn(
        'forceSync=no: transactions are acknowledged before they are synced to disk; a crash or power loss ' +
          'can lose acknowledged writes',
      );
    }
    return log;
  }

  get directory(): string {
    return this.options.directory;
  }

  /** Txns appended since the last roll (Apache's txnCount, for snapCount). */
  get txnCountSinceRoll(): number {
    return this.txnsSinceRoll;
  }

  /** Bytes in the current file (Apache's getCurrentLogSize, for snapSizeLimitInKb). */
  get currentLogBytes(): number {
    return this.current?.position ?? 0;
  }

  /** Whether the log refuses appends after a failure. */
  get failed(): boolean {
    return this.failure !== null;
  }

  /** Queues `txn`; resolves once it is durable (synced, unless forceSync is off). */
  append(txn: Txn): Promise<void> {
    let payload: Buffer;
    try {
      payload = encodeTxnPayload(txn);
    } catch (error) {
      return Promise.reject(error);
    }
    return this.appendPayload(txn.header.zxid, payload);
  }

  /**
   * As `append`, for a txn already encoded as a log payload (TxnHeader, record, optional digest):
   * a quorum proposal's bytes go to the log as they are. The caller vouches that they decode.
   */
  appendPayload(zxid: bigint, payload: Uint8Array): Promise<void> {
    if (this.closed) return Promise.reject(new ClosedError('the transaction log is closed'));
    if (this.failure !== null) return Promise.reject(this.refusal());
    const entry = encodeLogEntryOfPayload(payload);
    this.txnsSinceRoll++;
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ kind: 'txn', zxid, entry, resolve, reject });
      this.startFlushing();
    });
  }

  /** Txns appended after this call go to a new file (Apache rolls the log at every snapshot). */
  roll(): void {
    if (this.closed) return;
    this.txnsSinceRoll = 0;
    this.queue.push({ kind: 'roll' });
    this.startFlushing();
  }

  /** Resolves once everything appended so far was flushed (or failed). */
  async drain(): Promise<void> {
    while (this.flushRunning) await this.flushing;
  }

  /**
   * After a failure: rolls the file back to its last synced end (if not done yet) and accepts appends
   * again, in a new file. Throws (and stays failed) if the rollback cannot be made.
   */
  async resume(): Promise<void> {
    await this.drain();
    if (this.failure === null) return;
    await this.rollBack();
    await this.closeCurrent();
    this.failure = null;
    this.logger.info('transaction log resumed after a failure; appends continue in a new file');
  }

  async close(): Promise<void> {
    if (this.closed) return this.drain();
    this.closed = true;
    await this.drain();
    await this.closeCurrent().catch(() => {});
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  private refusal(): TxnLogFailedError {
    return new TxnLogFailedError(
      `the transaction log failed (${this.failure!.message}) and refuses appends until it is resumed`,
      this.current?.name,
      { cause: this.failure },
    );
  }

  private startFlushing(): void {
    if (this.flushRunning) return;
    this.flushRunning = true;
    // A microtask later, so that every txn appended in this turn (one socket read can carry many
    // requests) goes into the first batch instead of waiting behind a sync of the first one alone.
    this.flushing = Promise.resolve().then(() => this.flushLoop());
  }

  private async flushLoop(): Promise<void> {
    try {
      while (this.queue.length > 0) {
        const batch = this.takeBatch();
        try {
          await this.writeBatch(batch);
        } catch (error) {
          await this.fail(batch, error instanceof Error ? error : new Error(String(error)));
          return;
        }
        for (const item of batch) if (item.kind === 'txn') item.resolve();
      }
    } finally {
      // Cleared in the same turn as the last queue check, so an append made by a resolved txn's
      // continuation starts a new loop instead of waiting on this finished one.
      this.flushRunning = false;
    }
  }

  private takeBatch(): QueueItem[] {
    let bytes = 0;
    let count = 0;
    while (count < this.queue.length) {
      const item = this.queue[count];
      if (item.kind === 'txn') {
        if (count > 0 && bytes + item.entry.length > this.batchBytesMax) break;
        bytes += item.entry.length;
      }
      count++;
    }
    return this.queue.splice(0, count);
  }

  /** Writes a batch (one write per file touched) and syncs every file it touched. */
  private async writeBatch(batch: readonly QueueItem[]): Promise<void> {
    this.stats.flushes++;
    const retired: OpenLogFile[] = [];
    let pending: Buffer[] = [];
    let createdFile = false;
    const writePending = async () => {
      if (pending.length === 0 || this.current === null) return;
      await this.writeAt(this.current, pending.length === 1 ? pending[0] : Buffer.concat(pending));
      pending = [];
    };
    for (const item of batch) {
      if (item.kind === 'roll') {
        await writePending();
        if (this.current !== null) retired.push(this.current);
        this.current = null;
        continue;
      }
      if (this.current === null) {
        this.current = await this.createFile(item.zxid);
        createdFile = true;
      }
      pending.push(item.entry);
      this.stats.txns++;
    }
    await writePending();
    if (createdFile) await syncDirectory(this.fileSystem, this.directory);
    for (const file of this.unsynced) await this.sync(file);
    this.unsynced = [];
    for (const file of retired) await file.handle.close().catch(() => {});
  }

  private async createFile(zxid: bigint): Promise<OpenLogFile> {
    const name = logFileName(zxid);
    const handle = await this.fileSystem.open(path.join(this.directory, name), 'wx');
    this.stats.filesCreated++;
    const file: OpenLogFile = { name, handle, position: 0, durablePosition: 0, allocated: 0 };
    this.unsynced.push(file);
    this.logger.info(`creating new transaction log ${name}`);
    await this.writeAt(file, encodeLogFileHeader());
    return file;
  }

  private async writeAt(file: OpenLogFile, bytes: Buffer): Promise<void> {
    const end = file.position + bytes.length;
    const allocated = paddedFileSize(end, file.allocated, this.preAllocBytes);
    if (allocated !== file.allocated) {
      await file.handle.truncate(allocated);
      file.allocated = allocated;
    }
    if (!this.unsynced.includes(file)) this.unsynced.push(file);
    await writeFully(file.handle, bytes, file.position, { now: true });
    file.position = end;
  }

  private async sync(file: OpenLogFile): Promise<void> {
    if (this.forceSync) {
      const started = performance.now();
      await file.handle.datasync();
      this.stats.syncs++;
      const elapsedMs = performance.now() - started;
      this.options.onFsync?.(elapsedMs);
      if (elapsedMs > this.fsyncWarningThresholdMs) {
        // Apache's FileTxnLog warns the same way (and counts it as fsync_threshold_exceed_count).
        this.stats.slowSyncs++;
        this.logger.warn(
          `fsync-ing the transaction log ${file.name} took ${Math.round(elapsedMs)} ms ` +
            `(over fsync.warningthresholdms ${this.fsyncWarningThresholdMs}), which slows every write; ` +
            `the file is ${file.position} bytes; see the ZooKeeper troubleshooting guide`,
        );
      }
    }
    file.durablePosition = file.position;
  }

  /** Fails a batch and everything queued behind it, then tries to roll the file back. */
  private async fail(batch: readonly QueueItem[], error: Error): Promise<void> {
    this.failure = error;
    this.logger.error(
      `transaction log write failed, ${batch.length} txns not made durable: ${error.message}`,
    );
    const refusal = this.refusal();
    const failed = [...batch, ...this.queue.splice(0)];
    for (const item of failed) if (item.kind === 'txn') item.reject(refusal);
    await this.rollBack().catch((rollbackError) => {
      this.logger.error(
        `could not roll the transaction log back after the failure: ${String(rollbackError)}`,
      );
    });
  }

  /**
   * Makes the log end at its last synced entry again: every file the failed batch wrote to is
   * truncated to its durable end, and a file with no synced entry is removed, so no entry of a
   * failed txn can replay. Idempotent; `resume()` retries it when it failed.
   */
  private async rollBack(): Promise<void> {
    let removed = false;
    for (const file of [...this.unsynced]) {
      if (file.durablePosition <= FILE_HEADER_BYTES) {
        await file.handle.close().catch(() => {});
        await unlink(path.join(this.directory, file.name)).catch((error: NodeJS.ErrnoException) => {
          if (error.code !== 'ENOENT') throw error;
        });
        removed = true;
      } else {
        await file.handle.truncate(file.durablePosition);
        await file.handle.datasync();
        file.position = file.durablePosition;
        file.allocated = file.durablePosition;
        if (file !== this.current) await file.handle.close().catch(() => {});
      }
      this.unsynced = this.unsynced.filter((other) => other !== file);
      if (file === this.current && file.durablePosition <= FILE_HEADER_BYTES) this.current = null;
    }
    if (removed) await syncDirectory(this.fileSystem, this.directory);
  }

  private async closeCurrent(): Promise<void> {
    const file = this.current;
    this.current = null;
    if (file === null) return;
    await file.handle.close();
  }
}
