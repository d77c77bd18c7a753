// Scratch measurement for issue 12's recovery figure: builds (once) a data dir holding one snapshot of
// N znodes of 100 bytes, then times DurableStore.open on it (snapshot read, tree load, the clean
// snapshot written at start) as the server's start does. CPU time, not wall clock (a shared machine).
// Run: node --expose-gc --import tsx bench/recovery-time.ts [dataDir] [count]
// (add --cpu-prof to see where the time goes).

import { existsSync } from 'node:fs';
import path from 'node:path';
import { OPEN_ACL_UNSAFE } from '../server/auth/acl.js';
import { DurableStore } from '../server/durable/index.js';
import { writeSnapshot } from '../server/persistence/snapshot-files.js';
import type { SnapshotNode } from '../server/persistence/types.js';

const dataDir = process.argv[2] ?? '/tmp/menagerie-recovery-bench';
const count = Number(process.argv[3] ?? 1_000_000);

function* nodes(): Generator<SnapshotNode> {
  const stat = (z: bigint, t: bigint) => ({
    czxid: z, mzxid: z, ctime: t, mtime: t, version: 0, cversion: 0, aversion: 0, ephemeralOwner: 0n, pzxid: z,
  });
  const dirStat = stat(1n, 1n);
  yield { path: '', data: Buffer.alloc(0), aclRef: -1n, stat: stat(0n, 0n) };
  yield { path: '/bench', data: null, aclRef: 1n, stat: { ...dirStat, cversion: count, pzxid: BigInt(count + 1) } };
  const data = Buffer.alloc(100, 7);
  for (let i = 0; i < count; i++) {
    const zxid = BigInt(i + 2);
    yield { path: `/bench/n${String(i).padStart(10, '0')}`, data, aclRef: 1n, stat: stat(zxid, 1_764_000_000_000n + zxid) };
  }
  yield { path: '/zookeeper', data: Buffer.alloc(0), aclRef: -1n, stat: stat(0n, 0n) };
  yield { path: '/zookeeper/quota', data: Buffer.alloc(0), aclRef: -1n, stat: stat(0n, 0n) };
}

if (!existsSync(path.join(dataDir, 'version-2'))) {
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

const core = { tickTimeMs: 2000, minSessionTimeoutMs: 4000, maxSessionTimeoutMs: 40_000, extendedTypesEnabled: false };
const started = process.cpuUsage();
const wallStart = performance.now();
const at = () => `${((process.cpuUsage(started).user + process.cpuUsage(started).system) / 1000).toFixed(0)} ms CPU`;
const say = (message: string) => console.log(`  [${at()}] ${message.slice(0, 100)}`);
const logger = { info: say, warn: say, error: say };
const store = await DurableStore.open({ dataDir, core, logger });
const cpu = process.cpuUsage(started);
const wallMs = performance.now() - wallStart;
const rss = process.memoryUsage().rss;
console.log(`open: ${store.recovery.snapshotFile}, ${((cpu.user + cpu.system) / 1000).toFixed(0)} ms CPU, ` +
  `${wallMs.toFixed(0)} ms wall, RSS ${(rss / 2 ** 20).toFixed(0)} MiB`);
await store[Symbol.asyncDispose]();
