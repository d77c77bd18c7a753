// Asks a server whether it serves read-write, with the `isro` four-letter word ("rw" or "ro"),
// so a client connected to a read-only server can move to a read-write one when it appears.

import net from 'node:net';
import type { HostAddress } from './connect-string.js';

export interface ProbeHandle {
  /** True when the server answered "rw"; false for "ro", no answer, or an error. */
  readonly result: Promise<boolean>;
  cancel(): void;
}

export function probeReadWrite(host: HostAddress, timeoutMs: number): ProbeHandle {
  const socket = net.connect({ host: host.host, port: host.port });
  let answer = '';
  let finish!: (value: boolean) => void;
  const result = new Promise<boolean>((resolve) => (finish = resolve));
  const timer = setTimeout(() => socket.destroy(), timeoutMs);
  socket.on('connect', () => socket.write('isro'));
  socket.on('data', (chunk: Buffer) => {
    answer += chunk.toString('latin1');
    if (answer.length > 64) socket.destroy();
  });
  socket.on('error', () => undefined);
  socket.on('close', () => {
    clearTimeout(timer);
    finish(answer.startsWith('rw'));
  });
  return { result, cancel: () => socket.destroy() };
}
