// The machine's floor, measured in the same run as everything else: what one durable small write
// and one loopback round trip cost here. Our figures are reported as multiples of these.
import { fork } from 'node:child_process';
import { open, mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { summarize, type LatencySummary } from './stats.js';

const PREALLOCATED_BYTES = 64 * 1024 * 1024;

/** Append 100 bytes, then fsync; repeated. */
export async function fsyncAppendFloor(iterations: number): Promise<LatencySummary> {
  const dir = await mkdtemp(path.join(tmpdir(), 'floor-'));
  const file = await open(path.join(dir, 'append'), 'a');
  const record = Buffer.alloc(100, 7);
  const samples: number[] = [];
  try {
    for (let i = 0; i < iterations; i++) {
      const start = performance.now();
      await file.write(record);
      await file.sync();
      samples.push(performance.now() - start);
    }
  } finally {
    await file.close();
    await rm(dir, { recursive: true, force: true });
  }
  return summarize(samples);
}

/** Write 100 bytes into a preallocated file, then fdatasync (what a preallocated txn log pays). */
export async function fdatasyncPreallocatedFloor(iterations: number): Promise<LatencySummary> {
  const dir = await mkdtemp(path.join(tmpdir(), 'floor-'));
  const file = await open(path.join(dir, 'prealloc'), 'w+');
  const record = Buffer.alloc(100, 7);
  const samples: number[] = [];
  try {
    await file.truncate(PREALLOCATED_BYTES);
    await file.sync();
    for (let i = 0; i < iterations; i++) {
      const start = performance.now();
      await file.write(record, 0, record.length, i * record.length);
      await file.datasync();
      samples.push(performance.now() - start);
    }
  } finally {
    await file.close();
    await rm(dir, { recursive: true, force: true });
  }
  return summarize(samples);
}

/** One small request and its answer between two processes over loopback TCP. */
export async function loopbackRoundTripFloor(iterations: number): Promise<LatencySummary> {
  const child = fork(fileURLToPath(new URL('./echo-server.ts', import.meta.url)), [], {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });
  try {
    const port = await new Promise<number>((resolve, reject) => {
      child.once('message', (m) => resolve((m as { port: number }).port));
      child.once('exit', (code) => reject(new Error(`echo server exited with ${code}`)));
    });
    const socket = net.connect(port, '127.0.0.1');
    socket.setNoDelay(true);
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    const samples: number[] = [];
    const payload = Buffer.alloc(64, 1);
    for (let i = 0; i < iterations; i++) {
      const start = performance.now();
      await new Promise<void>((resolve) => {
        let received = 0;
        const onData = (chunk: Buffer) => {
          received += chunk.length;
          if (received >= payload.length) {
            socket.off('data', onData);
            resolve();
          }
        };
        socket.on('data', onData);
        socket.write(payload);
      });
      samples.push(performance.now() - start);
    }
    socket.destroy();
    return summarize(samples);
  } finally {
    child.kill();
  }
}
