// The Java ZooKeeper client (Debian jars) across a connection drop: it reconnects to the same session,
// re-sends its watch with setWatches, and the watch fires on a later change; the ephemeral survives.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'mocha';
import { startServer, type RunningServer } from '../../server/standalone.js';

const JARS = ['zookeeper', 'zookeeper-jute', 'slf4j-api', 'slf4j-simple', 'netty-handler', 'netty-common',
  'netty-transport', 'netty-buffer', 'netty-resolver', 'netty-codec', 'netty-transport-native-epoll',
  'netty-transport-native-unix-common', 'audience-annotations'].map((name) => `/usr/share/java/${name}.jar`);
const PROBE = fileURLToPath(new URL('./fixtures/ReconnectProbe.java', import.meta.url));

describe('Java client across a dropped connection', function () {
  this.timeout(60_000);
  let server: RunningServer;
  before(async function () {
    if (!existsSync('/usr/bin/java') || !existsSync(JARS[0])) {
      console.log('    (Java or the ZooKeeper jars are not installed: skipping)');
      this.skip();
    }
    server = await startServer({ tickTimeMs: 2000 });
  });
  after(async () => {
    await server?.stop();
  });

  it('resumes the session and fires the watch it re-registered with setWatches', async () => {
    const classpath = JARS.filter((jar) => existsSync(jar)).join(':');
    const quiet = '-Dorg.slf4j.simpleLogger.defaultLogLevel=warn';
    const jvm = ['-XX:TieredStopAtLevel=1', quiet, '-cp', classpath];
    const child = spawn('/usr/bin/java', [...jvm, PROBE, server.connectString], {
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    const deadline = Date.now() + 30_000;
    while (!stdout.includes('READY') && child.exitCode === null && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    server.dropConnections();
    child.stdin.write('GO\n');
    const code = await exited;
    assert.equal(code, 0, stderr.slice(-3000));
    const results = Object.fromEntries(
      stdout.split('\n').filter((line) => /^\w+=/.test(line)).map((line) => line.split(/=(.*)/s).slice(0, 2)),
    );
    assert.deepEqual(results, {
      reconnected: 'true',
      fired: 'true',
      event: 'NodeDataChanged /j-data',
      sameSession: 'true',
      ephemeralKept: 'true',
    });
  });
});
