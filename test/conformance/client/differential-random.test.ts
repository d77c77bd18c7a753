// Randomized differential check: the same random sequences of writes and reads from three clients
// (every create mode, versions, ACLs, multis, sessions ending) run on our server and Apache 3.8;
// every answer, full Stats included (zxids made relative), and every watch event each client sees
// (one-shot watches from reads, a recursive watch on its root) must be the same on both.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'mocha';
import fc from 'fast-check';
import {
  Acls, KeeperError, Perms, ZooKeeperClient, op, type ACL, type WatchedEvent,
} from '../../../src/index.js';
import { APACHE_SERVER, OUR_SERVER, type ServerUnderTest } from '../../integration/client/support/servers.js';
import { Normalizer } from './normalize.js';

const CLIENTS = 3;
const PATHS = ['/a', '/b', '/a/x', '/a/y', '/b/z', '/a/x/q'];
const MODES = ['PERSISTENT', 'EPHEMERAL', 'PERSISTENT_SEQUENTIAL', 'EPHEMERAL_SEQUENTIAL', 'CONTAINER',
  'PERSISTENT_WITH_TTL'] as const;
const ACLS: readonly (readonly ACL[])[] = [
  Acls.OPEN_ACL_UNSAFE,
  Acls.READ_ACL_UNSAFE,
  [{ perms: Perms.ALL & ~Perms.DELETE, id: { scheme: 'world', id: 'anyone' } }],
  [{ perms: Perms.ALL & ~Perms.CREATE, id: { scheme: 'world', id: 'anyone' } }],
];

type Command =
  | { kind: 'create'; client: number; path: string; mode: (typeof MODES)[number]; acl: number }
  | { kind: 'delete' | 'setData' | 'setACL'; client: number; path: string; version: number; acl: number }
  | { kind: 'getData' | 'exists' | 'getChildren' | 'getACL' | 'allChildren'; client: number; path: string;
      watch: boolean }
  | { kind: 'multi'; client: number; ops: Array<{ kind: 'create' | 'delete' | 'setData' | 'check';
      path: string; version: number }> }
  | { kind: 'restart'; client: number };

const client = fc.integer({ min: 0, max: CLIENTS - 1 });
const path = fc.constantFrom(...PATHS);
const version = fc.constantFrom(-1, 0, 1, 2);
const acl = fc.integer({ min: 0, max: ACLS.length - 1 });
const commandArb: fc.Arbitrary<Command> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('create' as const), client, path,
    mode: fc.constantFrom(...MODES), acl: fc.constantFrom(0, 0, 0, 1, 2, 3) }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constantFrom('delete' as const, 'setData' as const,
    'setACL' as const), client, path, version, acl }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constantFrom('getData' as const, 'exists' as const,
    'getChildren' as const, 'getACL' as const, 'allChildren' as const), client, path,
    watch: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('multi' as const), client,
    ops: fc.array(fc.record({ kind: fc.constantFrom('create' as const, 'delete' as const,
      'setData' as const, 'check' as const), path, version }), { minLength: 1, maxLength: 3 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('restart' as const), client }) },
);

/** Every watch event a client saw, in order (one-shot and its recursive watch on the chroot). */
type EventLog = WatchedEvent[];

/** A read's result without its watch promise, whose event goes to `log` instead. */
function logged(result: object, log: EventLog): object {
  const { watch, ...rest } = result as { watch?: Promise<WatchedEvent> };
  watch?.then((event) => log.push(event), () => undefined);
  return rest;
}

async function run(c: ZooKeeperClient, command: Command, log: EventLog): Promise<unknown> {
  switch (command.kind) {
    case 'create':
      return c.create(command.path, 'd', {
        mode: command.mode,
        acl: ACLS[command.acl],
        ...(command.mode === 'PERSISTENT_WITH_TTL' ? { ttlMs: 600_000 } : {}),
      });
    case 'delete':
      return c.delete(command.path, { version: command.version });
    case 'setData':
      return c.setData(command.path, `v${command.version}`, { version: command.version });
    case 'setACL':
      return c.setACL(command.path, ACLS[command.acl], { version: command.version });
    case 'getData':
      return logged(await c.getData(command.path, { watch: command.watch }), log);
    case 'exists': {
      if (!command.watch) return c.exists(command.path);
      const { stat, watch } = await c.exists(command.path, { watch: true });
      return logged({ stat, watch }, log);
    }
    case 'getChildren':
      return logged(await c.getChildren(command.path, { withStat: true, watch: command.watch }), log);
    case 'getACL':
      return c.getACL(command.path);
    case 'allChildren':
      return c.getAllChildrenNumber(command.path);
    case 'multi':
      return c.multi(
        command.ops.map((o) => {
          if (o.kind === 'create') return op.create(o.path, 'm');
          if (o.kind === 'delete') return op.delete(o.path, { version: o.version });
          if (o.kind === 'setData') return op.setData(o.path, 'm', { version: o.version });
          return op.check(o.path, o.version);
        }),
      );
    case 'restart':
      return undefined;
  }
}

/** Runs the commands under a fresh chroot of `server`; returns the normalized answers. */
async function transcript(server: ServerUnderTest, chroot: string, commands: Command[]): Promise<unknown[]> {
  const normalizer = new Normalizer();
  const logs: EventLog[] = Array.from({ length: CLIENTS }, () => []);
  const connect = async (index: number) => {
    const c = new ZooKeeperClient({ connectString: server.connectString + chroot });
    await c.connect();
    normalizer.session(c.sessionId);
    await c.addWatch('/', { mode: 'persistentRecursive', listener: (event) => logs[index].push(event) });
    return c;
  };
  const clients: ZooKeeperClient[] = [];
  const out: unknown[] = [];
  try {
    for (let i = 0; i < CLIENTS; i++) clients.push(await connect(i));
    for (const command of commands) {
      if (command.kind === 'restart') {
        await clients[command.client].close();
        clients[command.client] = await connect(command.client);
        out.push('restarted');
        continue;
      }
      let answer: unknown;
      try {
        answer = normalizer.value(await run(clients[command.client], command, logs[command.client]));
      } catch (error) {
        if (!(error instanceof KeeperError)) throw error;
        answer = normalizer.value(error);
      }
      // A server sends a connection's events before its reply to any later request: one round
      // trip per client brings every event this command caused.
      await Promise.all(clients.map((c) => c.exists('/')));
      out.push({ answer, events: logs.map((log) => log.splice(0)) });
    }
  } finally {
    await Promise.all(clients.map((c) => c.close()));
  }
  return out;
}

describe('random client sessions, our server vs Apache ZooKeeper 3.8 (differential)', function () {
  let ours: ServerUnderTest | undefined;
  let apache: ServerUnderTest | undefined;
  let runs = 0;

  before(async function () {
    if (!APACHE_SERVER.available()) {
      console.log('    (Apache ZooKeeper is not installed: nothing to compare against)');
      this.skip();
    }
    this.timeout(90_000);
    const started = await Promise.allSettled([OUR_SERVER.start({}), APACHE_SERVER.start({})]);
    [ours, apache] = started.map((s) => (s.status === 'fulfilled' ? s.value : undefined));
    for (const s of started) if (s.status === 'rejected') throw s.reason;
  });

  after(async function () {
    this.timeout(30_000);
    await Promise.all([ours?.stop(), apache?.stop()]);
  });

  it('gives the same answers for random command sequences', async function () {
    this.timeout(120_000);
    const numRuns = Number(process.env.DIFFERENTIAL_RUNS ?? 25);
    await fc.assert(
      fc.asyncProperty(fc.array(commandArb, { minLength: 5, maxLength: 40 }), async (commands) => {
        const chroot = `/run-${runs++}`;
        const roots = await Promise.all([ours!, apache!].map(async (server) => {
          await using root = new ZooKeeperClient({ connectString: server.connectString });
          await root.connect();
          await root.create(chroot);
        }));
        assert.equal(roots.length, 2);
        const [mine, theirs] = await Promise.all([
          transcript(ours!, chroot, commands),
          transcript(apache!, chroot, commands),
        ]);
        if (process.env.DIFF_DEBUG === '1') console.log(JSON.stringify(theirs).slice(0, 1500));
        for (let i = 0; i < theirs.length; i++) {
          assert.deepEqual(mine[i], theirs[i], `command ${i}: ${JSON.stringify(commands[i])}`);
        }
      }),
      { numRuns },
    );
  });
});
