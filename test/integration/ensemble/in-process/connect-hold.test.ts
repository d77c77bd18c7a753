// Goal: a member that is electing holds a new client's ConnectRequest and answers it on the same
// socket as soon as it serves again (no reconnect, no client backoff); past the bound it is refused.
import assert from 'node:assert/strict';
import { describe, it } from 'mocha';
import { pino } from 'pino';
import { connectRaw, holdLog } from './held-connects.js';
import { startEnsemble, type RunningEnsemble } from '../../../../server/ensemble/server.js';

/** Three members with tickTime 500 ms (a 1 s hold); stops all but one follower and waits till it elects. */
async function loneElector(logger: pino.Logger): Promise<{ ensemble: RunningEnsemble; others: number[] }> {
  const ensemble = await startEnsemble({ size: 3, tickTimeMs: 500, syncLimitTicks: 2, logger });
  const leader = await ensemble.settled();
  const others = [...ensemble.members.keys()].filter((id) => id !== leader.myId);
  const lone = ensemble.member(others.pop()!);
  await ensemble.stopMember(leader.myId);
  await ensemble.stopMember(others[0]!);
  while (lone.member.mode !== undefined) await lone.member.roleChanged();
  return { ensemble, others: [leader.myId, others[0]!] };
}

describe('ensemble in process: ConnectRequests held while electing', function () {
  this.timeout(20_000);

  it('answers a held ConnectRequest on the same socket once a leader serves', async () => {
    const { logger, held } = holdLog();
    const { ensemble, others } = await loneElector(logger);
    await using _ensemble = ensemble;
    const lone = [...ensemble.members.values()][0]!;
    const { answer, socket } = await connectRaw(lone.port);
    try {
      await held;
      await ensemble.restartMember(others[1]!); // a quorum again: the two elect and serve
      const response = await answer;
      assert.notEqual(response, 'closed', 'the held ConnectRequest was refused');
      if (response === 'closed') return;
      assert.notEqual(response.sessionId, 0n);
      assert.equal(response.timeOut, 10_000);
      assert.equal(socket.destroyed, false);
    } finally {
      socket.destroy();
    }
  });

  it('refuses a held ConnectRequest (closes, no answer) once the hold runs out', async () => {
    const { logger, held } = holdLog();
    const { ensemble } = await loneElector(logger);
    await using _ensemble = ensemble;
    const lone = [...ensemble.members.values()][0]!;
    const { answer, socket } = await connectRaw(lone.port);
    try {
      await held;
      assert.equal(await answer, 'closed');
      assert.equal(lone.member.mode, undefined);
    } finally {
      socket.destroy();
    }
  });
});
