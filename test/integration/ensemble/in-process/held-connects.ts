// Shared by the held-connect specs: a raw ConnectRequest on its own socket (to see whether the member
// answers it on that socket or closes it) and a logger that notices the member holding requests.
import net from 'node:net';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { FrameSplitter } from '../../../../src/protocol/framing.js';
import { encodeFrame, part } from '../../../../src/protocol/messages.js';
import { ConnectRequest, ConnectResponse } from '../../../../src/protocol/records.js';
import type * as records from '../../../../src/protocol/records.js';

const HELD_LINE = 'holding ConnectRequest until this server serves';

/** A logger that resolves `held` once `count` ConnectRequests have been held. */
export function holdLog(count = 1): { logger: pino.Logger; held: Promise<void> } {
  let seen!: () => void;
  let holds = 0;
  const held = new Promise<void>((resolve) => (seen = resolve));
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      if (chunk.toString().includes(HELD_LINE) && ++holds === count) seen();
      done();
    },
  });
  return { logger: pino({ level: 'info' }, sink), held };
}

export type Answer = ConnectResponse | 'closed';

/**
 * Sends a ConnectRequest on a new socket: `answer` resolves with the ConnectResponse, or 'closed'
 * without one. `readOnly` is sent only when given (an old client's shorter request otherwise).
 */
export async function connectRaw(
  port: number,
  readOnly?: boolean,
): Promise<{ answer: Promise<Answer>; socket: net.Socket }> {
  const socket = net.connect(port, '127.0.0.1');
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  const splitter = new FrameSplitter(1024 * 1024);
  const answer = new Promise<Answer>((resolve) => {
    socket.on('data', (chunk: Buffer) => {
      const [frame] = splitter.push(chunk);
      if (frame !== undefined) resolve(ConnectResponse.decode(frame));
    });
    socket.on('error', () => {});
    socket.on('close', () => resolve('closed'));
  });
  const request: records.ConnectRequest = {
    protocolVersion: 0, lastZxidSeen: 0n, timeOut: 10_000, sessionId: 0n, passwd: Buffer.alloc(16),
  };
  if (readOnly !== undefined) request.readOnly = readOnly;
  socket.write(encodeFrame(part(ConnectRequest, request)));
  return { answer, socket };
}
