// kazoo's Lock for the bench: bench/kazoo_lock.py under Debian's /usr/bin/python3 (python3-kazoo),
// one long-lived process per comparison, driven by JSON lines. close() ends stdin and kills the process
// if it lingers.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { trackChild } from './children.js';

const PYTHON = '/usr/bin/python3';
const SCRIPT = fileURLToPath(new URL('./kazoo_lock.py', import.meta.url));
const ANSWER_TIMEOUT_MS = 120_000;
const EXIT_GRACE_MS = 3_000;

export function kazooAvailable(): boolean {
  if (!existsSync(PYTHON)) return false;
  return spawnSync(PYTHON, ['-c', 'import kazoo'], { stdio: 'ignore', timeout: 10_000 }).status === 0;
}

export interface KazooLockBench extends AsyncDisposable {
  cycles(path: string, cycles: number): Promise<{ cycles: number; elapsedMs: number }>;
  handoff(
    path: string,
    clients: number,
    acquisitions: number,
  ): Promise<{ acquisitions: number; elapsedMs: number; handoffP50Ms: number; handoffP99Ms: number }>;
  close(): Promise<void>;
}

export async function startKazoo(connectString: string): Promise<KazooLockBench> {
  const stdio: ['pipe', 'pipe', 'pipe'] = ['pipe', 'pipe', 'pipe'];
  const child: ChildProcess = trackChild(spawn(PYTHON, [SCRIPT, connectString], { stdio }));
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-16_000)));
  child.stdin!.on('error', () => undefined);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
  const nextAnswer = async (): Promise<Record<string, unknown>> => {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      const fail = () => reject(new Error(`kazoo gave no answer in ${ANSWER_TIMEOUT_MS} ms`));
      timer = setTimeout(fail, ANSWER_TIMEOUT_MS);
    });
    try {
      const line = await Promise.race([lines.next(), timeout]);
      if (line.done === true) throw new Error(`kazoo process ended:\n${stderr}`);
      const answer = JSON.parse(line.value) as Record<string, unknown>;
      if (answer.ok === false) throw new Error(`kazoo: ${String(answer.error)}`);
      return answer;
    } finally {
      clearTimeout(timer);
    }
  };
  let closing: Promise<void> | undefined;
  const close = () =>
    (closing ??= (async () => {
      child.stdin!.end();
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([exited, new Promise((resolve) => (timer = setTimeout(resolve, EXIT_GRACE_MS)))]);
      clearTimeout(timer);
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    })());
  const request = async <T>(command: object): Promise<T> => {
    child.stdin!.write(`${JSON.stringify(command)}\n`);
    return (await nextAnswer()) as T;
  };
  try {
    await nextAnswer(); // {"ready": true} once connected
  } catch (error) {
    await close();
    throw error;
  }
  return {
    cycles: (path, cycles) => request({ op: 'cycles', path, cycles }),
    handoff: (path, clients, acquisitions) => request({ op: 'handoff', path, clients, acquisitions }),
    close,
    [Symbol.asyncDispose]: close,
  };
}
