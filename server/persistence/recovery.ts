// Recovery at start: the newest snapshot that verifies, then every logged txn after its zxid, from
// the right log files. A torn tail (a crash mid-append: partial entry, missing 'B', checksum of a
// last entry that does not match) ends replay and is cut off, so it can never replay as garbage;
// log files after a torn one can only hold unacknowledged txns (every sync covers files in order)
// and are set aside as `discarded.log.<zxid>`, a name Apache ignores too.

import { readdir, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import {
  nodeFileSystem,
  silentLogger,
  syncDirectory,
  type PersistenceFileSystem,
  type PersistenceLogger,
} from './file-system.js';
import { LOG_PREFIX, SNAPSHOT_PREFIX, sortByZxid, VERSION_DIR, zxidFromFileName } from './names.js';
import { loadNewestSnapshot, type SnapshotRead } from './snapshot-files.js';
import { FILE_HEADER_BYTES, TxnLogDecoder, type LogStep } from './txn-format.js';
import { PersistenceError, type RecoveryTarget, type Txn } from './types.js';

const LOG_CHUNK_BYTES = 1024 * 1024;

/** How a log file ended. */
export type LogEnd = Extract<LogStep, { kind: 'end' } | { kind: 'torn' }>;

/**
 * A log file's entries in order; the generator's return value says how the file ends. Reads in chunks
 * and stops at the logical end, so a 64 MiB preallocated file costs one chunk past its data.
 */
export async function* logEntries(
  file: string,
  fileSystem: PersistenceFileSystem = nodeFileSystem,
): AsyncGenerator<{ txn: Txn; offset: number }, LogEnd> {
  const decoder = new TxnLogDecoder(file);
  const handle = await fileSystem.open(file, 'r');
  try {
    let position = 0;
    for (;;) {
      const step = decoder.next();
      if (step.kind === 'entry') {
        yield { txn: step.txn, offset: step.offset };
        continue;
      }
      if (step.kind !== 'more') return step;
      const chunk = Buffer.allocUnsafe(LOG_CHUNK_BYTES);
      const { bytesRead } = await handle.read(chunk, 0, chunk.length, position);
      if (bytesRead === 0) decoder.end();
      else decoder.push(chunk.subarray(0, bytesRead));
      position += bytesRead;
    }
  } finally {
    await handle.close();
  }
}

/** Reads a log file's entries in order, calling `onEntry` for each; returns how the file ends. */
export async function readLogFile(
  file: string,
  onEntry: (txn: Txn, offset: number) => void,
  fileSystem: PersistenceFileSystem = nodeFileSystem,
): Promise<LogEnd> {
  const entries = logEntries(file, fileSystem);
  for (;;) {
    const next = await entries.next();
    if (next.done) return next.value;
    onEntry(next.value.txn, next.value.offset);
  }
}

/** Log file names in `directory`, oldest first. */
export async function listLogs(directory: string): Promise<string[]> {
  const names = await readdir(directory).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return [] as string[];
    throw error;
  });
  return sortByZxid(names, LOG_PREFIX);
}

/**
 * The logs that may hold txns after `zxid`: the newest log starting at or before it and every later
 * one (Apache's FileTxnLog.getLogFiles).
 */
export function logsFrom(names: readonly string[], zxid: bigint): string[] {
  let start = 0n;
  for (const name of names) {
    const first = zxidFromFileName(name, LOG_PREFIX)!;
    if (first > zxid) break;
    if (first > start) start = first;
  }
  return names.filter((name) => zxidFromFileName(name, LOG_PREFIX)! >= start);
}

export interface RecoveryOptions {
  /** Holds `version-2/snapshot.*`. */
  readonly dataDir: string;
  /** Holds `version-2/log.*`; dataDir when not given, as in Apache. */
  readonly dataLogDir?: string;
  /** zookeeper.snapshot.trust.empty: replay logs even though there is no snapshot. */
  readonly trustEmptySnapshot?: boolean;
  readonly fileSystem?: PersistenceFileSystem;
  readonly logger?: PersistenceLogger;
}

export interface TornTail {
  readonly file: string;
  readonly offset: number;
  readonly reason: string;
}

export interface Recovered<T> {
  readonly target: T;
  /** The snapshot loaded, or undefined when the data dir had none. */
  readonly snapshot: SnapshotRead | undefined;
  /** Damaged snapshots skipped on the way. */
  readonly skippedSnapshots: readonly string[];
  /** The highest zxid in the tree now: the last replayed txn's, else the snapshot's, else 0. */
  readonly lastZxid: bigint;
  readonly txnsReplayed: number;
  /** The torn tail cut off, if there was one. */
  readonly tornTail: TornTail | undefined;
  /** Log files after a torn one, renamed aside. */
  readonly discardedLogs: readonly string[];
}

/** Loads a data dir into a fresh target from `newTarget()`. */
export async function recover<T extends RecoveryTarget>(
  options: RecoveryOptions,
  newTarget: () => T,
): Promise<Recovered<T>> {
  const fileSystem = options.fileSystem ?? nodeFileSystem;
  const logger = options.logger ?? silentLogger;
  const snapshotDirectory = path.join(options.dataDir, VERSION_DIR);
  const logDirectory = path.join(options.dataLogDir ?? options.dataDir, VERSION_DIR);
  await removeUnfinishedSnapshots(snapshotDirectory, logger);
  const loaded = await loadNewestSnapshot(snapshotDirectory, newTarget, { fileSystem, logger });
  const logs = await listLogs(logDirectory);
  if (loaded === undefined && logs.length > 0 && !options.trustEmptySnapshot) {
    const hasEntries = await anyLogHasEntries(logDirectory, logs, fileSystem);
    if (hasEntries) {
      throw new PersistenceError(
        'no snapshot found, but the transaction logs hold transactions: ' +
          'refusing to start from an empty tree ' +
          '(set zookeeper.snapshot.trust.empty=true only when upgrading from a version that wrote ' +
          'no snapshot)',
        logDirectory,
      );
    }
  }
  const target = loaded?.target ?? newTarget();
  const snapshotZxid = loaded?.zxid ?? 0n;
  if (loaded !== undefined) target.snapshotLoaded({ zxid: loaded.zxid, digest: loaded.digest });
  const replay = await replayLogs(
    logDirectory,
    logsFrom(logs, snapshotZxid),
    snapshotZxid,
    target,
    fileSystem,
    logger,
  );
  const snapshot = loaded === undefined ? undefined : { ...loaded, target: undefined, skipped: undefined };
  return {
    target,
    snapshot: snapshot as SnapshotRead | undefined,
    skippedSnapshots: loaded?.skipped.map((s) => s.file) ?? [],
    lastZxid: replay.lastZxid,
    txnsReplayed: replay.txnsReplayed,
    tornTail: replay.tornTail,
    discardedLogs: replay.discardedLogs,
  };
}

/** Snapshots a crash interrupted before their rename (`tmp.snapshot.*`) are of no use. */
async function removeUnfinishedSnapshots(directory: string, logger: PersistenceLogger): Promise<void> {
  const names = await readdir(directory).catch(() => [] as string[]);
  for (const name of names.filter((n) => n.startsWith(`tmp.${SNAPSHOT_PREFIX}.`))) {
    logger.info(`removing unfinished snapshot ${name}`);
    await rm(path.join(directory, name), { force: true });
  }
}

async function anyLogHasEntries(
  directory: string,
  logs: readonly string[],
  fileSystem: PersistenceFileSystem,
): Promise<boolean> {
  for (const name of logs) {
    let found = false;
    await readLogFile(path.join(directory, name), () => (found = true), fileSystem).catch(
      () => (found = true),
    );
    if (found) return true;
  }
  return false;
}

async function replayLogs(
  directory: string,
  names: readonly string[],
  snapshotZxid: bigint,
  target: RecoveryTarget,
  fileSystem: PersistenceFileSystem,
  logger: PersistenceLogger,
): Promise<{
  lastZxid: bigint;
  txnsReplayed: number;
  tornTail: TornTail | undefined;
  discardedLogs: string[];
}> {
  let lastZxid = snapshotZxid;
  let txnsReplayed = 0;
  for (let index = 0; index < names.length; index++) {
    const file = path.join(directory, names[index]);
    let entries = 0;
    const end = await readLogFile(
      file,
      (txn) => {
        entries++;
        const zxid = txn.header.zxid;
        if (zxid <= snapshotZxid) return;
        if (zxid <= lastZxid)
          logger.warn(`${file}: txn 0x${zxid.toString(16)} is not after 0x${lastZxid.toString(16)}`);
        else lastZxid = zxid;
        target.applyTxn(txn);
        txnsReplayed++;
      },
      fileSystem,
    );
    if (end.kind === 'end') {
      // A log with a header and nothing else (created, then a crash) would block the name the next
      // append needs; it holds nothing, so it is set aside like a torn one.
      if (entries === 0 && index === names.length - 1)
        await cutTornTail(file, FILE_HEADER_BYTES, 0, fileSystem);
      continue;
    }
    const tornTail = { file, offset: end.offset, reason: end.reason };
    logger.warn(`${file}: torn tail at offset ${end.offset} (${end.reason}); cutting it off`);
    await cutTornTail(file, end.offset, entries, fileSystem);
    const discardedLogs = await discardLaterLogs(directory, names.slice(index + 1), fileSystem, logger);
    return { lastZxid, txnsReplayed, tornTail, discardedLogs };
  }
  return { lastZxid, txnsReplayed, tornTail: undefined, discardedLogs: [] };
}

/** Truncates a log at its torn tail; a log left without entries is removed, so its name is free again. */
async function cutTornTail(
  file: string,
  offset: number,
  entries: number,
  fileSystem: PersistenceFileSystem,
): Promise<void> {
  if (entries === 0 || offset <= FILE_HEADER_BYTES) {
    await rename(file, path.join(path.dirname(file), `discarded.${path.basename(file)}`));
    await syncDirectory(fileSystem, path.dirname(file));
    return;
  }
  const handle = await fileSystem.open(file, 'r+');
  try {
    await handle.truncate(offset);
    await handle.datasync();
  } finally {
    await handle.close();
  }
}

async function discardLaterLogs(
  directory: string,
  names: readonly string[],
  fileSystem: PersistenceFileSystem,
  logger: PersistenceLogger,
): Promise<string[]> {
  for (const name of names) {
    logger.warn(
      `${path.join(directory, name)} follows a torn log and holds only unacknowledged txns; renamed aside`,
    );
    await rename(path.join(directory, name), path.join(directory, `discarded.${name}`));
  }
  if (names.length > 0) await syncDirectory(fileSystem, directory);
  return [...names];
}
