// Goal: a member of an in-process ensemble restarted after a reconfig comes back with the committed
// config (its in-memory disk keeps the last activated one, as Apache's dynamic config file does), not
// with the static server list it was first started with.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'mocha';
import { ZooKeeperClient } from '../../../src/index.js';
import { startEnsemble } from '../../../server/ensemble/server.js';

const SUPER_PASSWORD = 'secret';
const SUPER_DIGEST = `super:${createHash('sha1').update(`super:${SUPER_PASSWORD}`).digest('base64')}`;

describe('an in-process member restarted after a reconfig', function () {
  this.timeout(30_000);

  it('uses the committed config, alone and once the ensemble runs again', async () => {
    await using ensemble = await startEnsemble({
      size: 3, serverOptions: { reconfigEnabled: true, superDigest: SUPER_DIGEST },
    });
    const leader = await ensemble.settled();
    // Remove a follower, so no election follows the reconfig.
    const removed = [1, 2, 3].find((id) => id !== leader.myId)!;
    const kept = [1, 2, 3].filter((id) => id !== removed);
    const client = new ZooKeeperClient({ connectString: leader.connectString });
    let version: bigint;
    try {
      await client.connect();
      await client.addAuth('digest', `super:${SUPER_PASSWORD}`);
      const result = await client.reconfig({ leaving: String(removed) });
      version = result.stat.mzxid;
      await client.create('/after-reconfig', 'x');
    } finally {
      await client.close();
    }
    for (const id of kept) {
      while (ensemble.member(id).status()?.configVersion !== version) {
        await ensemble.member(id).member.roleChanged();
      }
    }
    for (const id of [1, 2, 3]) await ensemble.stopMember(id);
    // Alone, the member cannot learn the config from anyone: it must come from its disk.
    const first = await ensemble.restartMember(kept[0]!);
    assert.equal(first.status()?.configVersion, version);
    assert.equal(first.status()?.lastSeenConfigVersion, version);
    const second = await ensemble.restartMember(kept[1]!);
    await ensemble.settled();
    assert.deepEqual([first, second].map((m) => m.status()?.configVersion), [version, version]);
    const reader = new ZooKeeperClient({ connectString: first.connectString });
    try {
      await reader.connect();
      const config = String((await reader.getConfig()).data);
      assert.deepEqual(config.match(/^server\.\d+/gm), kept.map((id) => `server.${id}`), config);
      assert.equal(String((await reader.getData('/after-reconfig')).data), 'x');
    } finally {
      await reader.close();
    }
  });
});
