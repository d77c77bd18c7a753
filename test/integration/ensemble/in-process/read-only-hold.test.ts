// Goal: ConnectRequests a member holds while electing are answered as soon as it enters read-only
// mode (readonlymode.enabled): a client that allows read-only gets its session on the same socket,
// one that does not is refused at once (it looks for a read-write member), neither waits out the hold.
import assert from 'node:assert/strict';
import { describe, it } from 'mocha';
import { connectRaw, holdLog } from './held-connects.js';
import { startEnsemble } from '../../../../server/ensemble/server.js';

describe('ensemble in process: held ConnectRequests and read-only mode', function () {
  this.timeout(20_000);

  it('answers held ConnectRequests when the member turns read-only, before the hold runs out', async () => {
    const { logger, held } = holdLog(2);
    // tickTime 600 ms: a hold of min(2 ticks, 1 s) = 1 s, longer than the 300 ms before read-only.
    await using ensemble = await startEnsemble({
      size: 3,
      tickTimeMs: 600,
      syncLimitTicks: 2,
      logger,
      serverOptions: { readOnlyModeEnabled: true },
      readOnlyAfterMs: 300,
    });
    const leader = await ensemble.settled();
    const lone = [...ensemble.members.values()].find((m) => m !== leader)!;
    for (const id of [...ensemble.members.keys()]) if (id !== lone.myId) await ensemble.stopMember(id);
    while (lone.member.state !== 'LOOKING') await lone.member.roleChanged();
    const readOnly = await connectRaw(lone.port, true);
    const readWrite = await connectRaw(lone.port, false);
    try {
      await held;
      assert.equal(lone.mode, 'not serving', 'both were held while electing');
      const response = await readOnly.answer;
      assert.notEqual(response, 'closed', 'the read-only client was refused');
      if (response === 'closed') return;
      assert.equal(lone.mode, 'read-only');
      assert.equal(response.readOnly, true);
      assert.notEqual(response.sessionId, 0n);
      assert.equal(await readWrite.answer, 'closed');
      assert.equal(lone.mode, 'read-only', 'refused in read-only mode, not after the hold');
    } finally {
      readOnly.socket.destroy();
      readWrite.socket.destroy();
    }
  });
});
