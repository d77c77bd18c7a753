// File names of Apache ZooKeeper's data directories: `version-2/log.<hex zxid>` and
// `version-2/snapshot.<hex zxid>[.gz|.snappy]`, where the zxid is the log's first txn or the
// snapshot's last applied one, in lower-case hex without padding (Long.toHexString).

export const VERSION_DIR = 'version-2';
export const LOG_PREFIX = 'log';
export const SNAPSHOT_PREFIX = 'snapshot';

/** The name of the log whose first txn has `zxid`. */
export function logFileName(zxid: bigint): string {
  return `${LOG_PREFIX}.${toJavaHex(zxid)}`;
}

/** The name of the snapshot taken at `zxid` (uncompressed, the only kind we write). */
export function snapshotFileName(zxid: bigint): string {
  return `${SNAPSHOT_PREFIX}.${toJavaHex(zxid)}`;
}

/** Long.toHexString: two's complement for negative values. */
export function toJavaHex(value: bigint): string {
  return BigInt.asUintN(64, value).toString(16);
}

/**
 * The zxid a file name carries for `prefix`, or undefined when the name is not one of those files.
 * As Apache's Util.getZxidFromName: the part after the first dot, up to the next dot, in hex.
 */
export function zxidFromFileName(name: string, prefix: string): bigint | undefined {
  const parts = name.split('.');
  if (parts.length < 2 || parts[0] !== prefix || !/^[0-9a-fA-F]{1,16}$/.test(parts[1])) return undefined;
  return BigInt.asIntN(64, BigInt(`0x${parts[1]}`));
}

/** The compression a snapshot's name declares, as SnapStream.getStreamMode reads it. */
export function snapshotCompression(name: string): 'none' | 'gz' | 'snappy' {
  const parts = name.split('.');
  const last = parts.length > 2 ? parts[parts.length - 1] : '';
  if (last === 'gz') return 'gz';
  if (last === 'snappy') return 'snappy';
  return 'none';
}

/** Sorts names of `prefix` files by their zxid, ignoring other names; newest first when `descending`. */
export function sortByZxid(names: readonly string[], prefix: string, descending = false): string[] {
  const withZxid = names
    .map((name) => ({ name, zxid: zxidFromFileName(name, prefix) }))
    .filter((entry): entry is { name: string; zxid: bigint } => entry.zxid !== undefined);
  withZxid.sort((a, b) => (a.zxid < b.zxid ? -1 : a.zxid > b.zxid ? 1 : 0));
  if (descending) withZxid.reverse();
  return withZxid.map((entry) => entry.name);
}
