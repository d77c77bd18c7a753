// The member's runtime loop on in-memory seams, without client sockets: three members elect and
// serve, a barrier (persisting an epoch) holds every later output of that member until the disk is
// done, and forwarded writes from each member are applied everywhere in one order.
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, it } from 'mocha';
import { pino } from 'pino';
import { OpCode, records } from '../../../src/protocol/index.js';
import type { Reply } from '../../../server/core/api.js';
import { EnsembleMember, type MemberHost } from '../../../server/ensemble/member.js';
import { MemoryNetwork, MemoryStorage } from '../../../server/ensemble/memory.js';
import type { PeerTransport } from '../../../server/ensemble/seams.js';
import { quorumConfig, type PeerMessage } from '../../../server/quorum/index.js';
import { OPEN_ACL, makeCore } from '../server/harness.js';

/** Holds persistEpoch calls until released. */
class GatedStorage extends MemoryStorage {
  held = 0;
  private release: () => void = () => {};
  private gate: Promise<void> | undefined = new Promise((resolve) => (this.release = resolve));

  override async persistEpoch(which: 'acceptedEpoch' | 'currentEpoch', epoch: bigint): Promise<void> {
    this.held++;
    await this.gate;
    return await super.persistEpoch(which, epoch);
  }

  open_(): void {
    this.gate = undefined;
    this.release();
  }
}

function recording(transport: PeerTransport, sent: PeerMessage[]): PeerTransport {
  return {
    start: (onMessage) => transport.start(onMessage),
    send: (to, message) => {
      sent.push(message);
      transport.send(to, message);
    },
    close: () => transport.close(),
    [Symbol.asyncDispose]: () => transport.close(),
  };
}

const host: MemberHost = { dropConnections() {}, sessionClosed() {}, sessionsChanged() {} };

async function startMembers(storages: MemoryStorage[], sent: PeerMessage[][]): Promise<EnsembleMember[]> {
  const network = new MemoryNetwork();
  const voters = [1, 2, 3];
  const members = voters.map((myId, index) => new EnsembleMember({
    quorum: quorumConfig({
      myId, voters, tickMs: 50, initLimitTicks: 20, syncLimitTicks: 10,
      finalizeWaitMs: 20, notificationIntervalMinMs: 20, notificationIntervalMaxMs: 200,
    }),
    core: makeCore({ serverId: myId }),
    transport: recording(network.transport(myId), sent[index]!),
    storage: storages[index]!,
    log: pino({ level: 'silent' }),
  }));
  await Promise.all(members.map((member) => member.start(host)));
  return members;
}

async function allServing(members: EnsembleMember[]): Promise<void> {
  while (!members.every((m) => m.mode !== undefined)) {
    await Promise.race(members.map((m) => m.roleChanged()));
  }
}

describe('ensemble member runtime', function () {
  this.timeout(10_000);

  it('sends nothing behind a barrier until the storage is done with it', async () => {
    const gated = new GatedStorage();
    const storages = [new MemoryStorage(), new MemoryStorage(), gated];
    const sent: PeerMessage[][] = [[], [], []];
    const members = await startMembers(storages, sent);
    try {
      while (gated.held === 0) await Promise.race(members.map((m) => m.roleChanged()).concat(sleep(20)));
      const before = sent[2]!.length;
      await sleep(200); // plenty of timers fire meanwhile; member 3 must stay silent
      assert.equal(sent[2]!.length, before, 'member 3 sent a message while its epoch was not durable');
      gated.open_();
      await allServing(members);
      assert.ok(sent[2]!.length > before);
    } finally {
      await Promise.all(members.map((m) => m.stop()));
    }
  });

  it('applies writes forwarded by every member in one order everywhere', async () => {
    const storages = [new MemoryStorage(), new MemoryStorage(), new MemoryStorage()];
    const members = await startMembers(storages, [[], [], []]);
    try {
      await allServing(members);
      const sessions = await Promise.all(members.map((member) => new Promise<bigint>((resolve, reject) => {
        const created = (session: { sessionId: bigint }) => resolve(session.sessionId);
        member.createSession(10_000, created, (reason) => reject(new Error(reason)));
      })));
      const writeThrough = (member: EnsembleMember, index: number) => {
        const ctx = { sessionId: sessions[index]!, cxid: 1, authIds: [] };
        const request = { path: `/from-${index + 1}`, data: null, acl: OPEN_ACL, flags: 0 };
        const frame = encodeCreate(1, request);
        return new Promise<Reply>((resolve, reject) => {
          member.write({ ctx, opcode: OpCode.create, request, frame }, resolve, (r) => reject(new Error(r)));
        });
      };
      const replies = await Promise.all(members.map(writeThrough));
      assert.deepEqual(replies.map((r) => r.err), [0, 0, 0]);
      const ctx = { sessionId: 0n, cxid: 0, authIds: [] };
      for (const member of members) {
        await new Promise<void>((resolve, reject) => {
          member.sync(ctx, '/', () => resolve(), (reason) => reject(new Error(reason)));
        });
        const children = member.core.read(ctx, OpCode.getChildren, { path: '/', watch: false });
        assert.deepEqual((children.response as { children: string[] }).children.sort(),
          ['from-1', 'from-2', 'from-3', 'zookeeper']);
      }
      const zxids = new Set(members.map((m) => m.core.lastProcessedZxid));
      assert.equal(zxids.size, 1, 'every member applied the same txns');
    } finally {
      await Promise.all(members.map((m) => m.stop()));
    }
  });
});

/** A client request frame (header + CreateRequest), as the connection would forward it. */
function encodeCreate(xid: number, request: records.CreateRequest): Buffer {
  return Buffer.concat([
    records.RequestHeader.encode({ xid, type: OpCode.create }),
    records.CreateRequest.encode(request),
  ]);
}
