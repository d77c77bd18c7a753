// Goal: a data dir moves between Apache ZooKeeper 3.8 and our server core in both directions. Apache
// writes one (every node type, ACLs, a multi, a live session with ephemerals), is killed, and a
// DurableStore recovers it into a ServerCore whose read() answers equal what Apache served; then a
// DurableStore writes one through a core, and Apache started on it serves what our core served.

import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { CreateMode, OpCode, Perms, records as R, type ACL, type Id } from '../../../src/protocol/index.js';
import { MultiRequest } from '../../../src/protocol/multi.js';
import type { ServerCore } from '../../../server/core/server-core.js';
import { DurableStore } from '../../../server/durable/index.js';
import { apacheAvailable, startApache } from '../../support/apache.js';
import { fourLetterWord } from '../../support/ports.js';
import { RawSession } from '../persistence/raw-client.js';

const T0 = Date.now();
const OPEN_ACL: ACL[] = [{ perms: Perms.ALL, id: { scheme: 'world', id: 'anyone' } }];
const USER_ID: Id = { scheme: 'digest', id: 'u:Jq7wMyA/w2Vd5WIDAKdu4OIIFEQ=' }; // u:p
const DIGEST_ACL: ACL[] = [{ perms: Perms.ALL, id: USER_ID }];
const READ_ACL: ACL[] = [{ perms: Perms.READ | Perms.ADMIN, id: { scheme: 'world', id: 'anyone' } }];

interface ServedNode {
  readonly data: Buffer | null;
  readonly stat: R.Stat;
  readonly acl: R.ACL[];
}
type Served = Map<string, ServedNode>;

/** A way to ask a server getData, getACL and getChildren, answering {err, body}. */
type Reader = (opcode: number, path: string) => Promise<{ err: number; body?: any }>;

/** Every node a server serves under "/", with its data, stat and ACL. */
async function servedTree(read: Reader): Promise<Served> {
  const served: Served = new Map();
  const visit = async (path: string): Promise<void> => {
    const data = await read(OpCode.getData, path);
    const acl = await read(OpCode.getACL, path);
    const children = await read(OpCode.getChildren, path);
    assert.equal(data.err, 0, `getData ${path}`);
    assert.equal(acl.err, 0, `getACL ${path}`);
    served.set(path, { data: data.body.data, stat: data.body.stat, acl: acl.body.acl });
    for (const child of [...children.body.children].sort()) {
      await visit(path === '/' ? `/${child}` : `${path}/${child}`);
    }
  };
  await visit('/');
  return served;
}

function apacheReader(session: RawSession): Reader {
  return async (opcode, path) => {
    if (opcode === OpCode.getData) return await session.getData(path);
    if (opcode === OpCode.getACL) return await session.getACL(path);
    return await session.getChildren(path);
  };
}

function coreReader(core: ServerCore): Reader {
  const ctx = { sessionId: 0n, cxid: 1, authIds: [{ scheme: 'ip', id: '127.0.0.1' }, USER_ID] };
  return async (opcode, path) => {
    const reply = core.read(ctx, opcode, { path, watch: false });
    return { err: reply.err, body: reply.response };
  };
}

function assertSameServed(ours: Served, theirs: Served): void {
  assert.deepEqual([...ours.keys()].sort(), [...theirs.keys()].sort());
  for (const [path, node] of theirs) {
    const mine = ours.get(path)!;
    assert.deepEqual(mine.data, node.data, `data of ${path}`);
    assert.deepEqual(mine.stat, node.stat, `stat of ${path}`);
    assert.deepEqual(mine.acl, node.acl, `ACL of ${path}`);
  }
}

const createRequest = (path: string, data: string | null, flags: number, acl: ACL[] = OPEN_ACL) => ({
  path,
  data: data === null ? null : Buffer.from(data),
  acl,
  flags,
});

/** The writes both directions make, as [opcode, request type, request, response type]. */
function workload(): Array<[number, any, unknown, any]> {
  return [
    [OpCode.create, R.CreateRequest, createRequest('/app', 'root', 0), R.CreateResponse],
    [OpCode.create, R.CreateRequest, createRequest('/app/secret', 'x', 0, DIGEST_ACL), R.CreateResponse],
    [OpCode.create, R.CreateRequest, createRequest('/app/seq-', 'a', 2), R.CreateResponse],
    [OpCode.create, R.CreateRequest, createRequest('/app/seq-', 'b', 2), R.CreateResponse],
    [OpCode.create, R.CreateRequest, createRequest('/app/eph', 'mine', 1), R.CreateResponse],
    [OpCode.create2, R.CreateRequest, createRequest('/app/eseq-', 'e', 3), R.Create2Response],
    [OpCode.createContainer, R.CreateRequest, createRequest('/cont', 'c', 4), R.Create2Response],
    [OpCode.create, R.CreateRequest, createRequest('/cont/child', null, 0), R.CreateResponse],
    [
      OpCode.createTTL,
      R.CreateTTLRequest,
      { ...createRequest('/ttl', 't', CreateMode.PERSISTENT_WITH_TTL), ttl: 3_600_000n },
      R.Create2Response,
    ],
    [OpCode.setData, R.SetDataRequest, { path: '/app', data: Buffer.from('root-2'), version: -1 }, null],
    [OpCode.setACL, R.SetACLRequest, { path: '/app/seq-0000000001', acl: READ_ACL, version: -1 }, null],
    [OpCode.delete, R.DeleteRequest, { path: '/app/seq-0000000002', version: -1 }, null],
    [
      OpCode.multi,
      MultiRequest,
      {
        ops: [
          { type: 1, request: createRequest('/m', 'one', 0) },
          { type: 5, request: { path: '/m', data: Buffer.from('two'), version: 0 } },
          { type: 1, request: createRequest('/m/child', '', 0) },
        ],
      },
      null,
    ],
  ];
}

describe('durable: data dirs interchange with Apache ZooKeeper 3.8 through the server core', function () {
  this.timeout(60_000);
  const directories: string[] = [];
  const coreOptions = {
    tickTimeMs: 2000,
    minSessionTimeoutMs: 4000,
    maxSessionTimeoutMs: 40_000,
    extendedTypesEnabled: true,
    startTimeMs: T0,
  };
  before(function () {
    if (!apacheAvailable()) {
      console.log('    (Apache ZooKeeper is not installed: interchange tests skipped)');
      this.skip();
    }
  });
  after(async () => {
    for (const directory of directories) await rm(directory, { recursive: true, force: true });
  });

  it('recovers a data dir Apache wrote into a core that serves the same tree, stats and ACLs', async () => {
    const apache = await startApache({ keepDataDir: true, config: { snapCount: 6 } });
    directories.push(apache.dataDir);
    let served: Served;
    let liveSession: bigint;
    try {
      const closing = await RawSession.connect(apache.port);
      const gone = createRequest('/gone-with-session', 'bye', 1);
      await closing.request(OpCode.create, R.CreateRequest, gone, R.CreateResponse);
      await closing.request(OpCode.closeSession, null, undefined, null);
      await closing[Symbol.asyncDispose]();

      const session = await RawSession.connect(apache.port, 30_000);
      liveSession = session.sessionId;
      const auth = { type: 0, scheme: 'digest', auth: Buffer.from('u:p') };
      assert.equal((await session.request(OpCode.auth, R.AuthPacket, auth, null)).err, 0);
      for (const [opcode, requestType, request, responseType] of workload()) {
        const reply = await session.request(opcode, requestType, request, responseType);
        assert.equal(reply.err, 0, `Apache ${opcode} ${JSON.stringify((request as any).path)}`);
      }
      served = await servedTree(apacheReader(session));
      session.destroy();
    } finally {
      await apache.stop(); // SIGKILL: the live session and its ephemerals stay in the files
    }

    await using store = await DurableStore.open({ dataDir: apache.dataDir, core: coreOptions });
    assert.equal(store.recovery.tornTail, undefined);
    assertSameServed(await servedTree(coreReader(store.core)), served);
    assert.deepEqual(store.core.sessions(), [{ sessionId: liveSession, timeoutMs: 30_000 }]);
    assert.deepEqual(store.core.ephemeralsBySession().get(liveSession)?.sort(), [
      '/app/eph',
      '/app/eseq-0000000004',
    ]);
    // Apache compares a snapshot's digest only while replaying the txn of the digest's zxid, and so
    // does recovery now: a digest at the snapshot's own zxid (its fuzzy tree may be ahead of it) is
    // not compared (undefined); one that is compared must match.
    assert.notEqual(store.recovery.digestMatched, false, "Apache's snapshot digest equals ours");
    assert.notEqual(store.recovery.txnDigestMatched, false, "Apache's logged TxnDigest equals ours");
  });

  it('Apache starts on a data dir our store wrote and serves what our core served', async () => {
    const dataDir = await mkdtemp(path.join(tmpdir(), 'menagerie-durable-to-apache-'));
    directories.push(dataDir);
    let ours: Served;
    let sessionId: bigint;
    {
      // snapCount 6: background snapshots and several logs, as a long-running server leaves them.
      await using store = await DurableStore.open({ dataDir, core: coreOptions, snapCount: 6 });
      const core = store.core;
      const write = async (txn: ReturnType<ServerCore['prepare']>) => {
        await store.persister.persist(txn);
        return core.apply(txn);
      };
      const closing = core.createSession(30_000, Date.now());
      await write(closing.txn);
      const ctxOf = (id: bigint) => ({ sessionId: id, cxid: 1, authIds: [USER_ID] });
      const gone = createRequest('/gone-with-session', 'bye', 1);
      await write(core.prepare(ctxOf(closing.sessionId), OpCode.create, gone, Date.now()));
      await write(core.prepareCloseSession(closing.sessionId, Date.now()));
      const session = core.createSession(30_000, Date.now());
      sessionId = session.sessionId;
      await write(session.txn);
      for (const [opcode, , request] of workload()) {
        const reply = await write(core.prepare(ctxOf(sessionId), opcode, request, Date.now()));
        assert.equal(reply.err, 0, `ours ${opcode} ${JSON.stringify((request as any).path)}`);
      }
      await store.snapshotDone();
      ours = await servedTree(coreReader(core));
    }

    await using apache = await startApache({ dataDir });
    await using session = await RawSession.connect(apache.port);
    const auth = { type: 0, scheme: 'digest', auth: Buffer.from('u:p') };
    await session.request(OpCode.auth, R.AuthPacket, auth, null);
    const theirs = await servedTree(apacheReader(session));
    assertSameServed(ours, theirs);
    const owner = theirs.get('/app/eph')!.stat.ephemeralOwner;
    assert.equal(owner, sessionId, 'the session and its ephemerals survive');
    const metrics = await fourLetterWord(apache.port, 'mntr');
    assert.match(metrics, /zk_digest_mismatches_count\s+0\b/, 'Apache found our snapshot digests right');
  });
});
