// The socket fuzzer: random and mutated frames sent to a running server over loopback, one TCP
// connection per case, and after every few cases a fresh client must still be served (a create and
// getData round trip). A case that neither gets its closing ping answered nor sees the server close
// within the hang timeout is a hang.

import { createHash } from 'node:crypto';
import net from 'node:net';
import { FrameSplitter, OpCode, Xid, encodeFrame, part } from '../../src/protocol/index.js';
import { RequestHeader } from '../../src/protocol/records.js';
import { RawClient } from '../support/raw-client.js';
import type { Finding } from './in-process.js';
import { Prng, connectFrame, mutateFrame, validRequestFrame } from './inputs.js';

export interface SocketCounts {
  cases: number;
  framesSent: number;
  bytesSent: number;
  replies: number;
  closedByServer: number;
  healthChecks: number;
  heapUsedMaxBytes: number;
  rssMaxBytes: number;
  findings: Finding[];
}

export function newSocketCounts(): SocketCounts {
  return {
    cases: 0, framesSent: 0, bytesSent: 0, replies: 0, closedByServer: 0, healthChecks: 0,
    heapUsedMaxBytes: 0, rssMaxBytes: 0, findings: [],
  };
}

/** Session timeout the cases ask for (a fuzzed server should run with tickTimeMs 500 to grant it). */
export const SESSION_TIMEOUT_MS = 2000;

const PING_FRAME = encodeFrame(part(RequestHeader, { xid: Xid.PING, type: OpCode.ping }));

/** Builds one case: the bytes to send, and whether a ping reply can be expected at its end. */
function buildCase(rng: Prng): { frames: Buffer[]; framed: boolean; kind: string } {
  const kind = rng.int(10);
  const requests = (n: number, mutateP: number) =>
    Array.from({ length: n }, (_, i) => {
      const valid = validRequestFrame(rng, i + 1);
      return rng.chance(mutateP) ? mutateFrame(rng, valid, true) : valid;
    });
  if (kind <= 5) {
    // A session and then a mix of valid and body-mutated requests (the frames stay framed). A low
    // mutation rate keeps some sessions alive long enough to reach deeper states.
    const mutateP = rng.pick([0.02, 0.1, 0.5]);
    // Short sessions: their ephemerals go soon after the case, so memory reflects leaks, not backlog.
    const connect = connectFrame({ timeOut: SESSION_TIMEOUT_MS });
    return { frames: [connect, ...requests(1 + rng.int(60), mutateP)], framed: true, kind: 'session' };
  }
  if (kind === 6) {
    // A mutated ConnectRequest, then valid requests.
    const connect = mutateFrame(rng, connectFrame({ readOnly: rng.chance(0.5) || undefined }), true);
    return { frames: [connect, ...requests(1 + rng.int(10), 0.2)], framed: true, kind: 'connect' };
  }
  if (kind === 7) {
    // Requests before any ConnectRequest.
    return { frames: requests(1 + rng.int(5), 0.3), framed: true, kind: 'preconnect' };
  }
  if (kind === 8) {
    // Length prefixes mutated too: negative, huge, short.
    const frames = [connectFrame(), ...requests(1 + rng.int(5), 0)].map((f) => mutateFrame(rng, f, false));
    return { frames, framed: false, kind: 'prefix' };
  }
  // Plain garbage, sometimes starting like a four-letter word.
  const words = ['ruok', 'srvr', 'stat', 'mntr', 'cons', 'xxxx'];
  const prefix = rng.chance(0.3) ? Buffer.from(rng.pick(words)) : Buffer.alloc(0);
  const garbage = rng.bytes(rng.int(rng.chance(0.1) ? 70_000 : 300));
  return { frames: [prefix, garbage], framed: false, kind: 'garbage' };
}

/** Sends one case and resolves once the server answered the final ping or closed the connection. */
function runCase(port: number, seed: number, counts: SocketCounts, hangTimeoutMs: number): Promise<void> {
  const built = buildCase(new Prng(seed));
  return new Promise<void>((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    const splitter = new FrameSplitter(64 * 1024 * 1024);
    let framingBroken = false;
    let finished = false;
    const finish = (how: 'ping' | 'closed' | 'hang') => {
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      if (how === 'closed') counts.closedByServer++;
      if (how === 'hang') {
        const error = 'hang: no reply to the final ping and no close';
        counts.findings.push({ target: `socket/${built.kind}`, input: `case seed ${seed}`, error });
      }
      socket.destroy();
      resolve();
    };
    const timer = setTimeout(() => finish('hang'), hangTimeoutMs);
    socket.setNoDelay(true);
    socket.on('error', () => finish('closed'));
    socket.on('close', () => finish('closed'));
    socket.on('data', (chunk: Buffer) => {
      if (framingBroken) return;
      let frames: Buffer[];
      try {
        frames = splitter.push(chunk);
      } catch {
        framingBroken = true; // a four-letter-word answer: not frames
        return;
      }
      for (const frame of frames) {
        counts.replies++;
        if (frame.length >= 4 && frame.readInt32BE(0) === Xid.PING) finish('ping');
      }
    });
    socket.on('connect', () => {
      for (const frame of built.frames) {
        counts.framesSent++;
        counts.bytesSent += frame.length;
        socket.write(frame);
      }
      if (built.framed) socket.write(PING_FRAME);
      // Unframed cases may leave the server waiting for the rest of a frame: half-close so it must act.
      else socket.end();
    });
  });
}

/**
 * The super user of fuzzed servers: fuzz cases may legitimately setACL the root so that nobody may
 * create there, so the health check authenticates as super (which every ACL lets through).
 */
export const FUZZ_SUPER_AUTH = 'super:fuzz';
export const FUZZ_SUPER_DIGEST = `super:${createHash('sha1').update(FUZZ_SUPER_AUTH).digest('base64')}`;

/** A fresh client must be served correctly: create a node and read it back. */
export async function checkServes(port: number, counts: SocketCounts, label: string): Promise<void> {
  await using client = await RawClient.connect(port, { timeoutMs: 10_000 });
  const auth = await client.addAuth('digest', FUZZ_SUPER_AUTH);
  if (auth.header.err !== 0) throw new Error(`health addAuth failed: ${auth.header.err}`);
  const path = `/health-${label}`;
  const data = Buffer.from(`alive ${label}`);
  const acl = [{ perms: 31, id: { scheme: 'world', id: 'anyone' } }];
  const created = await client.request(OpCode.create, { path, data, acl, flags: 1 });
  if (created.header.err !== 0) throw new Error(`health create ${path} failed: ${created.header.err}`);
  const read = await client.request(OpCode.getData, { path, watch: false });
  if (read.header.err !== 0 || !Buffer.from(read.body.data).equals(data)) {
    throw new Error(`health getData ${path} returned err ${read.header.err}`);
  }
  counts.healthChecks++;
}

/** Deletes everything the fuzz created under /f, so the tree (and memory) stays bounded. */
export async function cleanTree(port: number): Promise<void> {
  await using client = await RawClient.connect(port, { timeoutMs: 10_000 });
  await client.addAuth('digest', FUZZ_SUPER_AUTH);
  const remove = async (path: string): Promise<void> => {
    const listed = await client.request(OpCode.getChildren2, { path, watch: false });
    if (listed.header.err !== 0) return;
    await Promise.all((listed.body.children as string[]).map((child) => remove(`${path}/${child}`)));
    await client.request(OpCode.delete, { path, version: -1 });
  };
  await remove('/f');
}

export interface SocketFuzzOptions {
  port: number;
  seed: number;
  /** Stop after this many cases, or at the deadline, whichever comes first. */
  casesMax: number;
  deadlineMs: number;
  /** Cases run at once (connections open together). */
  concurrency: number;
  hangTimeoutMs?: number;
  healthEvery?: number;
  /** Memory of the server, sampled at each health check. */
  memory?: () => { heapUsed: number; rss: number };
  /** A heap above this at a health check is a finding (memory must stay bounded). */
  heapUsedBytesMax?: number;
  onProgress?: (counts: SocketCounts) => void;
}

export async function fuzzSockets(
  options: SocketFuzzOptions,
  counts = newSocketCounts(),
): Promise<SocketCounts> {
  const healthEvery = options.healthEvery ?? 200;
  const rng = new Prng(options.seed);
  let next = 0;
  while (next < options.casesMax && Date.now() < options.deadlineMs) {
    const batch: Promise<void>[] = [];
    for (let i = 0; i < options.concurrency && next < options.casesMax; i++, next++) {
      const caseSeed = rng.int(2 ** 31);
      batch.push(runCase(options.port, caseSeed, counts, options.hangTimeoutMs ?? 15_000));
    }
    await Promise.all(batch);
    counts.cases = next;
    if (Math.floor(next / healthEvery) !== Math.floor((next - batch.length) / healthEvery)) {
      if (!(await healthy(options.port, counts, String(next)))) return counts;
      if (Math.floor(next / (healthEvery * 10)) !== Math.floor((next - batch.length) / (healthEvery * 10))) {
        await cleanTree(options.port);
      }
      const memory = options.memory?.();
      if (memory) {
        counts.heapUsedMaxBytes = Math.max(counts.heapUsedMaxBytes, memory.heapUsed);
        counts.rssMaxBytes = Math.max(counts.rssMaxBytes, memory.rss);
        if (memory.heapUsed > (options.heapUsedBytesMax ?? Infinity)) {
          const error = `heap ${memory.heapUsed} bytes over ${options.heapUsedBytesMax}`;
          counts.findings.push({ target: 'memory', input: `after ${next} cases`, error });
        }
      }
      options.onProgress?.(counts);
    }
  }
  await healthy(options.port, counts, 'final');
  return counts;
}

/** checkServes, with a failure recorded as a finding (the campaign then stops: the server is suspect). */
async function healthy(port: number, counts: SocketCounts, label: string): Promise<boolean> {
  try {
    await checkServes(port, counts, label);
    return true;
  } catch (error) {
    const input = `after ${counts.cases} cases`;
    counts.findings.push({ target: 'health check', input, error: String(error) });
    return false;
  }
}
