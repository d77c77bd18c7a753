// Our AdminServer's JSON against Apache 3.8's, live: the same operations on both servers, then the
// key names of each command's answer must match (monitor: ours must be a subset of Apache's).

import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'mocha';
import { startServer, type RunningServer } from '../../server/standalone.js';
import { create, exists, ok } from '../conformance/ops.js';
import { APACHE_JAR, apacheAvailable } from '../support/apache.js';
import { freePort } from '../support/ports.js';
import { RawClient } from '../support/raw-client.js';

/** Apache's JettyAdminServer needs these on the classpath; the shared fixture starts it without them. */
const ADMIN_JARS = [
  'slf4j-simple', 'jetty9-http', 'jetty9-io', 'jetty9-security', 'jetty9-server', 'jetty9-servlet',
  'jetty9-util', 'jackson-annotations', 'jackson-core', 'jackson-databind', 'servlet-api',
].map((name) => `/usr/share/java/${name}.jar`);
const COMMANDS = [
  'ruok', 'srvr', 'stat', 'conf', 'cons', 'wchs', 'wchc', 'wchp', 'dump', 'envi', 'is_read_only', 'dirs',
];
/** envi differs by runtime (java.* there, node.version here); these keys both have. */
const SHARED_ENVIRONMENT_KEYS = [
  'zookeeper.version', 'host.name', 'os.name', 'os.arch', 'os.version', 'user.name', 'user.home',
  'user.dir', 'os.memory.free', 'os.memory.max', 'os.memory.total', 'command', 'error',
];
const EPHEMERAL = 1;

interface ApacheWithAdmin {
  clientPort: number;
  adminPort: number;
  stop(): Promise<void>;
}

async function startApacheWithAdmin(): Promise<ApacheWithAdmin> {
  const dataDir = await mkdtemp(path.join(tmpdir(), 'apache-admin-'));
  const [clientPort, adminPort] = [await freePort(), await freePort()];
  const lines = [
    'tickTime=2000', `dataDir=${dataDir}`, `clientPort=${clientPort}`, 'clientPortAddress=127.0.0.1',
    'admin.enableServer=true', 'admin.serverAddress=127.0.0.1', `admin.serverPort=${adminPort}`,
  ];
  await writeFile(path.join(dataDir, 'zoo.cfg'), `${lines.join('\n')}\n`);
  const child: ChildProcess = spawn(
    '/usr/bin/java',
    [
      '-Xmx256m', '-XX:+UseSerialGC', '-XX:TieredStopAtLevel=1',
      '-Dorg.slf4j.simpleLogger.defaultLogLevel=warn',
      '-cp', [APACHE_JAR, ...ADMIN_JARS].join(':'),
      'org.apache.zookeeper.server.quorum.QuorumPeerMain', path.join(dataDir, 'zoo.cfg'),
    ],
    { stdio: 'ignore' },
  );
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await exited;
    await rm(dataDir, { recursive: true, force: true });
  };
  // Bounded polling, as the shared fixture does: Apache says nothing on stdout when it is ready.
  for (const deadline = Date.now() + 20_000; Date.now() < deadline && child.exitCode === null; ) {
    const ready = await fetch(`http://127.0.0.1:${adminPort}/commands/srvr`)
      .then(async (r) => ((await r.json()) as { node_count?: number }).node_count !== undefined)
      .catch(() => false);
    if (ready) return { clientPort, adminPort, stop };
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  await stop();
  throw new Error('Apache with its AdminServer did not start within 20 s');
}

/** Object keys at every level that matter: top level, server_stats, the first connection. */
function keyShape(json: Record<string, any>): Record<string, string[]> {
  const shape: Record<string, string[]> = { top: Object.keys(json).sort() };
  if (json.server_stats !== undefined) shape.server_stats = Object.keys(json.server_stats).sort();
  if (json.connections?.[0] !== undefined) shape.connection = Object.keys(json.connections[0]).sort();
  return shape;
}

async function answers(adminPort: number, clientPort: number): Promise<Record<string, any>> {
  await using client = await RawClient.connect(clientPort);
  ok(await create(client, '/admin-keys'));
  ok(await create(client, '/admin-keys/e', Buffer.from('x'), EPHEMERAL));
  ok(await exists(client, '/admin-keys/e', true));
  const out: Record<string, any> = {};
  for (const name of [...COMMANDS, 'mntr']) {
    out[name] = await (await fetch(`http://127.0.0.1:${adminPort}/commands/${name}`)).json();
  }
  return out;
}

const jarsPresent = apacheAvailable() && ADMIN_JARS.every((jar) => existsSync(jar));

describe('admin server JSON keys: menagerie against Apache 3.8', function () {
  this.timeout(60_000);
  let apache: ApacheWithAdmin | undefined;
  let ours: RunningServer | undefined;

  before(async function () {
    if (!jarsPresent) {
      console.log('    (skipped: Apache ZooKeeper with jetty and jackson jars is not installed)');
      this.skip();
    }
    apache = await startApacheWithAdmin();
    ours = await startServer({
      adminServerEnabled: true,
      adminServerAddress: '127.0.0.1',
      adminServerPort: 0,
    });
  });

  after(async () => {
    await ours?.stop();
    await apache?.stop();
  });

  it('names the same keys for the same commands after the same operations', async () => {
    const theirs = await answers(apache!.adminPort, apache!.clientPort);
    const mine = await answers(ours!.adminPort!, ours!.port);
    for (const name of COMMANDS.filter((c) => c !== 'envi')) {
      assert.deepEqual(keyShape(mine[name]), keyShape(theirs[name]), `keys of ${name}`);
      assert.equal(mine[name].command, theirs[name].command, `primary name of ${name}`);
    }
    for (const key of SHARED_ENVIRONMENT_KEYS) {
      assert.ok(key in theirs.envi && key in mine.envi, `environment has ${key} on both`);
    }
    const missing = Object.keys(mine.mntr).filter((key) => !(key in theirs.mntr));
    assert.deepEqual(missing, [], 'every monitor key of ours is one of Apache');
    for (const key of ['znode_count', 'ephemerals_count', 'watch_count', 'num_alive_connections']) {
      assert.equal(mine.mntr[key], theirs.mntr[key], `monitor ${key} agrees`);
    }
    const watched = (answer: any) => Object.keys(answer.wchp.path_to_session_ids);
    assert.deepEqual(watched(mine), watched(theirs), 'the same watched paths');
    const ephemerals = (answer: any) => Object.values(answer.dump.session_id_to_ephemeral_paths);
    assert.deepEqual(ephemerals(mine), ephemerals(theirs), 'dump lists the same ephemeral');
  });
});
