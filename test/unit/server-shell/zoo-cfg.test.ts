// zoo.cfg parsing: every key Apache honours gets its value or its default, every kind of mistake is a
// ConfigError naming key, value and reason, and unknown keys are warnings, never errors.
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'mocha';
import {
  ConfigError,
  FOUR_LETTER_WORDS,
  configFromOptions,
  loadZooCfg,
  parseProperties,
  parseZooCfg,
} from '../../../server/config/index.js';

const base = 'dataDir=/var/zk\nclientPort=2181\n';

function parse(extra: string) {
  return parseZooCfg(base + extra);
}

function rejects(extra: string, key: string, reason: RegExp): ConfigError {
  let caught: unknown;
  try {
    parse(extra);
  } catch (error) {
    caught = error;
  }
  assert.ok(caught instanceof ConfigError, `expected a ConfigError for ${JSON.stringify(extra)}: ${caught}`);
  assert.equal(caught.key, key);
  assert.match(caught.reason, reason);
  assert.ok(caught.message.includes(key), caught.message);
  return caught;
}

describe('zoo.cfg properties format', () => {
  it('reads key=value, key:value and key value; trims; skips # and ! comments and blank lines', () => {
    const entries = parseProperties('# c\n! c\n\n  a = 1 \nb:2\nc 3\nd=\n');
    assert.deepEqual(
      entries.map((e) => [e.key, e.value]),
      [['a', '1'], ['b', '2'], ['c', '3'], ['d', '']],
    );
    assert.equal(entries[0].line, 4);
  });

  it('joins continuation lines and resolves escapes; the last duplicate wins', () => {
    const entries = parseProperties('a=one \\\n   two\nb=x\\ty\\u0041\nb=again\n');
    assert.deepEqual(
      entries.map((e) => [e.key, e.value]),
      [['a', 'one two'], ['b', 'again']],
    );
    assert.equal(parseProperties('k=a\\u0041')[0].value, 'aA');
  });
});

describe('zoo.cfg keys and defaults', () => {
  it('gives Apache defaults for a minimal file', () => {
    const { config, warnings } = parseZooCfg('dataDir=/d\nclientPort=2181\n');
    assert.deepEqual(warnings, []);
    assert.equal(config.tickTimeMs, 3000);
    assert.equal(config.dataDir, '/d');
    assert.equal(config.dataLogDir, '/d');
    assert.equal(config.clientPort, 2181);
    assert.equal(config.clientPortAddress, undefined);
    assert.equal(config.maxClientConnectionsPerIp, 60);
    assert.equal(config.minSessionTimeoutMs, 6000);
    assert.equal(config.maxSessionTimeoutMs, 60000);
    assert.equal(config.frameBytesMax, 0xfffff);
    assert.equal(config.extendedTypesEnabled, false);
    assert.deepEqual([...config.fourLetterWordsEnabled], ['srvr']);
    assert.equal(config.standaloneEnabled, true);
    assert.equal(config.reconfigEnabled, false);
    assert.equal(config.readOnlyModeEnabled, false);
    assert.equal(config.superDigest, undefined);
    assert.equal(config.containerCheckIntervalMs, 60000);
    assert.equal(config.containerMaxPerMinute, 10000);
    assert.equal(config.autopurgeSnapRetainCount, 3);
    assert.equal(config.autopurgePurgeIntervalHours, 0);
    assert.equal(config.distributed, false);
    assert.equal(config.enforceQuota, false);
  });

  it('reads every honoured key', () => {
    const { config, warnings } = parseZooCfg(
      [
        'tickTime=2000',
        'dataDir=/data',
        'dataLogDir=/log',
        'clientPort=2182',
        'clientPortAddress=127.0.0.1',
        'maxClientCnxns=0',
        'minSessionTimeout=1000',
        'maxSessionTimeout=90000',
        'jute.maxbuffer=4096',
        'extendedTypesEnabled=true',
        '4lw.commands.whitelist=ruok, stat ,mntr',
        'reconfigEnabled=true',
        'readonlymode.enabled=true',
        'DigestAuthenticationProvider.superDigest=super:D/InIHSb7yEEbrWz8b9l71RjZJU=',
        'znode.container.checkIntervalMs=100',
        'znode.container.maxPerMinute=5',
        'znode.container.maxNeverUsedIntervalMs=7',
        'autopurge.snapRetainCount=5',
        'autopurge.purgeInterval=1',
        'initLimit=10',
        'syncLimit=5',
        'zookeeper.enforceQuota=true',
        'skipACL=yes',
      ].join('\n'),
    );
    assert.deepEqual(warnings, []);
    assert.equal(config.tickTimeMs, 2000);
    assert.equal(config.dataLogDir, '/log');
    assert.equal(config.clientPort, 2182);
    assert.equal(config.clientPortAddress, '127.0.0.1');
    assert.equal(config.maxClientConnectionsPerIp, 0);
    assert.equal(config.minSessionTimeoutMs, 1000);
    assert.equal(config.maxSessionTimeoutMs, 90000);
    assert.equal(config.frameBytesMax, 4096);
    assert.equal(config.extendedTypesEnabled, true);
    assert.deepEqual([...config.fourLetterWordsEnabled].sort(), ['isro', 'mntr', 'ruok', 'srvr', 'stat']);
    assert.equal(config.reconfigEnabled, true);
    assert.equal(config.readOnlyModeEnabled, true);
    assert.equal(config.superDigest, 'super:D/InIHSb7yEEbrWz8b9l71RjZJU=');
    assert.equal(config.containerCheckIntervalMs, 100);
    assert.equal(config.containerMaxPerMinute, 5);
    assert.equal(config.containerMaxNeverUsedIntervalMs, 7);
    assert.equal(config.autopurgeSnapRetainCount, 5);
    assert.equal(config.autopurgePurgeIntervalHours, 1);
    assert.equal(config.initLimitTicks, 10);
    assert.equal(config.syncLimitTicks, 5);
    assert.equal(config.enforceQuota, true);
    assert.equal(config.skipAcl, true);
  });

  it('reads the remaining keys Apache honours', () => {
    const { config, warnings } = parse(
      [
        'clientPortListenBacklog=50',
        'snapCount=5000',
        'preAllocSize=1024',
        'globalOutstandingLimit=77',
        'forceSync=no',
        'electionAlg=3',
        'peerType=observer',
        'standaloneEnabled=true',
        'autopurge.snapRetainCount=1',
        'zookeeper.extendedTypesEnabled=true',
      ].join('\n'),
    );
    assert.equal(config.clientPortListenBacklog, 50);
    assert.equal(config.snapCount, 5000);
    assert.equal(config.preAllocSizeKb, 1024);
    assert.equal(config.globalOutstandingLimit, 77);
    assert.equal(config.forceSync, false);
    assert.equal(config.peerType, 'observer');
    assert.equal(config.extendedTypesEnabled, true, 'the zookeeper. prefix of a system property is accepted');
    assert.equal(config.autopurgeSnapRetainCount, 3, 'below 3 is raised to 3, as Apache does');
    assert.deepEqual(warnings, ['autopurge.snapRetainCount=1 is below 3; using 3']);
  });

  it('derives session bounds from tickTime, and -1 means the default', () => {
    const { config } = parse('tickTime=100\nminSessionTimeout=-1\n');
    assert.equal(config.minSessionTimeoutMs, 200);
    assert.equal(config.maxSessionTimeoutMs, 2000);
  });

  it('enables every word with "*", and always srvr', () => {
    assert.deepEqual([...parse('4lw.commands.whitelist=*\n').config.fourLetterWordsEnabled].sort(),
      [...FOUR_LETTER_WORDS].sort());
    assert.deepEqual([...parse('4lw.commands.whitelist=\n').config.fourLetterWordsEnabled], ['srvr']);
  });

  it('parses server.N lines, roles and client addresses', () => {
    const { config } = parse(
      'initLimit=5\nsyncLimit=2\nserver.1=a:2888:3888\nserver.2=b:2888:3888:participant;2181\n' +
        'server.3=[::1]:2888:3888:observer;0.0.0.0:2183\nserver.4=d:1:2\n',
    );
    assert.equal(config.servers.length, 4);
    const first = { id: 1n, host: 'a', quorumPort: 2888, electionPort: 3888, role: 'participant' };
    assert.deepEqual(config.servers[0], first);
    assert.equal(config.servers[1].clientPort, 2181);
    assert.deepEqual(config.servers[2], {
      id: 3n, host: '::1', quorumPort: 2888, electionPort: 3888, role: 'observer',
      clientHost: '0.0.0.0', clientPort: 2183,
    });
    assert.equal(config.distributed, true);
  });

  it('treats one server line as standalone, as Apache does', () => {
    assert.equal(parse('server.1=a:2888:3888\n').config.distributed, false);
  });

  it('warns about unknown keys and keys without effect, never fails on them', () => {
    const { warnings } = parse('fooBar=1\nadmin.idleTimeout=30000\nsnapshot.trust.empty=true\n');
    assert.equal(warnings.length, 3);
    assert.match(warnings[0], /fooBar: unknown key/);
    assert.match(warnings[1], /admin\.idleTimeout: accepted, but has no effect/);
  });

  it('warns about an unknown four-letter word in the whitelist', () => {
    const { config, warnings } = parse('4lw.commands.whitelist=ruok,nope\n');
    assert.match(warnings[0], /"nope" is not a four-letter word/);
    assert.ok(config.fourLetterWordsEnabled.has('ruok'));
  });
});

describe('zoo.cfg mistakes', () => {
  it('names key, value and reason for a malformed integer', () => {
    const error = rejects('tickTime=abc\n', 'tickTime', /not an integer/);
    assert.equal(error.value, 'abc');
    assert.equal(error.line, 3);
    assert.match(error.message, /line 3: tickTime=abc: not an integer/);
    rejects('clientPort=99999\n', 'clientPort', /at most 65535/);
    rejects('clientPort=1.5\n', 'clientPort', /not an integer/);
    rejects('maxClientCnxns=-1\n', 'maxClientCnxns', /at least 0/);
    rejects('tickTime=0\n', 'tickTime', /at least 1/);
    rejects('initLimit=3000000000\n', 'initLimit', /32-bit/);
    rejects('jute.maxbuffer=0\n', 'jute.maxbuffer', /at least 1/);
    rejects('znode.container.checkIntervalMs=x\n', 'znode.container.checkIntervalMs', /not an integer/);
    rejects('minSessionTimeout=-2\n', 'minSessionTimeout', /at least -1/);
  });

  it('refuses malformed booleans and yes/no', () => {
    rejects('standaloneEnabled=maybe\n', 'standaloneEnabled', /'true' or 'false'/);
    rejects('reconfigEnabled=1\n', 'reconfigEnabled', /'true' or 'false'/);
    rejects('extendedTypesEnabled=yes\n', 'extendedTypesEnabled', /'true' or 'false'/);
    rejects('readonlymode.enabled=on\n', 'readonlymode.enabled', /'true' or 'false'/);
    rejects('skipACL=true\n', 'skipACL', /'yes' or 'no'/);
  });

  it('refuses secureClientPort clearly', () => {
    rejects('secureClientPort=2281\n', 'secureClientPort', /not supported/);
  });

  it('refuses a missing dataDir, and min > max session timeout', () => {
    const isMissingDataDir = (e: ConfigError) => e.key === 'dataDir' && /not set/.test(e.reason);
    assert.throws(() => parseZooCfg('clientPort=1\n'), isMissingDataDir);
    const inverted = 'minSessionTimeout=5000\nmaxSessionTimeout=4000\n';
    rejects(inverted, 'minSessionTimeout', /larger than maxSessionTimeout/);
  });

  it('refuses clientPortAddress without clientPort', () => {
    assert.throws(() => parseZooCfg('dataDir=/d\nclientPortAddress=127.0.0.1\n'), /clientPort is not set/);
  });

  it('refuses bad peerType, electionAlg and super digest', () => {
    rejects('peerType=leader\n', 'peerType', /unrecognised peer type/);
    rejects('electionAlg=1\n', 'electionAlg', /at least 3/);
    const key = 'DigestAuthenticationProvider.superDigest';
    rejects(`${key}=nocolon\n`, key, /base64/);
  });

  it('refuses malformed server.N lines', () => {
    rejects('server.x=a:1:2\n', 'server.x', /not an integer/);
    rejects('server.1=a:1\n', 'server.1', /must look like/);
    rejects('server.1=a:1:2:3:4\n', 'server.1', /must look like/);
    rejects('server.1=a:1:2:boss\n', 'server.1', /unrecognised peer type/);
    rejects('server.1=a:70000:2\n', 'server.1', /at most 65535/);
    rejects('server.1=a:1:2;x:y:z\n', 'server.1', /must look like/);
    rejects('server.1=a:1:2\nserver.1=b:1:2\nserver.01=c:1:2\n', 'server.01', /given twice/);
    rejects('server.1=a|b:1:2\n', 'server.1', /multiple addresses/);
  });

  it('refuses an ensemble without initLimit or syncLimit, and observers without participants', () => {
    rejects('server.1=a:1:2\nserver.2=b:1:2\nsyncLimit=2\n', 'initLimit', /not set/);
    rejects('server.1=a:1:2\nserver.2=b:1:2\ninitLimit=2\n', 'syncLimit', /not set/);
    rejects('server.1=a:1:2:observer\n', 'peerType', /without participants/);
    rejects('standaloneEnabled=false\n', 'standaloneEnabled', /at least one server/);
  });

  it('refuses server ids above 254 with extendedTypesEnabled', () => {
    rejects(
      'extendedTypesEnabled=true\ninitLimit=1\nsyncLimit=1\nserver.1=a:1:2\nserver.300=b:1:2\n',
      'server.300',
      /at most 254/,
    );
  });
});

describe('zoo.cfg from disk and myid', () => {
  it('reads myid, and requires it for an ensemble', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'zkcfg-'));
    try {
      const cfg = path.join(dir, 'zoo.cfg');
      const servers = 'server.1=a:1:2\nserver.2=b:1:2\n';
      const ensemble = `dataDir=${dir}\nclientPort=2181\ninitLimit=5\nsyncLimit=2\n${servers}`;
      await writeFile(cfg, ensemble);
      await assert.rejects(loadZooCfg(cfg), /myid file is missing/);
      await writeFile(path.join(dir, 'myid'), '2\n');
      assert.equal((await loadZooCfg(cfg)).config.serverId, 2n);
      await writeFile(path.join(dir, 'myid'), '7\n');
      await assert.rejects(loadZooCfg(cfg), /no server\.N line/);
      await writeFile(path.join(dir, 'myid'), 'two\n');
      await assert.rejects(loadZooCfg(cfg), /is not a number/);
      await writeFile(cfg, `dataDir=${dir}\nclientPort=2181\n`);
      await writeFile(path.join(dir, 'myid'), '1');
      assert.equal((await loadZooCfg(cfg)).config.serverId, 1n);
      await assert.rejects(loadZooCfg(path.join(dir, 'missing.cfg')), /cannot be read/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('in-process options', () => {
  it('fills defaults from tickTime and accepts a word list', () => {
    const config = configFromOptions({ tickTimeMs: 100, fourLetterWordsEnabled: ['ruok'] });
    assert.equal(config.minSessionTimeoutMs, 200);
    assert.equal(config.maxSessionTimeoutMs, 2000);
    assert.deepEqual([...config.fourLetterWordsEnabled].sort(), ['ruok', 'srvr']);
    assert.equal(config.clientPort, 0);
    assert.equal(config.dataDir, undefined);
  });

  it('refuses bad relations and ports', () => {
    assert.throws(() => configFromOptions({ minSessionTimeoutMs: 10, maxSessionTimeoutMs: 5 }), ConfigError);
    assert.throws(() => configFromOptions({ clientPort: -1 }), ConfigError);
    assert.throws(() => configFromOptions({ tickTimeMs: 0 }), ConfigError);
  });
});
