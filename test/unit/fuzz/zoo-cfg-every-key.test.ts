// Every zoo.cfg key the server honours, given a wrong value, fails with a ConfigError naming exactly
// that key, that value and the reason (test/unit/server-shell/zoo-cfg.test.ts covers the parser itself).
import assert from 'node:assert/strict';
import { describe, it } from 'mocha';
import { ConfigError, parseZooCfg } from '../../../server/config/index.js';

const notInt = 'not an integer';
const bool = "must be 'true' or 'false'";
const yesNo = "must be 'yes' or 'no'";

/** [key, wrong value, exact reason]. */
const WRONG_VALUES: ReadonlyArray<[string, string, string]> = [
  ['tickTime', '0', 'must be at least 1'],
  ['tickTime', '2s', notInt],
  ['dataDir', '', 'must not be empty'],
  ['dataLogDir', '', 'must not be empty'],
  ['clientPort', '65536', 'must be at most 65535'],
  ['clientPort', 'http', notInt],
  ['clientPortAddress', '', 'must not be empty'],
  ['clientPortListenBacklog', '-2', 'must be at least -1'],
  ['maxClientCnxns', '-1', 'must be at least 0'],
  ['minSessionTimeout', '-5', 'must be at least -1'],
  ['maxSessionTimeout', '-5', 'must be at least -1'],
  ['maxSessionTimeout', '1e9', notInt],
  ['initLimit', '-1', 'must be at least 0'],
  ['syncLimit', '-1', 'must be at least 0'],
  ['syncLimit', '4294967296', 'out of the 32-bit integer range'],
  ['electionAlg', '0', 'must be at least 3'],
  ['electionAlg', '4', 'must be at most 3'],
  ['peerType', 'leader', "unrecognised peer type: must be 'participant' or 'observer'"],
  ['standaloneEnabled', 'yes', bool],
  ['reconfigEnabled', 'TRUE!', bool],
  ['autopurge.snapRetainCount', 'three', notInt],
  ['autopurge.purgeInterval', '1.5', notInt],
  ['snapCount', '1', 'must be at least 2'],
  ['preAllocSize', '0', 'must be at least 1'],
  ['globalOutstandingLimit', '0', 'must be at least 1'],
  ['forceSync', 'true', yesNo],
  ['skipACL', 'false', yesNo],
  ['jute.maxbuffer', '0', 'must be at least 1'],
  ['zookeeper.jute.maxbuffer', '-1', 'must be at least 1'],
  ['extendedTypesEnabled', 'on', bool],
  ['readonlymode.enabled', '1', bool],
  ['DigestAuthenticationProvider.superDigest', 'super:short',
    'must be "user:base64(sha1(user:password))" (28 base64 characters after the colon)'],
  ['znode.container.checkIntervalMs', '0', 'must be at least 1'],
  ['znode.container.maxPerMinute', '0', 'must be at least 1'],
  ['znode.container.maxNeverUsedIntervalMs', '-1', 'must be at least 0'],
  ['enforceQuota', 'maybe', bool],
  ['menagerie.watchesPerSessionMax', '-1', 'must be at least 0'],
  ['secureClientPort', '2281',
    'TLS client connections (secureClientPort) are not supported by this server; remove it'],
  ['admin.enableServer', 'yes', bool],
  ['admin.serverAddress', '', 'must not be empty'],
  ['admin.serverPort', '70000', 'must be at most 65535'],
  ['admin.serverPort', '-1', 'must be at least 0'],
  ['admin.commandURL', 'commands', 'must be a URL path starting with "/"'],
  ['metricsProvider.className', '', 'must not be empty'],
  ['metricsProvider.httpHost', '', 'must not be empty'],
  ['metricsProvider.httpPort', 'x', notInt],
  ['zookeeper.snapCount', 'x', notInt],
];

describe('zoo.cfg: every honoured key with a wrong value', () => {
  it('4lw.commands.whitelist never fails: an unknown word is a warning, as Apache', () => {
    const text = 'clientPort=2181\ndataDir=/var/zk\n4lw.commands.whitelist=ruok,,nope\n';
    const { warnings, config } = parseZooCfg(text);
    assert.deepEqual(warnings, ['4lw.commands.whitelist: "nope" is not a four-letter word; ignored']);
    assert.deepEqual([...config.fourLetterWordsEnabled].sort(), ['ruok', 'srvr']);
  });

  for (const [key, value, reason] of WRONG_VALUES) {
    it(`${key}=${value}: ${reason}`, () => {
      const text = `clientPort=2181\ndataDir=/var/zk\n${key}=${value}\n`;
      const lines = text.split('\n');
      // The key under test overrides the base lines (the last occurrence wins).
      let caught: unknown;
      try {
        parseZooCfg(text);
      } catch (error) {
        caught = error;
      }
      assert.ok(caught instanceof ConfigError, `expected a ConfigError, got ${String(caught)}`);
      assert.equal(caught.key, key);
      assert.equal(caught.value, value);
      assert.equal(caught.reason, reason);
      assert.equal(caught.line, lines.indexOf(`${key}=${value}`) + 1);
      assert.equal(caught.message, `line ${caught.line}: ${key}=${value}: ${reason}`);
    });
  }
});
