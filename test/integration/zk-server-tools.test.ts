// The zk-server maintenance subcommands on a data dir our durable server wrote: dump-log and
// dump-snapshot print what was written, purge keeps what recovery needs, and a missing file is a
// one-line error with exit code 1.
import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'mocha';
import { ZooKeeperClient } from '../../src/index.js';
import { main, type CliIo } from '../../server/cli.js';
import { startServer } from '../../server/index.js';

async function run(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const io: CliIo = { stdout: (t) => void (stdout += t), stderr: (t) => void (stderr += t) };
  const code = await main(args, io);
  return { code, stdout, stderr };
}

describe('zk-server dump-log, dump-snapshot and purge', function () {
  this.timeout(60_000);

  it('prints the txns and the tree a durable server wrote, and purges old files', async () => {
    const dataDir = await mkdtemp(path.join(tmpdir(), 'zk-tools-'));
    try {
      // Four restarts leave four startup snapshots, so purge -n 3 has one to delete.
      for (let round = 0; round < 4; round++) {
        await using server = await startServer({ clientPort: 0, dataDir });
        await using client = new ZooKeeperClient({ connectString: server.connectString, sessionTimeoutMs: 4000 });
        await client.connect();
        await client.create(`/tools-${round}`, Buffer.from(`data-${round}`));
      }
      const files = await readdir(path.join(dataDir, 'version-2'));
      const logs = files.filter((f) => f.startsWith('log.')).sort();
      const snapshots = files.filter((f) => f.startsWith('snapshot.')).sort();
      assert.ok(logs.length > 0 && snapshots.length >= 4, `files: ${files.join(' ')}`);

      const log = await run(['dump-log', path.join(dataDir, 'version-2', logs[0])]);
      assert.equal(log.code, 0, log.stderr);
      assert.match(log.stdout, /\/tools-0/);

      const newest = snapshots.at(-1)!;
      const snapshot = await run(['dump-snapshot', path.join(dataDir, 'version-2', newest)]);
      assert.equal(snapshot.code, 0, snapshot.stderr);
      assert.match(snapshot.stdout, /\/tools-2/);

      const purged = await run(['purge', dataDir, '-n', '3']);
      assert.equal(purged.code, 0, purged.stderr);
      const left = (await readdir(path.join(dataDir, 'version-2'))).filter((f) => f.startsWith('snapshot.'));
      assert.equal(left.length, 3);
      assert.ok(!left.includes(snapshots[0]), 'the oldest snapshot is purged');

      // And the server still recovers everything from what purge kept.
      await using server = await startServer({ clientPort: 0, dataDir });
      await using client = new ZooKeeperClient({ connectString: server.connectString, sessionTimeoutMs: 4000 });
      await client.connect();
      for (let round = 0; round < 4; round++) {
        assert.equal((await client.getData(`/tools-${round}`)).data?.toString(), `data-${round}`);
      }
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });

  it('reports a missing file in one line with exit code 1', async () => {
    const result = await run(['dump-log', '/nonexistent/log.1']);
    assert.equal(result.code, 1);
    assert.match(result.stderr, /^zk-server: .*\/nonexistent\/log\.1/);
  });
});
