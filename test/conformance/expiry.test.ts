// Session expiry against both servers (tickTime 200 ms, so timeouts of 400 ms): a silent session
// expires, its ephemerals go with NodeDeleted to watchers, its connection is closed, and a later
// resume is refused with timeout 0; a pinging session lives on.
import assert from 'node:assert/strict';
import { it } from 'mocha';
import { EventType } from '../../src/protocol/index.js';
import { describeBothServers } from '../support/servers.js';
import { create, exists, ok } from './ops.js';

describeBothServers('session expiry', { config: { tickTime: 200 } }, (target) => {
  it('expires a silent session: ephemerals go (watched), connection closed, resume refused', async () => {
    await using watcher = await target().connect({ timeoutMs: 4000 });
    const owner = await target().connect({ timeoutMs: 400 });
    assert.equal(owner.timeoutMs, 400);
    const root = target().path();
    ok(await create(owner, root, null, 1));
    ok(await exists(watcher, root, true));
    // The owner says nothing from now on; the watcher pings to stay alive while it waits.
    const deadline = Date.now() + 10_000;
    while (watcher.notifications.length === 0 && Date.now() < deadline) {
      await watcher.ping();
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    assert.deepEqual(
      watcher.notifications.map((n) => [n.event.type, n.event.path]),
      [[EventType.NODE_DELETED, root]],
    );
    await owner.connection.waitClosed();
    const resumed = await target().connect({ sessionId: owner.sessionId, passwd: owner.passwd });
    assert.equal(resumed.response.timeOut, 0);
    assert.equal(resumed.sessionId, 0n);
    await resumed.connection.waitClosed();
  });

  it('keeps a session that pings within its timeout', async () => {
    await using client = await target().connect({ timeoutMs: 400 });
    const root = target().path();
    ok(await create(client, root, null, 1));
    const until = Date.now() + 1000;
    while (Date.now() < until) {
      await client.ping();
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    ok(await exists(client, root));
  });
});
