// zk-cli's printing, checked without a server against texts zkCli.sh 3.8 printed on this machine:
// stats and Java dates, child lists, ACLs, watch event blocks, quota records and error messages.
import assert from 'node:assert/strict';
import { describe, it } from 'mocha';
import { ErrorCode, KeeperError, type Stat } from '../../../src/protocol/index.js';
import {
  cliErrorMessage,
  formatAcl,
  formatChildren,
  formatPrompt,
  formatStat,
  formatStatsTrack,
  formatWatcherBlock,
  javaDate,
  javaEventType,
  javaHex,
  javaKeeperMessage,
  parseAcl,
  parseStatsTrack,
  permString,
} from '../../../src/cli/format.js';

const stat: Stat = {
  czxid: 0xdn,
  mzxid: 0x1bn,
  ctime: 1_795_596_159_000n, // Wed Nov 25 08:42:39 UTC 2026
  mtime: 0n,
  version: 2,
  cversion: 7,
  aversion: 0,
  ephemeralOwner: 0x100002c0c5b0001n,
  dataLength: 8,
  numChildren: 7,
  pzxid: 0x16n,
};

describe('zk-cli output format', () => {
  it('prints a stat as StatPrinter does', () => {
    assert.equal(
      formatStat(stat, 'UTC'),
      [
        'cZxid = 0xd',
        'ctime = Wed Nov 25 08:42:39 UTC 2026',
        'mZxid = 0x1b',
        'mtime = Thu Jan 01 00:00:00 UTC 1970',
        'pZxid = 0x16',
        'cversion = 7',
        'dataVersion = 2',
        'aclVersion = 0',
        'ephemeralOwner = 0x100002c0c5b0001',
        'dataLength = 8',
        'numChildren = 7',
        '',
      ].join('\n'),
    );
  });

  it('prints 64-bit values as Long.toHexString (two complement, no padding)', () => {
    assert.equal(javaHex(0n), '0');
    assert.equal(javaHex(-1n), 'ffffffffffffffff');
    assert.equal(javaHex(-0x8000000000000000n), '8000000000000000');
  });

  it('prints dates as java.util.Date#toString in the given zone', () => {
    assert.equal(javaDate(0, 'UTC'), 'Thu Jan 01 00:00:00 UTC 1970');
    const evening = Date.UTC(2026, 0, 5, 23, 4, 5);
    assert.equal(javaDate(evening, 'America/Los_Angeles'), 'Mon Jan 05 15:04:05 PST 2026');
    assert.equal(javaDate(Date.UTC(2026, 6, 5, 0, 0, 9), 'UTC'), 'Sun Jul 05 00:00:09 UTC 2026');
    assert.match(javaDate(Date.now()), /^[A-Z][a-z]{2} [A-Z][a-z]{2} \d\d \d\d:\d\d:\d\d \S+ \d{4}$/);
  });

  it('sorts children in Java String order', () => {
    const children = ['zookeeper', 'lock', 'Z', 'temp0000000000'];
    assert.equal(formatChildren(children), '[Z, lock, temp0000000000, zookeeper]\n');
    assert.equal(formatChildren([]), '[]\n');
  });

  it('prints ACLs as the Id record toString, a newline, then the permission letters', () => {
    const acl = [
      { perms: 31, id: { scheme: 'digest', id: 'alice:aYXlLOpEooaV1cRAvUL1fp9Qt7E=' } },
      { perms: 1, id: { scheme: 'ip', id: '10.0.0.0/8,%x}' } },
    ];
    assert.equal(
      formatAcl(acl),
      "'digest,'alice:aYXlLOpEooaV1cRAvUL1fp9Qt7E=\n: cdrwa\n'ip,'10.0.0.0/8%2C%25x%7D\n: r\n",
    );
    assert.equal(permString(0), '');
    assert.equal(permString(2 | 16), 'wa');
  });

  it('parses ACL arguments as AclParser does, with its warnings', () => {
    assert.deepEqual(parseAcl('world:anyone:rw,digest:u:h=:cdrwa'), {
      acl: [
        { perms: 3, id: { scheme: 'world', id: 'anyone' } },
        { perms: 31, id: { scheme: 'digest', id: 'u:h=' } },
      ],
      warnings: [],
    });
    assert.deepEqual(parseAcl('bogus'), {
      acl: [],
      warnings: ['bogus does not have the form scheme:id:perm'],
    });
    assert.deepEqual(parseAcl('world:anyone:rx').warnings, ['Unknown perm type: x']);
  });

  it('prints watch events with the WATCHER:: blank-line rules', () => {
    assert.equal(
      formatWatcherBlock('SyncConnected', javaEventType('nodeDataChanged'), '/haha'),
      '\nWATCHER::\n\nWatchedEvent state:SyncConnected type:NodeDataChanged path:/haha\n',
    );
    assert.equal(
      formatWatcherBlock('Closed', 'None', null),
      '\nWATCHER::\n\nWatchedEvent state:Closed type:None path:null\n',
    );
    assert.equal(javaEventType('persistentWatchRemoved'), 'PersistentWatchRemoved');
  });

  it('words ZooKeeper errors as CliWrapperException does', () => {
    const message = (code: number, path?: string) => cliErrorMessage(KeeperError.from(code, { path }));
    assert.equal(message(ErrorCode.NO_NODE, '/x'), 'Node does not exist: /x');
    assert.equal(message(ErrorCode.NODE_EXISTS, '/x'), 'Node already exists: /x');
    assert.equal(message(ErrorCode.NOT_EMPTY, '/lock'), 'Node not empty: /lock');
    assert.equal(message(ErrorCode.BAD_VERSION, '/cli'), 'version No is not valid : /cli');
    assert.equal(message(ErrorCode.NO_AUTH, '/a'), 'Insufficient permission : /a');
    assert.equal(message(ErrorCode.INVALID_ACL), 'Acl is not valid : null');
    const ephemeralParent = message(ErrorCode.NO_CHILDREN_FOR_EPHEMERALS, '/e/c');
    assert.equal(ephemeralParent, 'Ephemerals cannot have children: /e/c');
    assert.equal(message(ErrorCode.NO_WATCHER, '/nope'), 'KeeperErrorCode = No such watcher for /nope');
    assert.equal(javaKeeperMessage(ErrorCode.INVALID_ACL, undefined), 'KeeperErrorCode = InvalidACL');
  });

  it('round-trips quota records in StatsTrack text, odd "=" included', () => {
    const text = 'count=5,bytes=-1=;byteHardLimit=-1;countHardLimit=-1';
    const parsed = parseStatsTrack(text);
    assert.equal(parsed.get('count'), 5n);
    assert.equal(parsed.get('countHardLimit'), -1n);
    assert.equal(formatStatsTrack(parsed), text);
    assert.equal(formatStatsTrack(parseStatsTrack('count=7,bytes=6')), 'count=7,bytes=6');
    assert.equal(parseStatsTrack('').size, 0);
  });

  it('builds the JLine prompt', () => {
    assert.equal(formatPrompt('127.0.0.1:2181', 'CONNECTED', 3), '[zk: 127.0.0.1:2181(CONNECTED) 3] ');
  });
});
