// The durable server: ServerCore ⇄ persistence adapter, the DurableStore a standalone server holds,
// and the file tools of `zk-server purge | dump-log | dump-snapshot`.

export { CoreRecoveryTarget, coreDigest, coreSnapshotSource, killOrphanEphemerals } from './core-adapter.js';
export { DurableStore, type DurableStoreOptions, type RecoveryReport } from './durable-store.js';
export { dataDirOptions, type DataDirOptions } from './from-config.js';
export { DurableSeams } from './seams.js';
export { dumpLog, dumpLogLines, dumpSnapshot, dumpSnapshotLines, purge } from './tools.js';
