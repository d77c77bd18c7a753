// The container manager against both servers (checked every 100 ms): a container is deleted once it
// had children and has none, a never-used container stays, a TTL node goes after its TTL (counted
// from mtime), and watchers see NodeDeleted.
import assert from 'node:assert/strict';
import { it } from 'mocha';
import { EventType, OpCode } from '../../src/protocol/index.js';
import type { RawClient } from '../support/raw-client.js';
import { describeBothServers } from '../support/servers.js';
import { OPEN_ACL, create, exists, ok, remove } from './ops.js';

async function gone(client: RawClient, path: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while ((await exists(client, path)).header.err !== -101) {
    if (Date.now() > deadline) throw new Error(`${path} was not deleted`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

const FAST_CHECKS = { 'znode.container.checkIntervalMs': 100, extendedTypesEnabled: true };

describeBothServers('container manager', { config: FAST_CHECKS }, (target) => {
  it('deletes an emptied container and tells its watchers; keeps a never-used one', async () => {
    await using client = await target().connect();
    await using watcher = await target().connect();
    const root = target().path();
    ok(await create(client, root));
    const box = { path: `${root}/box`, data: null, acl: OPEN_ACL, flags: 4 };
    ok(await client.request(OpCode.createContainer, box));
    ok(await client.request(OpCode.createContainer, { ...box, path: `${root}/never` }));
    ok(await create(client, `${root}/box/item`));
    ok(await remove(client, `${root}/box/item`));
    ok(await exists(watcher, `${root}/box`, true));
    await gone(client, `${root}/box`);
    await watcher.waitForNotifications(1);
    assert.deepEqual(
      watcher.notifications.map((n) => [n.event.type, n.event.path]),
      [[EventType.NODE_DELETED, `${root}/box`]],
    );
    ok(await exists(client, `${root}/never`), 'a container that never had children stays');
  });

  it('deletes a TTL node once its TTL has passed', async () => {
    await using client = await target().connect();
    const root = target().path();
    ok(await create(client, root));
    const node = { path: `${root}/ttl`, data: null, acl: OPEN_ACL, flags: 5, ttl: 200n };
    ok(await client.request(OpCode.createTTL, node));
    await gone(client, `${root}/ttl`);
  });
});
