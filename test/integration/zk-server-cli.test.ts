// `zk-server` as a process: --help, a bad zoo.cfg refused on stderr with a non-zero exit before any
// port is bound, an ensemble config without its myid refused, and start-foreground serving with JSON
// logs on stdout until SIGTERM stops it cleanly (exit 0).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'mocha';
import { fourLetterWord, freePort } from '../support/ports.js';
import { RawClient, RawConnection } from '../support/raw-client.js';
import { startServerProcess } from '../support/servers.js';
import { create, exists, ok } from '../conformance/ops.js';

function runCli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'server/cli.ts', ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.once('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('zk-server command', function () {
  this.timeout(30_000);
  let dir: string;
  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'zk-server-cli-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('prints its usage with --help', async () => {
    const { code, stdout } = await runCli(['--help']);
    assert.equal(code, 0);
    assert.match(stdout, /Usage: zk-server/);
    assert.match(stdout, /start-foreground <zoo\.cfg>/);
  });

  it('refuses a malformed value before binding the port, naming key, value and reason', async () => {
    const port = await freePort();
    const file = path.join(dir, 'bad.cfg');
    await writeFile(file, `dataDir=${dir}\nclientPort=${port}\ntickTime=soon\n`);
    const { code, stderr, stdout } = await runCli(['start-foreground', file]);
    assert.equal(code, 2);
    assert.match(stderr, /tickTime=soon: not an integer/);
    assert.equal(stdout, '');
    await assert.rejects(RawConnection.open(port), /ECONNREFUSED/);
  });

  it('refuses secureClientPort, a missing file, and an ensemble without myid', async () => {
    const secure = path.join(dir, 'secure.cfg');
    await writeFile(secure, `dataDir=${dir}\nclientPort=2181\nsecureClientPort=2281\n`);
    const refused = await runCli(['start-foreground', secure]);
    assert.equal(refused.code, 2);
    assert.match(refused.stderr, /secureClientPort=2281: TLS client connections .* not supported/);
    const missing = await runCli(['start-foreground', path.join(dir, 'nope.cfg')]);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /cannot be read/);
    const ensemble = path.join(dir, 'ensemble.cfg');
    const servers = 'server.1=a:1:2\nserver.2=b:1:2\n';
    await writeFile(ensemble, `dataDir=${dir}\nclientPort=2181\ninitLimit=5\nsyncLimit=2\n${servers}`);
    const quorum = await runCli(['start-foreground', ensemble]);
    assert.equal(quorum.code, 2);
    assert.match(quorum.stderr, /myid file is missing/);
  });

  it('serves from a zoo.cfg, logs JSON to stdout, and stops cleanly on SIGTERM', async () => {
    const server = await startServerProcess({ '4lw.commands.whitelist': 'ruok,srvr', someUnknownKey: 1 });
    try {
      assert.equal(await fourLetterWord(server.port, 'ruok'), 'imok');
      await using client = await RawClient.connect(server.port);
      ok(await create(client, '/from-cli'));
      ok(await exists(client, '/from-cli'));
      assert.equal(client.timeoutMs, 30_000, 'maxSessionTimeout defaults to 20 ticks of 2000 ms');
    } finally {
      const code = await server.stop();
      assert.equal(code, 0);
    }
    const lines = server.output().trim().split('\n').map((line) => JSON.parse(line) as { msg: string });
    const warned = lines.some((line) => /someUnknownKey: unknown key/.test(line.msg));
    assert.ok(warned, 'unknown keys are logged as warnings');
    assert.ok(lines.some((line) => line.msg === 'serving clients'));
    assert.ok(lines.some((line) => line.msg === 'stopped'));
  });
});
