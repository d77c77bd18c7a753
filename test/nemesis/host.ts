// What the nemesis's host faults (small disks, network namespaces) share: whether the process that
// made a leftover is still running, and the one line of a failed command worth printing.

/** Whether `pid` is a live process (EPERM: alive, only not ours to signal). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The first line of a failed command's stderr, or of the error itself. */
export function firstLine(error: unknown): string {
  const stderr = (error as { stderr?: string }).stderr;
  return (stderr || String(error)).split('\n')[0]!.trim();
}
