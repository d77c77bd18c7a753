// The child process of disk-storage.test.ts's crash tests, run until it is killed, on a DiskPeerStorage
// in dataDir (argv[2]). Mode `append` (default) appends with a few batches in flight and prints
// `logged <zxid>` for every durability report. Mode `truncate` loops: a round of txns in a new epoch,
// `logged <zxid>` once durable, then a truncate back into that round and `truncated <zxid>` once
// done. `crashTxns` and `txnAt` are the deterministic txns, shared with the test.

import { pathToFileURL } from 'node:url';
import { OpCode, Perms } from '../../../src/protocol/index.js';
import { ServerCore, type ServerCoreOptions } from '../../../server/core/server-core.js';
import { DiskPeerStorage } from '../../../server/ensemble/disk-storage.js';
import { encodeTxnPayload } from '../../../server/persistence/txn-format.js';
import type { Txn } from '../../../server/quorum/index.js';
import { makeZxid } from '../../../server/quorum/zxid.js';

const T0 = 1_700_000_000_000;
export const CRASH_EPOCH = 1n;
export const crashCoreOptions: ServerCoreOptions = {
  tickTimeMs: 2000,
  minSessionTimeoutMs: 4000,
  maxSessionTimeoutMs: 40_000,
  startTimeMs: T0,
};

/** A session, /k, then creates of /k/c<i> carrying data: the same bytes on every call. */
export function* crashTxns(): Generator<Txn> {
  const core = new ServerCore(crashCoreOptions);
  const view = core.snapshot();
  core.restore({ ...view, nodes: [...view.nodes], lastProcessedZxid: makeZxid(CRASH_EPOCH, 0n) }, T0);
  const commit = (txn: ReturnType<ServerCore['prepare']>): Txn => {
    core.apply(txn);
    return { zxid: txn.header.zxid, payload: encodeTxnPayload(txn) };
  };
  const session = core.createSession(30_000, T0);
  yield commit(session.txn);
  const ctx = { sessionId: session.sessionId, authIds: [] };
  const acl = [{ perms: Perms.ALL, id: { scheme: 'world', id: 'anyone' } }];
  let cxid = 0;
  const create = (path: string, data: Buffer) =>
    commit(core.prepare({ ...ctx, cxid: ++cxid }, OpCode.create, { path, data, acl, flags: 0 }, T0));
  yield create('/k', Buffer.alloc(0));
  for (let i = 0; ; i++) yield create(`/k/c${i}`, Buffer.alloc(100 + (i % 300), i % 251));
}

/** A create whose bytes depend only on its zxid. */
export function txnAt(zxid: bigint): Txn {
  const header = { clientId: 1n, cxid: Number(zxid & 0xffffn), zxid, time: BigInt(T0), type: OpCode.create };
  const acl = [{ perms: Perms.ALL, id: { scheme: 'world', id: 'anyone' } }];
  const data = Buffer.alloc(50 + Number(zxid % 200n), Number(zxid % 251n));
  const record = { path: `/t${zxid.toString(16)}`, data, acl, ephemeral: false, parentCVersion: 0 };
  return { zxid, payload: encodeTxnPayload({ header, record }) };
}

async function truncateLoop(dataDir: string): Promise<void> {
  const storage = new DiskPeerStorage({ dataDir, preAllocBytes: 64 * 1024 });
  const state = await storage.open(new ServerCore(crashCoreOptions));
  let epoch = state.acceptedEpoch;
  let round = 0;
  for (;;) {
    epoch++;
    await storage.persistEpoch('acceptedEpoch', epoch);
    await storage.persistEpoch('currentEpoch', epoch);
    const txns = Array.from({ length: 40 }, (_, i) => txnAt(makeZxid(epoch, BigInt(i + 1))));
    const logged = new Promise<void>((resolve) => {
      storage.onLogged = (zxid) => {
        if (zxid === txns.at(-1)!.zxid) resolve();
      };
    });
    for (let i = 0; i < txns.length; i += 8) storage.append(txns.slice(i, i + 8));
    await logged;
    process.stdout.write(`logged ${txns.at(-1)!.zxid}\n`);
    const to = txns[(round * 7) % txns.length].zxid;
    await storage.truncate(to);
    process.stdout.write(`truncated ${to}\n`);
    round++;
  }
}

async function main(dataDir: string): Promise<void> {
  const storage = new DiskPeerStorage({ dataDir, preAllocBytes: 256 * 1024 });
  await storage.open(new ServerCore(crashCoreOptions));
  await storage.persistEpoch('acceptedEpoch', CRASH_EPOCH);
  await storage.persistEpoch('currentEpoch', CRASH_EPOCH);
  const source = crashTxns();
  const inFlightMax = 64;
  let appended = 0;
  let logged = 0;
  const pump = () => {
    while (appended - logged < inFlightMax) {
      const batch: Txn[] = [];
      for (let i = 0; i < 8; i++) batch.push(source.next().value as Txn);
      storage.append(batch);
      appended += batch.length;
    }
  };
  let first: bigint | undefined;
  storage.onLogged = (zxid) => {
    process.stdout.write(`logged ${zxid}\n`);
    first ??= makeZxid(CRASH_EPOCH, 1n);
    logged = Number(zxid - first) + 1;
    pump();
  };
  storage.onFailure = (error) => {
    process.stderr.write(`storage failed: ${error.message}\n`);
    process.exit(2);
  };
  pump();
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  if (process.argv[3] === 'truncate') await truncateLoop(process.argv[2]);
  else await main(process.argv[2]);
}
