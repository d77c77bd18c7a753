// Drivers that feed commands to zkCli.sh (a JVM, stdin piped, stderr merged into stdout) and to our
// zk-cli (in process, same merged stream), wait for output, and normalise what must differ.
import { spawn } from 'node:child_process';
import { PassThrough, Writable } from 'node:stream';
import { main } from '../../../../src/cli/main.js';
import { ZKCLI } from '../../../support/apache.js';

export interface CliDriver {
  send(line: string): void;
  /** Resolves once `text` occurs `count` times in the output. */
  waitFor(text: string, count?: number): Promise<void>;
  /** Ends stdin and resolves with everything printed and the exit code. */
  finish(): Promise<{ output: string; exitCode: number }>;
  output(): string;
}

const WAIT_MS = 15_000;

class Collector {
  text = '';
  private waiters: Array<{ check(): boolean }> = [];

  append(chunk: string): void {
    this.text += chunk;
    this.waiters = this.waiters.filter((waiter) => !waiter.check());
  }

  waitFor(text: string, count: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const occurrences = () => this.text.split(text).length - 1;
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        const wanted = `${JSON.stringify(text)} (x${count})`;
        reject(new Error(`no ${wanted} within ${WAIT_MS} ms; output:\n${this.text}`));
      }, WAIT_MS);
      const waiter = {
        check: () => {
          if (occurrences() < count) return false;
          clearTimeout(timer);
          resolve();
          return true;
        },
      };
      if (!waiter.check()) this.waiters.push(waiter);
    });
  }
}

/** zkCli.sh with its JVM tuned to start fast; stdout and stderr share one pipe, as in a terminal. */
export function zkCliDriver(connectString: string): CliDriver {
  const child = spawn('sh', ['-c', 'exec "$0" -server "$1" 2>&1', ZKCLI, connectString], {
    stdio: ['pipe', 'pipe', 'ignore'],
    env: { ...process.env, CLIENT_JVMFLAGS: '-XX:TieredStopAtLevel=1 -XX:+UseSerialGC -Xss512k' },
  });
  const collector = new Collector();
  child.stdout!.on('data', (chunk: Buffer) => collector.append(chunk.toString('utf8')));
  child.stdin!.on('error', () => undefined); // a JVM that exited early: the output says why
  const exited = new Promise<number>((resolve) => child.once('exit', (code) => resolve(code ?? -1)));
  return {
    send: (line) => void child.stdin!.write(`${line}\n`),
    waitFor: (text, count = 1) => collector.waitFor(text, count),
    output: () => collector.text,
    async finish() {
      child.stdin!.end();
      const exitCode = await exited;
      return { output: collector.text, exitCode };
    },
  };
}

/** Our zk-cli in this process, reading a script from a stream as it would from a pipe. */
export function zkCliOursDriver(args: string[], env: NodeJS.ProcessEnv = {}): CliDriver {
  const stdin = new PassThrough();
  const collector = new Collector();
  const sink = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      collector.append(chunk.toString('utf8'));
      callback();
    },
  });
  const running = main(args, { stdin, stdout: sink, stderr: sink, env: { ...process.env, ...env } });
  return {
    send: (line) => void stdin.write(`${line}\n`),
    waitFor: (text, count = 1) => collector.waitFor(text, count),
    output: () => collector.text,
    async finish() {
      stdin.end();
      const exitCode = await running;
      return { output: collector.text, exitCode };
    },
  };
}

const removalBlock = /(?:\nWATCHER::\n\nWatchedEvent state:SyncConnected type:\w+WatchRemoved path:\S*\n)+/g;

/** What both print once a session is up; tests wait for it, as Java prints it from another thread. */
export const CONNECTED = 'WatchedEvent state:SyncConnected type:None path:null';

/**
 * Removes what legitimately differs: JVM log lines, times, zxids, session ids, the version line,
 * the connect string, and the order of one removewatches' events (Java's follows hash order).
 */
export function normalise(output: string): string {
  const sorted = output.replace(removalBlock, (blocks) =>
    blocks
      .split(/(?=\nWATCHER::\n)/)
      .sort()
      .join(''),
  );
  return sorted
    .split('\n')
    .filter((line) => !line.startsWith('SLF4J:') && !line.startsWith('JLine support is'))
    .map((line) =>
      line
        .replace(/^([cm]time) = .*$/, '$1 = <time>')
        .replace(/^([cmp]Zxid) = 0x[0-9a-f]+$/, '$1 = <zxid>')
        .replace(/^ephemeralOwner = 0x(?!0$)[0-9a-f]+$/, 'ephemeralOwner = <session>')
        .replace(/^ZooKeeper CLI version: .*$/, 'ZooKeeper CLI version: <version>')
        .replace(/^Connecting to .*$/, 'Connecting to <server>'),
    )
    .join('\n');
}
