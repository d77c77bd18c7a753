// The zk-server command (run in process) with configs the fuzzer found or that are unreadable: each
// exits 2 with one clear line on stderr naming the problem, and no port is ever bound.
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'mocha';
import { main } from '../../server/cli.js';
import { freePort } from '../support/ports.js';
import { RawConnection } from '../support/raw-client.js';

async function runCli(file: string): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const stopSignal = () => new Promise<string>(() => {}); // never: a config error must return first
  const code = await main(['start-foreground', file], {
    stdout: (t) => (stdout += t),
    stderr: (t) => (stderr += t),
    stopSignal,
  });
  return { code, stdout, stderr };
}

describe('zk-server with bad configs found by fuzzing', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'fuzz-cli-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('refuses a malformed \\u escape with its line, before binding the port', async () => {
    const port = await freePort();
    const file = path.join(dir, 'escape.cfg');
    await writeFile(file, `dataDir=${dir}\nclientPort=${port}\ntickTime=\\u00zz\n`);
    const { code, stdout, stderr } = await runCli(file);
    assert.equal(code, 2);
    assert.equal(stdout, '');
    assert.match(stderr, /line 3: \\u escape=\\u00zz: malformed: \\u must be followed by 4 hex digits/);
    await assert.rejects(RawConnection.open(port), /ECONNREFUSED/);
  });

  it('refuses a config path that is a directory, naming it', async () => {
    const sub = path.join(dir, 'a-directory.cfg');
    await mkdir(sub);
    const { code, stderr } = await runCli(sub);
    assert.equal(code, 2);
    assert.match(stderr, /a-directory\.cfg: cannot be read \(EISDIR\)/);
  });

  it('refuses an empty config (no dataDir) before binding anything', async () => {
    const file = path.join(dir, 'empty.cfg');
    await writeFile(file, '');
    const { code, stderr } = await runCli(file);
    assert.equal(code, 2);
    assert.match(stderr, /dataDir=: dataDir is not set/);
  });
});
