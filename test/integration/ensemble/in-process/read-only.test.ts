// Read-only mode (readonlymode.enabled) in an in-process ensemble: a member cut off from its quorum
// serves reads to clients that allow it, answers writes with NotReadOnly and isro with "ro", and
// sends its clients back to read-write once the quorum returns.
import assert from 'node:assert/strict';
import { describe, it } from 'mocha';
import { NotReadOnlyError, ZooKeeperClient, type ConnectionState } from '../../../../src/index.js';
import { startEnsemble } from '../../../../server/ensemble/server.js';
import { fourLetterWord } from '../../../support/ports.js';

async function waitForState(client: ZooKeeperClient, type: ConnectionState['type']): Promise<void> {
  if (client.state.type === type) return;
  for await (const state of client.states({ signal: AbortSignal.timeout(15_000) })) {
    if (state.type === type) return;
  }
}

describe('ensemble in process: read-only mode', function () {
  this.timeout(20_000);

  it('serves reads without a quorum, refuses writes, and returns to read-write', async () => {
    await using ensemble = await startEnsemble({
      size: 3,
      serverOptions: { readOnlyModeEnabled: true, fourLetterWordsEnabled: '*' },
      readOnlyAfterMs: 200,
    });
    const leader = await ensemble.settled();
    const lone = [...ensemble.members.values()].find((m) => m !== leader)!;
    {
      await using writer = new ZooKeeperClient({ connectString: lone.connectString });
      await writer.connect();
      await writer.create('/ro', 'visible');
    }
    const others = [...ensemble.members.keys()].filter((id) => id !== lone.myId);
    for (const id of others) await ensemble.stopMember(id);
    while (lone.mode !== 'read-only') await lone.member.roleChanged();
    assert.equal(await fourLetterWord(lone.port, 'isro'), 'ro');
    assert.match(await fourLetterWord(lone.port, 'srvr'), /Mode: read-only/);

    await using client = new ZooKeeperClient({
      connectString: lone.connectString, sessionTimeoutMs: 4000, canBeReadOnly: true,
    });
    await client.connect();
    assert.equal(client.state.type, 'connectedReadOnly');
    assert.equal(String((await client.getData('/ro')).data), 'visible');
    await assert.rejects(client.create('/ro/new'), NotReadOnlyError);

    await ensemble.restartMember(others[0]!);
    await ensemble.settled();
    assert.equal(await fourLetterWord(lone.port, 'isro'), 'rw');
    await waitForState(client, 'connected');
    await client.create('/ro/new');
    assert.deepEqual((await client.getChildren('/ro')).children, ['new']);
  });
});
