// Goal: data directories are interchangeable with Apache ZooKeeper 3.8 both ways. (1) Apache writes a
// data dir (every node type, ACLs, a multi, a closed session and a live one with ephemerals, several
// snapshots and logs); our reader recovers exactly the tree, stats, ACLs and sessions Apache served
// before it was killed. (2) Apache starts on a data dir our writer produced (snapshots + logs) and
// serves the tree we wrote, read back over a raw socket with our codec.

import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { OpCode } from '../../../src/protocol/opcodes.js';
import { MultiRequest } from '../../../src/protocol/multi.js';
import * as R from '../../../src/protocol/records.js';
import { dumpLog, dumpSnapshot } from '../../../server/persistence/dump.js';
import { Persistence } from '../../../server/persistence/persistence.js';
import { recover } from '../../../server/persistence/recovery.js';
import type { Txn } from '../../../server/persistence/types.js';
import { apacheAvailable, startApache } from '../../support/apache.js';
import { fourLetterWord } from '../../support/ports.js';
import { MemoryTree, OPEN_ACL, txns } from '../../unit/persistence/memory-tree.js';
import { RawSession } from './raw-client.js';

const DIGEST_ACL: R.ACL[] = [{ perms: 31, id: { scheme: 'digest', id: 'u:Jq7wMyA/w2Vd5WIDAKdu4OIIFEQ=' } }];
const READ_ONLY_ACL: R.ACL[] = [{ perms: 1, id: { scheme: 'world', id: 'anyone' } }];

/** What a client sees of a node, computed from the stored form as Apache's DataNode.copyStat does. */
function visibleStat(tree: MemoryTree, path: string): R.Stat {
  const node = tree.node(path)!;
  const owner = node.stat.ephemeralOwner;
  const special = owner === -0x8000000000000000n || owner >> 56n === -1n;
  return {
    czxid: node.stat.czxid,
    mzxid: node.stat.mzxid,
    ctime: node.stat.ctime,
    mtime: node.stat.mtime,
    version: node.stat.version,
    cversion: node.stat.cversion * 2 - node.children.size,
    aversion: node.stat.aversion,
    ephemeralOwner: special ? 0n : owner,
    dataLength: node.data?.length ?? 0,
    numChildren: node.children.size,
    pzxid: node.stat.pzxid,
  };
}

/** Every path Apache serves under "/", with its data, stat and ACL. */
async function servedTree(
  session: RawSession,
): Promise<Map<string, { data: Buffer | null; stat: R.Stat; acl: R.ACL[] }>> {
  const served = new Map<string, { data: Buffer | null; stat: R.Stat; acl: R.ACL[] }>();
  const visit = async (path: string): Promise<void> => {
    const data = await session.getData(path);
    const acl = await session.getACL(path);
    assert.equal(data.err, 0, `getData ${path}`);
    served.set(path, { data: data.body!.data, stat: data.body!.stat, acl: acl.body!.acl });
    const children = await session.getChildren(path);
    for (const child of children.body!.children.sort())
      await visit(path === '/' ? `/${child}` : `${path}/${child}`);
  };
  await visit('/');
  return served;
}

function assertSameTree(tree: MemoryTree, served: Awaited<ReturnType<typeof servedTree>>): void {
  const ours = [...tree.nodesByPath.keys()].map((p) => p || '/').sort();
  assert.deepEqual(ours, [...served.keys()].sort());
  for (const [path, node] of served) {
    if (path.startsWith('/zookeeper')) continue;
    assert.deepEqual(tree.node(path)!.data, node.data, `data of ${path}`);
    assert.deepEqual(visibleStat(tree, path), node.stat, `stat of ${path}`);
    assert.deepEqual(tree.aclOf(path), node.acl, `ACL of ${path}`);
  }
}

const createRequest = (path: string, data: string | null, flags: number, acl: R.ACL[] = OPEN_ACL) => ({
  path,
  data: data === null ? null : Buffer.from(data),
  acl,
  flags,
});

describe('persistence interchange with Apache ZooKeeper 3.8', function () {
  this.timeout(60_000);
  const directories: string[] = [];
  before(function () {
    if (!apacheAvailable()) {
      console.log('    (Apache ZooKeeper is not installed: interchange tests skipped)');
      this.skip();
    }
  });
  after(async () => {
    for (const directory of directories) await rm(directory, { recursive: true, force: true });
  });

  it('recovers the tree, stats, ACLs and sessions from a data dir Apache 3.8 wrote', async () => {
    const apache = await startApache({ keepDataDir: true, config: { snapCount: 8 } });
    directories.push(apache.dataDir);
    let served;
    let liveSession: bigint;
    try {
      const closing = await RawSession.connect(apache.port);
      await closing.request(
        OpCode.create,
        R.CreateRequest,
        createRequest('/gone-with-session', 'bye', 1),
        R.CreateResponse,
      );
      await closing.request(OpCode.closeSession, null, undefined, null);
      await closing[Symbol.asyncDispose]();

      const session = await RawSession.connect(apache.port, 30_000);
      liveSession = session.sessionId;
      const ok = async (reply: Promise<{ err: number }>, what: string) =>
        assert.equal((await reply).err, 0, what);
      await ok(
        session.request(
          OpCode.auth,
          R.AuthPacket,
          { type: 0, scheme: 'digest', auth: Buffer.from('u:p') },
          null,
        ),
        'auth',
      );
      await ok(
        session.request(OpCode.create, R.CreateRequest, createRequest('/app', 'root', 0), R.CreateResponse),
        'create',
      );
      await ok(
        session.request(
          OpCode.create,
          R.CreateRequest,
          createRequest('/app/secret', 'x', 0, DIGEST_ACL),
          R.CreateResponse,
        ),
        'acl',
      );
      await ok(
        session.request(OpCode.create, R.CreateRequest, createRequest('/app/seq-', 'a', 2), R.CreateResponse),
        'seq',
      );
      await ok(
        session.request(OpCode.create, R.CreateRequest, createRequest('/app/seq-', 'b', 2), R.CreateResponse),
        'seq',
      );
      await ok(
        session.request(
          OpCode.create,
          R.CreateRequest,
          createRequest('/app/eph', 'mine', 1),
          R.CreateResponse,
        ),
        'eph',
      );
      await ok(
        session.request(
          OpCode.create2,
          R.CreateRequest,
          createRequest('/app/eseq-', 'e', 3),
          R.Create2Response,
        ),
        'eseq',
      );
      await ok(
        session.request(
          OpCode.createContainer,
          R.CreateRequest,
          createRequest('/cont', 'c', 4),
          R.Create2Response,
        ),
        'container',
      );
      await ok(
        session.request(
          OpCode.create,
          R.CreateRequest,
          createRequest('/cont/child', null, 0),
          R.CreateResponse,
        ),
        'null data',
      );
      const ttl = { ...createRequest('/ttl', 't', 5), ttl: 3_600_000n };
      await ok(session.request(OpCode.createTTL, R.CreateTTLRequest, ttl, R.Create2Response), 'ttl');
      await ok(
        session.request(
          OpCode.setData,
          R.SetDataRequest,
          { path: '/app', data: Buffer.from('root-2'), version: -1 },
          R.SetDataResponse,
        ),
        'set',
      );
      await ok(
        session.request(
          OpCode.setACL,
          R.SetACLRequest,
          { path: '/app/seq-0000000001', acl: READ_ONLY_ACL, version: -1 },
          R.SetACLResponse,
        ),
        'setACL',
      );
      await ok(
        session.request(OpCode.delete, R.DeleteRequest, { path: '/app/seq-0000000002', version: -1 }, null),
        'delete',
      );
      const multi: MultiRequest = {
        ops: [
          { type: 1, request: createRequest('/m', 'one', 0) },
          { type: 5, request: { path: '/m', data: Buffer.from('two'), version: 0 } },
          { type: 1, request: createRequest('/m/child', '', 0) },
        ],
      };
      await ok(session.request(OpCode.multi, MultiRequest, multi, null), 'multi');
      served = await servedTree(session);
      session.destroy();
    } finally {
      await apache.stop();
    }

    const recovered = await recover({ dataDir: apache.dataDir }, () => new MemoryTree());
    const files = await readdir(path.join(apache.dataDir, 'version-2'));
    assert.ok(files.filter((f) => f.startsWith('snapshot.')).length >= 2, `snapshots: ${files}`);
    assert.ok(files.filter((f) => f.startsWith('log.')).length >= 2, `logs: ${files}`);
    // Apache snapshots in a background thread; a newest one cut by the kill falls back to an older one.
    assert.ok(recovered.snapshot !== undefined);
    assert.equal(recovered.tornTail, undefined);
    assertSameTree(recovered.target, served);
    assert.deepEqual([...recovered.target.sessionTimeouts], [[liveSession, 30_000]]);
    assert.equal(recovered.target.node('/app/eph')!.stat.ephemeralOwner, liveSession);

    const logLines: string[] = [];
    for (const name of files.filter((f) => f.startsWith('log.'))) {
      for await (const line of dumpLog(path.join(apache.dataDir, 'version-2', name))) logLines.push(line);
    }
    assert.match(logLines.join('\n'), /createSession .*\n(.|\n)*multi \[create CreateTxn\{path="\/m"/);
    const snapLines: string[] = [];
    for await (const line of dumpSnapshot(
      path.join(apache.dataDir, 'version-2', recovered.snapshot!.file.split('/').pop()!),
    )) {
      snapLines.push(line);
    }
    assert.match(snapLines.join('\n'), /ZNode Details \(count=\d+\):\n----\n\/\n  cZxid = 0x0/);
  });

  it('Apache 3.8 starts on a data dir our writer produced and serves the same tree', async () => {
    const dataDir = await mkdtemp(path.join(tmpdir(), 'menagerie-to-apache-'));
    directories.push(dataDir);
    const tree = MemoryTree.initial();
    const sessionId = 0x1234560000n;
    const history: Txn[] = [
      txns.createSession(1n, sessionId, 40_000),
      txns.create(2n, '/app', 'root', 1),
      txns.create(3n, '/app/secret', 'x', 1, { acl: DIGEST_ACL }),
      txns.create(4n, '/app/lock-0000000000', 'me', 2, { ephemeralOwner: sessionId }),
      txns.create(5n, '/app/gone', 'soon', 3),
    ];
    const later: Txn[] = [
      txns.setData(6n, '/app', 'root-2', 1),
      txns.delete(7n, '/app/gone'),
      txns.setACL(8n, '/app/secret', READ_ONLY_ACL, 1),
      {
        header: txns.header(9n, OpCode.multi),
        record: {
          txns: [
            {
              type: OpCode.create,
              data: R.CreateTxn.encode({
                path: '/m',
                data: Buffer.from('one'),
                acl: OPEN_ACL,
                ephemeral: false,
                parentCVersion: 3,
              }),
            },
            {
              type: OpCode.setData,
              data: R.SetDataTxn.encode({ path: '/m', data: Buffer.from('two'), version: 1 }),
            },
          ],
        },
      },
      {
        header: txns.header(10n, OpCode.createContainer),
        record: { path: '/cont', data: Buffer.from('c'), acl: OPEN_ACL, parentCVersion: 4 },
      },
      {
        header: txns.header(11n, OpCode.create),
        record: { path: '/cont/child', data: null, acl: OPEN_ACL, ephemeral: false, parentCVersion: 1 },
      },
    ];
    {
      // Every txn carries the tree digest Apache 3.8 would log, and snapshots the tree's digest.
      await using persistence = await Persistence.open({ dataDir });
      await persistence.snapshot(tree);
      for (const txn of history) await persistence.persist(tree.applyWithDigest(txn));
      await persistence.snapshot(tree);
      await Promise.all(later.map((txn) => tree.applyWithDigest(txn)).map((txn) => persistence.persist(txn)));
    }
    assert.deepEqual((await readdir(path.join(dataDir, 'version-2'))).sort(), [
      'log.1',
      'log.6',
      'snapshot.0',
      'snapshot.5',
    ]);

    await using apache = await startApache({ dataDir });
    await using session = await RawSession.connect(apache.port);
    await session.request(
      OpCode.auth,
      R.AuthPacket,
      { type: 0, scheme: 'digest', auth: Buffer.from('u:p') },
      null,
    );
    const served = await servedTree(session);
    assertSameTree(tree, served);
    assert.equal(
      served.get('/app/lock-0000000000')!.stat.ephemeralOwner,
      sessionId,
      'the session and its ephemeral survive',
    );
    const metrics = await fourLetterWord(apache.port, 'mntr');
    assert.match(metrics, /zk_digest_mismatches_count\s+0\b/, 'Apache found our digests equal to its own');
  });
});
