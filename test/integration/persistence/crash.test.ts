// Goal: kill -9 at a random moment under a write load (group commit, background snapshots), then lose
// a random part of whatever was not acknowledged (as a power cut would lose unsynced bytes), then
// restart: every acknowledged txn is present, the tree has no gaps, nothing half-applied, and the
// writer starts again. Rounds: PERSISTENCE_CRASH_ROUNDS (default 4; the count is printed).

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, readdir, rm, stat, truncate } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { readLogFile, recover } from '../../../server/persistence/recovery.js';
import { sortByZxid } from '../../../server/persistence/names.js';
import { MemoryTree } from '../../unit/persistence/memory-tree.js';

const writer = path.join(path.dirname(fileURLToPath(import.meta.url)), 'crash-writer.ts');
const rounds = Number(process.env.PERSISTENCE_CRASH_ROUNDS ?? 4);

/** Runs the writer until it acknowledged `acksWanted` txns, kills it (SIGKILL), returns the highest ack. */
async function runAndKill(dataDir: string, acksWanted: number): Promise<bigint> {
  const child = spawn(process.execPath, ['--import', 'tsx', writer, dataDir], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let highestAck = -1n;
  let acks = 0;
  let buffered = '';
  let errors = '';
  child.stderr!.on('data', (chunk: Buffer) => (errors += chunk.toString()));
  const drained = new Promise<void>((resolve) => child.stdout!.once('close', () => resolve()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  await new Promise<void>((resolve, reject) => {
    child.once('exit', (code) =>
      acks < acksWanted ? reject(new Error(`writer exited (${code}) early: ${errors}`)) : resolve(),
    );
    child.stdout!.on('data', (chunk: Buffer) => {
      buffered += chunk.toString();
      const lines = buffered.split('\n');
      buffered = lines.pop()!;
      for (const line of lines) {
        if (!line.startsWith('ack ')) continue;
        const zxid = BigInt(line.slice(4));
        if (zxid > highestAck) highestAck = zxid;
        if (++acks === acksWanted) {
          child.kill('SIGKILL');
          resolve();
        }
      }
    });
  });
  // Acks already in the pipe when the kill landed count too: the child may have applied them.
  await Promise.all([drained, exited]);
  return highestAck;
}

/** Cuts the last log somewhere after the last acknowledged entry: bytes never synced may be lost. */
async function loseUnsyncedTail(
  logDirectory: string,
  ackedZxid: bigint,
  random: () => number,
): Promise<void> {
  const names = sortByZxid(await readdir(logDirectory), 'log');
  const last = path.join(logDirectory, names.at(-1)!);
  let firstUnacked: number | undefined;
  await readLogFile(last, (txn, offset) => {
    if (txn.header.zxid > ackedZxid && firstUnacked === undefined) firstUnacked = offset;
  });
  const size = (await stat(last)).size;
  if (firstUnacked === undefined || firstUnacked >= size) return;
  await truncate(last, firstUnacked + Math.floor(random() * Math.min(4096, size - firstUnacked)));
}

describe('crash recovery under load (kill -9)', function () {
  this.timeout(30_000 + rounds * 5_000);
  let dataDir: string;
  before(async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), 'menagerie-crash-'));
  });
  after(async () => {
    await rm(dataDir, { recursive: true, force: true });
  });

  it(`keeps every acknowledged txn across ${rounds} kill -9 rounds`, async () => {
    let seed = 12345;
    const random = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x80000000;
    let restarts = 0;
    for (let round = 0; round < rounds; round++) {
      const highestAck = await runAndKill(dataDir, 20 + Math.floor(random() * 200));
      await loseUnsyncedTail(path.join(dataDir, 'version-2'), highestAck, random);
      const recovered = await recover({ dataDir }, () => new MemoryTree());
      const tree = recovered.target;
      assert.ok(
        recovered.lastZxid >= highestAck,
        `round ${round}: acked 0x${highestAck.toString(16)}, recovered 0x${recovered.lastZxid.toString(16)}`,
      );
      for (let zxid = 1n; zxid <= recovered.lastZxid; zxid++) {
        assert.ok(tree.node(`/n${zxid}`), `round ${round}: /n${zxid} missing (a gap)`);
      }
      assert.equal(tree.node(`/n${recovered.lastZxid + 1n}`), undefined);
      restarts++;
    }
    console.log(`      ${restarts} kill -9 rounds, every acknowledged txn recovered`);
  });
});
