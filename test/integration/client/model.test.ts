// Property test: random sequences of operations from three clients (creates of several modes,
// deletes, setData with versions, reads, small multis, and a client restarting its session) run
// against our server and Apache ZooKeeper 3.8 and against a simple in-memory model of the tree,
// one op at a time; every answer (value or error code) must agree. Bounded so it stays a few seconds.
import assert from 'node:assert/strict';
import { after, before, it } from 'mocha';
import fc from 'fast-check';
import { KeeperError, ZooKeeperClient, op, sequenceSuffix, type MultiOperation } from '../../../src/index.js';
import { describeEachServer } from './support/servers.js';

const PATHS = ['/a', '/b', '/a/x', '/a/y', '/b/z', '/a/x/q'];
const CLIENTS = 3;

type Mode = 'PERSISTENT' | 'EPHEMERAL' | 'PERSISTENT_SEQUENTIAL';
type Command =
  | { kind: 'create'; client: number; path: string; data: string; mode: Mode }
  | { kind: 'delete'; client: number; path: string; version: number }
  | { kind: 'setData'; client: number; path: string; data: string; version: number }
  | { kind: 'getData' | 'exists' | 'getChildren'; client: number; path: string }
  | {
      kind: 'multi';
      client: number;
      ops: Array<{ kind: 'create' | 'delete' | 'setData' | 'check'; path: string; version: number }>;
    }
  | { kind: 'restart'; client: number };

interface ModelNode {
  data: string;
  version: number;
  owner: string | null;
  childCreates: number;
}

/** The tree as ZooKeeper's rules say it should be; answers are values or error code names. */
class Model {
  nodes = new Map<string, ModelNode>([['/', { data: '', version: 0, owner: null, childCreates: 0 }]]);

  clone(): Model {
    const copy = new Model();
    copy.nodes = new Map([...this.nodes].map(([k, v]) => [k, { ...v }]));
    return copy;
  }

  children(path: string): string[] {
    const prefix = path === '/' ? '/' : `${path}/`;
    return [...this.nodes.keys()]
      .filter((p) => p !== path && p.startsWith(prefix) && !p.slice(prefix.length).includes('/'))
      .map((p) => p.slice(prefix.length))
      .sort();
  }

  create(path: string, data: string, mode: Mode, owner: string): string {
    const parentPath = path.slice(0, path.lastIndexOf('/')) || '/';
    const parent = this.nodes.get(parentPath);
    if (!parent) throw 'NONODE';
    const actual = mode === 'PERSISTENT_SEQUENTIAL' ? path + sequenceSuffix(parent.childCreates) : path;
    if (this.nodes.has(actual)) throw 'NODEEXISTS';
    if (parent.owner !== null) throw 'NOCHILDRENFOREPHEMERALS';
    parent.childCreates++;
    this.nodes.set(actual, { data, version: 0, owner: mode === 'EPHEMERAL' ? owner : null, childCreates: 0 });
    return actual;
  }

  delete(path: string, version: number): void {
    const node = this.nodes.get(path);
    if (!node) throw 'NONODE';
    if (version !== -1 && version !== node.version) throw 'BADVERSION';
    if (this.children(path).length > 0) throw 'NOTEMPTY';
    this.nodes.delete(path);
  }

  setData(path: string, data: string, version: number): number {
    const node = this.nodes.get(path);
    if (!node) throw 'NONODE';
    if (version !== -1 && version !== node.version) throw 'BADVERSION';
    node.data = data;
    return ++node.version;
  }

  check(path: string, version: number): void {
    const node = this.nodes.get(path);
    if (!node) throw 'NONODE';
    if (version !== -1 && version !== node.version) throw 'BADVERSION';
  }

  get(path: string): ModelNode {
    const node = this.nodes.get(path);
    if (!node) throw 'NONODE';
    return node;
  }

  endSession(owner: string): void {
    for (const [path, node] of this.nodes) if (node.owner === owner) this.nodes.delete(path);
  }
}

const commandArb: fc.Arbitrary<Command> = (() => {
  const client = fc.integer({ min: 0, max: CLIENTS - 1 });
  // Shallow paths come up more often, so deeper ones find their parents often enough.
  const path = fc.oneof(fc.constantFrom('/a', '/b'), fc.constantFrom(...PATHS));
  const data = fc.constantFrom('', 'x', 'yy');
  const version = fc.constantFrom(-1, 0, 1, 2);
  const mode = fc.constantFrom<Mode>('PERSISTENT', 'PERSISTENT', 'EPHEMERAL', 'PERSISTENT_SEQUENTIAL');
  const multiOp = fc.record({
    kind: fc.constantFrom('create', 'delete', 'setData', 'check' as const),
    path,
    version,
  });
  return fc.oneof(
    { weight: 6, arbitrary: fc.record({ kind: fc.constant('create' as const), client, path, data, mode }) },
    { weight: 2, arbitrary: fc.record({ kind: fc.constant('delete' as const), client, path, version }) },
    {
      weight: 2,
      arbitrary: fc.record({ kind: fc.constant('setData' as const), client, path, data, version }),
    },
    {
      weight: 3,
      arbitrary: fc.record({
        kind: fc.constantFrom('getData', 'exists', 'getChildren' as const),
        client,
        path,
      }),
    },
    {
      weight: 1,
      arbitrary: fc.record({
        kind: fc.constant('multi' as const),
        client,
        ops: fc.array(multiOp, { minLength: 1, maxLength: 3 }),
      }),
    },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('restart' as const), client }) },
  );
})();

/** Runs a step and reduces its outcome to something comparable: a value or an error code name. */
async function outcome(run: () => unknown): Promise<unknown> {
  try {
    return { ok: await run() };
  } catch (error) {
    if (error instanceof KeeperError) return { error: error.codeName };
    if (typeof error === 'string') return { error };
    throw error;
  }
}

describeEachServer('client against a model of the tree (property)', { tickTimeMs: 2000 }, (target) => {
  let server: { readonly connectString: string };
  let root: ZooKeeperClient;
  let runs = 0;

  before(async function () {
    server = target();
    root = new ZooKeeperClient({ connectString: server.connectString });
    await root.connect();
  });

  after(async function () {
    await root?.close();
  });

  it('agrees with the model on every answer', async function () {
    this.timeout(120_000);
    await fc.assert(
      fc.asyncProperty(fc.array(commandArb, { minLength: 5, maxLength: 40 }), async (commands) => {
        const chroot = `/run-${runs++}`;
        await root.create(chroot);
        const connect = async () => {
          const client = new ZooKeeperClient({ connectString: server.connectString + chroot });
          await client.connect();
          return client;
        };
        const clients = await Promise.all(Array.from({ length: CLIENTS }, connect));
        const owners = clients.map((_, i) => `${i}.0`);
        const model = new Model();
        try {
          for (const [step, command] of commands.entries()) {
            const client = clients[command.client];
            const owner = owners[command.client];
            const [actual, expected] = await runBoth(command, client, model, owner);
            assert.deepEqual(actual, expected, `step ${step}: ${JSON.stringify(command)}`);
            if (command.kind === 'restart') {
              await client.close();
              model.endSession(owner);
              clients[command.client] = await connect();
              owners[command.client] = `${command.client}.${step + 1}`;
            }
          }
        } finally {
          await Promise.all(clients.map((c) => c.close()));
        }
      }),
      { numRuns: 30 },
    );
  });
});

async function runBoth(command: Command, client: ZooKeeperClient, model: Model, owner: string) {
  switch (command.kind) {
    case 'create':
      return [
        await outcome(
          async () => (await client.create(command.path, command.data, { mode: command.mode })).path,
        ),
        await outcome(() => model.create(command.path, command.data, command.mode, owner)),
      ];
    case 'delete':
      return [
        await outcome(() => client.delete(command.path, { version: command.version })),
        await outcome(() => model.delete(command.path, command.version)),
      ];
    case 'setData':
      return [
        await outcome(
          async () =>
            (await client.setData(command.path, command.data, { version: command.version })).version,
        ),
        await outcome(() => model.setData(command.path, command.data, command.version)),
      ];
    case 'getData':
      return [
        await outcome(async () => {
          const { data, stat } = await client.getData(command.path);
          return [data?.toString(), stat.version, stat.ephemeralOwner !== 0n];
        }),
        await outcome(() => {
          const node = model.get(command.path);
          return [node.data, node.version, node.owner !== null];
        }),
      ];
    case 'exists':
      return [
        await outcome(async () => (await client.exists(command.path))?.version ?? null),
        await outcome(() => model.nodes.get(command.path)?.version ?? null),
      ];
    case 'getChildren':
      return [
        await outcome(async () => (await client.getChildren(command.path)).children.sort()),
        await outcome(() => {
          model.get(command.path);
          return model.children(command.path);
        }),
      ];
    case 'multi': {
      const ops: MultiOperation[] = command.ops.map((o) => {
        switch (o.kind) {
          case 'create':
            return op.create(o.path, 'm');
          case 'delete':
            return op.delete(o.path, { version: o.version });
          case 'setData':
            return op.setData(o.path, 'm', { version: o.version });
          case 'check':
            return op.check(o.path, o.version);
        }
      });
      const actual = await outcome(async () => (await client.multi(ops)).map((r) => r.op));
      // Atomic: apply to a copy and keep it only if every op succeeds.
      const copy = model.clone();
      const expected = await outcome(() =>
        command.ops.map((o) => {
          if (o.kind === 'create') copy.create(o.path, 'm', 'PERSISTENT', owner);
          else if (o.kind === 'delete') copy.delete(o.path, o.version);
          else if (o.kind === 'setData') copy.setData(o.path, 'm', o.version);
          else copy.check(o.path, o.version);
          return o.kind;
        }),
      );
      if ('ok' in (expected as object)) model.nodes = copy.nodes;
      return [actual, expected];
    }
    case 'restart':
      return [null, null];
  }
}
