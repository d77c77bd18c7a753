// Goal: the dynamic config file round-trips as Apache 3.8 keeps it: after a reconfig, zoo.cfg loses its
// server lines and names zoo.cfg.dynamic.<version> (zoo.cfg.bak keeps the original), that file holds the
// server lines, and loadZooCfg reads it back: the new members, and the config version from its name.
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'mocha';
import { loadZooCfg } from '../../../server/config/index.js';
import { recordDynamicConfig } from '../../../server/config/dynamic-config.js';

describe('dynamic config file', () => {
  it('is written on a reconfig and read back at start', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'dynamic-config-'));
    try {
      const zooCfg = path.join(dir, 'zoo.cfg');
      const original = [
        'tickTime=200', 'initLimit=10', 'syncLimit=5', `dataDir=${dir}`, 'clientPort=2181',
        'reconfigEnabled=true', 'server.1=127.0.0.1:3001:4001', 'server.2=127.0.0.1:3002:4002',
        'server.3=127.0.0.1:3003:4003',
      ].join('\n');
      await writeFile(zooCfg, `${original}\n`);
      await writeFile(path.join(dir, 'myid'), '2\n');
      const text = [
        'server.1=127.0.0.1:3001:4001:participant', 'server.2=127.0.0.1:3002:4002:participant',
        'server.4=127.0.0.1:3004:4004:observer;127.0.0.1:2184', 'version=100000003',
      ].join('\n');
      const written = await recordDynamicConfig(zooCfg, text, 0x100000003n);
      assert.equal(written, `${zooCfg}.dynamic.100000003`);
      // As Apache 3.8 writes it: the server lines only, the version is in the file's name.
      assert.equal(await readFile(written, 'utf8'), `${text.split('\n').slice(0, 3).join('\n')}\n`);
      assert.equal(await readFile(`${zooCfg}.bak`, 'utf8'), `${original}\n`);
      const rewritten = await readFile(zooCfg, 'utf8');
      assert.doesNotMatch(rewritten, /^server\./m);
      assert.match(rewritten, new RegExp(`^dynamicConfigFile=${written.replace(/\./g, '\\.')}$`, 'm'));

      const { config } = await loadZooCfg(zooCfg);
      assert.deepEqual(config.servers.map((s) => [Number(s.id), s.role]), [
        [1, 'participant'], [2, 'participant'], [4, 'observer'],
      ]);
      assert.equal(config.configVersion, 0x100000003n);
      assert.equal(config.dynamicConfigFile, written);
      assert.equal(config.serverId, 2n);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
