// The child process of disk-storage.test.ts's crash test: appends txns to a DiskPeerStorage in
// dataDir (argv[2]), keeping a few batches in flight, and prints `logged <zxid>` for every durability
// report, until it is killed. `crashTxns` is the deterministic txn sequence, shared with the test.

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
  await main(process.argv[2]);
}
