// Round trips of recipes counted on the wire (a recording proxy between client and server), not timed:
// an uncontended mutex release+acquire is one transaction (delete and create) with the listing beside
// it, and a cache (re)build issues a level's reads at once instead of one by one.
import assert from 'node:assert/strict';
import { it } from 'mocha';
import { createFramework, retryNTimes, type Framework } from '../../../src/index.js';
import { operationFor } from '../../../src/protocol/index.js';
import { Mutex, breakLock, startTreeCache } from '../../../recipes/index.js';
import { ephemeralsUnder } from '../../conformance/recipes/nodes.js';
import {
  startRecordingProxy,
  type RecordedFrame,
  type RecordingProxy,
} from '../../support/recording-proxy.js';
import { describeOnRecipeServers } from './discovery-support/servers.js';

const PING_XID = -2;
const NOTIFICATION_XID = -1;

/** The client's requests from `frames`, as op names grouped in flights: runs with no reply between. */
export function requestFlights(frames: readonly RecordedFrame[]): string[][] {
  const flights: string[][] = [];
  let current: string[] = [];
  for (const frame of frames) {
    const xid = frame.bytes.readInt32BE(4);
    if (xid === PING_XID || xid === NOTIFICATION_XID) continue;
    if (frame.direction === 'reply') {
      if (current.length > 0) flights.push(current);
      current = [];
      continue;
    }
    const code = frame.bytes.readInt32BE(8);
    current.push(operationFor(code)?.name ?? String(code));
  }
  if (current.length > 0) flights.push(current);
  return flights;
}

/** A framework whose traffic the returned proxy records. */
export async function recordedFramework(port: number): Promise<{ fw: Framework; proxy: RecordingProxy }> {
  const proxy = await startRecordingProxy({ host: '127.0.0.1', port });
  const fw = createFramework({ connectString: proxy.connectString, retry: retryNTimes(3, 50) });
  await fw.blockUntilConnected();
  return { fw, proxy };
}

describeOnRecipeServers('round trips', '/round-trips/t', (suite) => {
  it('an uncontended release+acquire of the mutex is one write and one flight', async () => {
    const { fw, proxy } = await recordedFramework(suite.server.port);
    try {
      const mutex = new Mutex(fw, suite.path());
      await (await mutex.acquire()).release({ confirm: true }); // makes the lock's parents
      const start = proxy.frames().length;
      for (let cycle = 0; cycle < 4; cycle++) {
        const lease = await mutex.acquire();
        await lease.release();
      }
      const last = await mutex.acquire();
      await last.release({ confirm: true });
      const flights = requestFlights(proxy.frames().slice(start));
      // The first acquire: create and listing together, then nothing more (create2 gives the stat).
      // Each next cycle: the release's delete and the new create in one transaction, and with it the
      // stat of the node it makes when nothing queued meanwhile (the released node's successor: a
      // create inside a multi has no stat); no listing is needed then. A confirmed release.
      const cycle = [['multi', 'exists']];
      const first = ['create2', 'getChildren'];
      assert.deepEqual(flights, [first, ...cycle, ...cycle, ...cycle, ...cycle, ['delete']]);
    } finally {
      await fw.close();
      await proxy.close();
    }
  });

  for (const watchMode of ['persistentRecursive', 'oneShot'] as const) {
    it(`a tree cache (${watchMode}) loads and rebuilds a level's reads in one flight`, async () => {
      const { fw, proxy } = await recordedFramework(suite.server.port);
      try {
        const root = suite.path();
        const children = 20;
        await fw.create(root, { createParents: true });
        const made = Array.from({ length: children }, (_, i) => fw.create(`${root}/n${i}`, { data: `${i}` }));
        await Promise.all(made);
        const start = proxy.frames().length;
        await using cache = await startTreeCache(fw, root, { watchMode });
        assert.equal(cache.children(root).length, children);
        const levelReads = 2 * children; // each child's data and children
        const loadFlights = requestFlights(proxy.frames().slice(start));
        assert.ok(Math.max(...loadFlights.map((f) => f.length)) >= levelReads, JSON.stringify(loadFlights));
        assert.ok(loadFlights.length <= 6, `first load took ${loadFlights.length} flights`);

        if (watchMode === 'oneShot') return; // same session: the server re-sets its watches, no rebuild
        // Connection cut: a persistent watch does not replay what was missed, so the cache reads the
        // tree again; the children's reads still go out as one flight (count them as they cross).
        const dropped = proxy.frames().length;
        let dataReads = 0;
        const levelRead = proxy.waitFor((frame) => {
          if (proxy.frames().indexOf(frame) < dropped) return false;
          if (frame.direction !== 'request' || frame.bytes.readInt32BE(4) < 0) return false;
          if (operationFor(frame.bytes.readInt32BE(8))?.name === 'getData') dataReads++;
          return dataReads >= children;
        });
        proxy.dropConnections();
        await levelRead;
        const rebuildFlights = requestFlights(proxy.frames().slice(dropped));
        const largest = Math.max(...rebuildFlights.map((f) => f.length));
        assert.ok(largest >= children, JSON.stringify(rebuildFlights));
      } finally {
        await fw.close();
        await proxy.close();
      }
    });
  }

  it('a folded release whose node an admin already deleted falls back to a plain create', async () => {
    const [fw, admin] = [await suite.fx.framework(), await suite.fx.framework()];
    const path = suite.path();
    const mutex = new Mutex(fw, path);
    const first = await mutex.acquire();
    assert.equal((await breakLock(admin, path)).length, 1);
    await first.release(); // its delete is folded into the acquire below, and fails there: NoNode
    const second = await mutex.acquire();
    assert.equal(second.state, 'held');
    assert.ok(second.fencingToken > first.fencingToken);
    assert.deepEqual(await ephemeralsUnder(admin, path), [second.nodePath]);
    await second.release({ confirm: true });
    assert.deepEqual(await ephemeralsUnder(admin, path), []);
  });

  it('a lease held past one event-loop turn watches its own node (one getData)', async () => {
    const { fw, proxy } = await recordedFramework(suite.server.port);
    try {
      const mutex = new Mutex(fw, suite.path());
      const lease = await mutex.acquire();
      const watched = await proxy.waitFor((frame) => {
        if (frame.direction !== 'request' || frame.bytes.readInt32BE(4) < 0) return false;
        return operationFor(frame.bytes.readInt32BE(8))?.name === 'getData';
      });
      assert.ok(watched.bytes.includes(Buffer.from(lease.nodePath)), 'the watch is on our own node');
      await lease.release({ confirm: true });
    } finally {
      await fw.close();
      await proxy.close();
    }
  });
});
