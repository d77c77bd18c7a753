// The file tools `zk-server` offers besides serving: purge (as zkCleanup.sh / PurgeTxnLog), dump-log
// (as TxnLogToolkit) and dump-snapshot (as SnapshotFormatter). Each resolves with the lines to print,
// so a CLI command is one call; the streaming forms (`*Lines`) suit files too large to hold.

import path from 'node:path';
import { InvalidArgumentError } from '../../src/protocol/errors.js';
import * as dumps from '../persistence/dump.js';
import { purge as persistencePurge } from '../persistence/purge.js';
import { VERSION_DIR } from '../persistence/names.js';
import { PersistenceError } from '../persistence/types.js';

/**
 * Keeps the `retainCount` newest snapshots (at least 3) and the logs needed to replay from the
 * oldest kept one; deletes the rest. Lines: one per deleted file, then a summary.
 */
export async function purge(dataDir: string, dataLogDir: string, retainCount: number): Promise<string[]> {
  if (!Number.isInteger(retainCount)) {
    throw new InvalidArgumentError(`the number of snapshots to keep must be an integer, got ${retainCount}`);
  }
  const plan = await persistencePurge(dataDir, dataLogDir, retainCount);
  const snapshotDirectory = path.join(dataDir, VERSION_DIR);
  const logDirectory = path.join(dataLogDir, VERSION_DIR);
  return [
    ...plan.deletedSnapshots.map((name) => `Removing file: ${path.join(snapshotDirectory, name)}`),
    ...plan.deletedLogs.map((name) => `Removing file: ${path.join(logDirectory, name)}`),
    `kept ${plan.keptSnapshots.length} snapshots and ${plan.keptLogs.length} logs, ` +
      `deleted ${plan.deletedSnapshots.length} snapshots and ${plan.deletedLogs.length} logs`,
  ];
}

/** A log file's lines as they are read: a header, one line per txn, and how the file ends. */
export function dumpLogLines(file: string): AsyncIterable<string> {
  return withFileErrors(file, dumps.dumpLog(file));
}

/** A snapshot file's lines: nodes with stats and ACLs, sessions, the ACL cache and the digest. */
export function dumpSnapshotLines(file: string): AsyncIterable<string> {
  return withFileErrors(file, dumps.dumpSnapshot(file));
}

/** Every line of `dumpLogLines`. */
export async function dumpLog(file: string): Promise<string[]> {
  return await collect(dumpLogLines(file));
}

/** Every line of `dumpSnapshotLines`. */
export async function dumpSnapshot(file: string): Promise<string[]> {
  return await collect(dumpSnapshotLines(file));
}

async function collect(lines: AsyncIterable<string>): Promise<string[]> {
  const all: string[] = [];
  for await (const line of lines) all.push(line);
  return all;
}

/** A missing or unreadable file becomes a PersistenceError naming it (not a bare ENOENT). */
async function* withFileErrors(file: string, lines: AsyncIterable<string>): AsyncGenerator<string> {
  try {
    yield* lines;
  } catch (error) {
    if (error instanceof PersistenceError) throw error;
    const code = (error as NodeJS.ErrnoException).code;
    const reason = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory' : String(error);
    throw new PersistenceError(reason, file, { cause: error });
  }
}
