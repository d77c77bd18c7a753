// Apache Curator 5.4 (Debian jars, run as a single-file Java program) drives our server: container
// parents, InterProcessMutex, LeaderLatch, a CuratorCache change event and a transaction.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'mocha';
import { startServer, type RunningServer } from '../../server/standalone.js';

const JARS = [
  'curator-client', 'curator-framework', 'curator-recipes', 'zookeeper', 'zookeeper-jute', 'guava',
  'slf4j-api', 'slf4j-simple', 'netty-handler', 'netty-common', 'netty-transport', 'netty-buffer',
  'netty-resolver',
  'netty-codec', 'netty-transport-native-epoll', 'netty-transport-native-unix-common', 'commons-io',
  'audience-annotations',
].map((name) => `/usr/share/java/${name}.jar`);
const PROBE = fileURLToPath(new URL('./fixtures/CuratorProbe.java', import.meta.url));

describe('Curator against our server', function () {
  this.timeout(60_000);
  let server: RunningServer;
  before(async function () {
    const missing = ['/usr/bin/java', ...JARS.slice(0, 4)].filter((file) => !existsSync(file));
    if (missing.length > 0) {
      console.log(`    (Curator or Java is not installed: skipping; missing ${missing.join(', ')})`);
      this.skip();
    }
    server = await startServer();
  });
  after(async () => {
    await server?.stop();
  });

  it('runs containers, a mutex, a leader latch, a cache and a transaction', async () => {
    const classpath = JARS.filter((jar) => existsSync(jar)).join(':');
    const args = ['-XX:TieredStopAtLevel=1', '-cp', classpath, PROBE, server.connectString];
    const child = spawn('/usr/bin/java', args, {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    assert.equal(code, 0, stderr.slice(-3000));
    const results = Object.fromEntries(
      stdout.split('\n').filter((line) => /^\w+=/.test(line)).map((line) => line.split(/=(.*)/s).slice(0, 2)),
    );
    assert.deepEqual(results, {
      created: 'x',
      locked: 'true',
      leader: 'true',
      cacheChanged: 'true',
      txn: '2',
      children: '[a, leader, lock, t1]',
    });
  });
});
