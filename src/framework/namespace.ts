// Namespaces: a framework view whose paths live under a fixed prefix. Paths are prefixed on the
// way in and the prefix is stripped on the way out (results, watch events, transaction results).

import { InvalidArgumentError, pathProblem } from '../protocol/index.js';

export class Namespace {
  /** The prefix as an absolute path ("/app"), or "" for no namespace. */
  readonly prefix: string;

  /** `name` may be given with or without its leading slash ("app", "/app/sub"); "" or "/" is none. */
  constructor(name: string | undefined | null) {
    if (name === undefined || name === null || name === '' || name === '/') {
      this.prefix = '';
      return;
    }
    if (typeof name !== 'string') throw new InvalidArgumentError('namespace must be a string');
    const prefix = name.startsWith('/') ? name : `/${name}`;
    const problem = pathProblem(prefix);
    if (problem !== undefined) {
      throw new InvalidArgumentError(`invalid namespace ${JSON.stringify(name)}: ${problem}`);
    }
    this.prefix = prefix;
  }

  get isRoot(): boolean {
    return this.prefix === '';
  }

  /** The namespace's name as Curator reports it ("app/sub"), or "" for none. */
  get name(): string {
    return this.prefix.slice(1);
  }

  /** A user path to the server path (checked by the client when sent). */
  toServer(path: string): string {
    if (this.prefix === '') return path;
    if (typeof path !== 'string' || !path.startsWith('/')) return path; // the client reports the bad path
    return path === '/' ? this.prefix : this.prefix + path;
  }

  /** A server path back to the user's view; paths outside the namespace are returned unchanged. */
  toClient(path: string): string {
    if (this.prefix === '') return path;
    if (path === this.prefix) return '/';
    if (path.startsWith(this.prefix + '/')) return path.slice(this.prefix.length);
    return path;
  }
}
