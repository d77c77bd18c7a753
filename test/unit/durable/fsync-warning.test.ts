// Goal: a txn-log fsync slower than fsync.warningthresholdms (zoo.cfg, or its system-property name
// zookeeper.fsync.warningthresholdms; default 1000 ms) is logged as a warning, as Apache's FileTxnLog
// does, in the standalone store's log and in an ensemble peer's log; the slow sync is injected.

import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { OpCode, Perms } from '../../../src/protocol/index.js';
import { parseZooCfg } from '../../../server/config/zoo-cfg.js';
import { ServerCore, type ServerCoreOptions } from '../../../server/core/server-core.js';
import { dataDirOptions, DurableStore } from '../../../server/durable/index.js';
import { DiskPeerStorage } from '../../../server/ensemble/disk-storage.js';
import type { PersistenceFile, PersistenceLogger } from '../../../server/persistence/file-system.js';
import { encodeTxnPayload } from '../../../server/persistence/txn-format.js';
import { makeZxid } from '../../../server/quorum/zxid.js';
import { FaultFileSystem } from '../persistence/fault-fs.js';

const T0 = 1_700_000_000_000;
const SLOW_SYNC_MS = 30;
const OPEN_ACL = [{ perms: Perms.ALL, id: { scheme: 'world', id: 'anyone' } }];
const coreOptions: ServerCoreOptions = {
  tickTimeMs: 2000,
  minSessionTimeoutMs: 4000,
  maxSessionTimeoutMs: 40_000,
  startTimeMs: T0,
};

/** The real file system, with every datasync of a log file made SLOW_SYNC_MS slower. */
class SlowSyncFileSystem extends FaultFileSystem {
  override async open(file: string, flags: string): Promise<PersistenceFile> {
    const inner = await super.open(file, flags);
    if (!path.basename(file).startsWith('log.')) return inner;
    return {
      ...inner,
      async datasync() {
        await new Promise((resolve) => setTimeout(resolve, SLOW_SYNC_MS));
        await inner.datasync();
      },
    };
  }
}

function recordingLogger(): PersistenceLogger & { warnings: string[] } {
  const warnings: string[] = [];
  return { warnings, info() {}, warn: (message) => warnings.push(message), error() {} };
}

const SLOW_WARNING =
  /fsync-ing the transaction log log\.[0-9a-f]+ took \d+ ms \(over fsync\.warningthresholdms 5\)/;

describe('slow fsync warnings (fsync.warningthresholdms)', () => {
  let dataDir: string;
  beforeEach(async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), 'menagerie-fsync-warning-'));
  });
  afterEach(async () => {
    await rm(dataDir, { recursive: true, force: true });
  });

  it('reads the zoo.cfg key and its system-property name; 1000 ms by default', () => {
    const options = (extra: string) =>
      dataDirOptions(parseZooCfg(`dataDir=${dataDir}\nclientPort=2181\n${extra}`).config);
    assert.equal(options('').fsyncWarningThresholdMs, 1000);
    assert.equal(options('fsync.warningthresholdms=5').fsyncWarningThresholdMs, 5);
    assert.equal(options('zookeeper.fsync.warningthresholdms=7').fsyncWarningThresholdMs, 7);
  });

  /** One session txn through a standalone store on the slow disk; returns what it warned. */
  async function standaloneWrite(fsyncWarningThresholdMs: number | undefined) {
    const logger = recordingLogger();
    await using store = await DurableStore.open({
      dataDir,
      core: coreOptions,
      fileSystem: new SlowSyncFileSystem(),
      logger,
      fsyncWarningThresholdMs,
    });
    const session = store.core.createSession(30_000, T0);
    await store.persister.persist(session.txn);
    return { warnings: logger.warnings, slowSyncs: store.logStats.slowSyncs };
  }

  it('the standalone store warns about a log fsync over the threshold, and not under it', async () => {
    const slow = await standaloneWrite(5);
    assert.match(slow.warnings.join('\n'), SLOW_WARNING);
    assert.ok(slow.slowSyncs >= 1, 'counted as a slow sync');
    await rm(dataDir, { recursive: true, force: true });
    const fast = await standaloneWrite(undefined);
    assert.deepEqual(fast.warnings, [], `a ${SLOW_SYNC_MS} ms sync is under the 1000 ms default`);
    assert.equal(fast.slowSyncs, 0);
  });

  it("an ensemble peer's log warns too", async () => {
    const logger = recordingLogger();
    const storage = new DiskPeerStorage({
      dataDir,
      fileSystem: new SlowSyncFileSystem(),
      logger,
      fsyncWarningThresholdMs: 5,
    });
    try {
      await storage.open(new ServerCore(coreOptions));
      await storage.persistEpoch('acceptedEpoch', 1n);
      await storage.persistEpoch('currentEpoch', 1n);
      const leader = new ServerCore(coreOptions);
      const view = leader.snapshot();
      leader.restore({ ...view, nodes: [...view.nodes], lastProcessedZxid: makeZxid(1n, 0n) }, T0);
      const session = leader.createSession(30_000, T0);
      leader.apply(session.txn);
      const create = leader.prepare(
        { sessionId: session.sessionId, authIds: [], cxid: 1 },
        OpCode.create,
        { path: '/a', data: Buffer.from('x'), acl: OPEN_ACL, flags: 0 },
        T0,
      );
      const txns = [session.txn, create].map((txn) => ({
        zxid: txn.header.zxid,
        payload: encodeTxnPayload(txn),
      }));
      const logged = new Promise<void>((resolve) => {
        storage.onLogged = (zxid) => {
          if (zxid === txns[1]!.zxid) resolve();
        };
      });
      storage.append(txns);
      await logged;
      assert.match(logger.warnings.join('\n'), SLOW_WARNING);
    } finally {
      await storage.close();
    }
  });
});
