// Loading `menagerie` must not load prom-client: only turning metrics on does. Checked in a fresh
// Node process (this one has loaded prom-client already), by looking for prom-client's files among
// the CommonJS modules loaded, before and after installPrometheusMetrics.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, it } from 'mocha';

const indexUrl = new URL('../../../src/index.ts', import.meta.url).href;
const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));

const probe = `
import { createRequire } from 'node:module';
const require = createRequire(${JSON.stringify(indexUrl)});
const promClientLoaded = () => Object.keys(require.cache).some((file) => file.includes('/prom-client/'));
const menagerie = await import(${JSON.stringify(indexUrl)});
const afterImport = promClientLoaded();
const { Registry } = require('prom-client');
const registry = new Registry();
const metrics = menagerie.installPrometheusMetrics({ registry });
const names = (await registry.getMetricsAsJSON()).length;
metrics[Symbol.dispose]();
console.log(JSON.stringify({ afterImport, afterInstall: promClientLoaded(), names }));
`;

describe('prom-client is loaded only when metrics are turned on', () => {
  it('importing menagerie leaves prom-client unloaded; installPrometheusMetrics works', async function () {
    this.timeout(30_000);
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ['--import', 'tsx', '--input-type=module', '-e', probe],
      { cwd: repoRoot },
    );
    const result = JSON.parse(stdout.trim().split('\n').at(-1)!) as Record<string, unknown>;
    assert.equal(result.afterImport, false, 'prom-client was loaded by importing menagerie');
    assert.equal(result.afterInstall, true);
    assert.ok((result.names as number) > 0, 'the metrics were registered');
  });
});
