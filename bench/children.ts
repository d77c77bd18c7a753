// Every child process the bench starts is tracked here, so that an interrupted run (Ctrl-C, SIGTERM,
// an uncaught error) still kills its servers, JVMs and Python processes instead of leaving them behind.
import type { ChildProcess } from 'node:child_process';

const live = new Set<ChildProcess>();

export function trackChild<T extends ChildProcess>(child: T): T {
  live.add(child);
  child.once('exit', () => live.delete(child));
  return child;
}

function killAll(): void {
  for (const child of live) {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
}

let installed = false;

/** Kills every tracked child when this process exits or is asked to stop. */
export function killChildrenOnExit(): void {
  if (installed) return;
  installed = true;
  process.once('exit', killAll);
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      killAll();
      process.exit(128 + (signal === 'SIGINT' ? 2 : 15));
    });
  }
}
