// The connect string ("h1:2181,h2:2181/app/chroot") and the chroot it may carry: hosts parsed once,
// client paths mapped to server paths on the way out and back on the way in.

import { InvalidArgumentError, pathProblem } from '../protocol/index.js';

export interface HostAddress {
  readonly host: string;
  readonly port: number;
}

export interface ParsedConnectString {
  readonly hosts: HostAddress[];
  /** The chroot without a trailing slash, or '' when there is none. */
  readonly chroot: string;
}

const DEFAULT_PORT = 2181;

/** Parses a connect string; throws InvalidArgumentError with the reason when it is malformed. */
export function parseConnectString(connectString: string): ParsedConnectString {
  if (typeof connectString !== 'string' || connectString.trim() === '') {
    throw new InvalidArgumentError('connectString must name at least one host');
  }
  const slash = connectString.indexOf('/');
  const hostPart = slash < 0 ? connectString : connectString.slice(0, slash);
  let chroot = slash < 0 ? '' : connectString.slice(slash);
  if (chroot === '/') chroot = '';
  if (chroot !== '') {
    const problem = pathProblem(chroot);
    if (problem !== undefined)
      throw new InvalidArgumentError(`invalid chroot ${JSON.stringify(chroot)}: ${problem}`);
  }
  const hosts = hostPart
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '')
    .map(parseHost);
  if (hosts.length === 0) throw new InvalidArgumentError('connectString must name at least one host');
  return { hosts, chroot };
}

function parseHost(entry: string): HostAddress {
  // "[::1]:2181", "host:2181", "host" (default port).
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(entry);
  const match = bracketed ?? /^([^:]+)(?::(\d+))?$/.exec(entry);
  if (match === null)
    throw new InvalidArgumentError(`invalid host ${JSON.stringify(entry)} in connectString`);
  const port = match[2] === undefined ? DEFAULT_PORT : Number(match[2]);
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new InvalidArgumentError(`invalid port in ${JSON.stringify(entry)}`);
  }
  return { host: match[1], port };
}

/** Maps paths between the client's view (under the chroot) and the server's. */
export class Chroot {
  constructor(readonly prefix: string) {}

  /** The server path of a client path: "/x" under "/app" is "/app/x", "/" is "/app". */
  toServer(path: string): string {
    if (this.prefix === '') return path;
    return path === '/' ? this.prefix : this.prefix + path;
  }

  /** Whether a server path lies in the chroot (every path does when there is none). */
  contains(path: string): boolean {
    if (this.prefix === '') return true;
    if (path === this.prefix) return true;
    return path.startsWith(this.prefix) && path.charCodeAt(this.prefix.length) === 0x2f;
  }

  /**
   * The client path of a server path. Paths outside the chroot (which a well-behaved server never
   * sends) are returned unchanged rather than mangled.
   */
  toClient(path: string): string {
    if (this.prefix === '') return path;
    if (path === this.prefix) return '/';
    if (path.startsWith(this.prefix) && path.charCodeAt(this.prefix.length) === 0x2f) {
      return path.slice(this.prefix.length);
    }
    return path;
  }
}

/** Fisher–Yates with the caller's randomness, so tests can fix the order. */
export function shuffled<T>(items: readonly T[], random: () => number): T[] {
  const result = items.slice();
  for (let i = result.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [result[i], result[j]] = [result[j], result[i]];
  }
  return result;
}
