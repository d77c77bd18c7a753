// zk-server with a data directory it cannot use: one clear line naming it, exit 1, and nothing
// left listening on the client port.
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'mocha';
import { main, type CliIo } from '../../server/cli.js';
import { freePort } from '../support/ports.js';

describe('zk-server with an unusable dataDir', () => {
  it('names the directory, exits 1 and leaves the port free', async () => {
    const scratch = await mkdtemp(path.join(tmpdir(), 'zk-datadir-'));
    try {
      const notADirectory = path.join(scratch, 'plain-file');
      await writeFile(notADirectory, 'not a directory');
      const port = await freePort();
      const configFile = path.join(scratch, 'zoo.cfg');
      await writeFile(
        configFile,
        `dataDir=${notADirectory}\nclientPort=${port}\nclientPortAddress=127.0.0.1\nadmin.enableServer=false\n`,
      );
      let stderr = '';
      const io: CliIo = { stdout: () => undefined, stderr: (t) => void (stderr += t), stopSignal: () => new Promise(() => {}) };
      const code = await main(['start-foreground', configFile], io);
      assert.equal(code, 1);
      assert.match(stderr, new RegExp(`cannot use the data directory ${notADirectory}: ENOTDIR`));
      const refused = await new Promise<boolean>((resolve) => {
        const socket = net.connect(port, '127.0.0.1');
        socket.once('connect', () => (socket.destroy(), resolve(false)));
        socket.once('error', () => resolve(true));
      });
      assert.ok(refused, 'nothing listens on the client port');
    } finally {
      await rm(scratch, { recursive: true, force: true });
    }
  });
});
