// Curator's InterProcessReadWriteLock: one directory, `_c_<uuid>-__READ__<seq>` and
// `_c_<uuid>-__WRIT__<seq>` nodes ordered by sequence across both kinds. A writer waits for every node
// ahead of it; a reader only for writers ahead of it, so a queued writer goes before readers that came
// after it (writer preference: readers cannot starve writers).
//
//   const rw = new ReadWriteLock(zk, '/locks/catalog');
//   await using write = await rw.writeLock.acquire({ timeoutMs: 5_000 });
//   await using read = await rw.downgrade(write);   // read lock at once, ahead of queued writers
//   await write.release();                          // readers may now join; writers still wait
//
// Downgrade creates the read node non-sequentially with the write node's sequence (Curator 5.5's
// CURATOR-621 fix), so no writer queued behind us can slip in between. Connection loss and expiry
// behave as for the mutex (see mutex.ts).
import { randomUUID } from 'node:crypto';
import { InvalidArgumentError, baseName, joinPath, type Framework } from '../../src/index.js';
import { readWritePolicy } from './contenders.js';
import { HeldLease, Lease } from './lease.js';
import { NodeMarker, downgradeReadNodeName } from './node-names.js';
import { QueueLock, type LockOptions } from './mutex.js';

export class ReadWriteLock {
  readonly readLock: QueueLock;
  readonly writeLock: QueueLock;

  constructor(
    private readonly fw: Framework,
    readonly path: string,
    private readonly options: LockOptions = {},
  ) {
    this.readLock = new QueueLock(fw, path, NodeMarker.read, readWritePolicy, options);
    this.writeLock = new QueueLock(fw, path, NodeMarker.write, readWritePolicy, options);
  }

  /**
   * Takes the read lock while holding the write lock `write`: at once, and level with the write node,
   * so writers queued behind us still wait. Release `write` afterwards to let other readers in.
   */
  async downgrade(write: Lease, options: { signal?: AbortSignal } = {}): Promise<Lease> {
    if (write.lockPath !== this.path || !write.nodePath.includes(NodeMarker.write)) {
      throw new InvalidArgumentError(`not a write lease of ${this.path}`);
    }
    if (write.state !== 'held') throw new InvalidArgumentError(`cannot downgrade a ${write.state} lease`);
    const name = downgradeReadNodeName(baseName(write.nodePath), randomUUID());
    const created = await this.fw.create(joinPath(this.path, name), {
      mode: 'EPHEMERAL',
      data: this.readLock.ownerData(),
      ...options,
    });
    const stat = created.stat ?? (await this.fw.exists(created.path));
    if (stat === null || stat.ephemeralOwner !== write.held.node.sessionId) {
      await this.fw.delete(created.path, { quietly: true }).catch(() => undefined);
      throw new InvalidArgumentError('the write lease was lost while downgrading');
    }
    const node = { path: created.path, nodeName: name, sessionId: stat.ephemeralOwner, czxid: stat.czxid };
    const held = new HeldLease(this.fw, node, {
      ...(this.options.clock === undefined ? {} : { clock: this.options.clock }),
      onSuspended: this.options.onSuspended,
    });
    return new Lease(held, this.path);
  }
}
