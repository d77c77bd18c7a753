// Goal: localSessionsEnabled behaves on our ensemble as on Apache 3.8's: a new session stays local to
// the member it connected to (unknown elsewhere: SessionExpired there), writes through the leader all
// the same, becomes global when it creates an ephemeral (localSessionsUpgradingEnabled) or else gets
// EphemeralOnLocalSession, and closes without trouble either way.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'mocha';
import {
  EphemeralOnLocalSessionError,
  SessionExpiredError,
  ZooKeeperClient,
} from '../../../src/index.js';
import { apacheAvailable } from '../../support/apache.js';
import {
  ourEnsembleSupport,
  startEnsemble,
  type Ensemble,
  type EnsembleKind,
  type EnsembleMember,
} from '../../support/ensemble.js';
import { fourLetterWord } from '../../support/ports.js';

const KINDS: readonly EnsembleKind[] = ['apache', 'menagerie'];

async function clientOn(member: EnsembleMember, session?: ZooKeeperClient): Promise<ZooKeeperClient> {
  const client = new ZooKeeperClient({
    connectString: member.connectString,
    sessionTimeoutMs: 6_000,
    ...(session === undefined
      ? {}
      : { sessionId: session.sessionId, sessionPassword: session.sessionPassword }),
  });
  try {
    await client.connect({ timeoutMs: 10_000 });
  } catch (error) {
    await client.close().catch(() => {});
    throw error;
  }
  return client;
}

/** The same session, resumed on `member`: resolves with the error the client got, if any. */
async function resumeOn(member: EnsembleMember, session: ZooKeeperClient): Promise<unknown> {
  try {
    const resumed = await clientOn(member, session);
    // Leave the session to its first client: only the connection goes.
    resumed.dropConnection();
    await resumed.close().catch(() => {});
    return undefined;
  } catch (error) {
    return error;
  }
}

async function mntr(member: EnsembleMember, key: string): Promise<number> {
  const lines = (await fourLetterWord(member.clientPort, 'mntr')).split('\n');
  const line = lines.find((l) => l.startsWith(`${key}\t`));
  assert.ok(line !== undefined, `mntr has ${key}`);
  return Number(line.split('\t')[1]);
}

for (const kind of KINDS) {
  for (const upgrading of [true, false]) {
    describe(`local sessions, upgrading ${upgrading ? 'on' : 'off'} [${kind}]`, function () {
      this.timeout(30_000);
      let ensemble: Ensemble | undefined;
      let follower: EnsembleMember;
      let other: EnsembleMember;
      const clients: ZooKeeperClient[] = [];

      before(async function () {
        this.timeout(90_000);
        if (kind === 'apache' && !apacheAvailable()) this.skip();
        if (kind === 'menagerie' && !(await ourEnsembleSupport()).supported) this.skip();
        ensemble = await startEnsemble({
          kind,
          voters: 3,
          config: {
            localSessionsEnabled: true,
            localSessionsUpgradingEnabled: upgrading,
            '4lw.commands.whitelist': '*',
          },
        });
        const leader = await ensemble.leader();
        [follower, other] = ensemble.members.filter((m) => m !== leader) as [EnsembleMember, EnsembleMember];
      });

      after(async () => {
        for (const client of clients) await client.close().catch(() => {});
        await ensemble?.stop();
      });

      async function localClient(): Promise<ZooKeeperClient> {
        const client = await clientOn(follower);
        clients.push(client);
        return client;
      }

      it('keeps a new session on its member: writes go through, other members do not know it', async () => {
        const client = await localClient();
        assert.ok((await mntr(follower, 'zk_local_sessions')) >= 1);
        await client.create(`/persistent-${upgrading}`, 'v');
        const reader = await clientOn(other);
        clients.push(reader);
        await reader.sync('/');
        assert.ok((await reader.exists(`/persistent-${upgrading}`)) !== null);
        assert.ok((await resumeOn(other, client)) instanceof SessionExpiredError);
        // Back on its own member, the session is still there.
        assert.ok((await resumeOn(follower, client)) === undefined);
      });

      if (upgrading) {
        it('upgrades the session when it creates an ephemeral: then it moves between members', async () => {
          const client = await localClient();
          await client.create('/ephemeral', 'e', { mode: 'EPHEMERAL' });
          const stat = await client.exists('/ephemeral');
          assert.equal(stat?.ephemeralOwner, client.sessionId);
          assert.equal(await resumeOn(other, client), undefined);
          const reader = await clientOn(other);
          clients.push(reader);
          await client.close();
          await reader.sync('/');
          assert.equal(await reader.exists('/ephemeral'), null, 'the ephemeral went with the session');
        });
      } else {
        it('refuses an ephemeral with EphemeralOnLocalSession; the session lives on', async () => {
          const client = await localClient();
          const create = client.create('/ephemeral', 'e', { mode: 'EPHEMERAL' });
          await assert.rejects(create, EphemeralOnLocalSessionError);
          const reader = await clientOn(other);
          clients.push(reader);
          await reader.sync('/');
          assert.equal(await reader.exists('/ephemeral'), null);
          assert.ok((await client.getChildren('/')).children.includes('zookeeper'));
          assert.ok((await resumeOn(other, client)) instanceof SessionExpiredError, 'still local');
        });
      }

      it('closes a local session', async () => {
        const client = await localClient();
        await client.close();
        assert.equal(client.isConnected, false);
      });
    });
  }
}
