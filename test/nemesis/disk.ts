// Small disks for the nemesis: a tmpfs of a few MiB mounted on a member's dataDir (root only), which
// the disk-full fault fills with one file until the kernel answers ENOSPC and later frees again.
// Each mount's source is named `mnd<pid>`, so a run unmounts what it mounted, also at exit, and
// clears the mounts of an earlier run that crashed (its pid is gone).
import { execFile, execFileSync } from 'node:child_process';
import { mkdtemp, open, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { firstLine, processAlive as alive } from './host.js';

const run = promisify(execFile);
const SOURCE = `mnd${process.pid}`;
const FILLER = 'nemesis-disk-filler';

export interface DiskSupport {
  readonly supported: boolean;
  readonly reason: string;
}

let probed: Promise<DiskSupport> | undefined;

/**
 * Whether tmpfs can be mounted here (Linux, root, and a mount that works: a container may refuse
 * it); probed once with a 1 MiB mount. NEMESIS_DISK=0 turns the disk faults off.
 */
export function smallDiskSupport(): Promise<DiskSupport> {
  probed ??= (async () => {
    if (process.platform !== 'linux') return { supported: false, reason: 'not Linux' };
    if (process.getuid?.() !== 0) return { supported: false, reason: 'not root (tmpfs needs mount)' };
    if (process.env.NEMESIS_DISK === '0') return { supported: false, reason: 'NEMESIS_DISK=0' };
    const dir = await mkdtemp(path.join(tmpdir(), 'nemesis-probe-'));
    try {
      await run('mount', ['-t', 'tmpfs', '-o', 'size=1m', SOURCE, dir]);
      await run('umount', [dir]);
      return { supported: true, reason: 'mount -t tmpfs works' };
    } catch (error) {
      return { supported: false, reason: `mount -t tmpfs failed: ${firstLine(error)}` };
    } finally {
      await rm(dir, { recursive: true, force: true }).catch(() => {});
    }
  })();
  return probed;
}

const mounted = new Set<string>();

/** Mounts a tmpfs of `bytes` on the (empty) directory `dir`. */
export async function mountSmallDisk(dir: string, bytes: number): Promise<void> {
  await removeLeftoverMounts();
  await run('mount', ['-t', 'tmpfs', '-o', `size=${bytes},mode=0755`, SOURCE, dir]);
  mounted.add(dir);
}

/** Unmounts it (lazily: a member killed a moment ago may still hold a file); idempotent. */
export async function unmountSmallDisk(dir: string): Promise<void> {
  if (!mounted.delete(dir)) return;
  await run('umount', ['-l', dir]).catch(() => {});
}

/** Writes a file into `dir` until the disk is full; returns the bytes written. */
export async function fillDisk(dir: string): Promise<number> {
  const handle = await open(path.join(dir, FILLER), 'a');
  let written = 0;
  try {
    for (let chunk = 1 << 20; chunk >= 512; chunk >>= 2) {
      const buffer = Buffer.alloc(chunk, 0x5a);
      for (;;) {
        try {
          const { bytesWritten } = await handle.write(buffer);
          written += bytesWritten;
          if (bytesWritten < chunk) break;
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code === 'ENOSPC') break;
          throw error;
        }
      }
    }
  } finally {
    await handle.close();
  }
  return written;
}

/** Deletes the filler: the space is free again. */
export async function freeDisk(dir: string): Promise<void> {
  await rm(path.join(dir, FILLER), { force: true });
}

/** Unmounts tmpfs mounts of earlier runs whose process is gone. */
export async function removeLeftoverMounts(): Promise<string[]> {
  const removed: string[] = [];
  const table = await readFile('/proc/mounts', 'utf8').catch(() => '');
  for (const line of table.split('\n')) {
    const [source, target, type] = line.split(' ');
    const pid = /^mnd(\d+)$/.exec(source ?? '')?.[1];
    if (type !== 'tmpfs' || pid === undefined || target === undefined || alive(Number(pid))) continue;
    const dir = target.replace(/\\040/g, ' ');
    await run('umount', ['-l', dir]).catch(() => {});
    await rm(dir, { recursive: true, force: true }).catch(() => {});
    removed.push(dir);
  }
  return removed;
}

process.once('exit', () => {
  for (const dir of mounted) {
    try {
      execFileSync('umount', ['-l', dir], { stdio: 'ignore' });
      execFileSync('rmdir', [dir], { stdio: 'ignore' });
    } catch {
      // already gone
    }
  }
});
