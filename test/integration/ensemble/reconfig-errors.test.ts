// Goal: a reconfig request gets Apache 3.8's answers on an in-process ensemble of ours: ReconfigDisabled
// without reconfigEnabled, NoAuth without the super user or skipACL (WRITE on /zookeeper/config), the
// super user may, BadVersion for a stale fromConfig, BadArguments for a malformed member list or too
// voters, NewConfigNoQuorum when the new config has no synced quorum.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'mocha';
import {
  BadArgumentsError, BadVersionError, NewConfigNoQuorumError, NoAuthError, ReconfigDisabledError,
  ZooKeeperClient,
} from '../../../src/index.js';
import { startEnsemble, type RunningEnsemble } from '../../../server/ensemble/server.js';

const SUPER_PASSWORD = 'secret';
const SUPER_DIGEST = `super:${createHash('sha1').update(`super:${SUPER_PASSWORD}`).digest('base64')}`;

async function clientOf(ensemble: RunningEnsemble): Promise<ZooKeeperClient> {
  const client = new ZooKeeperClient({ connectString: ensemble.connectString });
  await client.connect();
  return client;
}

describe('reconfig answers on an ensemble of ours (in process)', function () {
  this.timeout(30_000);

  it('answers ReconfigDisabled without reconfigEnabled', async () => {
    await using ensemble = await startEnsemble({ size: 3 });
    await ensemble.settled();
    await using client = await clientOf(ensemble);
    await assert.rejects(client.reconfig({ leaving: '3' }), ReconfigDisabledError);
  });

  it('needs the super user (NoAuth otherwise), then checks version, arguments and quorum', async () => {
    await using ensemble = await startEnsemble({
      size: 3, serverOptions: { reconfigEnabled: true, superDigest: SUPER_DIGEST },
    });
    await ensemble.settled();
    await using client = await clientOf(ensemble);
    await assert.rejects(client.reconfig({ leaving: '3' }), NoAuthError);
    await client.addAuth('digest', `super:${SUPER_PASSWORD}`);
    const { stat } = await client.getConfig();
    await assert.rejects(client.reconfig({ leaving: '3', fromConfig: stat.mzxid + 1n }), BadVersionError);
    await assert.rejects(client.reconfig({ joining: 'server.9=nonsense' }), BadArgumentsError);
    // No voter left (this in-process ensemble runs with standaloneEnabled=false, so one would do).
    await assert.rejects(client.reconfig({ leaving: '1,2,3' }), BadArgumentsError);
    // Four servers that do not run: the new config's quorum (four of seven) is not synced.
    const absent = [8, 9, 10, 11].map((id) =>
      `server.${id}=127.0.0.1:${id}1:${id}2:participant;127.0.0.1:${id}3`);
    await assert.rejects(client.reconfig({ joining: absent.join(',') }), NewConfigNoQuorumError);
    const result = await client.reconfig({ leaving: '3', fromConfig: stat.mzxid });
    const config = String(result.data);
    assert.deepEqual(config.match(/^server\.\d+/gm), ['server.1', 'server.2'], config);
    assert.equal(result.stat.mzxid, BigInt(`0x${/^version=([0-9a-f]+)$/m.exec(config)![1]}`));
  });
});
