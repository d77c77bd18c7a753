// Persistence: Apache ZooKeeper 3.8's transaction log and snapshot formats, group commit, fuzzy
// background snapshots, crash recovery, purge and file dumps. `types.ts` holds the interfaces the
// data tree implements (SnapshotSource, RecoveryTarget) and the Txn shape the log stores.

export * from './types.js';
export * from './adler32.js';
export * from './names.js';
export * from './txn-format.js';
export * from './snapshot-format.js';
export * from './file-system.js';
export * from './txn-log.js';
export * from './snapshot-files.js';
export * from './recovery.js';
export * from './snapshot-schedule.js';
export * from './epoch-files.js';
export * from './purge.js';
export * from './digest.js';
export * from './dump.js';
export * from './persistence.js';
