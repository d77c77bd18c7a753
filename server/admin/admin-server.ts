// The AdminServer over HTTP, as Apache 3.5+ serves it (admin.enableServer, admin.serverAddress,
// admin.serverPort, admin.commandURL): GET <commandURL> lists the commands as links, GET
// <commandURL>/<name> answers that command as JSON. Read-only commands only; nothing here changes state.

import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { FourLetterWordSource } from '../net/four-letter-words.js';
import { adminCommandNames, runAdminCommand, type AdminContext } from './commands.js';

export interface AdminServerOptions {
  /** admin.serverAddress; Apache's default is every interface. */
  readonly host: string;
  /** admin.serverPort; 0 lets the OS pick one. */
  readonly port: number;
  /** admin.commandURL, e.g. "/commands". */
  readonly commandUrl: string;
  /** The client port the server is bound to. */
  readonly clientPort: number;
}

/** A running admin server; `stop()` (or `await using`) closes it, twice is harmless. */
export class AdminServer implements AsyncDisposable {
  private readonly server: Server;
  private stopping: Promise<void> | undefined;

  private constructor(
    private readonly source: FourLetterWordSource,
    private readonly commandUrl: string,
    private readonly context: AdminContext,
  ) {
    this.server = createServer((request, response) => {
      try {
        this.handle(request, response);
      } catch {
        // A malformed request line (bad percent-encoding) is the client's mistake, never a crash.
        if (!response.headersSent) response.writeHead(400, { 'content-type': 'text/plain' });
        response.end('Bad request\n');
      }
    });
    // Idle keep-alive sockets must not hold stop() open.
    this.server.keepAliveTimeout = 1_000;
  }

  /** Binds and starts serving; rejects (and holds nothing open) when the port cannot be bound. */
  static async start(source: FourLetterWordSource, options: AdminServerOptions): Promise<AdminServer> {
    const admin = new AdminServer(source, options.commandUrl.replace(/\/+$/, '') || '/', {
      clientPort: options.clientPort,
    });
    await new Promise<void>((resolve, reject) => {
      admin.server.once('error', reject);
      admin.server.listen(options.port, options.host, () => {
        admin.server.off('error', reject);
        resolve();
      });
    });
    return admin;
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  stop(): Promise<void> {
    this.stopping ??= new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
    return this.stopping;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.stop();
  }

  private handle(request: IncomingMessage, response: ServerResponse): void {
    const path = decodeURIComponent(new URL(request.url ?? '/', 'http://admin').pathname).replace(/\/+$/, '');
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      response.writeHead(405, { allow: 'GET, HEAD' }).end();
    } else if (path === this.commandUrl) {
      const link = (name: string) => `<a href="${this.commandUrl}/${name}">${name}</a>\n<br/>\n`;
      response.writeHead(200, { 'content-type': 'text/html' }).end(adminCommandNames().map(link).join(''));
    } else if (path.startsWith(`${this.commandUrl}/`)) {
      const name = path.slice(this.commandUrl.length + 1);
      const body = runAdminCommand(name, this.source, this.context);
      response.writeHead(200, { 'content-type': 'application/json' }).end(`${jsonWithLongs(body)}\n`);
    } else {
      response.writeHead(404, { 'content-type': 'text/plain' }).end('Not found\n');
    }
  }
}

const LONG_MARK = '\u0000long:';

/** JSON where bigints are plain numbers, as Jackson writes Java longs (signed 64-bit). */
export function jsonWithLongs(value: unknown): string {
  const text = JSON.stringify(
    value,
    (_key, v: unknown) => (typeof v === 'bigint' ? `${LONG_MARK}${BigInt.asIntN(64, v)}` : v),
    2,
  );
  return text.replace(/"\\u0000long:(-?\d+)"/g, '$1');
}
