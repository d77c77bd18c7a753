// An ensemble peer's durable state on disk (the PeerStorage seam), in Apache ZooKeeper 3.8's layout
// so a data dir moves between Apache and us: `version-2/log.*` (the txn log, group commit),
// `version-2/snapshot.*` and the `acceptedEpoch` / `currentEpoch` files in dataDir/version-2. It is
// built from server/persistence (TxnLog, recovery, snapshot files, epoch files, purge) and the
// core adapter of server/durable; it adds what a quorum peer needs beyond a standalone store: the log
// is returned instead of replayed, proposals are logged as the payload bytes they carry, logged txns
// can be truncated, and a leader's snapshot can be installed. Barriers (flush, persistEpoch,
// truncate, installSnapshot) run one at a time, in call order, after every earlier append; an append
// made while one is pending waits behind it. Truncate and install are crash-safe step by step: each
// step leaves the log a prefix of what it was, and a snapshot appears only whole (temp + rename).
// A failed write or sync fails the storage for good: every later barrier rejects and `onFailure`
// fires once, so the member stops serving instead of acknowledging what the disk does not hold.

import { mkdir, rename, rm, unlink } from 'node:fs/promises';
import path from 'node:path';
import { ClosedError } from '../../src/protocol/errors.js';
import { OpCode } from '../../src/protocol/index.js';
import type { ServerConfig } from '../config/index.js';
import { txnCodecFor, type ServerCore } from '../core/server-core.js';
import { CoreRecoveryTarget, coreDigest, coreSnapshotSource } from '../durable/core-adapter.js';
import { dataDirOptions, type DataDirOptions } from '../durable/from-config.js';
import {
  ACCEPTED_EPOCH_FILE,
  CURRENT_EPOCH_FILE,
  readEpochFile,
  writeEpochFile,
} from '../persistence/epoch-files.js';
import {
  nodeFileSystem,
  silentLogger,
  syncDirectory,
  writeFully,
  type PersistenceFileSystem,
  type PersistenceLogger,
} from '../persistence/file-system.js';
import {
  LOG_PREFIX,
  SNAPSHOT_PREFIX,
  snapshotFileName,
  VERSION_DIR,
  zxidFromFileName,
} from '../persistence/names.js';
import { purge, SNAP_RETAIN_COUNT_MIN } from '../persistence/purge.js';
import { listLogs, logEntries, recover, type TornTail } from '../persistence/recovery.js';
import { listSnapshots, writeSnapshot, type SnapshotWritten } from '../persistence/snapshot-files.js';
import { EMPTY_ZXID_DIGEST, SnapshotDecoder, SnapshotEncoder } from '../persistence/snapshot-format.js';
import { SnapshotSchedule } from '../persistence/snapshot-schedule.js';
import { encodeTxnPayload } from '../persistence/txn-format.js';
import { TxnLog } from '../persistence/txn-log.js';
import {
  CorruptSnapshotError,
  PersistenceError,
  type AclEntry,
  type RecoveryTarget,
  type SessionEntry,
  type SnapshotNode,
  type Txn as LogTxn,
  type ZxidDigest,
} from '../persistence/types.js';
import type { DurableState, Txn as QuorumTxn } from '../quorum/index.js';
import { epochOf } from '../quorum/zxid.js';
import type { PeerStorage } from './seams.js';

export interface DiskPeerStorageOptions extends DataDirOptions {
  /** Told once when a write or sync failed: nothing after it is durable; stop serving. */
  readonly onFailure?: (error: Error) => void;
}

/** The storage options for `config` (which must have a dataDir); `extra` adds or overrides fields. */
export function diskPeerStorageOptions(
  config: ServerConfig,
  extra: Partial<DiskPeerStorageOptions> = {},
): DiskPeerStorageOptions {
  return dataDirOptions<DiskPeerStorageOptions>(config, extra);
}

/** What open() found on disk. */
export interface PeerRecoveryReport {
  /** The snapshot loaded, or undefined for a fresh data dir (a snapshot.0 was written then). */
  readonly snapshotFile: string | undefined;
  readonly skippedSnapshots: readonly string[];
  readonly appliedZxid: bigint;
  /** Logged txns above the snapshot, returned (not applied). */
  readonly loggedTxns: number;
  readonly tornTail: TornTail | undefined;
  readonly discardedLogs: readonly string[];
  /** Epoch files that were missing and were derived from the last zxid and written, as Apache does. */
  readonly derivedEpochs: ReadonlyArray<'acceptedEpoch' | 'currentEpoch'>;
}

/**
 * Collects what recovery reads: the snapshot goes to a CoreRecoveryTarget (which loads it into the
 * core on `finish`), the logged txns become quorum txns (their Apache payload bytes).
 */
class PeerRecoveryTarget implements RecoveryTarget {
  readonly log: QuorumTxn[] = [];

  constructor(readonly snapshot: CoreRecoveryTarget) {}

  addSession(session: SessionEntry): void {
    this.snapshot.addSession(session);
  }

  addAcl(entry: AclEntry): void {
    this.snapshot.addAcl(entry);
  }

  addNode(node: SnapshotNode): void {
    this.snapshot.addNode(node);
  }

  snapshotLoaded(info: { zxid: bigint; digest: ZxidDigest | undefined }): void {
    this.snapshot.snapshotLoaded(info);
  }

  applyTxn(txn: LogTxn): void {
    const zxid = txn.header.zxid;
    const last = this.log.at(-1)?.zxid;
    if (last !== undefined && zxid <= last) {
      // The peer's history must ascend; a log that does not is not one we wrote.
      throw new PersistenceError(
        `logged txn 0x${zxid.toString(16)} does not follow 0x${last.toString(16)}: the log is out of order`,
      );
    }
    // Kept for the fuzzy-snapshot parent repair; finish({ replay: false }) does not apply them.
    this.snapshot.applyTxn(txn);
    this.log.push({ zxid, payload: encodeTxnPayload(txn) });
  }
}

export class DiskPeerStorage implements PeerStorage {
  onLogged: (zxid: bigint) => void = () => {};
  /** Told once when a write or sync failed (defaults to options.onFailure). */
  onFailure: (error: Error) => void;
  private readonly logger: PersistenceLogger;
  private readonly fileSystem: PersistenceFileSystem;
  private readonly schedule: SnapshotSchedule;
  private txnLog: TxnLog | undefined;
  private recoveryReport: PeerRecoveryReport | undefined;
  /** Barriers and held appends, in call order. */
  private tail: Promise<void> = Promise.resolve();
  /** Barriers and held appends not yet run: appends wait behind them. */
  private queuedOps = 0;
  /** Settles once every append issued so far is durable or failed; never rejects. */
  private lastAppend: Promise<void> = Promise.resolve();
  private appendedZxid = 0n;
  private durableZxid = 0n;
  private reportScheduled = false;
  private appliedSinceSnapshot = 0;
  private snapshotting: Promise<SnapshotWritten | undefined> | undefined;
  private purgeTimer: NodeJS.Timeout | undefined;
  private failure: Error | undefined;
  private opening = false;
  private closing: Promise<void> | undefined;

  constructor(readonly options: DiskPeerStorageOptions) {
    this.logger = options.logger ?? silentLogger;
    this.fileSystem = options.fileSystem ?? nodeFileSystem;
    this.onFailure = options.onFailure ?? (() => {});
    this.schedule = new SnapshotSchedule({
      snapCount: options.snapCount,
      snapSizeBytes: options.snapSizeBytes,
      random: options.random ?? Math.random,
    });
    const retainCount = options.autopurgeSnapRetainCount ?? SNAP_RETAIN_COUNT_MIN;
    if ((options.autopurgeIntervalMs ?? 0) > 0 && retainCount < SNAP_RETAIN_COUNT_MIN) {
      throw new PersistenceError(`autopurge.snapRetainCount must be at least ${SNAP_RETAIN_COUNT_MIN}`);
    }
  }

  get dataLogDir(): string {
    return this.options.dataLogDir ?? this.options.dataDir;
  }

  /** `<dataDir>/version-2`: snapshots and epoch files. */
  get snapshotDirectory(): string {
    return path.join(this.options.dataDir, VERSION_DIR);
  }

  /** `<dataLogDir>/version-2`: the txn logs. */
  get logDirectory(): string {
    return path.join(this.dataLogDir, VERSION_DIR);
  }

  /** What open() found; undefined before it. */
  get recovery(): PeerRecoveryReport | undefined {
    return this.recoveryReport;
  }

  /** The failure that stopped this storage, if any. */
  get failed(): Error | undefined {
    return this.failure;
  }

  /** Counters of the log (txns, flushes, syncs, files), for tests and metrics. */
  get logStats() {
    return { ...this.log().stats };
  }

  async open(core: ServerCore): Promise<DurableState> {
    if (this.closing !== undefined) throw new ClosedError('the peer storage is closed');
    if (this.opening) throw new TypeError('the peer storage is already open');
    if (core.lastProcessedZxid !== 0n) throw new TypeError('DiskPeerStorage.open: the core is not fresh');
    this.opening = true;
    const nowMs = (this.options.nowMs ?? Date.now)();
    const recovered = await recover(
      {
        dataDir: this.options.dataDir,
        dataLogDir: this.options.dataLogDir,
        trustEmptySnapshot: this.options.trustEmptySnapshot,
        fileSystem: this.fileSystem,
        logger: this.logger,
      },
      () => new PeerRecoveryTarget(new CoreRecoveryTarget(core, nowMs, txnCodecFor)),
    );
    recovered.target.snapshot.finish({ replay: false });
    const log = recovered.target.log;
    await mkdir(this.snapshotDirectory, { recursive: true });
    if (recovered.snapshot === undefined) {
      // Apache writes snapshot.0 into a fresh data dir before anything is logged, and refuses logs
      // without any snapshot; so do we.
      await writeSnapshot(coreSnapshotSource(core, { withDigest: this.withDigest }), {
        directory: this.snapshotDirectory,
        fileSystem: this.fileSystem,
        sync: this.options.forceSync !== false,
      });
    }
    const lastZxid = log.at(-1)?.zxid ?? core.lastProcessedZxid;
    const { acceptedEpoch, currentEpoch, derived } = await this.readEpochs(lastZxid);
    const txnLog = await TxnLog.open({
      directory: this.logDirectory,
      forceSync: this.options.forceSync,
      fsyncWarningThresholdMs: this.options.fsyncWarningThresholdMs,
      preAllocBytes: this.options.preAllocBytes,
      fileSystem: this.fileSystem,
      logger: this.logger,
      onFsync: this.options.onFsync,
    });
    if (this.closing !== undefined) {
      await txnLog.close();
      throw new ClosedError('the peer storage was closed while it opened');
    }
    this.txnLog = txnLog;
    this.appendedZxid = lastZxid;
    this.durableZxid = lastZxid;
    this.recoveryReport = {
      snapshotFile: recovered.snapshot?.file,
      skippedSnapshots: recovered.skippedSnapshots,
      appliedZxid: core.lastProcessedZxid,
      loggedTxns: log.length,
      tornTail: recovered.tornTail,
      discardedLogs: recovered.discardedLogs,
      derivedEpochs: derived,
    };
    this.logger.info(
      `peer storage opened: snapshot 0x${core.lastProcessedZxid.toString(16)}, ${log.length} logged txns ` +
        `above it, acceptedEpoch ${acceptedEpoch}, currentEpoch ${currentEpoch}`,
    );
    this.startAutopurge();
    return { acceptedEpoch, currentEpoch, appliedZxid: core.lastProcessedZxid, log };
  }

  /**
   * The epoch files; a missing one is derived from the epoch of the last zxid and written, and the
   * epochs are checked against each other and the log, as Apache's QuorumPeer.loadDataBase does.
   */
  private async readEpochs(lastZxid: bigint): Promise<{
    acceptedEpoch: bigint;
    currentEpoch: bigint;
    derived: Array<'acceptedEpoch' | 'currentEpoch'>;
  }> {
    const directory = this.snapshotDirectory;
    const derived: Array<'acceptedEpoch' | 'currentEpoch'> = [];
    const zxidEpoch = epochOf(lastZxid);
    let currentEpoch = await readEpochFile(directory, CURRENT_EPOCH_FILE);
    if (currentEpoch === undefined) {
      currentEpoch = zxidEpoch;
      derived.push('currentEpoch');
      this.logger.info(`${CURRENT_EPOCH_FILE} not found; using the last zxid's epoch ${currentEpoch}`);
      await writeEpochFile(directory, CURRENT_EPOCH_FILE, currentEpoch, this.fileSystem);
    }
    if (zxidEpoch > currentEpoch) {
      // Apache refuses to start here. A crash between installing a leader's snapshot (or logging its
      // DIFF) and NEWLEADER's currentEpoch leaves exactly this, so we raise it to what the data holds:
      // never above the epoch of a leader we synced with, never claiming an epoch we did not see.
      this.logger.warn(
        `the current epoch ${currentEpoch} is older than the last zxid 0x${lastZxid.toString(16)}; ` +
          `raising it to ${zxidEpoch}`,
      );
      currentEpoch = zxidEpoch;
      derived.push('currentEpoch');
      await writeEpochFile(directory, CURRENT_EPOCH_FILE, currentEpoch, this.fileSystem);
    }
    let acceptedEpoch = await readEpochFile(directory, ACCEPTED_EPOCH_FILE);
    if (acceptedEpoch === undefined) {
      acceptedEpoch = zxidEpoch;
      derived.push('acceptedEpoch');
      this.logger.info(`${ACCEPTED_EPOCH_FILE} not found; using the last zxid's epoch ${acceptedEpoch}`);
      await writeEpochFile(directory, ACCEPTED_EPOCH_FILE, acceptedEpoch, this.fileSystem);
    }
    if (acceptedEpoch < currentEpoch) {
      throw new PersistenceError(
        `the accepted epoch ${acceptedEpoch} is less than the current epoch ${currentEpoch}`,
        path.join(directory, ACCEPTED_EPOCH_FILE),
      );
    }
    return { acceptedEpoch, currentEpoch, derived };
  }

  append(txns: readonly QuorumTxn[]): void {
    if (this.closing !== undefined || txns.length === 0) return;
    if (this.queuedOps === 0) {
      for (const txn of txns) this.write(txn);
      return;
    }
    // Behind a pending barrier: a truncate issued before these must not drop them.
    const held = [...txns];
    this.queuedOps++;
    this.tail = this.tail.then(() => {
      this.queuedOps--;
      try {
        for (const txn of held) this.write(txn);
      } catch (error) {
        this.fail(error);
      }
    });
  }

  /** Queues one txn on the log, its payload bytes as they are; durability goes to onLogged. */
  private write(txn: QuorumTxn): void {
    if (this.failure !== undefined) return; // already reported; nothing after a failure is logged
    const log = this.log();
    try {
      checkPayload(txn, this.appendedZxid);
    } catch (error) {
      this.fail(error);
      return;
    }
    this.appendedZxid = txn.zxid;
    const zxid = txn.zxid;
    this.lastAppend = log.appendPayload(zxid, txn.payload).then(
      () => this.logged(zxid),
      (error: unknown) => this.fail(error),
    );
  }

  private logged(zxid: bigint): void {
    if (zxid > this.durableZxid) this.durableZxid = zxid;
    if (this.reportScheduled) return;
    // One report per group commit: every txn of a batch resolves in the same turn.
    this.reportScheduled = true;
    queueMicrotask(() => {
      this.reportScheduled = false;
      this.onLogged(this.durableZxid);
    });
  }

  /**
   * Records the first failure and tells the member. Later ones (every txn queued behind a failed
   * write is refused too) follow from it and are not reported again.
   */
  private fail(cause: unknown): void {
    if (this.failure !== undefined) return;
    const error = cause instanceof Error ? cause : new Error(String(cause));
    this.failure = error;
    this.logger.error(`peer storage failed, nothing more is made durable: ${error.message}`);
    try {
      this.onFailure(error);
    } catch (callbackError) {
      this.logger.error(`onFailure threw: ${String(callbackError)}`);
    }
  }

  flush(): Promise<void> {
    return this.barrier('flush', async () => {});
  }

  persistEpoch(which: 'acceptedEpoch' | 'currentEpoch', epoch: bigint): Promise<void> {
    const name = which === 'acceptedEpoch' ? ACCEPTED_EPOCH_FILE : CURRENT_EPOCH_FILE;
    return this.barrier(`persist ${which}`, () =>
      writeEpochFile(this.snapshotDirectory, name, epoch, this.fileSystem),
    );
  }

  truncate(zxid: bigint): Promise<void> {
    return this.barrier(`truncate to 0x${zxid.toString(16)}`, async () => {
      await this.refuseSnapshotsAbove(zxid, 'truncate the log');
      await this.retireCurrentLogFile();
      await this.cutLogsAbove(zxid);
      if (this.appendedZxid > zxid) this.appendedZxid = zxid;
      if (this.durableZxid > zxid) this.durableZxid = zxid;
    });
  }

  /**
   * The applied state never goes back (the peer asserts it), so no snapshot can be above a truncation
   * point or an installed snapshot; if one is, this data dir is not what the peer believes.
   */
  private async refuseSnapshotsAbove(zxid: bigint, what: string): Promise<void> {
    const newer = (await listSnapshots(this.snapshotDirectory)).filter(
      (name) => zxidFromFileName(name, SNAPSHOT_PREFIX)! > zxid,
    );
    if (newer.length === 0) return;
    throw new PersistenceError(
      `cannot ${what} to 0x${zxid.toString(16)}: snapshot ${newer[0]} is newer`,
      this.snapshotDirectory,
    );
  }

  /**
   * Drops every logged txn above `zxid`. Each step leaves a log that is a prefix of the one before
   * (whole files go newest first, each removal synced, then the last kept file is cut), so a crash
   * part way never leaves a gap: reopening finds the log as of some point of the truncation.
   */
  private async cutLogsAbove(zxid: bigint): Promise<void> {
    const directory = this.logDirectory;
    const names = await listLogs(directory);
    const later = names.filter((name) => zxidFromFileName(name, LOG_PREFIX)! > zxid).reverse();
    for (const name of later) {
      this.logger.info(`truncating the log to 0x${zxid.toString(16)}: removing ${name}`);
      await unlink(path.join(directory, name));
      await syncDirectory(this.fileSystem, directory);
    }
    const last = names.filter((name) => zxidFromFileName(name, LOG_PREFIX)! <= zxid).at(-1);
    if (last === undefined) return;
    const file = path.join(directory, last);
    let cutAt: number | undefined;
    const entries = logEntries(file, this.fileSystem);
    for (let next = await entries.next(); !next.done; next = await entries.next()) {
      if (next.value.txn.header.zxid > zxid) {
        cutAt = next.value.offset;
        await entries.return(undefined as never);
        break;
      }
    }
    if (cutAt === undefined) return;
    this.logger.info(`truncating the log to 0x${zxid.toString(16)}: cutting ${last} at byte ${cutAt}`);
    const handle = await this.fileSystem.open(file, 'r+');
    try {
      await handle.truncate(cutAt);
      await handle.datasync();
    } finally {
      await handle.close();
    }
  }

  /** Closes the log file being appended to (appends continue in a new one) once all is written. */
  private async retireCurrentLogFile(): Promise<void> {
    const log = this.log();
    log.roll();
    await log.drain();
    if (this.failure !== undefined) throw this.failure;
  }

  serializeSnapshot(core: ServerCore): Uint8Array {
    const view = core.snapshot();
    const encoder = new SnapshotEncoder();
    const chunks: Buffer[] = [
      encoder.header(),
      encoder.sessions(view.sessions.map((s) => ({ id: s.sessionId, timeoutMs: s.timeoutMs }))),
      encoder.aclEntries([...view.acls].map(([ref, acl]) => ({ ref, acl }))),
    ];
    for (const node of view.nodes) {
      chunks.push(encoder.node(node.path === '/' ? { ...node, path: '' } : node));
    }
    chunks.push(encoder.endOfNodes(), encoder.seal());
    chunks.push(encoder.digest(this.withDigest ? coreDigest(core) : EMPTY_ZXID_DIGEST), encoder.seal());
    return Buffer.concat(chunks);
  }

  installSnapshot(core: ServerCore, zxid: bigint, snapshot: Uint8Array): Promise<void> {
    const bytes = Buffer.from(snapshot.buffer, snapshot.byteOffset, snapshot.length);
    const name = snapshotFileName(zxid);
    let target: CoreRecoveryTarget;
    const sessionIds = new Set<bigint>();
    try {
      // Decoded (and verified) first: a bad snapshot from the leader leaves core and disk untouched.
      target = this.decodeSnapshot(core, zxid, bytes, name, sessionIds);
    } catch (error) {
      return Promise.reject(error);
    }
    return this.barrier(`install snapshot 0x${zxid.toString(16)}`, async () => {
      // A background snapshot still walking the core must finish before the core is replaced.
      await this.snapshotting;
      await this.refuseSnapshotsAbove(zxid, 'install a snapshot');
      const { digestMatched } = target.finish({ replay: false });
      dropSessionsNotIn(core, sessionIds);
      if (digestMatched === false) this.logger.warn(`snapshot 0x${zxid.toString(16)}: digest mismatch`);
      await this.retireCurrentLogFile();
      // Every step is crash-safe: the log is first cut back to zxid (a prefix of itself), then the
      // snapshot appears atomically, then the logs (all at or below it now) go.
      await this.cutLogsAbove(zxid);
      await this.writeSnapshotFile(name, bytes);
      await this.removeAllLogs();
      this.appendedZxid = zxid;
      this.durableZxid = zxid;
      this.appliedSinceSnapshot = 0;
    });
  }

  private decodeSnapshot(
    core: ServerCore,
    zxid: bigint,
    bytes: Buffer,
    name: string,
    sessionIds: Set<bigint>,
  ): CoreRecoveryTarget {
    const target = new CoreRecoveryTarget(core, (this.options.nowMs ?? Date.now)(), txnCodecFor);
    const decoder = new SnapshotDecoder(`the leader's ${name}`);
    decoder.push(bytes);
    decoder.end();
    let sawRoot = false;
    for (;;) {
      const step = decoder.next();
      switch (step.kind) {
        case 'session':
          target.addSession(step.session);
          sessionIds.add(step.session.id);
          break;
        case 'acl':
          target.addAcl(step.entry);
          break;
        case 'node':
          if (!sawRoot && step.node.path !== '') {
            throw new CorruptSnapshotError('first node is not the root', name);
          }
          sawRoot = true;
          target.addNode(step.node);
          break;
        case 'done':
          if (!sawRoot) throw new CorruptSnapshotError('no root node', name);
          target.snapshotLoaded({ zxid, digest: step.digest });
          return target;
        case 'more':
          throw new CorruptSnapshotError('incomplete snapshot', name);
      }
    }
  }

  private async writeSnapshotFile(name: string, bytes: Buffer): Promise<void> {
    const directory = this.snapshotDirectory;
    const temporary = path.join(directory, `tmp.${name}`);
    const sync = this.options.forceSync !== false;
    const handle = await this.fileSystem.open(temporary, 'w');
    try {
      await writeFully(handle, bytes, 0);
      if (sync) await handle.sync();
    } catch (error) {
      await handle.close().catch(() => {});
      await rm(temporary, { force: true });
      throw error;
    }
    await handle.close();
    await rename(temporary, path.join(directory, name));
    await syncDirectory(this.fileSystem, directory);
  }

  private async removeAllLogs(): Promise<void> {
    const directory = this.logDirectory;
    const names = (await listLogs(directory)).reverse();
    for (const name of names) await unlink(path.join(directory, name));
    if (names.length > 0) await syncDirectory(this.fileSystem, directory);
  }

  applied(core: ServerCore, zxid: bigint): void {
    if (this.closing !== undefined || this.failure !== undefined || this.txnLog === undefined) return;
    this.appliedSinceSnapshot++;
    if (!this.schedule.due(this.appliedSinceSnapshot, this.txnLog.currentLogBytes)) return;
    this.schedule.reset();
    this.appliedSinceSnapshot = 0;
    // As Apache: roll the log at every snapshot point, skip the snapshot while one is being written.
    this.txnLog.roll();
    if (this.snapshotting !== undefined) {
      this.logger.warn('too busy to snapshot (the previous one is still being written), skipping');
      return;
    }
    const source = coreSnapshotSource(core, { withDigest: this.withDigest });
    this.snapshotting = writeSnapshot(source, {
      directory: this.snapshotDirectory,
      fileSystem: this.fileSystem,
      sync: this.options.forceSync !== false,
    })
      .then((written) => {
        this.logger.info(`snapshot ${written.file} written: ${written.nodes} nodes, ${written.bytes} bytes`);
        return written;
      })
      .catch((error: unknown) => {
        // Not fatal: the log still holds everything since the previous snapshot.
        this.logger.warn(`snapshot at zxid 0x${source.zxid.toString(16)} failed: ${String(error)}`);
        return undefined;
      })
      .finally(() => (this.snapshotting = undefined));
  }

  /** Resolves when the background snapshot under way, if any, is written (or failed). */
  async snapshotDone(): Promise<void> {
    await this.snapshotting;
  }

  /** Keeps the newest `retainCount` snapshots and the logs they need; runs between barriers. */
  purge(retainCount?: number): Promise<void> {
    const count = retainCount ?? this.options.autopurgeSnapRetainCount ?? SNAP_RETAIN_COUNT_MIN;
    const run = this.tail.then(async () => {
      const plan = await purge(this.options.dataDir, this.dataLogDir, count);
      const deleted = plan.deletedSnapshots.length + plan.deletedLogs.length;
      if (deleted > 0) this.logger.info(`purge deleted ${deleted} old snapshot and log files`);
    });
    this.tail = run.catch(() => {});
    return run;
  }

  private startAutopurge(): void {
    const intervalMs = this.options.autopurgeIntervalMs ?? 0;
    if (!(intervalMs > 0)) return;
    let running = false;
    const run = () => {
      if (running || this.closing !== undefined) return;
      running = true;
      this.purge()
        .catch((error: unknown) => this.logger.warn(`autopurge failed: ${String(error)}`))
        .finally(() => (running = false));
    };
    // Apache's DatadirCleanupManager runs once at start, then every interval.
    run();
    this.purgeTimer = setInterval(run, intervalMs);
    this.purgeTimer.unref();
  }

  /**
   * Runs `op` after every earlier barrier and append is durable; appends made meanwhile wait. An
   * I/O failure fails the storage; a barrier after a failure rejects with it.
   */
  private barrier(what: string, op: () => Promise<void>): Promise<void> {
    if (this.closing !== undefined) return Promise.reject(new ClosedError('the peer storage is closed'));
    if (this.txnLog === undefined) return Promise.reject(new ClosedError('the peer storage is not open'));
    this.queuedOps++;
    const run = this.tail.then(async () => {
      try {
        await this.lastAppend;
        if (this.failure !== undefined) throw this.failure;
        try {
          await op();
        } catch (error) {
          this.logger.error(`peer storage: ${what} failed`);
          this.fail(error);
          throw error;
        }
      } finally {
        this.queuedOps--;
      }
    });
    this.tail = run.catch(() => {});
    return run;
  }

  private get withDigest(): boolean {
    return this.options.snapshotDigest !== false;
  }

  private log(): TxnLog {
    if (this.txnLog === undefined) throw new ClosedError('the peer storage is not open');
    return this.txnLog;
  }

  /** Stops autopurge, waits for barriers and a snapshot under way, flushes and closes the log. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      if (this.purgeTimer !== undefined) clearInterval(this.purgeTimer);
      await this.tail;
      await this.snapshotting;
      await this.txnLog?.close();
    })();
    return this.closing;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}

/**
 * ServerCore.restore replaces the tree but keeps the sessions it tracked; a leader's snapshot must
 * replace those too. Each one it lacks is closed with no txn and no node deleted (it owns none in the
 * new tree), at the current zxid, as core-adapter's killOrphanEphemerals does.
 */
function dropSessionsNotIn(core: ServerCore, sessionIds: ReadonlySet<bigint>): void {
  for (const { sessionId } of core.sessions()) {
    if (sessionIds.has(sessionId)) continue;
    const header = {
      clientId: sessionId,
      cxid: 0,
      zxid: core.lastProcessedZxid,
      time: 0n,
      type: OpCode.closeSession,
    };
    core.apply({ header, record: { paths2Delete: [] } });
  }
}

/** TxnHeader: clientId (8 bytes), cxid (4), zxid (8), time (8), type (4). */
const HEADER_ZXID_OFFSET = 12;
const HEADER_BYTES = 32;

/**
 * A cheap check of a quorum txn before its bytes go to the log as they are: it follows the last one
 * and its payload's TxnHeader names its zxid. (Decoding every payload costs more than writing it.)
 */
function checkPayload(txn: QuorumTxn, lastZxid: bigint): void {
  const hex = (zxid: bigint) => `0x${zxid.toString(16)}`;
  if (txn.zxid <= lastZxid) {
    throw new PersistenceError(`txn ${hex(txn.zxid)} appended after ${hex(lastZxid)}`);
  }
  const { payload } = txn;
  const view = new DataView(payload.buffer, payload.byteOffset, payload.byteLength);
  const headerZxid = payload.length < HEADER_BYTES ? undefined : view.getBigInt64(HEADER_ZXID_OFFSET);
  if (headerZxid !== txn.zxid) {
    throw new PersistenceError(
      `txn ${hex(txn.zxid)} carries a payload for ${headerZxid === undefined ? 'nothing' : hex(headerZxid)}`,
    );
  }
}
