// Partitions on the in-process network: a leader cut off from the majority stops serving and its
// clients' writes fail, the majority elects a leader and goes on, and after the heal the old leader
// is truncated (TRUNC), follows and holds the same tree; a 5-member ensemble with an observer agrees
// on writes made through every member; and a leader holds writes beyond its proposals in flight.
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { describe, it } from 'mocha';
import { pino } from 'pino';
import { ConnectionLossError, ZooKeeperClient } from '../../../../src/index.js';
import { MemoryNetwork } from '../../../../server/ensemble/memory.js';
import {
  startEnsemble,
  type RunningEnsemble,
  type RunningMember,
} from '../../../../server/ensemble/server.js';

async function childrenOn(member: RunningMember, path: string): Promise<string[]> {
  await using c = new ZooKeeperClient({ connectString: member.connectString });
  await c.connect();
  await c.sync(path);
  return (await c.getChildren(path)).children.sort();
}

async function waitFor(ensemble: RunningEnsemble, check: () => boolean): Promise<void> {
  while (!check()) await Promise.race([...ensemble.members.values()].map((m) => m.member.roleChanged()));
}

describe('ensemble in process: partitions and larger ensembles', function () {
  this.timeout(20_000);

  it('moves leadership to the majority side of a partition and converges after the heal', async () => {
    const network = new MemoryNetwork();
    const syncs: Array<{ myId: number; msg: string }> = [];
    const logs = new Writable({
      write(line: Buffer, _encoding, done) {
        const entry = JSON.parse(line.toString()) as { msg: string; myId: number };
        if (entry.msg.startsWith('sync with the leader')) syncs.push(entry);
        done();
      },
    });
    await using ensemble = await startEnsemble({ size: 3, network, logger: pino(logs) });
    const oldLeader = await ensemble.settled();
    const majority = [...ensemble.members.values()].filter((m) => m !== oldLeader);
    {
      await using c = new ZooKeeperClient({ connectString: oldLeader.connectString });
      await c.connect();
      await c.create('/p');
      await c.create('/p/before');
    }
    await using cutOff = new ZooKeeperClient({ connectString: oldLeader.connectString });
    await cutOff.connect();
    network.isolate(oldLeader.myId);
    // The minority cannot commit: the write fails when the cut-off leader gives up.
    await assert.rejects(cutOff.create('/p/minority'), ConnectionLossError);
    const majorityLeads = () => majority.some((m) => m.mode === 'leader');
    await waitFor(ensemble, () => oldLeader.mode === 'not serving' && majorityLeads());
    await using writer = new ZooKeeperClient({ connectString: majority[0]!.connectString });
    await writer.connect();
    await writer.create('/p/during');
    syncs.length = 0;
    network.heal();
    await ensemble.settled();
    // Its uncommitted proposal (/p/minority) is cut from its log.
    const rejoined = syncs.filter((entry) => entry.myId === oldLeader.myId).map((entry) => entry.msg);
    assert.deepEqual(rejoined, ['sync with the leader: TRUNC']);
    assert.notEqual(oldLeader.mode, 'leader');
    for (const member of ensemble.members.values()) {
      assert.deepEqual(await childrenOn(member, '/p'), ['before', 'during'], `member ${member.myId}`);
    }
  });

  it('runs 5 voters and an observer that agree on writes made through each of them', async () => {
    await using ensemble = await startEnsemble({ size: 5, observers: 1 });
    await ensemble.settled();
    const members = [...ensemble.members.values()];
    assert.deepEqual(members.map((m) => m.mode).sort(), [
      'follower', 'follower', 'follower', 'follower', 'leader', 'observer',
    ]);
    {
      await using c = new ZooKeeperClient({ connectString: members[0]!.connectString });
      await c.connect();
      await c.create('/five');
    }
    await Promise.all(members.map(async (member) => {
      await using c = new ZooKeeperClient({ connectString: member.connectString });
      await c.connect();
      await c.create(`/five/from-${member.myId}`);
    }));
    const expected = members.map((m) => `from-${m.myId}`).sort();
    for (const member of members) assert.deepEqual(await childrenOn(member, '/five'), expected);
  });

  it('holds writes beyond the proposals in flight until earlier ones commit, in order', async () => {
    await using ensemble = await startEnsemble({ size: 3, quorum: { outstandingProposalsMax: 1 } });
    await ensemble.settled();
    const members = [...ensemble.members.values()];
    const clients = members.map((m) => new ZooKeeperClient({ connectString: m.connectString }));
    try {
      await Promise.all(clients.map((c) => c.connect()));
      await clients[0]!.create('/w');
      // Pipelined writes through every member at once: all are answered, each client's in order.
      const created = await Promise.all(clients.map((c, k) => Promise.all(
        Array.from({ length: 10 }, () => c.create(`/w/c${k}-`, null, { mode: 'PERSISTENT_SEQUENTIAL' })),
      )));
      for (const paths of created) {
        const sequence = paths.map((result) => Number(result.path.slice(-10)));
        assert.deepEqual(sequence, [...sequence].sort((a, b) => a - b));
      }
      const trees: string[][] = [];
      for (const member of members) trees.push(await childrenOn(member, '/w'));
      assert.equal(trees[0]!.length, 30);
      assert.deepEqual(trees[1], trees[0]);
      assert.deepEqual(trees[2], trees[0]);
      for (const member of members) assert.equal(member.member.failed, false);
    } finally {
      await Promise.all(clients.map((c) => c.close()));
    }
  });
});
