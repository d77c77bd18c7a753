// Members started from zoo.cfg files, as `zk-server start-foreground` starts them (TCP between the
// peers on the ports of server.N, dataDir on disk, myid), in this process: they elect, replicate, and
// a member restarted on the same dataDir comes back with the data.
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'mocha';
import { ZooKeeperClient } from '../../../../src/index.js';
import { loadZooCfg } from '../../../../server/config/index.js';
import { startMemberFromConfig, type RunningMember } from '../../../../server/ensemble/server.js';
import { freePort } from '../../../support/ports.js';

async function waitAllServing(members: RunningMember[]): Promise<void> {
  await Promise.all(members.map((m) => m.serving()));
  while (!members.some((m) => m.mode === 'leader') || members.some((m) => m.mode === 'not serving')) {
    await Promise.race(members.map((m) => m.member.roleChanged()));
  }
}

describe('ensemble members from zoo.cfg (in process)', function () {
  this.timeout(20_000);

  it('elects and replicates, and a restarted member keeps its data', async () => {
    const root = await mkdtemp(path.join(tmpdir(), 'ensemble-cfg-'));
    const members: RunningMember[] = [];
    try {
      const ports: number[] = [];
      for (let i = 0; i < 9; i++) ports.push(await freePort());
      const servers = [1, 2, 3].map((id) => {
        const [quorum, election, client] = ports.slice((id - 1) * 3, id * 3);
        return `server.${id}=127.0.0.1:${quorum}:${election};127.0.0.1:${client}`;
      });
      const files: string[] = [];
      for (const id of [1, 2, 3]) {
        const dataDir = path.join(root, String(id));
        await mkdir(dataDir);
        await writeFile(path.join(dataDir, 'myid'), `${id}\n`);
        const file = path.join(dataDir, 'zoo.cfg');
        const clientPort = ports[(id - 1) * 3 + 2];
        const lines = ['tickTime=100', 'initLimit=10', 'syncLimit=5', `dataDir=${dataDir}`,
          `clientPort=${clientPort}`, 'admin.enableServer=false', ...servers];
        await writeFile(file, `${lines.join('\n')}\n`);
        files.push(file);
      }
      const start = async (file: string) => startWhenPortsFree((await loadZooCfg(file)).config);
      for (const file of files) members.push(await start(file));
      await waitAllServing(members);
      {
        await using c = new ZooKeeperClient({ connectString: members.map((m) => m.connectString).join(',') });
        await c.connect();
        await c.create('/cfg', 'kept');
      }
      const restarted = members.find((m) => m.mode === 'follower')!;
      const index = members.indexOf(restarted);
      await restarted.stop();
      members[index] = await start(files[index]!);
      await waitAllServing(members);
      await using c = new ZooKeeperClient({ connectString: members[index]!.connectString });
      await c.connect();
      assert.equal(String((await c.getData('/cfg')).data), 'kept');
      const config = String((await c.getData('/zookeeper/config')).data);
      assert.match(config, /^server\.1=127\.0\.0\.1:\d+:\d+:participant;127\.0\.0\.1:\d+$/m);
    } finally {
      await Promise.all(members.map((m) => m.stop()));
      await rm(root, { recursive: true, force: true });
    }
  });
});

/**
 * Starts a member, retrying while a port it binds is taken: between the stop and the restart, the
 * OS may hand one of the freed ports to an outgoing connection (peers redial all the time), as it
 * may to any process. Retrying for a few seconds is what a supervisor restarting Apache would do.
 */
async function startWhenPortsFree(
  config: Parameters<typeof startMemberFromConfig>[0],
): Promise<RunningMember> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await startMemberFromConfig(config);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EADDRINUSE' || attempt >= 20) throw error;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }
}
