// Goal: a reconfig request gets Apache 3.8's answers on an in-process ensemble of ours: ReconfigDisabled
// without reconfigEnabled, NoAuth without the super user or skipACL (WRITE on /zookeeper/config), the
// super user may, BadVersion for a stale fromConfig, BadArguments for a malformed member list or no
// voter, NewConfigNoQuorum when the new config has no synced quorum; a full member list works too.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'mocha';
import {
  BadArgumentsError, BadVersionError, ConnectionLossError, NewConfigNoQuorumError, NoAuthError,
  ReconfigDisabledError, ZooKeeperClient, isIndeterminate,
} from '../../../src/index.js';
import { startEnsemble, type RunningEnsemble } from '../../../server/ensemble/server.js';

const SUPER_PASSWORD = 'secret';
const SUPER_DIGEST = `super:${createHash('sha1').update(`super:${SUPER_PASSWORD}`).digest('base64')}`;

/** A client of members 1 and 2 (3 is the one removed). */
async function clientOf(ensemble: RunningEnsemble): Promise<ZooKeeperClient> {
  const connectString = [1, 2].map((id) => ensemble.member(id).connectString).join(',');
  const client = new ZooKeeperClient({ connectString });
  await client.connect();
  return client;
}

/** getConfig once the client is connected again (a new election drops every client). */
async function readBack(client: ZooKeeperClient): ReturnType<ZooKeeperClient['getConfig']> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await client.getConfig();
    } catch (error) {
      if (!(error instanceof ConnectionLossError) || attempt >= 100) throw error;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
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
    const original = String((await client.getConfig()).data);
    // Server 3 leads (the highest id wins the first election): removed, it steps down, and the members
    // elect again, dropping their clients; the reply may be lost, and the config is read back then.
    const result = await client.reconfig({ leaving: '3', fromConfig: stat.mzxid }).catch(async (error) => {
      assert.ok(error instanceof ConnectionLossError && isIndeterminate(error), String(error));
      return await readBack(client);
    });
    const config = String(result.data);
    assert.deepEqual(config.match(/^server\.\d+/gm), ['server.1', 'server.2'], config);
    assert.equal(result.stat.mzxid, BigInt(`0x${/^version=([0-9a-f]+)$/m.exec(config)![1]}`));
    // Non-incremental: the whole member list, comma-separated as zkCli's -members sends it.
    const members = original.split('\n').filter((line) => line.startsWith('server.')).join(',');
    // If server 3 led, 1 and 2 are electing its successor now: wait for one to serve.
    while (ensemble.leader() === undefined || ensemble.leader()!.myId === 3) {
      await Promise.race([1, 2].map((id) => ensemble.member(id).member.roleChanged()));
    }
    const restored = await client.reconfig({ newMembers: members, fromConfig: result.stat.mzxid });
    assert.deepEqual(String(restored.data).match(/^server\.\d+/gm), ['server.1', 'server.2', 'server.3']);
    await client.create('/after-reconfigs', 'z');
    await ensemble.settled();
  });
});
