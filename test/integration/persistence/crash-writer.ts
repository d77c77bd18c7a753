// Child process for the crash test: recovers a data dir, then appends txns with up to 32 outstanding
// (group commit), prints "ack <zxid>" once each is durable and then applies it to its tree, with
// background snapshots every few dozen txns, until it is killed.
// Run: node --import tsx crash-writer.ts <dataDir>

import { Persistence } from '../../../server/persistence/persistence.js';
import { MemoryTree, txns } from '../../unit/persistence/memory-tree.js';

const dataDir = process.argv[2];
const tree = MemoryTree.initial();
const persistence = await Persistence.open({
  dataDir,
  snapCount: 40,
  preAllocBytes: 64 * 1024,
  snapshotSource: () => tree,
});
const recovered = await persistence.recover(() => new MemoryTree());
for (const [path, node] of recovered.target.nodesByPath) tree.nodesByPath.set(path, node);
for (const [ref, acl] of recovered.target.acls) tree.acls.set(ref, acl);
tree.lastZxid = recovered.lastZxid;
if (recovered.snapshot === undefined) await persistence.snapshot(tree);
process.stdout.write(`ready ${recovered.lastZxid}\n`);

let zxid = recovered.lastZxid;
let outstanding = 0;
const pump = (): void => {
  while (outstanding < 32) {
    const txn = txns.create(++zxid, `/n${zxid}`, `payload of ${zxid}`.repeat(4), Number(zxid));
    outstanding++;
    persistence.persist(txn).then(
      () => {
        // As a server does: the tree (and so a snapshot) sees a txn only once it is durable. The ack
        // goes to the pipe first (synchronous on Linux), so the parent learns of everything applied.
        process.stdout.write(`ack ${txn.header.zxid}\n`);
        tree.applyTxn(txn);
        outstanding--;
        setImmediate(pump);
      },
      (error: unknown) => {
        process.stderr.write(`append failed: ${String(error)}\n`);
        process.exit(1);
      },
    );
  }
};
pump();
