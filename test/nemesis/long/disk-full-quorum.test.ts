// Goal: a member whose disk is full never acknowledges a proposal it did not write. In a 3-voter
// ensemble one follower's disk is filled and the other follower killed, so the leader's only possible
// quorum partner is the full one; writes are tried for a while; then the leader is killed and the two
// followers (space freed) must form a quorum that holds every write a client saw acknowledged: those
// exist on the full member's disk or nowhere but the dead leader's. Against Apache 3.8 and ours;
// root only (tmpfs), skipped with the reason elsewhere. Part of `npm run test:nemesis`.
import assert from 'node:assert/strict';
import { describe, it } from 'mocha';
import { ZooKeeperClient } from '../../../src/index.js';
import { apacheAvailable } from '../../support/apache.js';
import { ourEnsembleSupport, startEnsemble, type EnsembleKind } from '../../support/ensemble.js';
import { fillDisk, freeDisk, smallDiskSupport } from '../disk.js';
import { placementFor } from '../run.js';

const WRITING_MS = 3_000;

type Register = { value: string; version: number };

async function readVersion(connectString: string, path: string): Promise<Register> {
  await using client = new ZooKeeperClient({ connectString, sessionTimeoutMs: 8_000 });
  await client.connect({ timeoutMs: 20_000 });
  await client.sync(path);
  const { data, stat } = await client.getData(path);
  return { value: String(data), version: stat.version };
}

for (const kind of ['apache', 'menagerie'] as const satisfies readonly EnsembleKind[]) {
  describe(`disk full: no acknowledgement without the disk [${kind}]`, function () {
    this.timeout(180_000);

    const title = 'acknowledged writes, with a full disk on the only quorum partner, outlive the leader';
    it(title, async function () {
      const disk = await smallDiskSupport();
      if (!disk.supported) {
        console.log(`      (skipped: ${disk.reason})`);
        this.skip();
      }
      if (kind === 'apache' && !apacheAvailable()) this.skip();
      if (kind === 'menagerie' && !(await ourEnsembleSupport()).supported) this.skip();
      const placement = placementFor(undefined, 16 << 20);
      await using ensemble = await startEnsemble({ kind, voters: 3, placement });
      const leader = await ensemble.leader();
      const [full, down] = ensemble.members.filter((m) => m !== leader);
      {
        await using setup = new ZooKeeperClient({ connectString: leader.connectString });
        await setup.connect({ timeoutMs: 15_000 });
        await setup.create('/d', '0');
      }
      full!.tolerateExit();
      await fillDisk(full!.dataDir);
      await down!.kill9();

      // Only the leader and the full member can make a quorum now.
      let acknowledged = { value: '0', version: 0 };
      let attempts = 0;
      {
        const connectString = leader.connectString;
        await using client = new ZooKeeperClient({ connectString, sessionTimeoutMs: 8_000 });
        await client.connect({ timeoutMs: 15_000 });
        const until = Date.now() + WRITING_MS;
        while (Date.now() < until) {
          attempts++;
          const value = `w${attempts}`;
          try {
            const stat = await client.setData('/d', value, { signal: AbortSignal.timeout(500) });
            acknowledged = { value, version: stat.version };
          } catch {
            await new Promise((resolve) => setTimeout(resolve, 50));
          }
        }
      }
      const fullState = full!.state === 'stopped' ? 'exited' : (await full!.mode()) || 'not serving';
      console.log(
        `      ${kind}: ${acknowledged.version} of ${attempts} writes acknowledged while the partner's ` +
          `disk was full; the full member meanwhile: ${fullState}`,
      );

      await leader.kill9();
      await freeDisk(full!.dataDir);
      await full!.restart();
      await down!.restart();
      await ensemble.leader(60_000);
      const survivors = `${full!.connectString},${down!.connectString}`;
      const after = await readVersion(survivors, '/d');
      assert.ok(
        after.version >= acknowledged.version,
        `version ${acknowledged.version} (${acknowledged.value}) was acknowledged, the survivors have ` +
          `version ${after.version} (${after.value})`,
      );
      await leader.restart();
      await ensemble.waitServing(60_000);
      const views = await Promise.all(ensemble.members.map((m) => readVersion(m.connectString, '/d')));
      assert.deepEqual(new Set(views.map((v) => `${v.value}@${v.version}`)).size, 1, 'the members agree');
    });
  });
}
