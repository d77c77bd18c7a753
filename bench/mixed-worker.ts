// One client process of the mixed read/write workload (bench/mixed-workload.ts), forked with an IPC
// channel: it connects our client (its own session) to the server it is told, creates its own
// znodes, then on each `run` keeps `outstanding` getData/setData requests in flight for a fixed
// time, a given share of them reads, and answers with how many completed. It exits on `exit` or
// when the parent goes away.
import { randomBytes } from 'node:crypto';
import { ZooKeeperClient } from '../src/client/index.js';
import { NodeExistsError } from '../src/protocol/index.js';

export type WorkerCommand =
  | { type: 'connect'; connectString: string; parent: string; znodes: number }
  | { type: 'run'; readPercent: number; durationMs: number; outstanding: number }
  | { type: 'disconnect' }
  | { type: 'exit' };

export type WorkerReply =
  | { type: 'ok' }
  | { type: 'ran'; ops: number; elapsedMs: number }
  | { type: 'error'; message: string };

const SESSION_TIMEOUT_MS = 10_000;
const CONNECT_TIMEOUT_MS = 15_000;
const ZNODE_BYTES = 100;
const CREATES_OUTSTANDING = 32;

let client: ZooKeeperClient | undefined;
let paths: string[] = [];
const data = randomBytes(ZNODE_BYTES);

/** A znode left by an earlier round of the same worker is as good as a new one. */
function ignoreExisting(error: unknown): void {
  if (!(error instanceof NodeExistsError)) throw error;
}

async function connect(command: Extract<WorkerCommand, { type: 'connect' }>): Promise<void> {
  await client?.close();
  const connectString = command.connectString;
  client = new ZooKeeperClient({ connectString, sessionTimeoutMs: SESSION_TIMEOUT_MS });
  await client.connect({ timeoutMs: CONNECT_TIMEOUT_MS });
  const parent = command.parent;
  await client.create(parent).catch(ignoreExisting);
  paths = Array.from({ length: command.znodes }, (_, i) => `${parent}/n${i}`);
  let next = 0;
  const created = client;
  const worker = async () => {
    while (next < paths.length) {
      const path = paths[next++]!;
      await created.create(path, data).catch(ignoreExisting);
    }
  };
  await Promise.all(Array.from({ length: CREATES_OUTSTANDING }, worker));
}

/**
 * A closed loop for `durationMs`: request k is a read when the running share of reads would
 * otherwise fall below readPercent, so every window has exactly that mix; znodes taken in turn.
 */
async function run(command: Extract<WorkerCommand, { type: 'run' }>): Promise<WorkerReply> {
  const zk = client;
  if (zk === undefined) throw new Error('run before connect');
  const { readPercent, durationMs, outstanding } = command;
  let issued = 0;
  let completed = 0;
  const startMs = performance.now();
  const endMs = startMs + durationMs;
  const loop = async () => {
    while (performance.now() < endMs) {
      const k = issued++;
      const path = paths[k % paths.length]!;
      const read = Math.floor(((k + 1) * readPercent) / 100) > Math.floor((k * readPercent) / 100);
      if (read) await zk.getData(path);
      else await zk.setData(path, data);
      completed++;
    }
  };
  await Promise.all(Array.from({ length: outstanding }, loop));
  return { type: 'ran', ops: completed, elapsedMs: performance.now() - startMs };
}

async function handle(command: WorkerCommand): Promise<WorkerReply> {
  switch (command.type) {
    case 'connect':
      await connect(command);
      return { type: 'ok' };
    case 'run':
      return await run(command);
    case 'disconnect':
      await client?.close();
      client = undefined;
      return { type: 'ok' };
    case 'exit':
      await client?.close();
      process.disconnect?.();
      return { type: 'ok' };
  }
}

if (process.send === undefined) throw new Error('mixed-worker.ts runs forked, with an IPC channel');
process.on('disconnect', () => process.exit(0));
process.on('message', (command: WorkerCommand) => {
  handle(command).then(
    (reply) => process.connected && process.send!(reply),
    (error: unknown) => {
      const message = error instanceof Error ? error.message : String(error);
      if (process.connected) process.send!({ type: 'error', message } satisfies WorkerReply);
    },
  );
});
