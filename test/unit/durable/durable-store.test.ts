// Goal: a ServerCore behind a DurableStore survives close and reopen (tree, stats, ACLs, sessions and
// their ephemerals, zxid), keeps every acknowledged write when the log's tail is torn, re-arms
// restored sessions to expire on schedule, snapshots in the background while writes go on, keeps
// logs in dataLogDir, and refuses damaged or foreign files with an error naming the file.

import assert from 'node:assert/strict';
import { cp, mkdtemp, open, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { CreateMode, OpCode, Perms, type ACL } from '../../../src/protocol/index.js';
import type { RequestContext, Txn } from '../../../server/core/api.js';
import type { ServerCore, ServerCoreOptions } from '../../../server/core/server-core.js';
import { DurableStore, type DurableStoreOptions } from '../../../server/durable/index.js';
import { logEntries } from '../../../server/persistence/recovery.js';
import { encodeLogEntry, encodeLogFileHeader } from '../../../server/persistence/txn-format.js';
import type { Txn as LoggedTxn } from '../../../server/persistence/types.js';
import { FaultFileSystem } from '../persistence/fault-fs.js';
import {
  CorruptLogError,
  PersistenceError,
  UnsupportedFormatError,
} from '../../../server/persistence/types.js';

const T0 = 1_700_000_000_000;
/** A version-2 directory Apache 3.8.0 wrote (three snapshots, three logs with TxnDigests). */
const APACHE_FIXTURES = new URL('../persistence/fixtures/apache-3.8.0/', import.meta.url).pathname;

function compareZxidNames(a: string, b: string): number {
  const zxid = (name: string) => BigInt(`0x${name.slice(name.indexOf('.') + 1)}`);
  return zxid(a) < zxid(b) ? -1 : zxid(a) > zxid(b) ? 1 : 0;
}
const OPEN_ACL: ACL[] = [{ perms: Perms.ALL, id: { scheme: 'world', id: 'anyone' } }];
const DIGEST_ACL: ACL[] = [
  { perms: Perms.ALL, id: { scheme: 'digest', id: 'u:Jq7wMyA/w2Vd5WIDAKdu4OIIFEQ=' } },
];
const READ_ACL: ACL[] = [{ perms: Perms.READ, id: { scheme: 'world', id: 'anyone' } }];

const coreOptions = (startTimeMs: number): ServerCoreOptions => ({
  tickTimeMs: 2000,
  minSessionTimeoutMs: 4000,
  maxSessionTimeoutMs: 40_000,
  extendedTypesEnabled: true,
  startTimeMs,
});

/** Everything a restart must keep, in a comparable form. */
function describeCore(core: ServerCore) {
  const snapshot = core.snapshot();
  return {
    zxid: snapshot.lastProcessedZxid,
    nodes: [...snapshot.nodes].map((node) => ({ ...node, acl: snapshot.acls.get(node.aclRef) ?? 'open' })),
    sessions: core.sessions(),
    ephemerals: core.ephemeralsBySession(),
    nodeCount: core.metrics().nodeCount,
    dataSize: core.metrics().approximateDataSize,
  };
}

/** A client of a durable core: prepare → persist → apply, as the write pipeline does. */
class DurableClient {
  cxid = 0;
  constructor(
    readonly store: DurableStore,
    readonly ctx: Omit<RequestContext, 'cxid'>,
  ) {}

  static async connect(store: DurableStore, nowMs: number, timeoutMs = 30_000): Promise<DurableClient> {
    const session = store.core.createSession(timeoutMs, nowMs);
    await store.persister.persist(session.txn);
    store.core.apply(session.txn);
    return new DurableClient(store, { sessionId: session.sessionId, authIds: [] });
  }

  prepare(opcode: number, request: unknown, nowMs = T0): Txn {
    return this.store.core.prepare({ ...this.ctx, cxid: ++this.cxid }, opcode, request, nowMs);
  }

  async write(opcode: number, request: unknown, nowMs = T0) {
    const txn = this.prepare(opcode, request, nowMs);
    await this.store.persister.persist(txn);
    const reply = this.store.core.apply(txn);
    assert.equal(reply.err, 0, `${opcode} ${JSON.stringify((request as { path?: string }).path)}`);
    return reply;
  }

  create(path: string, data: string | null, flags = 0, acl = OPEN_ACL) {
    return this.write(OpCode.create2, { path, data: data === null ? null : Buffer.from(data), acl, flags });
  }
}

describe('durable store', function () {
  this.timeout(20_000);
  let dataDir: string;
  const options = (extra: Partial<DurableStoreOptions> = {}): DurableStoreOptions => ({
    dataDir,
    core: coreOptions(T0),
    forceSync: false,
    preAllocBytes: 64 * 1024,
    nowMs: () => T0,
    ...extra,
  });

  beforeEach(async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), 'menagerie-durable-'));
  });
  afterEach(async () => {
    await rm(dataDir, { recursive: true, force: true });
  });

  async function buildTree(store: DurableStore): Promise<DurableClient> {
    const client = await DurableClient.connect(store, T0);
    await client.create('/app', 'root');
    await client.create('/app/secret', 'x', 0, DIGEST_ACL);
    const first = await client.create('/app/seq-', 'a', CreateMode.PERSISTENT_SEQUENTIAL);
    const second = await client.create('/app/seq-', 'b', CreateMode.PERSISTENT_SEQUENTIAL);
    await client.create('/app/eph', 'mine', CreateMode.EPHEMERAL);
    await client.create('/app/eseq-', 'e', CreateMode.EPHEMERAL_SEQUENTIAL);
    await client.create('/cont', 'c', CreateMode.CONTAINER);
    await client.create('/cont/child', null);
    await client.write(OpCode.createTTL, {
      path: '/ttl',
      data: Buffer.from('t'),
      acl: OPEN_ACL,
      flags: CreateMode.PERSISTENT_WITH_TTL,
      ttl: 3_600_000n,
    });
    await client.write(OpCode.setData, { path: '/app', data: Buffer.from('root-2'), version: -1 });
    await client.write(OpCode.setACL, { path: (first.response as any).path, acl: READ_ACL, version: -1 });
    await client.write(OpCode.delete, { path: (second.response as any).path, version: -1 });
    await client.write(OpCode.multi, {
      ops: [
        { type: OpCode.create, request: { path: '/m', data: Buffer.from('one'), acl: OPEN_ACL, flags: 0 } },
        { type: OpCode.setData, request: { path: '/m', data: Buffer.from('two'), version: 0 } },
      ],
    });
    return client;
  }

  it('reopens with the same tree, stats, ACLs, sessions, ephemerals; zxids continue', async () => {
    let before;
    let sessionId: bigint;
    {
      await using store = await DurableStore.open(options());
      assert.equal(store.recovery.snapshotFile, undefined);
      const client = await buildTree(store);
      sessionId = client.ctx.sessionId;
      before = describeCore(store.core);
    }
    const files = await readdir(path.join(dataDir, 'version-2'));
    assert.ok(files.includes('snapshot.0'), `a fresh data dir gets snapshot.0: ${files}`);
    await using store = await DurableStore.open(options({ core: coreOptions(T0 + 1_000_000) }));
    assert.deepEqual(describeCore(store.core), before);
    assert.equal(store.recovery.sessions, 1);
    assert.ok(store.recovery.txnsReplayed > 10, `replayed ${store.recovery.txnsReplayed}`);
    const eph = store.core.read({ sessionId, cxid: 1, authIds: [] }, OpCode.exists, { path: '/app/eph' });
    assert.equal((eph.response as any).stat.ephemeralOwner, sessionId);
    const other = await DurableClient.connect(store, T0 + 1_000_000);
    const reply = await other.create('/after', 'restart');
    assert.equal((reply.response as any).stat.czxid, before.zxid + 2n, 'zxids continue after the last one');
    // A third start replays from the clean snapshot taken at the second one.
    await store.close();
    await using again = await DurableStore.open(options({ core: coreOptions(T0 + 2_000_000) }));
    assert.equal(path.basename(again.recovery.snapshotFile!), `snapshot.${before.zxid.toString(16)}`);
    assert.equal(again.recovery.txnsReplayed, 2);
    // The clean snapshot's digest is at its own zxid: no replayed txn has it, so (as in Apache) it is
    // not compared; the TxnDigest logged with the last replayed txn is.
    assert.equal(again.recovery.digestMatched, undefined);
    assert.equal(again.recovery.txnDigestMatched, true);
  });

  it('restored sessions expire one timeout after the restart, and their ephemerals go', async () => {
    let sessionId: bigint;
    {
      await using store = await DurableStore.open(options());
      const client = await DurableClient.connect(store, T0, 10_000);
      sessionId = client.ctx.sessionId;
      await client.create('/lock', 'me', CreateMode.EPHEMERAL);
    }
    const restartMs = T0 + 3_600_000;
    await using store = await DurableStore.open(
      options({ core: coreOptions(restartMs), nowMs: () => restartMs }),
    );
    const next = store.core.nextSessionExpiryMs()!;
    assert.ok(next > restartMs + 8_000 && next <= restartMs + 12_000, `expires at +${next - restartMs} ms`);
    assert.deepEqual(store.core.expiredSessions(restartMs + 5_000), []);
    assert.deepEqual(store.core.expiredSessions(next), [sessionId]);
    const close = store.core.prepareCloseSession(sessionId, next);
    await store.persister.persist(close);
    store.core.apply(close);
    await store.close();
    await using after = await DurableStore.open(options({ core: coreOptions(restartMs + 1) }));
    assert.equal(after.recovery.sessions, 0);
    assert.equal(after.core.ephemeralsBySession().size, 0);
  });

  it('keeps every acknowledged write when the log tail is torn by a crash mid-append', async () => {
    let acknowledged;
    {
      await using store = await DurableStore.open(options());
      await buildTree(store);
      acknowledged = describeCore(store.core);
      // One more write reaches the file, but the crash tears it: it was never acknowledged.
      const client = await DurableClient.connect(store, T0);
      await client.create('/torn', 'never acknowledged');
    }
    const versionDir = path.join(dataDir, 'version-2');
    const logName = (await readdir(versionDir)).filter((name) => name.startsWith('log.')).sort().pop()!;
    const logFile = path.join(versionDir, logName);
    const offsets: number[] = [];
    for await (const entry of logEntries(logFile)) offsets.push(entry.offset);
    const handle = await open(logFile, 'r+');
    await handle.truncate(offsets[offsets.length - 1] + 7); // inside the last entry
    await handle.close();

    await using store = await DurableStore.open(options({ core: coreOptions(T0 + 1_000_000) }));
    assert.equal(store.recovery.tornTail?.file, logFile);
    const recovered = describeCore(store.core);
    // The session whose createSession was acknowledged is back; /torn is not.
    assert.deepEqual(recovered.nodes, acknowledged.nodes);
    assert.equal(recovered.sessions.length, acknowledged.sessions.length + 1);
  });

  it('snapshots in the background every snapCount txns while writes go on; recovers from them', async () => {
    let before;
    {
      await using store = await DurableStore.open(options({ snapCount: 20, random: () => 0 }));
      const client = await DurableClient.connect(store, T0);
      await client.create('/load', '');
      // Pipelined writes: prepared in order, persisted together, applied in order as they land.
      for (let round = 0; round < 8; round++) {
        const batch = [] as Txn[];
        for (let i = 0; i < 10; i++) {
          batch.push(client.prepare(OpCode.create, {
            path: `/load/n-${round}-${i}`, data: Buffer.alloc(200, round), acl: OPEN_ACL, flags: 0,
          }));
        }
        const data = Buffer.from(`r${round}`);
        batch.push(client.prepare(OpCode.setData, { path: '/load', data, version: -1 }));
        await Promise.all(batch.map((txn) => store.persister.persist(txn)));
        for (const txn of batch) assert.equal(store.core.apply(txn).err, 0);
      }
      await store.snapshotDone();
      before = describeCore(store.core);
    }
    const names = await readdir(path.join(dataDir, 'version-2'));
    const snapshots = names.filter((name) => name.startsWith('snapshot.'));
    assert.ok(snapshots.length >= 3, `background snapshots: ${names}`);
    await using store = await DurableStore.open(options({ core: coreOptions(T0 + 1_000_000) }));
    assert.notEqual(path.basename(store.recovery.snapshotFile!), 'snapshot.0');
    assert.deepEqual(describeCore(store.core), before);
  });

  it('keeps the log in dataLogDir and snapshots in dataDir', async () => {
    const dataLogDir = await mkdtemp(path.join(tmpdir(), 'menagerie-durable-log-'));
    try {
      {
        await using store = await DurableStore.open(options({ dataLogDir }));
        await buildTree(store);
      }
      const snapshotFiles = await readdir(path.join(dataDir, 'version-2'));
      const logFiles = await readdir(path.join(dataLogDir, 'version-2'));
      assert.ok(snapshotFiles.every((name) => name.startsWith('snapshot.')), `${snapshotFiles}`);
      assert.ok(logFiles.length > 0 && logFiles.every((name) => name.startsWith('log.')), `${logFiles}`);
      await using store = await DurableStore.open(options({ dataLogDir, core: coreOptions(T0 + 1) }));
      const exists = store.core.read({ sessionId: 0n, cxid: 1, authIds: [] }, OpCode.exists, { path: '/m' });
      assert.equal(exists.err, 0);
    } finally {
      await rm(dataLogDir, { recursive: true, force: true });
    }
  });

  it('fails a write the disk could not take, refuses later ones; reopens with durable ones', async () => {
    const fileSystem = new FaultFileSystem();
    let durable;
    {
      await using store = await DurableStore.open(options({ fileSystem, forceSync: true }));
      const client = await DurableClient.connect(store, T0);
      await client.create('/kept', 'yes');
      durable = describeCore(store.core);
      fileSystem.fault = { op: 'datasync', code: 'ENOSPC', file: /log\./ };
      const lost = client.prepare(OpCode.create, { path: '/lost', data: null, acl: OPEN_ACL, flags: 0 });
      const behind = client.prepare(OpCode.create, { path: '/behind', data: null, acl: OPEN_ACL, flags: 0 });
      const results = await Promise.allSettled([lost, behind].map((txn) => store.persister.persist(txn)));
      assert.deepEqual(results.map((r) => r.status), ['rejected', 'rejected']);
      assert.ok(store.failed);
      fileSystem.fault = null;
      const later = client.prepare(OpCode.create, { path: '/later', data: null, acl: OPEN_ACL, flags: 0 });
      await assert.rejects(store.persister.persist(later), /ENOSPC|failed/);
    }
    await using store = await DurableStore.open(options({ core: coreOptions(T0 + 1_000_000) }));
    assert.deepEqual(describeCore(store.core).nodes, durable.nodes, 'no failed write replays');
  });

  it("checks Apache's TxnDigest after the last replayed txn: equal on its files, else an error", async () => {
    const versionDir = path.join(dataDir, 'version-2');
    await cp(APACHE_FIXTURES, versionDir, { recursive: true });
    const copied = await readdir(versionDir);
    {
      await using store = await DurableStore.open(options());
      assert.equal(store.recovery.txnDigestMatched, true, "our tree digest equals Apache's per-txn digest");
    }
    // The same files with the digest of the newest log's last txn off by one.
    await rm(versionDir, { recursive: true });
    await cp(APACHE_FIXTURES, versionDir, { recursive: true });
    const logs = copied.filter((n) => n.startsWith('log.')).sort(compareZxidNames);
    const newestLog = logs.at(-1)!;
    const file = path.join(versionDir, newestLog);
    const entries: LoggedTxn[] = [];
    for await (const entry of logEntries(file)) entries.push(entry.txn);
    const last = entries.at(-1)!;
    assert.ok(last.digest, 'Apache 3.8 logs a TxnDigest after each txn');
    const wrongDigest = { ...last.digest, treeDigest: last.digest.treeDigest + 1n };
    entries[entries.length - 1] = { ...last, digest: wrongDigest };
    const bytes = [encodeLogFileHeader(), ...entries.map((txn) => encodeLogEntry(txn))];
    await writeFile(file, Buffer.concat(bytes));
    const errors: string[] = [];
    const logger = { info() {}, warn() {}, error: (message: string) => errors.push(message) };
    await using store = await DurableStore.open(options({ logger }));
    assert.equal(store.recovery.txnDigestMatched, false);
    assert.deepEqual(errors, [
      'the digest logged with the last replayed transaction does not match the replayed tree',
    ]);
  });

  it('refuses writes after close', async () => {
    const store = await DurableStore.open(options());
    const txn = store.core.createSession(10_000, T0).txn;
    await store.close();
    await store.close();
    await assert.rejects(store.persister.persist(txn), /closed/);
  });

  describe('damaged or foreign files fail with an error naming the file', () => {
    async function writtenLog(): Promise<string> {
      {
        await using store = await DurableStore.open(options());
        await buildTree(store);
      }
      const versionDir = path.join(dataDir, 'version-2');
      const name = (await readdir(versionDir)).find((n) => n.startsWith('log.'))!;
      return path.join(versionDir, name);
    }

    it('a log of another dbid', async () => {
      const logFile = await writtenLog();
      const bytes = await readFile(logFile);
      bytes.writeBigInt64BE(7n, 8); // FileHeader{magic, version, dbid}
      await writeFile(logFile, bytes);
      await assert.rejects(DurableStore.open(options()), (error: Error) => {
        assert.ok(error instanceof UnsupportedFormatError, String(error));
        assert.ok(error.message.includes(logFile), error.message);
        return true;
      });
    });

    it('a log of a newer format version', async () => {
      const logFile = await writtenLog();
      const bytes = await readFile(logFile);
      bytes.writeInt32BE(3, 4);
      await writeFile(logFile, bytes);
      await assert.rejects(DurableStore.open(options()), (error: Error) => {
        assert.ok(error instanceof UnsupportedFormatError, String(error));
        assert.ok(error.message.includes(logFile), error.message);
        return true;
      });
    });

    it('a snapshot of a newer format version', async () => {
      await writtenLog();
      const snapshotFile = path.join(dataDir, 'version-2', 'snapshot.0');
      const bytes = await readFile(snapshotFile);
      bytes.writeInt32BE(3, 4);
      await writeFile(snapshotFile, bytes);
      await assert.rejects(DurableStore.open(options()), (error: Error) => {
        assert.ok(error instanceof PersistenceError, String(error));
        assert.ok(error.message.includes('snapshot.0'), error.message);
        return true;
      });
    });

    it('a log damaged before its end', async () => {
      const logFile = await writtenLog();
      const offsets: number[] = [];
      for await (const entry of logEntries(logFile)) offsets.push(entry.offset);
      const bytes = await readFile(logFile);
      bytes[offsets[2] + 20] ^= 0xff; // inside the third entry's record; valid entries follow
      await writeFile(logFile, bytes);
      await assert.rejects(DurableStore.open(options()), (error: Error) => {
        assert.ok(error instanceof CorruptLogError, String(error));
        assert.ok(error.message.includes(logFile), error.message);
        return true;
      });
    });
  });
});
