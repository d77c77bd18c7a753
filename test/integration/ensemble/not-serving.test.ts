// Goal: what an ensemble member's four-letter words say as Apache 3.8's do: dump's session part on a
// leader and a follower (local sessions on), and every word once the member no longer serves (its two
// peers killed): "not currently serving" for all but ruok, isro ("null"), envi, gtmk. The same
// answers from a member of Apache's ensemble and of ours, side by side. Our AdminServer answers as
// Apache's Commands.runCommand does then (Debian's Apache runs here without jetty: checked on ours).
import assert from 'node:assert/strict';
import { describe, it } from 'mocha';
import { ZooKeeperClient } from '../../../src/index.js';
import { startEnsemble as startInProcess } from '../../../server/ensemble/server.js';
import { apacheAvailable } from '../../support/apache.js';
import { ourEnsembleSupport, startEnsemble, type EnsembleKind } from '../../support/ensemble.js';
import { fourLetterWord } from '../../support/ports.js';

const WORDS = [
  'ruok', 'isro', 'srvr', 'stat', 'mntr', 'cons', 'dump', 'wchs', 'wchc', 'wchp', 'conf', 'crst', 'srst',
  'dirs', 'envi', 'gtmk',
];

/** dump's SessionTracker part with times and ids replaced: its shape and counts remain. */
function sessionPart(dump: string): string {
  return dump
    .split('ephemeral nodes dump:')[0]!
    .replace(/\w{3} \w{3} \d+ \d\d:\d\d:\d\d UTC \d{4}/g, 'DATE')
    .replace(/0x[0-9a-f]+/g, 'ID');
}

interface Answers {
  readonly leaderDump: string;
  readonly followerDump: string;
  readonly notServing: Record<string, string>;
}

async function answersOf(kind: EnsembleKind): Promise<Answers> {
  await using ensemble = await startEnsemble({
    kind,
    voters: 3,
    config: { localSessionsEnabled: true, '4lw.commands.whitelist': '*' },
  });
  const leader = await ensemble.leader();
  const follower = ensemble.members.find((m) => m !== leader)!;
  const clients = [leader, follower, follower].map(
    (m) => new ZooKeeperClient({ connectString: m.connectString, sessionTimeoutMs: 4_000 }),
  );
  try {
    for (const client of clients) await client.connect({ timeoutMs: 10_000 });
    const leaderDump = sessionPart(await fourLetterWord(leader.clientPort, 'dump'));
    const followerDump = sessionPart(await fourLetterWord(follower.clientPort, 'dump'));
    for (const client of clients) await client.close();
    for (const member of ensemble.members) if (member !== follower) await member.kill9();
    await follower.waitMode(['']);
    const notServing: Record<string, string> = {};
    for (const word of WORDS) {
      const answer = await fourLetterWord(follower.clientPort, word);
      notServing[word] = word === 'envi' ? answer.split('\n')[0]! : answer;
    }
    return { leaderDump, followerDump, notServing };
  } finally {
    for (const client of clients) await client.close().catch(() => {});
  }
}

describe('an ensemble member\'s four-letter words, Apache and ours side by side', function () {
  this.timeout(120_000);

  it('dump sessions while serving and every word while not serving', async function () {
    if (!apacheAvailable() || !(await ourEnsembleSupport()).supported) this.skip();
    const apache = await answersOf('apache');
    const ours = await answersOf('menagerie');
    assert.match(apache.leaderDump, /Local Session Sets \(1\)\/\(1\):[^]*Global Session Sets \(0\)\/\(0\)/);
    assert.equal(ours.leaderDump, apache.leaderDump);
    assert.match(apache.followerDump, /Global Sessions\(0\):/);
    assert.equal(ours.followerDump, apache.followerDump);
    assert.equal(apache.notServing.cons, 'This ZooKeeper instance is not currently serving requests\n');
    assert.equal(apache.notServing.isro, 'null');
    assert.deepEqual(ours.notServing, apache.notServing);
  });
});

describe('an ensemble member\'s AdminServer while not serving', function () {
  this.timeout(20_000);

  it('answers server commands with Apache\'s error; monitor and environment still answer', async () => {
    await using ensemble = await startInProcess({
      size: 3,
      serverOptions: { adminServerEnabled: true, adminServerAddress: '127.0.0.1', adminServerPort: 0 },
    });
    const leader = await ensemble.settled();
    const kept = [...ensemble.members.values()].find((m) => m !== leader)!;
    for (const member of [...ensemble.members.values()]) {
      if (member !== kept) await ensemble.stopMember(member.myId);
    }
    while (kept.mode !== 'not serving') await kept.member.roleChanged();
    const command = async (name: string) => {
      const response = await fetch(`http://127.0.0.1:${kept.adminPort}/commands/${name}`);
      assert.equal(response.status, 200);
      return (await response.json()) as Record<string, unknown>;
    };
    for (const name of ['cons', 'connections', 'dump', 'wchs', 'srvr', 'ruok', 'is_read_only']) {
      assert.deepEqual(await command(name), {
        command: name,
        error: 'This ZooKeeper instance is not currently serving requests',
      });
    }
    assert.equal((await command('monitor')).error, null);
    assert.equal((await command('envi')).error, null);
  });
});
