// Scratch measurement for issue 12's memory target: bytes a DataTree holds per znode of 100 bytes,
// built directly (no server, no I/O), both as txns apply them (createNode) and as a snapshot loads
// them (loadNode). Run: node --expose-gc --import tsx bench/tree-bytes.ts [count]

import { OPEN_ACL_UNSAFE } from '../server/auth/acl.js';
import { DataTree } from '../server/tree/data-tree.js';

const count = Number(process.argv[2] ?? 200_000);
const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) throw new Error('run with node --expose-gc');

function heldBytes(): number {
  gc!();
  gc!();
  const usage = process.memoryUsage();
  return usage.heapUsed + usage.external + usage.arrayBuffers;
}

const options = { extendedTypesEnabled: false, watchFilter: () => true };
const name = (i: number) => `/bench/n${String(i).padStart(10, '0')}`;

function viaCreate(): { tree: DataTree; bytesPerNode: number } {
  const before = heldBytes();
  const tree = new DataTree(options);
  tree.createNode('/bench', null, OPEN_ACL_UNSAFE, 0n, -1, 1n, 1n);
  const base = 0x1_0000_0000;
  for (let i = 0; i < count; i++) {
    // As a decoded txn delivers them: fresh bigints and a request buffer the tree must copy.
    const zxid = BigInt(base + i + 2);
    const time = BigInt(1_764_000_000_000 + i);
    const owner = BigInt(0);
    tree.createNode(name(i), Buffer.alloc(100, i & 0xff), OPEN_ACL_UNSAFE, owner, -1, zxid, time);
  }
  return { tree, bytesPerNode: (heldBytes() - before) / count };
}

function viaLoad(): { tree: DataTree; bytesPerNode: number } {
  const before = heldBytes();
  const tree = new DataTree(options);
  tree.clearForLoad(new Map([[1n, OPEN_ACL_UNSAFE]]));
  const stat = (z: number, t: number) => ({
    czxid: BigInt(z), mzxid: BigInt(z), ctime: BigInt(t), mtime: BigInt(t), version: 0, cversion: 0,
    aversion: 0, ephemeralOwner: BigInt(0), pzxid: BigInt(z),
  });
  tree.loadNode('/', Buffer.alloc(0), -1n, stat(0, 0));
  tree.loadNode('/bench', null, 1n, stat(1, 1));
  const base = 0x1_0000_0000;
  for (let i = 0; i < count; i++) {
    tree.loadNode(name(i), Buffer.alloc(100, i & 0xff), 1n, stat(base + i + 2, 1_764_000_000_000 + i));
  }
  tree.finishLoad();
  return { tree, bytesPerNode: (heldBytes() - before) / count };
}

for (const [label, build] of [['createNode', viaCreate], ['loadNode', viaLoad]] as const) {
  const started = process.cpuUsage();
  const { tree, bytesPerNode } = build();
  const cpu = process.cpuUsage(started);
  const cpuMs = (cpu.user + cpu.system) / 1000;
  console.log(`${label}: ${count} nodes, ${bytesPerNode.toFixed(0)} B/node held, ` +
    `${cpuMs.toFixed(0)} ms CPU (incl. gc), digest ${tree.digest}`);
  tree.reset();
}
