// Apache's zkCli.sh drives our server in one JVM run (commands on stdin): the seed's commands
// create -e -s, create -s under a parent, ls, stat, get -w with a set from another session printing
// the WATCHER line, set, delete, deleteall; the output must read as it does against Apache.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { after, before, describe, it } from 'mocha';
import { startServer, type RunningServer } from '../../server/standalone.js';
import { ZKCLI } from '../support/apache.js';
import { RawClient } from '../support/raw-client.js';
import { exists, ok, setData } from '../conformance/ops.js';

describe('zkCli.sh against our server', function () {
  let server: RunningServer;
  before(async function () {
    if (!existsSync(ZKCLI) || !existsSync('/usr/bin/java')) {
      console.log('    (zkCli.sh is not installed: skipping)');
      this.skip();
    }
    server = await startServer({ tickTimeMs: 2000 });
  });
  after(async () => {
    await server?.stop();
  });

  it('runs the seed commands, and shows a watch fired by another session', async function () {
    this.timeout(60_000);
    const child = spawn(ZKCLI, ['-server', server.connectString], { stdio: ['pipe', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    const waitFor = async (pattern: RegExp) => {
      const deadline = Date.now() + 30_000;
      while (!pattern.test(output)) {
        if (child.exitCode !== null || Date.now() > deadline) {
          throw new Error(`zkCli output never matched ${pattern}:\n${output}`);
        }
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    };
    try {
      child.stdin.write(
        [
          'create /haha x',
          'create -e -s /temp x',
          'create /lock ""',
          'create -s /lock/ v',
          'create -s /lock/ v',
          'ls /',
          'ls /lock',
          'stat /haha',
          'get -w /haha',
          '',
        ].join('\n'),
      );
      await waitFor(/numChildren = 0\nx\n/);
      await using other = await RawClient.connect(server.port);
      ok(await setData(other, '/haha', Buffer.from('y')));
      await waitFor(/WatchedEvent state:SyncConnected type:NodeDataChanged path:\/haha/);
      const rest = ['set /haha z', 'get /haha', 'delete /lock', 'deleteall /lock', 'delete /haha', 'ls /'];
      child.stdin.write(`${rest.join('\n')}\nquit\n`);
      await exited;
      assert.match(output, /Created \/haha\n/);
      assert.match(output, /Created \/temp0000000001\n/);
      assert.match(output, /Created \/lock\/0000000000\nCreated \/lock\/0000000001\n/);
      assert.match(output, /\[haha, lock, temp0000000001, zookeeper\]|\[[^\]]*haha[^\]]*\]/);
      assert.match(output, /\[0000000000, 0000000001\]|\[0000000001, 0000000000\]/);
      const statLines = [
        'cZxid = 0x[0-9a-f]+', 'ctime = .*', 'mZxid = 0x[0-9a-f]+', 'mtime = .*', 'pZxid = 0x[0-9a-f]+',
        'cversion = 0', 'dataVersion = 0', 'aclVersion = 0', 'ephemeralOwner = 0x0', 'dataLength = 1',
        'numChildren = 0',
      ];
      assert.match(output, new RegExp(`${statLines.join('\\n')}\\n`));
      const watcherLine = /WATCHER::\n\nWatchedEvent state:SyncConnected type:NodeDataChanged path:\/haha\n/;
      assert.match(output, watcherLine);
      assert.match(output, /\nz\n/, 'get after set shows the new data');
      assert.match(output, /Node not empty: \/lock/);
      assert.match(output, /\[temp0000000001, zookeeper\]\n/, 'ls / after the deletes');
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
      await exited;
    }
    await using check = await RawClient.connect(server.port);
    const gone = await exists(check, '/temp0000000001');
    assert.equal(gone.header.err, -101, 'quit closed the session and its ephemeral');
  });
});
