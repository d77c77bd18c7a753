// Scratch measurement for issue 12's recovery figure: builds (once) a data dir holding one snapshot of
// N znodes of 100 bytes, then times DurableStore.open on it (snapshot read, tree load, the clean
// snapshot written at start) as the server's start does. CPU time, not wall clock (a shared machine).
// Run: node --import tsx bench/recovery-time.ts [dataDir] [count] [snapshot|log]
// (add --cpu-prof to see where the time goes). "log" builds the data dir as the bench's server does
// (multis of 100 creates, no snapshot but snapshot.0), so the open replays every txn.

import { existsSync } from 'node:fs';
import path from 'node:path';
import { OPEN_ACL_UNSAFE } from '../server/auth/acl.js';
import { DurableStore } from '../server/durable/index.js';
import { writeSnapshot } from '../server/persistence/snapshot-files.js';
import type { SnapshotNode } from '../server/persistence/types.js';
import type { Txn } from '../server/core/api.js';
import { OpCode } from '../src/protocol/index.js';

const dataDir = process.argv[2] ?? '/tmp/menagerie-recovery-bench';
const count = Number(process.argv[3] ?? 1_000_000);
const kind = process.argv[4] ?? 'snapshot';

function* nodes(): Generator<SnapshotNode> {
  const stat = (z: bigint, t: bigint) => ({
    czxid: z, mzxid: z, ctime: t, mtime: t, version: 0, cversion: 0, aversion: 0,
    ephemeralOwner: 0n, pzxid: z,
  });
  const dirStat = stat(1n, 1n);
  yield { path: '', data: Buffer.alloc(0), aclRef: -1n, stat: stat(0n, 0n) };
  const benchStat = { ...dirStat, cversion: count, pzxid: BigInt(count + 1) };
  yield { path: '/bench', data: null, aclRef: 1n, stat: benchStat };
  const data = Buffer.alloc(100, 7);
  for (let i = 0; i < count; i++) {
    const zxid = BigInt(i + 2);
    const nodeStat = stat(zxid, 1_764_000_000_000n + zxid);
    yield { path: `/bench/n${String(i).padStart(10, '0')}`, data, aclRef: 1n, stat: nodeStat };
  }
  yield { path: '/zookeeper', data: Buffer.alloc(0), aclRef: -1n, stat: stat(0n, 0n) };
  yield { path: '/zookeeper/quota', data: Buffer.alloc(0), aclRef: -1n, stat: stat(0n, 0n) };
}

const core = {
  tickTimeMs: 2000,
  minSessionTimeoutMs: 4000,
  maxSessionTimeoutMs: 40_000,
  extendedTypesEnabled: false,
};

/** The log a server fills: one session, multis of 100 creates, 8 in flight, nothing snapshotted. */
async function writeLog(): Promise<void> {
  await using store = await DurableStore.open({ dataDir, core, snapCount: 100_000_000 });
  const session = store.core.createSession(30_000, Date.now());
  const pipeline = async (txns: Txn[]) => {
    await Promise.all(txns.map((txn) => store.persister.persist(txn)));
    for (const txn of txns) store.core.apply(txn);
  };
  await pipeline([session.txn]);
  const ctx = { sessionId: session.sessionId, cxid: 1, authIds: [] };
  const create = (p: string) => ({
    path: p,
    data: Buffer.alloc(100, 7),
    acl: [...OPEN_ACL_UNSAFE],
    flags: 0,
  });
  await pipeline([store.core.prepare(ctx, OpCode.create, create('/bench'), Date.now())]);
  for (let first = 0; first < count; first += 800) {
    const batch: Txn[] = [];
    for (let m = first; m < Math.min(count, first + 800); m += 100) {
      const ops = [];
      for (let i = m; i < Math.min(count, m + 100); i++) {
        ops.push({ type: OpCode.create, request: create(`/bench/n${String(i).padStart(10, '0')}`) });
      }
      batch.push(store.core.prepare(ctx, OpCode.multi, { ops }, Date.now()));
    }
    await pipeline(batch);
  }
  console.log(`wrote a log of ${count} creates`);
}

if (kind === 'log' && !existsSync(dataDir)) await writeLog();
if (kind === 'snapshot' && !existsSync(path.join(dataDir, 'version-2'))) {
  const written = await writeSnapshot(
    {
      zxid: BigInt(count + 1),
      sessions: () => [],
      aclEntries: () => [{ ref: 1n, acl: [...OPEN_ACL_UNSAFE] }],
      nodes,
      aclFor: () => undefined,
    },
    { directory: path.join(dataDir, 'version-2'), sync: false },
  );
  console.log(`wrote ${written.file}: ${written.nodes} nodes, ${written.bytes} bytes`);
}

const started = process.cpuUsage();
const wallStart = performance.now();
const at = () => {
  const used = process.cpuUsage(started);
  return `${((used.user + used.system) / 1000).toFixed(0)} ms CPU`;
};
const say = (message: string) => console.log(`  [${at()}] ${message.slice(0, 100)}`);
const logger = { info: say, warn: say, error: say };
const store = await DurableStore.open({ dataDir, core, logger });
const cpu = process.cpuUsage(started);
const wallMs = performance.now() - wallStart;
const rss = process.memoryUsage().rss;
console.log(`open: ${store.recovery.snapshotFile}, ${((cpu.user + cpu.system) / 1000).toFixed(0)} ms CPU, ` +
  `${wallMs.toFixed(0)} ms wall, RSS ${(rss / 2 ** 20).toFixed(0)} MiB`);
await store[Symbol.asyncDispose]();
