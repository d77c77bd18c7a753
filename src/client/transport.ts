// How the client reaches a server: TCP by default. A test kit may pass an in-process transport
// whose sockets carry the same bytes to a server in the same process, without the network.

import net from 'node:net';
import type { HostAddress } from './connect-string.js';

/** What a connection needs of a socket (a net.Socket is one). */
export interface TransportSocket {
  on(event: 'connect', listener: () => void): unknown;
  on(event: 'data', listener: (chunk: Buffer) => void): unknown;
  on(event: 'error', listener: (error: Error) => void): unknown;
  on(event: 'close', listener: () => void): unknown;
  write(chunk: Buffer): unknown;
  cork(): void;
  uncork(): void;
  /** Closes at once; 'close' follows (asynchronously). Idempotent. */
  destroy(): void;
}

export interface Transport {
  /** Starts connecting; the socket emits 'connect' once it is open, or 'error'/'close'. */
  connect(host: HostAddress): TransportSocket;
}

export const tcpTransport: Transport = {
  connect: (host) => net.connect({ host: host.host, port: host.port, noDelay: true }),
};
