// Goal: an ensemble leader reports its proposals' sizes as Apache 3.8's does: srvr/stat's "Proposal
// sizes last/min/max" line (-1/-1/-1 before the first), mntr's last/min/max_proposal_size, with the
// same byte counts for the same writes on Apache's ensemble and ours (and mntr's peer_state on the
// leader and a follower alike); and our AdminServer's
// srvr carries proposal_stats on the leader only.
import assert from 'node:assert/strict';
import { describe, it } from 'mocha';
import { ZooKeeperClient } from '../../../src/index.js';
import { startEnsemble as startInProcess } from '../../../server/ensemble/server.js';
import { apacheAvailable } from '../../support/apache.js';
import { ourEnsembleSupport, startEnsemble, type EnsembleKind } from '../../support/ensemble.js';
import { fourLetterWord } from '../../support/ports.js';

const proposalLine = (text: string) => text.split('\n').find((l) => l.startsWith('Proposal sizes')) ?? '';

async function sizesOf(kind: EnsembleKind): Promise<string[]> {
  await using ensemble = await startEnsemble({ kind, voters: 3, config: { '4lw.commands.whitelist': '*' } });
  const leader = await ensemble.leader();
  const follower = ensemble.members.find((m) => m !== leader)!;
  const seen = [proposalLine(await fourLetterWord(leader.clientPort, 'srvr'))];
  const client = new ZooKeeperClient({ connectString: leader.connectString, sessionTimeoutMs: 6_000 });
  try {
    await client.connect({ timeoutMs: 10_000 });
    await client.create('/a', 'x');
    await client.create('/b', Buffer.alloc(1000));
    await client.setData('/a', 'yy');
    seen.push(proposalLine(await fourLetterWord(leader.clientPort, 'stat')));
    const mntr = (await fourLetterWord(leader.clientPort, 'mntr')).split('\n');
    seen.push(...mntr.filter((l) => /^zk_((last|min|max)_proposal_size|peer_state)\t/.test(l)).sort());
    const followerMntr = (await fourLetterWord(follower.clientPort, 'mntr')).split('\n');
    seen.push(...followerMntr.filter((l) => l.startsWith('zk_peer_state\t')));
    seen.push(`follower: ${proposalLine(await fourLetterWord(follower.clientPort, 'srvr'))}`);
  } finally {
    await client.close();
  }
  return seen;
}

describe('a leader\'s proposal sizes, Apache and ours side by side', function () {
  this.timeout(90_000);

  it('prints the same sizes for the same writes', async function () {
    if (!apacheAvailable() || !(await ourEnsembleSupport()).supported) this.skip();
    const apache = await sizesOf('apache');
    assert.equal(apache[0], 'Proposal sizes last/min/max: -1/-1/-1');
    assert.match(apache[1]!, /^Proposal sizes last\/min\/max: \d+\/48\/\d+$/);
    assert.equal(apache.at(-1), 'follower: ');
    assert.deepEqual(await sizesOf('menagerie'), apache);
  });

  it('gives the AdminServer\'s srvr proposal_stats on the leader only', async () => {
    await using ensemble = await startInProcess({
      size: 3,
      serverOptions: { adminServerEnabled: true, adminServerAddress: '127.0.0.1', adminServerPort: 0 },
    });
    const leader = await ensemble.settled();
    const follower = [...ensemble.members.values()].find((m) => m !== leader)!;
    const srvr = async (port: number | undefined) =>
      (await (await fetch(`http://127.0.0.1:${port}/commands/srvr`)).json()) as Record<string, unknown>;
    const stats = await srvr(leader.adminPort);
    const none = { last_buffer_size: -1, min_buffer_size: -1, max_buffer_size: -1 };
    assert.deepEqual(stats.proposal_stats, none);
    assert.equal((stats.server_stats as Record<string, unknown>).server_state, 'leader');
    assert.ok(!('proposal_stats' in (await srvr(follower.adminPort))));
  });
});
