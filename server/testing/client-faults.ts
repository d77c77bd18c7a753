// Faults for one client, on any server (ours or Apache's): a transport wrapper that can cut the
// client's connection, or partition the client away (its packets vanish, new connections never
// complete) and heal it, while every other client carries on. Curator's tests get this with a
// proxy per client; a transport the client is built with needs no extra port.
//
//   const faults = new ClientFaults();
//   const client = new ZooKeeperClient({ connectString, transport: faults.transport });
//   faults.partition(); ... faults.heal();

import { EventEmitter } from 'node:events';
import type { HostAddress } from '../../src/client/connect-string.js';
import { tcpTransport, type Transport, type TransportSocket } from '../../src/client/transport.js';

/** A socket whose traffic can be silenced: while silenced, writes and arriving bytes are dropped. */
class FaultySocket extends EventEmitter implements TransportSocket {
  silenced = false;
  private destroyed = false;

  private inner: TransportSocket | undefined;

  /** `host` is where it connects once attached: a connect into a partition waits for the heal. */
  constructor(readonly host: HostAddress) {
    super();
  }

  get attached(): boolean {
    return this.inner !== undefined || this.destroyed;
  }

  /** Starts the real connection (at once, or when a partition heals, as a retried SYN would). */
  attach(inner: TransportSocket): void {
    this.inner = inner;
    inner.on('connect', () => {
      if (!this.silenced) this.emit('connect');
    });
    inner.on('data', (chunk) => {
      if (!this.silenced) this.emit('data', chunk);
    });
    inner.on('error', (error) => this.emit('error', error));
    inner.on('close', () => this.closed());
  }

  write(chunk: Buffer): boolean {
    if (!this.silenced) this.inner?.write(chunk);
    return true;
  }

  cork(): void {
    this.inner?.cork();
  }

  uncork(): void {
    this.inner?.uncork();
  }

  destroy(): void {
    if (this.destroyed) return;
    if (this.inner === undefined) {
      this.destroyed = true;
      setImmediate(() => this.emit('close'));
      return;
    }
    this.inner.destroy();
  }

  private closed(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    this.emit('close');
  }
}

export class ClientFaults {
  private readonly sockets = new Set<FaultySocket>();
  private partitionedNow = false;

  /** Pass as the client's (or the framework's client) `transport` option. */
  readonly transport: Transport;

  constructor(private readonly base: Transport = tcpTransport) {
    this.transport = { connect: (host: HostAddress) => this.connect(host) };
  }

  get partitioned(): boolean {
    return this.partitionedNow;
  }

  /** Closes the client's connection as a server or network reset would; the session survives. */
  dropConnection(): void {
    for (const socket of this.sockets) socket.destroy();
  }

  /**
   * From now on the client hears nothing and reaches nothing: open connections go silent (not
   * closed: the client finds out by its own read timeout, as with a real partition) and new
   * connections never complete (the client's connect timeout ends them).
   */
  partition(): void {
    this.partitionedNow = true;
    for (const socket of this.sockets) socket.silenced = true;
  }

  /**
   * Connections go through again: one still trying to connect completes now (as a retried SYN
   * would); an open connection silenced by the partition stays dead (its bytes were lost).
   */
  heal(): void {
    this.partitionedNow = false;
    for (const socket of this.sockets) {
      if (!socket.attached) {
        socket.silenced = false;
        socket.attach(this.base.connect(socket.host));
      }
    }
  }

  private connect(host: HostAddress): TransportSocket {
    const socket = new FaultySocket(host);
    this.sockets.add(socket);
    socket.on('close', () => this.sockets.delete(socket));
    if (this.partitionedNow) socket.silenced = true;
    else socket.attach(this.base.connect(host));
    return socket;
  }
}
