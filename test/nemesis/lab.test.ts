// Goal: the nemesis's machinery for disks and networks does what the faults rely on and cleans up:
// a partition cuts member-to-member traffic both ways while the root namespace (the clients) still
// reaches every member, heal restores it, a small disk fills to ENOSPC and frees again, and the
// namespaces and mounts of a run that died (its pid gone) are removed at the next start. Skipped,
// with the reason, where namespaces or mounts cannot be made (not root, no iproute2).
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, it } from 'mocha';
import { fillDisk, freeDisk, mountSmallDisk, removeLeftoverMounts, smallDiskSupport, unmountSmallDisk }
  from './disk.js';
import { NetworkLab, netnsSupport, removeLeftovers } from './netns.js';

const run = promisify(execFile);
/** A pid no process has (above any default pid_max). */
const DEAD_PID = 4_194_399;

/** Whether `from` (a namespace, or the root one) opens a TCP connection to host:port within 1 s. */
async function reaches(from: string | undefined, host: string, port: number): Promise<boolean> {
  const probe =
    `const s=require('net').connect(${port},'${host}');s.setTimeout(1000);` +
    `s.on('connect',()=>{console.log('yes');s.destroy()});` +
    `s.on('timeout',()=>{console.log('no');s.destroy()});s.on('error',()=>console.log('no'))`;
  const command = [...(from ? ['ip', 'netns', 'exec', from] : []), process.execPath, '-e', probe];
  const { stdout } = await run(command[0]!, command.slice(1));
  return stdout.trim() === 'yes';
}

describe('nemesis lab: namespaces and small disks', function () {
  this.timeout(30_000);

  it('a partition cuts members apart both ways, clients still reach all, heal restores', async function () {
    const support = await netnsSupport();
    if (!support.supported) {
      console.log(`      (skipped: ${support.reason})`);
      this.skip();
    }
    await using lab = await NetworkLab.create(3);
    // A listener in member 3's namespace, on its address.
    const listen =
      `require('net').createServer(s=>s.end()).listen(7777,'${lab.host(3)}',()=>console.log('up'))`;
    const server = execFile('ip', ['netns', 'exec', lab.namespace(3), process.execPath, '-e', listen]);
    try {
      await new Promise((resolve) => server.stdout!.once('data', resolve));
      assert.equal(await reaches(lab.namespace(1), lab.host(3), 7777), true);
      await lab.partition([[1], [2, 3]]);
      assert.equal(await reaches(lab.namespace(1), lab.host(3), 7777), false);
      assert.equal(await reaches(lab.namespace(2), lab.host(3), 7777), true);
      assert.equal(await reaches(undefined, lab.host(3), 7777), true);
      await lab.heal();
      assert.equal(await reaches(lab.namespace(1), lab.host(3), 7777), true);
    } finally {
      server.kill('SIGKILL');
    }
    await lab.dispose();
    const { stdout } = await run('ip', ['netns', 'list']);
    assert.ok(!stdout.includes(lab.namespace(1)), 'the namespaces are gone');
  });

  it("removes a dead run's namespaces and links, and leaves a live run's alone", async function () {
    const support = await netnsSupport();
    if (!support.supported) this.skip();
    const dead = `mn${DEAD_PID}-1`;
    const live = `mn${process.pid}-99`;
    await run('ip', ['netns', 'add', dead]);
    await run('ip', ['netns', 'add', live]);
    try {
      const removed = await removeLeftovers();
      assert.ok(removed.includes(dead));
      const { stdout } = await run('ip', ['netns', 'list']);
      assert.ok(!stdout.includes(dead) && stdout.includes(live));
    } finally {
      await run('ip', ['netns', 'del', dead]).catch(() => {});
      await run('ip', ['netns', 'del', live]).catch(() => {});
    }
  });

  it('a small disk fills to ENOSPC, frees again, and unmounts', async function () {
    const support = await smallDiskSupport();
    if (!support.supported) {
      console.log(`      (skipped: ${support.reason})`);
      this.skip();
    }
    const dir = await mkdtemp(path.join(tmpdir(), 'nemesis-disk-'));
    try {
      await mountSmallDisk(dir, 2 << 20);
      const filled = await fillDisk(dir);
      assert.ok(filled > 1.5 * 2 ** 20, `filled ${filled} bytes`);
      await assert.rejects(writeFile(path.join(dir, 'more'), Buffer.alloc(64 * 1024)), /ENOSPC/);
      await freeDisk(dir);
      await writeFile(path.join(dir, 'more'), Buffer.alloc(64 * 1024));
      await unmountSmallDisk(dir);
      assert.ok(!(await readFile('/proc/mounts', 'utf8')).includes(dir));
    } finally {
      await unmountSmallDisk(dir);
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("unmounts a dead run's small disks", async function () {
    if (!(await smallDiskSupport()).supported) this.skip();
    const dir = await mkdtemp(path.join(tmpdir(), 'nemesis-dead-'));
    try {
      await run('mount', ['-t', 'tmpfs', '-o', 'size=1m', `mnd${DEAD_PID}`, dir]);
      assert.ok((await removeLeftoverMounts()).includes(dir));
      assert.ok(!(await readFile('/proc/mounts', 'utf8')).includes(dir));
    } finally {
      await run('umount', ['-l', dir]).catch(() => {});
      await rm(dir, { recursive: true, force: true });
    }
  });
});
