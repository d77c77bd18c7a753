// zkCli.sh run as one-shot commands (`zkCli.sh -server host:port ls /`: one JVM per command, which
// connects, sends the request while the handshake may still be under way, prints, and exits without
// closing its session) must work against our server exactly as against Apache ZooKeeper 3.8.
// The JVM must be spawned asynchronously: execFileSync/spawnSync would block this process's event
// loop, and with it the in-process server, so zkCli.sh waits out its 30 s connect timeout and prints
// "ConnectionLoss for /" (Apache, a separate process, answers regardless). That was the reported bug.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { after, before, describe, it } from 'mocha';
import { startServer, type RunningServer } from '../../server/standalone.js';
import { ZKCLI, apacheAvailable, startApache, type ApacheServer } from '../support/apache.js';

interface OneShotResult {
  readonly exitCode: number;
  /** stdout and stderr together, without the JVM's SLF4J notices and the connection chatter. */
  readonly output: string;
}

/** One zkCli.sh JVM running one command; stdin closed, as from a script. */
function zkCliOneShot(connectString: string, command: string[]): Promise<OneShotResult> {
  const child = spawn(ZKCLI, ['-server', connectString, ...command], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, CLIENT_JVMFLAGS: '-XX:TieredStopAtLevel=1 -XX:+UseSerialGC -Xss512k' },
  });
  let text = '';
  child.stdout.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
  child.stderr.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
  return new Promise((resolve) => {
    child.once('close', (code) => {
      const noise = /^(SLF4J:.*|Connecting to .*|WATCHER::|WatchedEvent state:SyncConnected type:None path:null|)$/;
      const output = text
        .split('\n')
        .filter((line) => !noise.test(line))
        .join('\n');
      resolve({ exitCode: code ?? -1, output });
    });
  });
}

/** The outputs of create, get, stat and ls on one server, stat's times and zxids masked. */
async function runCommands(connectString: string): Promise<string[]> {
  const results: string[] = [];
  for (const command of [
    ['ls', '/'],
    ['create', '/one-shot', 'hello'],
    ['get', '/one-shot'],
    ['stat', '/one-shot'],
    ['ls', '/'],
  ]) {
    const result = await zkCliOneShot(connectString, command);
    assert.equal(result.exitCode, 0, `${command.join(' ')} exited ${result.exitCode}:\n${result.output}`);
    assert.doesNotMatch(result.output, /ConnectionLoss|Exception/, `${command.join(' ')}:\n${result.output}`);
    results.push(result.output.replace(/= 0x[0-9a-f]+/g, '= 0x?').replace(/time = .*/g, 'time = ?'));
  }
  return results;
}

describe('zkCli.sh one-shot commands', function () {
  this.timeout(120_000);
  let ours: RunningServer | undefined;
  let apache: ApacheServer | undefined;

  before(async function () {
    if (!existsSync(ZKCLI) || !apacheAvailable()) {
      console.log('    (zkCli.sh or Java is not installed: skipping)');
      this.skip();
    }
    ours = await startServer({ tickTimeMs: 2000 });
    apache = await startApache();
  });
  after(async () => {
    await ours?.stop();
    await apache?.stop();
  });

  it('ls, create, get and stat print the same on our server as on Apache', async () => {
    const oursOutputs = await runCommands(ours!.connectString);
    const apacheOutputs = await runCommands(apache!.connectString);
    assert.deepEqual(oursOutputs, apacheOutputs);
    assert.match(oursOutputs[0]!, /^\[zookeeper\]$/m);
    assert.match(oursOutputs[1]!, /^Created \/one-shot$/m);
    assert.match(oursOutputs[2]!, /^hello$/m);
    assert.match(oursOutputs[3]!, /^dataLength = 5$/m);
    assert.match(oursOutputs[4]!, /^\[one-shot, zookeeper\]$/m);
  });
});
