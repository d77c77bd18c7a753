// Goal: dynamic reconfiguration of an ensemble of real processes behaves as Apache ZooKeeper 3.8's:
// a voter is removed (every member's /zookeeper/config shows it, writes go on, and the removed server
// no longer counts towards a quorum), added back, a restarted member comes back with the new
// membership from the dynamic config file (server lines, the version in its name), bad requests get
// Apache's errors (NoAuth without the super user too), a removed follower follows on as a non-voting
// learner, and zkCli.sh's and kazoo's reconfig work.
// Runs against Apache 3.8 and against our zk-server, the same steps for both.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { after, before, describe, it } from 'mocha';
import {
  BadArgumentsError, BadVersionError, ConnectionLossError, NoAuthError, ZooKeeperClient, isIndeterminate,
} from '../../../src/index.js';
import { ZKCLI } from '../../support/apache.js';
import {
  ensembleKindInstalled, ourEnsembleSupport, startEnsemble, type Ensemble, type EnsembleKind,
  type EnsembleMember,
} from '../../support/ensemble.js';

const KINDS: readonly EnsembleKind[] = ['apache', 'menagerie'];
const NAMES: Record<EnsembleKind, string> = { apache: 'Apache ZooKeeper 3.8', menagerie: 'menagerie' };
const PYTHON = '/usr/bin/python3';
const SUPER_PASSWORD = 'secret';
const SUPER_DIGEST = `super:${createHash('sha1').update(`super:${SUPER_PASSWORD}`).digest('base64')}`;

function serverIds(config: string): number[] {
  return [...config.matchAll(/^server\.(\d+)=/gm)].map((m) => Number(m[1])).sort((a, b) => a - b);
}

/** The server line a reconfig -add gives for `member` (participant, with its client address). */
function joiningLine(member: EnsembleMember): string {
  return `server.${member.id}=127.0.0.1:${member.quorumPort}:${member.electionPort}:participant;` +
    `127.0.0.1:${member.clientPort}`;
}

async function clientOn(members: readonly EnsembleMember[]): Promise<ZooKeeperClient> {
  const connectString = members.map((m) => m.connectString).join(',');
  const client = new ZooKeeperClient({ connectString, sessionTimeoutMs: 8_000, reconnectDelayMaxMs: 200 });
  await client.connect({ timeoutMs: 15_000 });
  return client;
}

/** Reconfig, where a lost reply (the member dropped its connections) is read back with getConfig. */
async function reconfig(client: ZooKeeperClient, options: Parameters<ZooKeeperClient['reconfig']>[0]):
  Promise<string> {
  try {
    return String((await client.reconfig(options)).data);
  } catch (error) {
    if (!(error instanceof ConnectionLossError && isIndeterminate(error))) throw error;
    return await afterConnectionLoss(client);
  }
}

/** The config read back once the client is connected again (the member may drop connections). */
async function afterConnectionLoss(client: ZooKeeperClient): Promise<string> {
  for (let attempt = 1; ; attempt++) {
    try {
      await client.sync('/zookeeper/config');
      return String((await client.getConfig()).data);
    } catch (error) {
      if (!(error instanceof ConnectionLossError) || attempt >= 50) throw error;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
}

/** The config every member in `members` serves, once it shows the ids `expected` (bounded). */
async function configOnEach(members: readonly EnsembleMember[], expected: number[]): Promise<string[]> {
  const configs: string[] = [];
  for (const member of members) {
    await using client = await clientOn([member]);
    const deadline = Date.now() + 15_000;
    for (;;) {
      await client.sync('/zookeeper/config');
      const config = String((await client.getConfig()).data);
      if (serverIds(config).join() === expected.join()) {
        configs.push(config);
        break;
      }
      if (Date.now() > deadline) assert.fail(`member ${member.id} serves ${config}, not servers ${expected}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
  return configs;
}

function run(file: string, args: string[], timeoutMs = 30_000): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(file, args, { timeout: timeoutMs }, (error, stdout, stderr) => {
      if (error !== null) reject(new Error(`${file} failed: ${String(error)}\n${stdout}\n${stderr}`));
      else resolve(`${stdout}${stderr}`);
    });
  });
}

const KAZOO_RECONFIG = `
import sys
from kazoo.client import KazooClient
hosts, joining, leaving = sys.argv[1], sys.argv[2] or None, sys.argv[3] or None
zk = KazooClient(hosts=hosts, timeout=10)
zk.start(timeout=15)
data, stat = zk.reconfig(joining=joining, leaving=leaving, new_members=None)
print(data.decode())
zk.stop()
`;

for (const kind of KINDS) {
  describe(`reconfig of a 4-voter ${NAMES[kind]} ensemble of processes`, function () {
    this.timeout(60_000);
    let starting: Promise<Ensemble> | undefined;
    let ensemble: Ensemble;

    before(async function () {
      this.timeout(120_000);
      if (!ensembleKindInstalled(kind)) this.skip();
      if (kind === 'menagerie' && !(await ourEnsembleSupport()).supported) this.skip();
      starting = startEnsemble({
        kind, voters: 4, tickTimeMs: 200, syncLimit: 10, config: { reconfigEnabled: true, skipACL: 'yes' },
      });
      ensemble = await starting;
    });
    after(async function () {
      this.timeout(60_000);
      await (await starting?.catch(() => undefined))?.stop();
    });

    it('removes a voter: every member shows it, and the removed one no longer counts', async () => {
      const [one, two, three, four] = ensemble.members as [EnsembleMember, EnsembleMember,
        EnsembleMember, EnsembleMember];
      await using client = await clientOn([one, two, three]);
      const { stat } = await client.getConfig();
      await assert.rejects(client.reconfig({ leaving: '4', fromConfig: stat.mzxid + 5n }), BadVersionError);
      const malformed = { leaving: '4', newMembers: 'not a server line' };
      await assert.rejects(client.reconfig(malformed), BadArgumentsError);
      const config = await reconfig(client, { leaving: '4', fromConfig: stat.mzxid });
      assert.deepEqual(serverIds(config), [1, 2, 3], config);
      assert.match(config, /^version=[0-9a-f]+$/m);
      await configOnEach([one, two, three], [1, 2, 3]);
      // Of the old four voters only two run now: that is a quorum of the new three, not of the old four.
      four.pause();
      await three.kill9();
      await using writer = await clientOn([one, two]);
      await writer.create('/after-remove', 'x');
      four.resume();
      await three.restart();
      // The removed server 4 is left out here (it follows on as a non-voting learner: see the ACL spec).
      await three.waitMode(['leader', 'follower'], 30_000);
      await using reader = await clientOn([three]);
      await reader.sync('/');
      assert.equal((await reader.getData('/after-remove')).data?.toString(), 'x');
    });

    it('records the config in the dynamic config file; a restarted member comes back with it', async () => {
      const one = ensemble.member(1);
      const zooCfg = await readFile(one.dataDir + '/zoo.cfg', 'utf8');
      const dynamicFile = /^dynamicConfigFile=(.*)$/m.exec(zooCfg)?.[1];
      assert.ok(dynamicFile !== undefined && existsSync(dynamicFile), zooCfg);
      const dynamicText = await readFile(dynamicFile, 'utf8');
      assert.deepEqual(serverIds(dynamicText), [1, 2, 3]);
      // Server lines only: the version is the file name's suffix, the one getConfig shows.
      assert.doesNotMatch(dynamicText, /^version=/m, dynamicText);
      await using client = await clientOn([one]);
      const version = /^version=([0-9a-f]+)$/m.exec(String((await client.getConfig()).data))?.[1];
      assert.ok(dynamicFile.endsWith(`.dynamic.${version}`), `${dynamicFile} vs version ${version}`);
      assert.doesNotMatch(zooCfg, /^server\./m, 'the server lines moved to the dynamic file');
      await one.kill9();
      await one.restart();
      await one.waitMode(['leader', 'follower'], 30_000);
      await configOnEach([one], [1, 2, 3]);
    });

    it('adds the server back with zkCli.sh reconfig -add, removes and adds it with kazoo', async function () {
      if (!existsSync(ZKCLI)) this.skip();
      const four = ensemble.member(4);
      const others = ensemble.members.filter((m) => m !== four);
      const server = others[0]!.connectString;
      const output = await run(ZKCLI, ['-server', server, 'reconfig', '-add', joiningLine(four)]);
      assert.match(output, /server\.4=/, output);
      await configOnEach(ensemble.members, [1, 2, 3, 4]);
      await four.waitMode(['leader', 'follower'], 30_000);
      if (!existsSync(PYTHON)) return;
      const hosts = others.map((m) => m.connectString).join(',');
      const removed = await run(PYTHON, ['-c', KAZOO_RECONFIG, hosts, '', '4']);
      assert.deepEqual(serverIds(removed), [1, 2, 3], removed);
      const added = await run(PYTHON, ['-c', KAZOO_RECONFIG, hosts, joiningLine(four), '']);
      assert.deepEqual(serverIds(added), [1, 2, 3, 4], added);
      await configOnEach(ensemble.members, [1, 2, 3, 4]);
      await using client = await clientOn([four]);
      await client.create('/after-add', 'y');
    });
  });
}

for (const kind of KINDS) {
  describe(`reconfig's ACL check on a 3-voter ${NAMES[kind]} ensemble of processes`, function () {
    this.timeout(60_000);

    it('answers NoAuth without the super user; the super user may, and the removed one follows on',
      async function () {
      this.timeout(120_000);
      if (!ensembleKindInstalled(kind)) this.skip();
      if (kind === 'menagerie' && !(await ourEnsembleSupport()).supported) this.skip();
      // Apache takes zoo.cfg keys it does not know as zookeeper.* system properties, so both read this.
      await using ensemble = await startEnsemble({
        kind, voters: 3, tickTimeMs: 200, syncLimit: 10,
        config: { reconfigEnabled: true, 'DigestAuthenticationProvider.superDigest': SUPER_DIGEST },
      });
      const leader = await ensemble.leader();
      const follower = ensemble.members.find((m) => m !== leader)!;
      await using client = await clientOn([leader]);
      await assert.rejects(client.reconfig({ leaving: String(follower.id) }), NoAuthError);
      await client.addAuth('digest', `super:${SUPER_PASSWORD}`);
      const config = await reconfig(client, { leaving: String(follower.id) });
      assert.deepEqual(serverIds(config), ensemble.members.filter((m) => m !== follower).map((m) => m.id));
      // The removed server keeps following as a non-voting learner until it restarts: it still says
      // follower, and serves what is written after its removal.
      await client.create('/after-removal', 'z');
      assert.equal(await follower.mode(), 'follower');
      await using reader = await clientOn([follower]);
      await reader.sync('/');
      assert.equal((await reader.getData('/after-removal')).data?.toString(), 'z');
      assert.deepEqual(serverIds(String((await reader.getConfig()).data)), serverIds(config));
    });
  });
}
