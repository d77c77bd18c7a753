// zk-cli's interactive shell behind a real pseudo-terminal (util-linux `script`) against Apache 3.8:
// the prompt follows the session state, Tab completes commands and znode paths from the server,
// the up arrow recalls earlier lines, and the line history persists to its file. Last, the server
// goes away under a running shell, which prints Java's Disconnected event.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'mocha';
import { ZooKeeperClient } from '../../../src/index.js';
import { zkCliOursDriver } from './support/drivers.js';
import { apacheAvailable, startApache, type ApacheServer } from '../../support/apache.js';

const SCRIPT = '/usr/bin/script';
const WAIT_MS = 15_000;

/** Terminal output without colours and cursor moves, carriage returns dropped. */
function plain(text: string): string {
  return text.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '').replace(/\r/g, '');
}

describe('zk-cli interactive shell in a pseudo-terminal', function () {
  this.timeout(60_000);
  let server: ApacheServer | undefined;
  let home: string | undefined;

  before(async function () {
    if (!apacheAvailable() || !existsSync(SCRIPT)) {
      console.log('    (Apache ZooKeeper or util-linux script is missing: skipping the terminal test)');
      this.skip();
    }
    server = await startApache();
    home = await mkdtemp(path.join(tmpdir(), 'zk-cli-home-'));
  });

  after(async () => {
    await server?.stop();
    if (home !== undefined) await rm(home, { recursive: true, force: true });
  });

  it('completes commands and paths, recalls and persists history, and shows the session state', async () => {
    const historyFile = path.join(home!, 'history');
    const runner = path.resolve('test/integration/cli/support/run-cli.ts');
    const command = `'${process.execPath}' --import tsx '${runner}' -server ${server!.connectString}`;
    const child = spawn(SCRIPT, ['-qfec', command, '/dev/null'], {
      stdio: ['pipe', 'pipe', 'pipe'],
      env: { ...process.env, ZK_CLI_HISTORY: historyFile, TERM: 'xterm' },
    });
    let output = '';
    const waiters = new Set<() => void>();
    const onData = (chunk: Buffer) => {
      output += chunk.toString('utf8');
      for (const check of waiters) check();
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    const exited = new Promise<number>((resolve) => child.once('exit', (code) => resolve(code ?? -1)));
    const waitFor = (text: string, count = 1) =>
      new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`no ${JSON.stringify(text)} x${count} within ${WAIT_MS} ms:\n${plain(output)}`));
        }, WAIT_MS);
        const check = () => {
          if (plain(output).split(text).length - 1 < count) return;
          clearTimeout(timer);
          waiters.delete(check);
          resolve();
        };
        waiters.add(check);
        check();
      });
    const type = (keys: string) => child.stdin!.write(keys);
    try {
      await waitFor('WatchedEvent state:SyncConnected type:None path:null');
      await waitFor(`[zk: ${server!.connectString}(CONNECTED) 0] `);
      type('ls /zoo\t');
      await waitFor('ls /zookeeper');
      type('\r');
      await waitFor('[config, quota]');
      type('getE\t');
      await waitFor('getEphemerals');
      type(' /\r');
      await waitFor('[]\n');
      await waitFor(`(CONNECTED) 2] `);
      type('\x1b[A\x1b[A\r'); // up twice: "ls /zookeeper" again
      await waitFor('[config, quota]', 2);
      type('create /w\r');
      await waitFor('Created /w');
      type('get -w /w\r');
      await waitFor('(CONNECTED) 5] ');
      type('ls /'); // half typed when the event arrives: it is printed above and the line kept
      await using other = new ZooKeeperClient({ connectString: server!.connectString });
      await other.connect();
      await other.setData('/w', 'changed');
      await waitFor('WatchedEvent state:SyncConnected type:NodeDataChanged path:/w');
      type('w\r');
      await waitFor('[]\n', 2);
      type('abc\x03'); // Ctrl-C drops the typed line
      await waitFor('^C');
      type('getAllChildrenNumber /w\r');
      await waitFor('0\n');
      assert.ok(!plain(output).includes('abcgetAll'), 'the abandoned line is gone');
      type('quit\r');
      await waitFor('WatchedEvent state:Closed type:None path:null');
      assert.equal(await exited, 0);
    } finally {
      if (child.exitCode === null) child.kill();
      await exited;
    }
    assert.deepEqual((await readFile(historyFile, 'utf8')).split('\n'), [
      'ls /zookeeper',
      'getEphemerals /',
      'ls /zookeeper',
      'create /w',
      'get -w /w',
      'ls /w',
      'getAllChildrenNumber /w',
      'quit',
      '',
    ]);
  });

  it('prints Disconnected when the server goes away, then fails a command with 3', async () => {
    const driver = zkCliOursDriver(['-server', server!.connectString, '-timeout', '3000']);
    await driver.waitFor('WatchedEvent state:SyncConnected type:None path:null');
    driver.send('ls /zookeeper');
    await driver.waitFor('[config, quota]');
    await server!.stop();
    await driver.waitFor('\nWATCHER::\n\nWatchedEvent state:Disconnected type:None path:null\n');
    driver.send('ls /zookeeper');
    const result = await driver.finish();
    assert.match(result.output, /KeeperErrorCode = ConnectionLoss for \/zookeeper\n$/);
    assert.equal(result.exitCode, 3);
  });
});
