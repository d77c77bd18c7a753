// zk-cli side by side with zkCli.sh, on Apache ZooKeeper 3.8 and on our server: the same commands (the seed's
// sequence, a watch fired from another session, then nearly every command and its errors) go to
// both, and their merged stdout+stderr must match once times, zxids and session ids are masked.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'mocha';
import { ZooKeeperClient } from '../../../src/index.js';
import { freePort } from '../../support/ports.js';
import { apacheAvailable, startApache } from '../../support/apache.js';
import { startServer } from '../../../server/index.js';
import {
  CONNECTED,
  normalise,
  zkCliDriver,
  zkCliOursDriver,
  type CliDriver,
} from './support/drivers.js';

const seedBefore = [
  'create -e -s /temp x',
  'create /lock',
  'create -s /lock/ v',
  'ls /',
  'stat /lock',
  'create /haha',
  'set /haha hello',
  'get -w /haha',
];
const seedAfter = [
  'delete /lock',
  'deleteall /lock',
  'ls /',
  'get /lock',
  'create /haha',
  'get -s /haha',
];

// Nearly every command, with the errors zkCli.sh words specially. Ends with the tree as it found it.
// Scripts end at end of input, not `quit`: Java may exit before its event thread prints Closed.
// "## text [xN]" after a line: wait for that output (an event Java prints from its own thread)
// before the next line, so both print in one order. No line that prints fires a watch: Java's
// event thread could print in the middle of it.
const everything = `
create /cli cli
create -e /cli/e
create -s /cli/s-
create -e -s /cli/es-
create -c /cli/c
create -t 60000 /cli/t
create -c -e /cli/x
create -t abc /cli/x
create -t 5 -e /cli/x
create /cli/e/child
create /cli/nodata
get /cli/nodata
create badpath
create /cli/acl x auth::cdrwa
addauth digest alice:secret
create /cli/acl x auth::cdrwa
getAcl /cli/acl
getAcl -s /cli
setAcl /cli/acl world:anyone:r
setAcl /cli/acl bogus
setAcl -R /cli world:anyone:cdrwa
getAcl /cli/c
whoami
getEphemerals /cli
getEphemerals
get /cli 1
config -c
getAllChildrenNumber /cli
getAllChildrenNumber /nope
addWatch /cli
addWatch -m PERSISTENT /cli
addWatch -m bad /cli
set /cli changed  ## NodeDataChanged path:/cli
set /cli changed2  ## NodeDataChanged path:/cli x2
set -v 99 /cli x
stat -w /cli
ls -s -w /cli
ls -R /cli
ls /cli extra
get -s -w /cli
removewatches /cli  ## ChildWatchRemoved && DataWatchRemoved && PersistentWatchRemoved
set -s /cli changed3
removewatches /nope
sync /cli
config
version
delete /cli/s-0000000001
delete /cli/s-0000000001
delete /cli
delete -v 5 /cli/c
deleteall -b x /cli
frobnicate
ls
ls -x /
get
printwatches
printwatches off
set /cli again
printwatches on
history
redo 1
redo 999
setquota -n 5 /cli
setquota -n 5 /nope
setquota /cli
listquota /cli
listquota /nope
delquota -n /cli
listquota /cli
delquota /cli
delquota /cli
deleteall /cli
stat /cli`
  .trim()
  .split('\n');

/** The server both shells talk to: Apache 3.8, and ours (zkCli.sh must see no difference either). */
const servers = [
  { name: 'Apache 3.8', start: () => startApache() },
  { name: 'our server', start: () => startServer({ tickTimeMs: 2000, extendedTypesEnabled: true }) },
] as const;

for (const target of servers) describe(`zk-cli beside zkCli.sh, on ${target.name}`, function () {
  this.timeout(60_000);
  let server: { connectString: string; stop(): Promise<void> } | undefined;
  let other: ZooKeeperClient | undefined;

  before(async function () {
    if (!apacheAvailable()) {
      console.log('    (Apache ZooKeeper is not installed: skipping the zkCli.sh comparison)');
      this.skip();
    }
    server = await target.start();
    other = new ZooKeeperClient({ connectString: server.connectString });
    await other.connect();
  });

  after(async () => {
    await other?.close();
    await server?.stop();
  });

  /** The seed's commands in a fresh chroot; a set from another session fires the watch. */
  async function runSeed(driver: CliDriver, chroot: string) {
    await driver.waitFor(CONNECTED);
    for (const line of seedBefore) driver.send(line);
    await driver.waitFor('hello\n');
    await other!.setData(`${chroot}/haha`, 'world');
    await driver.waitFor('type:NodeDataChanged path:/haha');
    for (const line of seedAfter) driver.send(line);
    return driver.finish();
  }

  it("prints what zkCli.sh prints for the seed's sequence and a watch fired elsewhere", async () => {
    await other!.create('/theirs');
    await other!.create('/ours');
    const theirs = await runSeed(zkCliDriver(`${server!.connectString}/theirs`), '/theirs');
    const ours = await runSeed(zkCliOursDriver(['-server', `${server!.connectString}/ours`]), '/ours');
    assert.equal(normalise(ours.output), normalise(theirs.output));
    const event = 'WATCHER::\n\nWatchedEvent state:SyncConnected type:NodeDataChanged path:/haha\n';
    assert.ok(ours.output.includes(event));
    assert.match(ours.output, /Node not empty: \/lock\n/);
    assert.match(ours.output, /^ctime = [A-Z][a-z]{2} [A-Z][a-z]{2} \d\d \d\d:\d\d:\d\d \S+ \d{4}$/m);
    assert.equal(ours.exitCode, 1, 'a failed command (delete of a non-empty node) sets exit code 1');
  });

  it('prints what zkCli.sh prints for nearly every command, flag and error', async () => {
    const run = async (driver: CliDriver) => {
      await driver.waitFor(CONNECTED);
      for (const entry of everything) {
        const [line, waits] = entry.split('  ## ');
        driver.send(line!);
        for (const wait of waits?.split(' && ') ?? []) {
          const [, text, count] = /^(.*?)(?: x(\d+))?$/.exec(wait)!;
          await driver.waitFor(text!, Number(count ?? 1));
        }
      }
      return driver.finish();
    };
    const theirs = await run(zkCliDriver(server!.connectString));
    const ours = await run(zkCliOursDriver(['-server', server!.connectString]));
    assert.equal(normalise(ours.output), normalise(theirs.output));
    assert.ok(ours.output.includes('Command not found: Command not found frobnicate'));
    assert.equal(ours.exitCode, 1, 'the last failure was `stat` of the deleted /cli');
  });

  it('prints what zkCli.sh prints around close, "Not connected" and connect', async () => {
    const cs = server!.connectString;
    // Java prints events from its own thread: wait for each before the next command.
    const steps: Array<[string, string, number]> = [
      ['ls /zookeeper', '[config, quota]', 1],
      ['close', 'state:Closed', 1],
      ['ls /', 'Not connected', 1],
      ['history', 'Not connected', 2],
      [`connect ${cs}`, CONNECTED, 2],
      ['ls /zookeeper', '[config, quota]', 2],
      ['connect', CONNECTED, 3],
      ['quit', 'state:Closed', 3],
    ];
    const run = async (driver: CliDriver) => {
      await driver.waitFor(CONNECTED);
      for (const [line, text, count] of steps) {
        driver.send(line);
        await driver.waitFor(text, count);
      }
      return driver.finish();
    };
    const theirs = await run(zkCliDriver(cs));
    const ours = await run(zkCliOursDriver(['-server', cs]));
    assert.equal(normalise(ours.output), normalise(theirs.output));
    assert.equal(ours.output.split('Not connected\n').length - 1, 2, 'after ls / and after history');
    assert.equal(ours.exitCode, 3, '`ls /` without a session is a connection failure');
  });

  it('runs -c lists and single commands with exit codes scripts can rely on', async () => {
    const cs = server!.connectString;
    const ok = zkCliOursDriver(['-server', cs, '-c', 'create /c-list "a b"; get /c-list']);
    const okResult = await ok.finish();
    assert.match(okResult.output, /Created \/c-list\na b\n/);
    assert.equal(okResult.exitCode, 0);
    assert.equal((await zkCliOursDriver(['-server', cs, 'get', '/nope']).finish()).exitCode, 1);
    assert.equal((await zkCliOursDriver(['-server', cs, 'ls', '-x', '/']).finish()).exitCode, 2);
    assert.equal((await zkCliOursDriver(['-server', cs, '-c', 'frobnicate']).finish()).exitCode, 127);
    const deleted = await zkCliOursDriver(['-server', cs, 'deleteall', '/c-list']).finish();
    assert.equal(deleted.exitCode, 0);
    assert.equal(await other!.exists('/c-list'), null);
  });

  it('exits 3 when no server accepts a session', async () => {
    const port = await freePort(); // nothing listens there
    const args = ['-server', `127.0.0.1:${port}`, '-timeout', '1500', '-c', 'ls /'];
    const unreachable = zkCliOursDriver(args);
    const result = await unreachable.finish();
    assert.equal(result.exitCode, 3);
    assert.match(result.output, /Unable to connect to 127\.0\.0\.1:\d+/);
  });
});
