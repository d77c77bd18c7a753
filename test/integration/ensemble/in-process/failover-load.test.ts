// Writes keep flowing through every member while the leader stops: every write acknowledged to a
// client is afterwards on every surviving member, and the survivors agree on the whole tree.
import assert from 'node:assert/strict';
import { describe, it } from 'mocha';
import { ConnectionLossError, NodeExistsError, ZooKeeperClient } from '../../../../src/index.js';
import { startEnsemble, type RunningEnsemble } from '../../../../server/ensemble/server.js';

const WRITES_PER_CLIENT = 60;

async function treeOf(ensemble: RunningEnsemble, id: number): Promise<string[]> {
  await using reader = new ZooKeeperClient({ connectString: ensemble.member(id).connectString });
  await reader.connect();
  await reader.sync('/load');
  const { children } = await reader.getChildren('/load');
  return children.sort();
}

const SEAMS = [
  { transport: 'memory', storage: 'memory' },
  { transport: 'tcp', storage: 'disk' },
] as const;

for (const seams of SEAMS) {
  describe(`ensemble in process: failover under load (${seams.transport}, ${seams.storage})`, function () {
    this.timeout(30_000);

    it('loses no acknowledged write when the leader stops', async () => {
      await using ensemble = await startEnsemble({ size: 3, ...seams });
      const leader = await ensemble.settled();
      const members = [...ensemble.members.values()];
      const connectString = members.map((m) => m.connectString).join(',');
      const clients = members.map(() => new ZooKeeperClient({ connectString, sessionTimeoutMs: 5000 }));
      try {
        await Promise.all(clients.map((c) => c.connect()));
        await clients[0]!.create('/load');
        const acknowledged: string[] = [];
        let stopped: Promise<void> | undefined;
        const writer = async (c: ZooKeeperClient, index: number) => {
          for (let i = 0; i < WRITES_PER_CLIENT; i++) {
            const path = `/load/w${index}-${String(i).padStart(3, '0')}`;
            try {
              await c.create(path, String(i));
              acknowledged.push(path);
            } catch (error) {
              // Not acknowledged: lost with the connection, or a retry of one that was applied.
              if (!(error instanceof ConnectionLossError) && !(error instanceof NodeExistsError)) throw error;
            }
            if (acknowledged.length === 30) stopped ??= ensemble.stopMember(leader.myId);
          }
        };
        await Promise.all(clients.map((c, index) => writer(c, index)));
        await stopped;
        await ensemble.settled();
        const survivors = [...ensemble.members.keys()];
        const trees = await Promise.all(survivors.map((id) => treeOf(ensemble, id)));
        assert.deepEqual(trees[0], trees[1], 'the survivors agree');
        const present = new Set(trees[0]);
        const lost = acknowledged.filter((path) => !present.has(path.slice('/load/'.length)));
        assert.deepEqual(lost, [], 'every acknowledged write survives');
        assert.ok(acknowledged.length > 30, 'writes went on after the leader stopped');
      } finally {
        await Promise.all(clients.map((c) => c.close()));
      }
    });
  });
}
