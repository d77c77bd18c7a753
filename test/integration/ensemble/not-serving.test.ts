// Goal: what an ensemble member's four-letter words say as Apache 3.8's do: dump's session part on a
// leader and a follower (local sessions on), and every word once the member no longer serves (its two
// peers killed): "not currently serving" for all but ruok, isro ("null"), envi, gtmk. The same
// answers from a member of Apache's ensemble and of ours, side by side; and the AdminServer's commands
// then, against an Apache quorum started with jetty on its classpath (its monitor fails there with an
// HTTP 500, a NullPointerException: ours keeps answering it).
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'mocha';
import { ZooKeeperClient } from '../../../src/index.js';
import { startEnsemble as startInProcess } from '../../../server/ensemble/server.js';
import { APACHE_JAR, apacheAvailable } from '../../support/apache.js';
import { ourEnsembleSupport, startEnsemble, type EnsembleKind } from '../../support/ensemble.js';
import { fourLetterWord, freePort } from '../../support/ports.js';

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

/** Apache's JettyAdminServer needs these on the classpath (the shared fixtures start it without). */
const ADMIN_JARS = [
  'slf4j-simple', 'jetty9-http', 'jetty9-io', 'jetty9-security', 'jetty9-server', 'jetty9-servlet',
  'jetty9-util', 'jackson-annotations', 'jackson-core', 'jackson-databind', 'servlet-api',
].map((name) => `/usr/share/java/${name}.jar`);
const ADMIN_COMMANDS = [
  'ruok', 'cons', 'connections', 'dump', 'wchs', 'srvr', 'stat', 'conf', 'dirs', 'is_read_only', 'leader',
  'voting_view',
];

/** An Apache 3-member quorum, AdminServer on: the admin answers of member 1 once its peers are killed. */
async function apacheAdminNotServing(): Promise<Record<string, unknown>> {
  const ports: number[][] = [];
  // client, quorum, election, admin
  for (let i = 0; i < 3; i++) {
    ports.push([await freePort(), await freePort(), await freePort(), await freePort()]);
  }
  const dirs: string[] = [];
  const children: ChildProcess[] = [];
  try {
    for (let i = 0; i < 3; i++) {
      const dir = await mkdtemp(path.join(tmpdir(), 'apache-admin-quorum-'));
      dirs.push(dir);
      await writeFile(path.join(dir, 'myid'), `${i + 1}\n`);
      const [client, , , admin] = ports[i]!;
      const lines = [
        'tickTime=200', 'initLimit=20', 'syncLimit=5', `dataDir=${dir}`, `clientPort=${client}`,
        'clientPortAddress=127.0.0.1', 'admin.enableServer=true', 'admin.serverAddress=127.0.0.1',
        `admin.serverPort=${admin}`, ...ports.map((p, j) => `server.${j + 1}=127.0.0.1:${p[1]}:${p[2]}`),
      ];
      await writeFile(path.join(dir, 'zoo.cfg'), `${lines.join('\n')}\n`);
      const classpath = [APACHE_JAR, ...ADMIN_JARS].join(':');
      const args = ['-Xmx128m', '-XX:+UseSerialGC', '-XX:TieredStopAtLevel=1',
        '-Dorg.slf4j.simpleLogger.defaultLogLevel=error', '-cp', classpath,
        'org.apache.zookeeper.server.quorum.QuorumPeerMain', path.join(dir, 'zoo.cfg')];
      children.push(spawn('/usr/bin/java', args, { stdio: 'ignore' }));
    }
    const srvr = () => fourLetterWord(ports[0]![0]!, 'srvr').catch(() => '');
    const waitFor = async (text: string) => {
      for (const deadline = Date.now() + 30_000; !(await srvr()).includes(text);) {
        assert.ok(Date.now() < deadline, `Apache member 1 never said "${text}"`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    };
    await waitFor('Mode:');
    for (const child of children.slice(1)) child.kill('SIGKILL');
    await waitFor('not currently serving');
    const answers: Record<string, unknown> = {};
    for (const name of ADMIN_COMMANDS) {
      const response = await fetch(`http://127.0.0.1:${ports[0]![3]}/commands/${name}`);
      answers[name] = { status: response.status, body: await response.json() };
    }
    return answers;
  } finally {
    await Promise.all(children.map((child) => {
      if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGKILL');
      return exited;
    }));
    for (const dir of dirs) await rm(dir, { recursive: true, force: true });
  }
}

describe('an ensemble member\'s AdminServer while not serving', function () {
  this.timeout(60_000);

  it('answers server commands as Apache\'s does; monitor and environment still answer', async () => {
    const apache = apacheAvailable() && ADMIN_JARS.every((jar) => existsSync(jar))
      ? await apacheAdminNotServing()
      : undefined;
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
    const ours: Record<string, unknown> = {};
    for (const name of ADMIN_COMMANDS) ours[name] = { status: 200, body: await command(name) };
    const error = 'This ZooKeeper instance is not currently serving requests';
    assert.deepEqual(ours.cons, { status: 200, body: { command: 'cons', error } });
    if (apache !== undefined) assert.deepEqual(ours, apache);
    assert.equal((await command('monitor')).error, null);
    assert.equal((await command('envi')).error, null);
  });
});
