// Human-readable dumps of log and snapshot files, in the spirit of Apache's TxnLogToolkit and
// SnapshotFormatter, for `zk-server dump-log` / `dump-snapshot`. The line formatting is pure; the
// two generators read the file and yield lines, so a large file prints as it is read.

import path from 'node:path';
import { opName, OpCode } from '../../src/protocol/opcodes.js';
import type { records } from '../../src/protocol/index.js';
import { nodeFileSystem, type PersistenceFileSystem } from './file-system.js';
import { logEntries } from './recovery.js';
import { readSnapshot } from './snapshot-files.js';
import { decodeMultiOps, txnRecordFor } from './txn-format.js';
import type { AclEntry, SessionEntry, SnapshotNode, Txn } from './types.js';

const hex = (value: bigint): string => `0x${BigInt.asUintN(64, value).toString(16)}`;
const time = (ms: bigint): string => {
  const date = new Date(Number(ms));
  return Number.isNaN(date.getTime()) ? String(ms) : date.toISOString();
};

function describeRecord(type: number, record: unknown): string {
  if (record === null || record === undefined) return '-';
  if (type === OpCode.multi) {
    const ops = decodeMultiOps(record as records.MultiTxn);
    return `[${ops.map((op) => `${opName(op.type)} ${describeRecord(op.type, op.record)}`).join('; ')}]`;
  }
  const codec = txnRecordFor(type);
  return codec ? codec.describe(record) : String(record);
}

/** One txn as one line: time, session, cxid, zxid, op, record, digest. */
export function formatTxn(txn: Txn): string {
  const { header } = txn;
  const digest = txn.digest ? ` digest(v${txn.digest.version} ${txn.digest.treeDigest})` : '';
  return (
    `${time(header.time)} session ${hex(header.clientId)} cxid ${hex(BigInt(header.cxid))} ` +
    `zxid ${hex(header.zxid)} ` +
    `${opName(header.type)} ${describeRecord(header.type, txn.record)}${digest}`
  );
}

/** Lines describing a log file: a header line, one line per txn as it is read, and how the file ends. */
export async function* dumpLog(
  file: string,
  fileSystem: PersistenceFileSystem = nodeFileSystem,
): AsyncGenerator<string> {
  yield `ZooKeeper transaction log ${path.basename(file)} (magic ZKLG, version 2, dbid 0)`;
  const entries = logEntries(file, fileSystem);
  let count = 0;
  try {
    for (;;) {
      const next = await entries.next();
      if (next.done) {
        const end = next.value;
        yield end.kind === 'end'
          ? `end of log at offset ${end.offset} after ${count} txns`
          : `torn tail at offset ${end.offset} after ${count} txns: ${end.reason}`;
        return;
      }
      count++;
      yield formatTxn(next.value.txn);
    }
  } finally {
    // A reader that stops early (head) must still close the file.
    await entries.return(undefined as never);
  }
}

/** The lines for one znode, as SnapshotFormatter prints them. */
export function formatNode(node: SnapshotNode, acl: readonly records.ACL[] | undefined): string[] {
  const { stat } = node;
  const data = node.data === null ? 'null' : JSON.stringify(node.data.toString('utf8'));
  const acls =
    acl === undefined
      ? `ref ${node.aclRef}`
      : acl.map((a) => `${a.id.scheme}:${a.id.id}:${a.perms}`).join(', ');
  return [
    '----',
    node.path === '' ? '/' : node.path,
    `  cZxid = ${hex(stat.czxid)}`,
    `  ctime = ${time(stat.ctime)}`,
    `  mZxid = ${hex(stat.mzxid)}`,
    `  mtime = ${time(stat.mtime)}`,
    `  pZxid = ${hex(stat.pzxid)}`,
    `  cversion = ${stat.cversion}`,
    `  dataVersion = ${stat.version}`,
    `  aclVersion = ${stat.aversion}`,
    `  ephemeralOwner = ${hex(stat.ephemeralOwner)}`,
    `  dataLength = ${node.data?.length ?? 0}`,
    `  data = ${data.length > 200 ? `${data.slice(0, 200)}…` : data}`,
    `  acl = ${acls}`,
  ];
}

/** Lines describing a snapshot: its nodes, sessions, ACL cache and digest. */
export async function* dumpSnapshot(
  file: string,
  fileSystem: PersistenceFileSystem = nodeFileSystem,
): AsyncGenerator<string> {
  const sessions: SessionEntry[] = [];
  const acls = new Map<bigint, AclEntry>();
  const lines: string[] = [];
  let nodes = 0;
  const ephemerals = new Map<bigint, number>();
  const read = await readSnapshot(
    file,
    {
      addSession: (session) => sessions.push(session),
      addAcl: (entry) => acls.set(entry.ref, entry),
      addNode: (node) => {
        nodes++;
        const owner = node.stat.ephemeralOwner;
        if (owner > 0n) ephemerals.set(owner, (ephemerals.get(owner) ?? 0) + 1);
        lines.push(...formatNode(node, acls.get(node.aclRef)?.acl));
      },
    },
    fileSystem,
  );
  const name = path.basename(file);
  yield `ZooKeeper snapshot ${name}: zxid ${hex(read.zxid)}, ${read.bytes} bytes (magic ZKSN, version 2)`;
  yield `ZNode Details (count=${nodes}):`;
  yield* lines;
  yield '----';
  yield `Session Details (sid, timeout, ephemeralCount) (count=${sessions.length}):`;
  for (const session of sessions)
    yield `${hex(session.id)}, ${session.timeoutMs}, ${ephemerals.get(session.id) ?? 0}`;
  yield `ACL cache (count=${acls.size}):`;
  for (const entry of acls.values()) {
    yield `${entry.ref}: ${entry.acl.map((a) => `${a.id.scheme}:${a.id.id}:${a.perms}`).join(', ')}`;
  }
  yield read.digest === undefined
    ? 'Digest: none'
    : `Digest: zxid ${hex(read.digest.zxid)}, version ${read.digest.digestVersion}, ` +
      `value ${read.digest.digest}`;
  if (read.lastProcessedZxid !== undefined) yield `Last processed zxid: ${hex(read.lastProcessedZxid)}`;
}
