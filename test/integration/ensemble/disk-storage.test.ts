// Goal: DiskPeerStorage keeps an ensemble peer's log, snapshots and epochs on disk so that a reopen
// gives back exactly what was reported logged (epochs, snapshot state, the log above it), also after
// a SIGKILL mid-append; truncates and installs snapshots crash-safely; cuts torn tails; writes files
// our dump tools and Apache 3.8 (standalone and as a quorum peer) read, and reads Apache's; and turns
// a failing disk into one reported failure rather than a silent loss.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { copyFile, mkdtemp, open, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { CreateMode, OpCode, Perms, records as R, type ACL } from '../../../src/protocol/index.js';
import type { RequestContext } from '../../../server/core/api.js';
import { parseZooCfg } from '../../../server/config/index.js';
import { ServerCore, type ServerCoreOptions } from '../../../server/core/server-core.js';
import { coreDigest } from '../../../server/durable/core-adapter.js';
import { dumpLog, dumpSnapshot } from '../../../server/durable/tools.js';
import {
  DiskPeerStorage,
  diskPeerStorageOptions,
  type DiskPeerStorageOptions,
} from '../../../server/ensemble/disk-storage.js';
import { nodeDigest } from '../../../server/persistence/digest.js';
import { nodeFileSystem, type PersistenceFileSystem } from '../../../server/persistence/file-system.js';
import { logEntries } from '../../../server/persistence/recovery.js';
import { decodeTxnPayload, encodeTxnPayload } from '../../../server/persistence/txn-format.js';
import type { Txn } from '../../../server/quorum/index.js';
import { epochOf, makeZxid } from '../../../server/quorum/zxid.js';
import { apacheAvailable, startApache } from '../../support/apache.js';
import { freePort } from '../../support/ports.js';
import { FaultFileSystem } from '../../unit/persistence/fault-fs.js';
import { RawSession } from '../persistence/raw-client.js';
import { crashCoreOptions, crashTxns, txnAt } from './disk-storage-child.js';

const T0 = 1_700_000_000_000;
const OPEN_ACL: ACL[] = [{ perms: Perms.ALL, id: { scheme: 'world', id: 'anyone' } }];
const READ_ACL: ACL[] = [{ perms: Perms.READ, id: { scheme: 'world', id: 'anyone' } }];

const coreOptions = (startTimeMs = T0): ServerCoreOptions => ({
  tickTimeMs: 2000,
  minSessionTimeoutMs: 4000,
  maxSessionTimeoutMs: 40_000,
  extendedTypesEnabled: true,
  startTimeMs,
});

/** A leader's core that prepares txns in `epoch` and applies them at once; yields quorum txns. */
class Leader {
  readonly core: ServerCore;
  private ctx: Omit<RequestContext, 'cxid'> | undefined;
  private cxid = 0;

  constructor(epoch: bigint, startTimeMs = T0) {
    this.core = new ServerCore(coreOptions(startTimeMs));
    const view = this.core.snapshot();
    const nodes = [...view.nodes];
    this.core.restore({ ...view, nodes, lastProcessedZxid: makeZxid(epoch, 0n) }, T0);
  }

  private commit(txn: ReturnType<ServerCore['prepare']>): Txn {
    this.core.apply(txn);
    return { zxid: txn.header.zxid, payload: encodeTxnPayload(txn) };
  }

  session(): Txn {
    const session = this.core.createSession(30_000, T0);
    this.ctx = { sessionId: session.sessionId, authIds: [] };
    return this.commit(session.txn);
  }

  write(opcode: number, request: unknown): Txn {
    if (this.ctx === undefined) throw new Error('no session');
    return this.commit(this.core.prepare({ ...this.ctx, cxid: ++this.cxid }, opcode, request, T0));
  }

  create(path: string, data = 'x', flags = 0, acl = OPEN_ACL): Txn {
    return this.write(OpCode.create2, { path, data: Buffer.from(data), acl, flags });
  }

  /** A session, then `count` creates under /n. */
  batch(count: number, prefix = 'n'): Txn[] {
    const txns = [this.session(), this.create(`/${prefix}`)];
    for (let i = 0; txns.length < count; i++) txns.push(this.create(`/${prefix}/c${i}`, `v${i}`));
    return txns.slice(0, count);
  }
}

/** What a snapshot must reproduce, comparable with deepEqual. */
function describeCore(core: ServerCore) {
  const view = core.snapshot();
  return {
    zxid: view.lastProcessedZxid,
    nodes: [...view.nodes].map((node) => ({ ...node, acl: view.acls.get(node.aclRef) ?? 'open' })),
    sessions: core.sessions(),
    ephemerals: core.ephemeralsBySession(),
    digest: coreDigest(core).digest,
  };
}

/** Applies logged txns to a follower's core, as deliver outputs would. */
function deliver(storage: DiskPeerStorage, core: ServerCore, txns: readonly Txn[]): void {
  for (const txn of txns) {
    core.apply(decodeTxnPayload(Buffer.from(txn.payload)));
    storage.applied(core, txn.zxid);
  }
}

const zxids = (txns: readonly Txn[]) => txns.map((txn) => txn.zxid);
const payloads = (txns: readonly Txn[]) => txns.map((txn) => Buffer.from(txn.payload).toString('hex'));

describe('ensemble disk peer storage', function () {
  this.timeout(20_000);
  let dataDir: string;
  let logDir: string;
  const opened: DiskPeerStorage[] = [];

  beforeEach(async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), 'peer-data-'));
    logDir = await mkdtemp(path.join(tmpdir(), 'peer-log-'));
  });

  afterEach(async () => {
    for (const storage of opened.splice(0)) await storage.close();
    await rm(dataDir, { recursive: true, force: true });
    await rm(logDir, { recursive: true, force: true });
  });

  const options = (extra: Partial<DiskPeerStorageOptions> = {}): DiskPeerStorageOptions => ({
    dataDir,
    dataLogDir: logDir,
    preAllocBytes: 64 * 1024,
    nowMs: () => T0,
    random: () => 0,
    ...extra,
  });

  /**
   * Opens storage into a fresh core; returns both and what open() recovered. With `epoch`, first
   * records accepting and following that epoch, as a peer does before it logs any of its txns.
   */
  async function openPeer(extra: Partial<DiskPeerStorageOptions> = {}, epoch?: bigint) {
    const storage = new DiskPeerStorage(options(extra));
    opened.push(storage);
    const core = new ServerCore(coreOptions());
    const state = await storage.open(core);
    if (epoch !== undefined && state.acceptedEpoch < epoch) {
      await storage.persistEpoch('acceptedEpoch', epoch);
      await storage.persistEpoch('currentEpoch', epoch);
    }
    return { storage, core, state };
  }

  /** Appends and waits until onLogged reported the last zxid. */
  async function appendLogged(storage: DiskPeerStorage, txns: readonly Txn[]): Promise<void> {
    const last = txns.at(-1)!.zxid;
    const logged = new Promise<void>((resolve) => {
      const previous = storage.onLogged;
      storage.onLogged = (zxid) => {
        previous(zxid);
        if (zxid >= last) {
          storage.onLogged = previous;
          resolve();
        }
      };
    });
    storage.append(txns);
    await logged;
  }

  const logFiles = async () =>
    (await readdir(path.join(logDir, 'version-2'))).filter((n) => n.startsWith('log.'));
  const snapshotFiles = async () =>
    (await readdir(path.join(dataDir, 'version-2'))).filter((n) => n.startsWith('snapshot.'));

  it('opens a fresh data dir at epoch 0 with snapshot.0, as Apache', async () => {
    const { state, storage } = await openPeer();
    assert.deepEqual(state, { acceptedEpoch: 0n, currentEpoch: 0n, appliedZxid: 0n, log: [] });
    assert.deepEqual(await snapshotFiles(), ['snapshot.0']);
    assert.deepEqual(storage.recovery?.derivedEpochs, ['currentEpoch', 'acceptedEpoch']);
    const epochs = await readdir(path.join(dataDir, 'version-2'));
    assert.ok(epochs.includes('acceptedEpoch') && epochs.includes('currentEpoch'));
  });

  it('reports logged zxids in order, once durable, and flush waits for every append', async () => {
    const fsyncs: number[] = [];
    const { storage } = await openPeer({ onFsync: (elapsedMs) => fsyncs.push(elapsedMs) });
    const reports: bigint[] = [];
    storage.onLogged = (zxid) => reports.push(zxid);
    const txns = new Leader(1n).batch(30);
    storage.append(txns.slice(0, 10));
    storage.append(txns.slice(10, 11));
    storage.append(txns.slice(11));
    await storage.flush();
    await Promise.resolve(); // the report of the last group commit is a microtask behind its sync
    assert.ok(reports.length > 0 && reports.length <= 30, `reports: ${reports.length}`);
    for (let i = 1; i < reports.length; i++) assert.ok(reports[i] > reports[i - 1], 'ascending');
    assert.equal(reports.at(-1), txns.at(-1)!.zxid);
    assert.ok(reports.every((zxid) => zxids(txns).includes(zxid)));
    assert.ok(fsyncs.length > 0 && fsyncs.length <= reports.length, 'one fsync covers a group of appends');
  });

  it('makes every append durable on close, even those not yet reported', async () => {
    const txns = new Leader(1n).batch(50);
    {
      const { storage } = await openPeer({}, 1n);
      for (const txn of txns) storage.append([txn]);
      await storage.close();
      storage.append(new Leader(1n).batch(51).slice(50)); // after close: ignored, never half-written
    }
    const { state } = await openPeer();
    assert.deepEqual(payloads(state.log), payloads(txns));
  });

  it('reopens with the epochs, the snapshot state and the log above it', async () => {
    const leader = new Leader(1n);
    const txns = leader.batch(12);
    {
      const { storage, core } = await openPeer({ snapCount: 6 });
      await storage.persistEpoch('acceptedEpoch', 2n);
      await storage.persistEpoch('currentEpoch', 1n);
      await appendLogged(storage, txns);
      // snapCount 6 with no randomness: the 4th applied txn starts a background snapshot.
      deliver(storage, core, txns.slice(0, 4));
      await storage.snapshotDone();
      assert.ok((await snapshotFiles()).includes(`snapshot.${txns[3].zxid.toString(16)}`));
      await storage.close();
    }
    const expected = new Leader(1n);
    const replay = expected.batch(4);
    assert.deepEqual(zxids(replay), zxids(txns.slice(0, 4)));
    const { state, core, storage } = await openPeer();
    assert.equal(state.acceptedEpoch, 2n);
    assert.equal(state.currentEpoch, 1n);
    assert.equal(state.appliedZxid, txns[3].zxid);
    assert.deepEqual(zxids(state.log), zxids(txns.slice(4)));
    assert.deepEqual(payloads(state.log), payloads(txns.slice(4)));
    assert.deepEqual(describeCore(core), describeCore(expected.core));
    assert.equal(storage.recovery?.tornTail, undefined);
  });

  it('converges after a fuzzy snapshot: reopen, then delivering the log gives the leader tree', async () => {
    const leader = new Leader(1n);
    const big = Buffer.alloc(200 * 1024, 7).toString('latin1');
    const early = [leader.session(), leader.create('/big')];
    for (let i = 0; i < 15; i++) early.push(leader.create(`/big/n${i}`, big));
    const late: Txn[] = [];
    for (let i = 0; i < 20; i++) {
      late.push(leader.create(`/big/m${i}`, `m${i}`));
      late.push(leader.write(OpCode.setData, { path: '/big', data: Buffer.from(`v${i}`), version: i }));
    }
    {
      // snapCount 32, no randomness: the 17th applied txn starts a snapshot of 3 MiB of nodes. When
      // its first 1 MiB chunk is written (the walk is past /big), the later txns are applied: the
      // file then holds /big as before them and some of the nodes they create.
      let midWalk: (() => void) | undefined;
      const fileSystem = onFirstWrite(/tmp\.snapshot\.1/, () => midWalk?.()); // not snapshot.0
      const { storage, core } = await openPeer({ snapCount: 32, fileSystem }, 1n);
      await appendLogged(storage, [...early, ...late]);
      midWalk = () => deliver(storage, core, late);
      deliver(storage, core, early);
      await storage.snapshotDone();
      assert.deepEqual(describeCore(core), describeCore(leader.core));
      await storage.close();
    }
    const snapshot = (await snapshotFiles()).find((name) => name !== 'snapshot.0')!;
    const dump = (await dumpSnapshot(path.join(dataDir, 'version-2', snapshot))).join('\n');
    assert.match(dump, /\/big\/m0/, 'the snapshot is fuzzy: it holds a node created after its zxid');
    const { state, storage, core } = await openPeer();
    assert.equal(state.appliedZxid, early.at(-1)!.zxid);
    deliver(storage, core, state.log);
    assert.deepEqual(describeCore(core), describeCore(leader.core));
  });

  it('derives missing epoch files from the last logged zxid, as Apache', async () => {
    const txns = new Leader(3n).batch(3);
    {
      const { storage } = await openPeer();
      await appendLogged(storage, txns);
      await storage.close();
    }
    await rm(path.join(dataDir, 'version-2', 'currentEpoch'));
    await rm(path.join(dataDir, 'version-2', 'acceptedEpoch'));
    const { state } = await openPeer();
    assert.equal(state.currentEpoch, 3n);
    assert.equal(state.acceptedEpoch, 3n);
  });

  it('raises a currentEpoch behind the data, refuses an accepted epoch below it', async () => {
    const leader = new Leader(4n);
    leader.batch(3);
    {
      const { storage, core } = await openPeer({}, 1n);
      await storage.persistEpoch('acceptedEpoch', 5n);
      const bytes = storage.serializeSnapshot(leader.core);
      await storage.installSnapshot(core, leader.core.lastProcessedZxid, bytes);
      await storage.close();
    }
    const { state, storage } = await openPeer();
    assert.equal(state.currentEpoch, 4n);
    assert.equal(state.acceptedEpoch, 5n);
    await storage.persistEpoch('acceptedEpoch', 3n);
    await storage.close();
    await assert.rejects(openPeer(), /accepted epoch 3 is less than the current epoch 4/);
  });

  it('snapshots every snapCount applied txns, purges to the newest three, reopens there', async () => {
    const txns = new Leader(1n).batch(30);
    const { storage, core } = await openPeer({ snapCount: 4 }, 1n);
    await appendLogged(storage, txns);
    for (const txn of txns) {
      deliver(storage, core, [txn]);
      await storage.snapshotDone();
    }
    // random 0, snapCount 4: every 3rd applied txn snapshots (and rolls the log).
    assert.equal((await snapshotFiles()).length, 11);
    await storage.purge(3);
    const kept = (await snapshotFiles()).map((name) => BigInt(`0x${name.slice('snapshot.'.length)}`));
    assert.deepEqual(kept.sort((a, b) => (a < b ? -1 : 1)), [txns[23].zxid, txns[26].zxid, txns[29].zxid]);
    await storage.close();
    const reopened = await openPeer();
    assert.equal(reopened.state.appliedZxid, txns[29].zxid);
    assert.deepEqual(reopened.state.log, []);
    assert.deepEqual(describeCore(reopened.core), describeCore(core));
  });

  it('autopurges when it opens, as Apache\'s cleanup manager starts with a purge', async () => {
    const txns = new Leader(1n).batch(12);
    {
      const { storage, core } = await openPeer({ snapCount: 4 }, 1n);
      await appendLogged(storage, txns);
      for (const txn of txns) {
        deliver(storage, core, [txn]);
        await storage.snapshotDone();
      }
      await storage.close();
    }
    assert.equal((await snapshotFiles()).length, 5);
    const purging = { autopurgeIntervalMs: 3_600_000, autopurgeSnapRetainCount: 3 };
    const { storage, state } = await openPeer(purging);
    await storage.flush(); // runs after the purge started at open
    assert.equal((await snapshotFiles()).length, 3);
    assert.equal(state.appliedZxid, txns[11].zxid);
  });

  it('takes its options from zoo.cfg as Apache names them', () => {
    const { config } = parseZooCfg(
      'dataDir=/d\ndataLogDir=/l\nsnapCount=7\npreAllocSize=128\nforceSync=no\n' +
        'autopurge.snapRetainCount=5\nautopurge.purgeInterval=2\nfsync.warningthresholdms=250\n',
    );
    const chosen = diskPeerStorageOptions(config, { snapCount: 9 });
    assert.deepEqual(
      { ...chosen },
      {
        dataDir: '/d',
        dataLogDir: '/l',
        forceSync: false,
        fsyncWarningThresholdMs: 250,
        preAllocBytes: 128 * 1024,
        snapCount: 9,
        autopurgeSnapRetainCount: 5,
        autopurgeIntervalMs: 2 * 3600_000,
      },
    );
  });

  it('truncates a log spread over several files, keeps appending, and reopens to the same log', async () => {
    const txns = new Leader(1n).batch(9);
    for (const slice of [txns.slice(0, 3), txns.slice(3, 6)]) {
      const { storage } = await openPeer({}, 1n);
      await appendLogged(storage, slice);
      await storage.close();
    }
    const { storage } = await openPeer();
    await appendLogged(storage, txns.slice(6));
    assert.equal((await logFiles()).length, 3);
    const reports: bigint[] = [];
    storage.onLogged = (zxid) => reports.push(zxid);
    await storage.truncate(txns[4].zxid);
    assert.equal((await logFiles()).length, 2);
    await storage.persistEpoch('acceptedEpoch', 2n);
    // A new epoch's txn after the cut: a different history from the same point.
    const next = new Leader(2n);
    next.session();
    const replacement = next.create('/other');
    await appendLogged(storage, [replacement]);
    assert.deepEqual(reports, [replacement.zxid]);
    await storage.close();
    const reopened = await openPeer();
    assert.deepEqual(zxids(reopened.state.log), [...zxids(txns.slice(0, 5)), replacement.zxid]);
    assert.deepEqual(payloads(reopened.state.log), payloads([...txns.slice(0, 5), replacement]));
  });

  it('truncates appends made behind a pending truncate only when issued before it', async () => {
    const txns = new Leader(1n).batch(6);
    const { storage } = await openPeer({}, 2n);
    await appendLogged(storage, txns.slice(0, 4));
    const truncated = storage.truncate(txns[1].zxid);
    const replacement = new Leader(2n);
    replacement.session();
    const after = replacement.create('/after');
    storage.append([after]); // issued after the truncate: must survive it
    await truncated;
    await storage.flush();
    await storage.close();
    const { state } = await openPeer();
    assert.deepEqual(zxids(state.log), [...zxids(txns.slice(0, 2)), after.zxid]);
  });

  it('leaves a prefix of the log when a truncate fails part way (as a crash there would)', async () => {
    const txns = new Leader(1n).batch(9);
    for (const slice of [txns.slice(0, 3), txns.slice(3, 6), txns.slice(6)]) {
      const { storage } = await openPeer({}, 1n);
      await appendLogged(storage, slice);
      await storage.close();
    }
    const fileSystem = new FaultFileSystem();
    const failures: Error[] = [];
    const { storage } = await openPeer({ fileSystem, onFailure: (error) => failures.push(error) });
    // The later file goes, then cutting log.<txns[3]> fails: the log must still be gap-free.
    fileSystem.fault = { op: 'truncate', code: 'EIO', file: /log\./ };
    await assert.rejects(storage.truncate(txns[4].zxid), /EIO/);
    assert.equal(failures.length, 1);
    await assert.rejects(storage.persistEpoch('currentEpoch', 1n), /EIO/);
    fileSystem.fault = null;
    await storage.close();
    const { state } = await openPeer();
    assert.deepEqual(zxids(state.log), zxids(txns.slice(0, 6)));
  });

  it('leaves a consistent data dir when installing a snapshot fails part way', async () => {
    const leader = new Leader(2n);
    leader.batch(10, 'leader');
    const fileSystem = new FaultFileSystem();
    const { storage, core } = await openPeer({ fileSystem, onFailure: () => {} }, 1n);
    const own = new Leader(1n).batch(6, 'own');
    await appendLogged(storage, own);
    fileSystem.fault = { op: 'open', code: 'ENOSPC', file: /tmp\.snapshot/ };
    const bytes = storage.serializeSnapshot(leader.core);
    await assert.rejects(storage.installSnapshot(core, leader.core.lastProcessedZxid, bytes), /ENOSPC/);
    assert.ok(storage.failed);
    fileSystem.fault = null;
    await storage.close();
    // The old state as it was (our log is all below the leader's zxid, so nothing was cut).
    const { state } = await openPeer();
    assert.equal(state.appliedZxid, 0n);
    assert.deepEqual(payloads(state.log), payloads(own));
  });

  it('refuses to truncate or install below a snapshot it holds (applied state never goes back)', async () => {
    const txns = new Leader(1n).batch(4);
    const failures: Error[] = [];
    const { storage, core } = await openPeer({ onFailure: (error) => failures.push(error) }, 1n);
    await appendLogged(storage, txns);
    const version2 = path.join(dataDir, 'version-2');
    const above = path.join(version2, `snapshot.${txns[3].zxid.toString(16)}`);
    await copyFile(path.join(version2, 'snapshot.0'), above);
    await assert.rejects(storage.truncate(txns[1].zxid), /snapshot\.100000004 is newer/);
    assert.equal(failures.length, 1);
    const leader = new Leader(1n);
    leader.batch(2);
    const bytes = storage.serializeSnapshot(leader.core);
    const zxid = leader.core.lastProcessedZxid;
    await assert.rejects(storage.installSnapshot(core, zxid, bytes), /is newer/);
  });

  it('installs a leader snapshot: same tree, no old log, and a reopen starts from it', async () => {
    const leader = new Leader(2n);
    leader.batch(15, 'leader');
    const zxid = leader.core.lastProcessedZxid;
    const { storage, core } = await openPeer();
    await storage.persistEpoch('acceptedEpoch', 2n);
    // A diverged history of our own in epoch 1, some applied, all logged.
    const own = new Leader(1n).batch(8, 'own');
    await appendLogged(storage, own);
    deliver(storage, core, own.slice(0, 3));
    const bytes = storage.serializeSnapshot(leader.core);
    await storage.installSnapshot(core, zxid, bytes);
    assert.deepEqual(describeCore(core), describeCore(leader.core));
    assert.deepEqual(await logFiles(), []);
    assert.ok((await snapshotFiles()).includes(`snapshot.${zxid.toString(16)}`));
    const later = [leader.create('/later1'), leader.create('/later2')];
    await appendLogged(storage, later);
    await storage.close();
    const reopened = await openPeer();
    assert.equal(reopened.state.appliedZxid, zxid);
    assert.deepEqual(payloads(reopened.state.log), payloads(later));
    deliver(reopened.storage, reopened.core, reopened.state.log);
    assert.deepEqual(describeCore(reopened.core), describeCore(leader.core));
  });

  it('refuses a damaged snapshot from the leader and leaves the core and disk as they were', async () => {
    const leader = new Leader(1n);
    leader.batch(5);
    const { storage, core } = await openPeer();
    const before = describeCore(core);
    const bytes = Buffer.from(storage.serializeSnapshot(leader.core));
    bytes[bytes.length - 30] ^= 0xff;
    await assert.rejects(storage.installSnapshot(core, leader.core.lastProcessedZxid, bytes), /snapshot/);
    assert.deepEqual(describeCore(core), before);
    assert.equal(storage.failed, undefined);
    assert.deepEqual(await snapshotFiles(), ['snapshot.0']);
  });

  it('round-trips a snapshot (node kinds, ACLs, sessions, ephemerals) into an identical tree', async () => {
    const leader = new Leader(1n);
    leader.session();
    leader.create('/a', 'data');
    leader.create('/a/eph', 'e', CreateMode.EPHEMERAL);
    leader.create('/a/seq-', 's', CreateMode.PERSISTENT_SEQUENTIAL);
    leader.create('/ro', 'r', 0, READ_ACL);
    leader.write(OpCode.setData, { path: '/a', data: Buffer.from('changed'), version: 0 });
    leader.write(OpCode.createContainer, { path: '/box', data: Buffer.alloc(0), acl: OPEN_ACL, flags: 4 });
    leader.write(OpCode.delete, { path: '/a/seq-0000000000', version: -1 });
    const { storage } = await openPeer();
    const bytes = storage.serializeSnapshot(leader.core);
    // Into a fresh core and into one that already holds another state.
    const other = new Leader(1n, T0 + 86_400_000);
    other.batch(3, 'other'); // a session of its own and nodes the snapshot does not have
    for (const target of [new ServerCore(coreOptions()), other.core]) {
      const scratchDir = await mkdtemp(path.join(tmpdir(), 'peer-rt-'));
      const scratch = new DiskPeerStorage(options({ dataDir: scratchDir, dataLogDir: scratchDir }));
      try {
        await scratch.open(new ServerCore(coreOptions()));
        await scratch.installSnapshot(target, leader.core.lastProcessedZxid, bytes);
        const got = describeCore(target);
        const want = describeCore(leader.core);
        assert.deepEqual(got.nodes, want.nodes);
        assert.deepEqual(got, want);
      } finally {
        await scratch.close();
        await rm(scratchDir, { recursive: true, force: true });
      }
    }
  });

  it('digests a node with empty data the same, whatever buffer holds it (as Java does)', () => {
    const stat = [...new ServerCore(coreOptions()).snapshot().nodes][0].stat;
    // An empty view of a zero-length ArrayBuffer has no data pointer; zlib's crc32 then returns 0.
    const noBytes = new Uint8Array(new ArrayBuffer(0));
    const empty = [null, Buffer.alloc(0), noBytes, Buffer.from('ab').subarray(1, 1)];
    const digests = new Set(empty.map((data) => nodeDigest('/x', data, stat)));
    assert.equal(digests.size, 1);
  });

  it('cuts a torn tail (a crash mid-append) and appends after it', async () => {
    const txns = new Leader(1n).batch(5);
    {
      const { storage } = await openPeer({}, 1n);
      await appendLogged(storage, txns);
      await storage.close();
    }
    const [name] = await logFiles();
    const file = path.join(logDir, 'version-2', name);
    let lastOffset = 0;
    for await (const entry of logEntries(file)) lastOffset = entry.offset;
    const lastEntryBytes = 13 + Buffer.from(txns[4].payload).length;
    const handle = await open(file, 'r+');
    await handle.truncate(lastOffset + lastEntryBytes - 3);
    await handle.close();
    const { state, storage } = await openPeer();
    assert.deepEqual(zxids(state.log), zxids(txns.slice(0, 4)));
    assert.equal(storage.recovery?.tornTail?.offset, lastOffset);
    assert.equal((await stat(file)).size, lastOffset);
    await appendLogged(storage, [txns[4]]);
    await storage.close();
    const reopened = await openPeer();
    assert.deepEqual(payloads(reopened.state.log), payloads(txns));
  });

  it('writes logs and snapshots that zk-server dump-log and dump-snapshot read', async () => {
    const leader = new Leader(1n);
    const txns = leader.batch(6);
    const { storage, core } = await openPeer({ snapCount: 6 }, 1n);
    await appendLogged(storage, txns);
    deliver(storage, core, txns);
    await storage.snapshotDone();
    await storage.close();
    const [logName] = await logFiles();
    const logLines = (await dumpLog(path.join(logDir, 'version-2', logName))).join('\n');
    for (const txn of txns) assert.match(logLines, new RegExp(`0x${txn.zxid.toString(16)}`));
    const snapshot = (await snapshotFiles()).find((name) => name !== 'snapshot.0')!;
    const snapshotLines = (await dumpSnapshot(path.join(dataDir, 'version-2', snapshot))).join('\n');
    assert.match(snapshotLines, /\/n\/c1/);
  });

  it('reports a failed write once, rejects barriers, and never reports the lost txns logged', async () => {
    const fileSystem = new FaultFileSystem();
    const failures: Error[] = [];
    const { storage } = await openPeer({ fileSystem, onFailure: (error) => failures.push(error) }, 1n);
    const reports: bigint[] = [];
    storage.onLogged = (zxid) => reports.push(zxid);
    const txns = new Leader(1n).batch(6);
    await appendLogged(storage, txns.slice(0, 3));
    fileSystem.fault = { op: 'datasync', code: 'ENOSPC', file: /log\./ };
    storage.append(txns.slice(3));
    await assert.rejects(storage.flush(), /ENOSPC|failed/);
    await assert.rejects(storage.persistEpoch('currentEpoch', 1n), /ENOSPC|failed/);
    assert.equal(failures.length, 1);
    assert.ok(storage.failed !== undefined);
    assert.ok(reports.every((zxid) => zxid <= txns[2].zxid), 'nothing after the failure reported');
    fileSystem.fault = null;
    await storage.close();
    const { state } = await openPeer();
    assert.deepEqual(zxids(state.log), zxids(txns.slice(0, 3)));
  });

  it('refuses an append whose payload is not the txn it claims to be', async () => {
    const failures: Error[] = [];
    const { storage } = await openPeer({ onFailure: (error) => failures.push(error) });
    const [txn] = new Leader(1n).batch(1);
    storage.append([{ zxid: txn.zxid + 1n, payload: txn.payload }]);
    assert.equal(failures.length, 1);
    await assert.rejects(storage.flush());
  });

  /** Runs the child until it made `reports` durability reports, then SIGKILLs it; returns them all. */
  async function appendUntilKilled(dir: string, reports: number): Promise<bigint[]> {
    return (await runUntilKilled(dir, 'append', reports))
      .filter((line) => line.startsWith('logged '))
      .map((line) => BigInt(line.slice('logged '.length)));
  }

  /** Runs the child in `mode` until it printed `lines` lines, SIGKILLs it; returns every line. */
  async function runUntilKilled(dir: string, mode: 'append' | 'truncate', lines: number): Promise<string[]> {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', path.join(import.meta.dirname, 'disk-storage-child.ts'), dir, mode],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stdout = '';
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const closed = new Promise<void>((resolve) => child.once('close', () => resolve()));
    try {
      await new Promise<void>((resolve, reject) => {
        child.stdout.on('data', (chunk: Buffer) => {
          stdout += chunk.toString();
          if (stdout.split('\n').length > lines) resolve();
        });
        child.once('exit', (code, signal) => {
          reject(new Error(`child exited (${code ?? signal}): ${stderr}`));
        });
      });
    } finally {
      child.kill('SIGKILL');
      await closed;
    }
    // Every line the child wrote before the kill, including those still in the pipe then.
    return stdout.split('\n').filter((line) => line.length > 0);
  }

  it('loses nothing reported logged when killed with SIGKILL mid-append', async function () {
    this.timeout(60_000);
    for (const reports of [10, 200]) {
      const dir = await mkdtemp(path.join(tmpdir(), 'peer-crash-'));
      try {
        const logged = await appendUntilKilled(dir, reports);
        const reported = logged.reduce((a, b) => (a > b ? a : b), 0n);
        assert.ok(logged.length >= reports, `reports: ${logged.length}`);
        const storage = new DiskPeerStorage({ dataDir: dir });
        try {
          const state = await storage.open(new ServerCore(crashCoreOptions));
          const last = state.log.at(-1)?.zxid ?? 0n;
          const describe = (zxid: bigint) => `0x${zxid.toString(16)}`;
          assert.ok(last >= reported, `reopened at ${describe(last)}, reported ${describe(reported)}`);
          const expected = crashTxns();
          for (const txn of state.log) {
            assert.deepEqual(payloads([txn]), payloads([expected.next().value as Txn]));
          }
        } finally {
          await storage.close();
        }
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    }
  });

  it('reopens to a gap-free log when killed with SIGKILL while truncating in a loop', async function () {
    this.timeout(60_000);
    for (const lines of [5, 24, 61]) {
      const dir = await mkdtemp(path.join(tmpdir(), 'peer-crash-'));
      try {
        const events = await runUntilKilled(dir, 'truncate', lines);
        const storage = new DiskPeerStorage({ dataDir: dir });
        try {
          const state = await storage.open(new ServerCore(crashCoreOptions));
          // Each logged round ends at the zxid printed; a completed truncate cut its round back.
          const kept = new Map<bigint, bigint>(); // epoch → last zxid that must be there
          const cut = new Map<bigint, bigint>(); // epoch → zxid above which nothing may be
          for (const event of events) {
            const [what, value] = event.split(' ');
            const zxid = BigInt(value);
            kept.set(epochOf(zxid), zxid);
            if (what === 'truncated') cut.set(epochOf(zxid), zxid);
          }
          const present = new Set(state.log.map((txn) => txn.zxid));
          for (const txn of state.log) {
            assert.deepEqual(payloads([txn]), payloads([txnAt(txn.zxid)]), 'bytes as written');
            const limit = cut.get(epochOf(txn.zxid));
            assert.ok(limit === undefined || txn.zxid <= limit, `0x${txn.zxid.toString(16)} was truncated`);
          }
          for (const [epoch, last] of kept) {
            for (let zxid = makeZxid(epoch, 1n); zxid <= last; zxid++) {
              assert.ok(present.has(zxid), `0x${zxid.toString(16)} was logged and kept`);
            }
          }
          for (let i = 1; i < state.log.length; i++) assert.ok(state.log[i].zxid > state.log[i - 1].zxid);
        } finally {
          await storage.close();
        }
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    }
  });

  it('leaves a data dir (logs in dataLogDir) that Apache 3.8 standalone starts on', async function () {
    if (!apacheAvailable()) this.skip();
    this.timeout(60_000);
    // Epoch 1: logged, part applied (background snapshots), then cut back; epoch 2 continues.
    const first = new Leader(1n);
    const txns = first.batch(20, 'one');
    const expected = new Leader(1n);
    expected.batch(14, 'one');
    const second = new Leader(2n, T0 + 86_400_000);
    second.session();
    const later = [second.create('/two', 'a'), second.create('/two/x', 'b')];
    {
      const { storage, core } = await openPeer({ snapCount: 6 }, 1n);
      await appendLogged(storage, txns);
      deliver(storage, core, txns.slice(0, 12));
      await storage.snapshotDone();
      await storage.truncate(txns[13].zxid);
      await storage.persistEpoch('acceptedEpoch', 2n);
      await storage.persistEpoch('currentEpoch', 2n);
      await appendLogged(storage, later);
      await storage.close();
    }
    for (const txn of later) expected.core.apply(decodeTxnPayload(Buffer.from(txn.payload)));
    await using apache = await startApache({ dataDir, keepDataDir: true, config: { dataLogDir: logDir } });
    await using session = await RawSession.connect(apache.port);
    const ctx = { sessionId: 0n, cxid: 1, authIds: [] };
    const paths = [...expected.core.snapshot().nodes].map((node) => node.path);
    assert.ok(paths.includes('/one/c11') && paths.includes('/two/x') && !paths.includes('/one/c12'));
    for (const nodePath of paths.filter((p) => !p.startsWith('/zookeeper'))) {
      const ours = expected.core.read(ctx, OpCode.getData, { path: nodePath, watch: false });
      const theirs = await session.getData(nodePath);
      assert.equal(theirs.err, 0, `Apache has ${nodePath}`);
      assert.deepEqual(theirs.body, ours.response, `data and stat of ${nodePath}`);
    }
    const gone = await session.getData('/one/c12');
    assert.notEqual(gone.err, 0, 'a truncated txn does not replay');
  });

  /** Apache 3.8 as a one-member quorum (a real QuorumPeer with epochs, not standalone) on dataDir. */
  async function startApachePeer() {
    await writeFile(path.join(dataDir, 'myid'), '1\n');
    const [quorumPort, electionPort] = [await freePort(), await freePort()];
    return await startApache({
      dataDir,
      keepDataDir: true,
      config: {
        dataLogDir: logDir,
        standaloneEnabled: false,
        initLimit: 5,
        syncLimit: 2,
        'server.1': `127.0.0.1:${quorumPort}:${electionPort}:participant`,
      },
    });
  }

  it('opens the data dir of an Apache 3.8 quorum peer: its epochs and its log', async function () {
    if (!apacheAvailable()) this.skip();
    this.timeout(60_000);
    {
      await using apache = await startApachePeer();
      await using session = await RawSession.connect(apache.port);
      for (const name of ['a', 'b', 'c']) {
        const create = { path: `/${name}`, data: Buffer.from(name), acl: OPEN_ACL, flags: 0 };
        const reply = await session.request(OpCode.create, R.CreateRequest, create, R.CreateResponse);
        assert.equal(reply.err, 0);
      }
    }
    const { state, core, storage } = await openPeer();
    assert.ok(state.currentEpoch >= 1n && state.acceptedEpoch >= state.currentEpoch, `${state.currentEpoch}`);
    deliver(storage, core, state.log);
    const ctx = { sessionId: 0n, cxid: 1, authIds: [] };
    for (const name of ['a', 'b', 'c']) {
      const reply = core.read(ctx, OpCode.getData, { path: `/${name}`, watch: false });
      assert.equal(reply.err, 0, `/${name} is in the snapshot or the log`);
      assert.deepEqual((reply.response as R.GetDataResponse).data, Buffer.from(name));
    }
  });

  it('leaves a peer data dir that an Apache 3.8 quorum peer starts on and serves', async function () {
    if (!apacheAvailable()) this.skip();
    this.timeout(60_000);
    const leader = new Leader(2n);
    const txns = leader.batch(8, 'ours');
    {
      const { storage, core } = await openPeer({ snapCount: 6 }, 2n);
      await appendLogged(storage, txns);
      deliver(storage, core, txns.slice(0, 5));
      await storage.snapshotDone();
      await storage.close();
    }
    await using apache = await startApachePeer();
    await using session = await RawSession.connect(apache.port);
    const ctx = { sessionId: 0n, cxid: 1, authIds: [] };
    for (const node of [...leader.core.snapshot().nodes].filter((n) => n.path.startsWith('/ours'))) {
      const ours = leader.core.read(ctx, OpCode.getData, { path: node.path, watch: false });
      const theirs = await session.getData(node.path);
      assert.equal(theirs.err, 0, `Apache has ${node.path}`);
      assert.deepEqual(theirs.body, ours.response, `data and stat of ${node.path}`);
    }
    const epochs = await readdir(path.join(dataDir, 'version-2'));
    assert.ok(epochs.includes('currentEpoch'));
  });

  it('agrees with a model over seeded runs of appends, applies, truncates, installs, reopens', async () => {
    for (const seed of [1, 2, 3]) await modelRun(seed);
  });

  /** One seeded run; every reopen must give back the model's epochs and log above the snapshot. */
  async function modelRun(seed: number): Promise<void> {
    const random = seededRandom(seed);
    const pick = (n: number) => Math.floor(random() * n);
    const scratch = new ServerCore(coreOptions());
    const ctx = { sessionId: 0n, authIds: [] };
    let made = 0;
    /** A create at the root under a zxid of our choosing (the payload names it in its header). */
    const txnAt = (zxid: bigint): Txn => {
      const data = Buffer.from([made % 256]);
      const request = { path: `/s${seed}-${made++}`, data, acl: OPEN_ACL, flags: 0 };
      const prepared = scratch.prepare({ ...ctx, cxid: made }, OpCode.create, request, T0);
      return { zxid, payload: encodeTxnPayload({ ...prepared, header: { ...prepared.header, zxid } }) };
    };
    await rm(path.join(dataDir, 'version-2'), { recursive: true, force: true });
    await rm(path.join(logDir, 'version-2'), { recursive: true, force: true });
    let peer = await openPeer({ snapCount: 2 + pick(4), forceSync: false, random });
    let log: Txn[] = []; // the model: logged txns above `applied`, and how far the core applied
    let applied = 0n;
    let epoch = 1n;
    await peer.storage.persistEpoch('acceptedEpoch', epoch);
    await peer.storage.persistEpoch('currentEpoch', epoch);
    let counter = 0n;
    const nextZxid = () => makeZxid(epoch, ++counter);
    for (let step = 0; step < 60; step++) {
      const { storage, core } = peer;
      const choice = pick(10);
      const trace = `seed ${seed} step ${step} choice ${choice}`;
      if (choice < 3 || choice === 9) {
        const txns = Array.from({ length: 1 + pick(5) }, () => txnAt(nextZxid()));
        await appendLogged(storage, txns);
        log.push(...txns);
      } else if (choice < 6) {
        const count = pick(log.filter((txn) => txn.zxid > applied).length + 1);
        const deliverable = log.filter((txn) => txn.zxid > applied).slice(0, count);
        deliver(storage, core, deliverable);
        await storage.snapshotDone();
        applied = deliverable.at(-1)?.zxid ?? applied;
      } else if (choice < 7) {
        const candidates = [applied, ...log.filter((txn) => txn.zxid > applied).map((txn) => txn.zxid)];
        const to = candidates[pick(candidates.length)];
        await storage.truncate(to);
        log = log.filter((txn) => txn.zxid <= to);
        // A new leader's epoch continues after the cut.
        epoch++;
        counter = 0n;
        await storage.persistEpoch('acceptedEpoch', epoch);
      } else if (choice < 8) {
        epoch++;
        counter = 0n;
        const zxid = nextZxid();
        const leader = new ServerCore(coreOptions());
        const view = leader.snapshot();
        leader.restore({ ...view, nodes: [...view.nodes], lastProcessedZxid: zxid }, T0);
        await storage.persistEpoch('acceptedEpoch', epoch);
        await storage.installSnapshot(core, zxid, storage.serializeSnapshot(leader));
        log = [];
        applied = zxid;
        assert.equal(core.lastProcessedZxid, zxid, trace);
      } else {
        await storage.close();
        peer = await openPeer({ snapCount: 2 + pick(4), forceSync: false, random });
        const snapshots = (await snapshotFiles()).map((name) => BigInt(`0x${name.slice(9)}`));
        const newest = snapshots.reduce((a, b) => (a > b ? a : b), 0n);
        assert.equal(peer.state.appliedZxid, newest, trace);
        assert.ok(newest <= applied, `${trace}: a snapshot above what was applied`);
        assert.deepEqual(zxids(peer.state.log), zxids(log.filter((txn) => txn.zxid > newest)), trace);
        assert.deepEqual(payloads(peer.state.log), payloads(log.filter((txn) => txn.zxid > newest)), trace);
        assert.equal(peer.state.acceptedEpoch, epoch, trace);
        log = log.filter((txn) => txn.zxid > newest);
        applied = newest;
      }
    }
    await peer.storage.close();
  }
});

/** A small seeded generator (mulberry32): the same seed gives the same run. */
function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The real file system, calling `hook` once, at the first write to a file whose path matches. */
function onFirstWrite(file: RegExp, hook: () => void): PersistenceFileSystem {
  let fired = false;
  return {
    async open(filePath, flags) {
      const inner = await nodeFileSystem.open(filePath, flags);
      if (!file.test(filePath)) return inner;
      return {
        write(buffer, offset, length, position) {
          if (!fired) {
            fired = true;
            hook();
          }
          return inner.write(buffer, offset, length, position);
        },
        read: (buffer, offset, length, position) => inner.read(buffer, offset, length, position),
        datasync: () => inner.datasync(),
        sync: () => inner.sync(),
        truncate: (length) => inner.truncate(length),
        stat: () => inner.stat(),
        close: () => inner.close(),
      };
    },
  };
}
