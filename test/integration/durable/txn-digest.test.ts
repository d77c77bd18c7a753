// Goal: every txn our store logs carries Apache 3.8's TxnDigest (the tree digest after it), right
// when writes are pipelined: our own recovery finds the last one equal to the replayed tree, and
// Apache 3.8 replaying our log (no snapshot after snapshot.0, so every txn is compared) counts no
// digest mismatch and serves the same tree.

import assert from 'node:assert/strict';
import { cp, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { CreateMode, OpCode, Perms, type ACL } from '../../../src/protocol/index.js';
import type { Txn } from '../../../server/core/api.js';
import type { ServerCore } from '../../../server/core/server-core.js';
import { DurableStore } from '../../../server/durable/index.js';
import { dumpLog } from '../../../server/durable/tools.js';
import { apacheAvailable, startApache } from '../../support/apache.js';
import { fourLetterWord } from '../../support/ports.js';
import { RawSession } from '../persistence/raw-client.js';

const OPEN_ACL: ACL[] = [{ perms: Perms.ALL, id: { scheme: 'world', id: 'anyone' } }];
const READ_ACL: ACL[] = [{ perms: Perms.READ, id: { scheme: 'world', id: 'anyone' } }];
const coreOptions = {
  tickTimeMs: 2000,
  minSessionTimeoutMs: 4000,
  maxSessionTimeoutMs: 40_000,
  extendedTypesEnabled: true,
  startTimeMs: Date.now(),
};

const create = (path: string, data: string | null, flags = 0) => ({
  path,
  data: data === null ? null : Buffer.from(data),
  acl: OPEN_ACL,
  flags,
});

/** Writes of every kind, each batch prepared before any of it is persisted or applied. */
function batches(): Array<Array<[number, unknown]>> {
  return [
    [
      [OpCode.create, create('/d', 'root')],
      [OpCode.create, create('/d/a', 'a')],
      [OpCode.create2, create('/d/seq-', 's', CreateMode.PERSISTENT_SEQUENTIAL)],
      [OpCode.create, create('/d/eph', 'e', CreateMode.EPHEMERAL)],
    ],
    [
      [OpCode.setData, { path: '/d/a', data: Buffer.from('changed'), version: -1 }],
      [OpCode.setACL, { path: '/d/a', acl: READ_ACL, version: -1 }],
      [OpCode.delete, { path: '/d/seq-0000000001', version: -1 }],
      [OpCode.createContainer, create('/c', null, CreateMode.CONTAINER)],
      [OpCode.create, create('/c/x', 'x')],
    ],
    [
      [OpCode.createTTL, { ...create('/t', 't', CreateMode.PERSISTENT_WITH_TTL), ttl: 60_000n }],
      [OpCode.multi, { ops: [
        { type: 1, request: create('/m', 'one') },
        { type: 5, request: { path: '/m', data: Buffer.from('two'), version: 0 } },
        { type: 2, request: { path: '/c/x', version: -1 } },
      ] }],
      // A failed multi (NodeExists) is logged as an error multi: the tree does not change.
      [OpCode.multi, { ops: [
        { type: 1, request: create('/z', 'z') },
        { type: 1, request: create('/m', 'x') },
      ] }],
      [OpCode.delete, { path: '/d/nothing', version: -1 }],
    ],
  ];
}

/** Runs the batches through the store's log and the core; returns the replies' error codes. */
async function writeEverything(store: DurableStore): Promise<number[]> {
  const core: ServerCore = store.core;
  const errors: number[] = [];
  const pipeline = async (txns: Txn[]) => {
    await Promise.all(txns.map((txn) => store.persister.persist(txn)));
    for (const txn of txns) errors.push(core.apply(txn).err);
  };
  const closing = core.createSession(30_000, Date.now());
  const staying = core.createSession(30_000, Date.now());
  const ctxOf = (sessionId: bigint) => ({ sessionId, cxid: 1, authIds: [] });
  await pipeline([closing.txn, staying.txn]);
  const prepare = (sessionId: bigint, opcode: number, request: unknown) =>
    core.prepare(ctxOf(sessionId), opcode, request, Date.now());
  await pipeline([prepare(closing.sessionId, OpCode.create, create('/gone', 'g', 1))]);
  for (const batch of batches()) {
    await pipeline(batch.map(([opcode, request]) => prepare(staying.sessionId, opcode, request)));
  }
  await pipeline([core.prepareCloseSession(closing.sessionId, Date.now())]);
  assert.equal(core.digestMismatches, 0, 'every forecast digest equals the tree after its txn');
  return errors;
}

describe('durable: the TxnDigest after every logged txn', function () {
  this.timeout(60_000);
  let dataDir: string;
  /** A copy made before anything reopened it: a reopen writes a snapshot, and Apache must replay. */
  let apacheDir: string;
  let served: string[];
  before(async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), 'menagerie-txn-digest-'));
    await using store = await DurableStore.open({ dataDir, core: coreOptions, snapCount: 100_000 });
    const errors = await writeEverything(store);
    assert.deepEqual(errors.filter((err) => err !== 0), [-101], 'only the delete of a missing node fails');
    served = describeTree(store.core);
    apacheDir = `${dataDir}-apache`;
    await cp(dataDir, apacheDir, { recursive: true });
  });
  after(async () => {
    if (dataDir !== undefined) await rm(dataDir, { recursive: true, force: true });
    if (apacheDir !== undefined) await rm(apacheDir, { recursive: true, force: true });
  });

  it('is in our log after every txn, and our recovery finds it equal to the replayed tree', async () => {
    const lines = await dumpLog(path.join(dataDir, 'version-2', 'log.1'));
    const txnLines = lines.filter((line) => / zxid 0x/.test(line));
    assert.equal(txnLines.length, 17, lines.join('\n'));
    for (const line of txnLines) assert.match(line, / digest\(v2 -?\d+\)$/, line);
    await using store = await DurableStore.open({ dataDir, core: coreOptions });
    assert.equal(store.recovery.txnDigestMatched, true);
    assert.deepEqual(describeTree(store.core), served);
  });

  it('Apache 3.8 replays our log with no digest mismatch and serves the same tree', async function () {
    if (!apacheAvailable()) {
      console.log('    (Apache ZooKeeper is not installed: skipped)');
      this.skip();
    }
    const info = { 'org.slf4j.simpleLogger.defaultLogLevel': 'info' };
    await using apache = await startApache({ dataDir: apacheDir, keepDataDir: true, systemProperties: info });
    const metrics = await fourLetterWord(apache.port, 'mntr');
    assert.match(apache.output(), /The digest value is empty in snapshot/, 'so Apache compares every txn');
    assert.match(apache.output(), /\b17 txns loaded\b/, 'Apache replayed our whole log');
    assert.match(metrics, /zk_digest_mismatches_count\s+0\b/, 'Apache found our txn digests right');
    assert.doesNotMatch(apache.output(), /[Dd]igest mismatch|Digests are not matching/);
    await using session = await RawSession.connect(apache.port);
    for (const path of ['/d', '/d/a', '/m', '/t']) {
      assert.equal((await session.getData(path)).err, 0, `Apache serves ${path}`);
    }
    assert.equal((await session.getData('/gone')).err, -101, 'the closed session took its ephemeral');
    assert.equal((await session.getData('/z')).err, -101, 'the failed multi left nothing');
  });
});

/** Every node with its persisted stat and data, sorted by path (what a restart must reproduce). */
function describeTree(core: ServerCore): string[] {
  return [...core.snapshot().nodes]
    .map((node) => `${node.path} ${node.data?.toString('hex')} ${JSON.stringify(node.stat, big)}`)
    .sort();
}

function big(_key: string, value: unknown): unknown {
  return typeof value === 'bigint' ? value.toString() : value;
}
