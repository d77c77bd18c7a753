// Purge, as Apache's PurgeTxnLog (zkCleanup.sh, autopurge): keep the N newest snapshots (N >= 3) and
// every log needed to replay from the oldest kept one, i.e. logs named at or after its zxid plus the
// newest log named before it; delete older snapshots and logs. The choice is a pure function.

import { readdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { InvalidArgumentError } from '../../src/protocol/errors.js';
import { LOG_PREFIX, SNAPSHOT_PREFIX, sortByZxid, VERSION_DIR, zxidFromFileName } from './names.js';
import { logsFrom } from './recovery.js';

/** Apache refuses to keep fewer than 3 snapshots. */
export const SNAP_RETAIN_COUNT_MIN = 3;

export interface PurgePlan {
  readonly keptSnapshots: string[];
  readonly deletedSnapshots: string[];
  readonly keptLogs: string[];
  readonly deletedLogs: string[];
}

/** Which snapshot and log files a purge keeping `retainCount` snapshots deletes. */
export function planPurge(
  snapshotNames: readonly string[],
  logNames: readonly string[],
  retainCount: number,
): PurgePlan {
  if (!Number.isInteger(retainCount) || retainCount < SNAP_RETAIN_COUNT_MIN) {
    throw new InvalidArgumentError(
      `snapRetainCount must be at least ${SNAP_RETAIN_COUNT_MIN}, got ${retainCount}`,
    );
  }
  const snapshots = sortByZxid(snapshotNames, SNAPSHOT_PREFIX, true);
  const logs = sortByZxid(logNames, LOG_PREFIX);
  const keptSnapshots = snapshots.slice(0, retainCount);
  if (keptSnapshots.length === 0)
    return { keptSnapshots, deletedSnapshots: [], keptLogs: logs, deletedLogs: [] };
  const oldestKept = zxidFromFileName(keptSnapshots[keptSnapshots.length - 1], SNAPSHOT_PREFIX)!;
  const needed = new Set(logsFrom(logs, oldestKept));
  return {
    keptSnapshots,
    deletedSnapshots: snapshots
      .slice(retainCount)
      .filter((name) => zxidFromFileName(name, SNAPSHOT_PREFIX)! < oldestKept),
    keptLogs: logs.filter((name) => needed.has(name)),
    deletedLogs: logs.filter((name) => !needed.has(name)),
  };
}

/** Deletes what `planPurge` says for a data dir (and a separate data log dir); returns the plan. */
export async function purge(dataDir: string, dataLogDir: string, retainCount: number): Promise<PurgePlan> {
  const snapshotDirectory = path.join(dataDir, VERSION_DIR);
  const logDirectory = path.join(dataLogDir, VERSION_DIR);
  const list = (directory: string) =>
    readdir(directory).catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') return [] as string[];
      throw error;
    });
  const plan = planPurge(await list(snapshotDirectory), await list(logDirectory), retainCount);
  for (const name of plan.deletedSnapshots) await rm(path.join(snapshotDirectory, name), { force: true });
  for (const name of plan.deletedLogs) await rm(path.join(logDirectory, name), { force: true });
  return plan;
}
