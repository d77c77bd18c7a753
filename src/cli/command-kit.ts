// What every command handler is built from: the context it runs in, its table entry, option
// helpers, and the argument checks zkCli.sh applies before sending anything.

import type { WatchedEvent, ZooKeeperClient } from '../client/index.js';
import { pathProblem } from '../protocol/index.js';
import { CommandError, ExitCode } from './errors.js';
import type { OptionSpec, ParsedWords } from './words.js';

/** What a handler may use: the session, the two output streams and the shell's own state. */
export interface CommandContext {
  readonly client: ZooKeeperClient;
  out(text: string): void;
  err(text: string): void;
  /** A new one-shot watch callback that prints events as zkCli's default watcher does. */
  watcher(): (event: WatchedEvent) => void;
  readonly signal: AbortSignal;
  readonly timeZone: string | undefined;
  readonly shell: ShellControl;
}

/** The shell-level state the session-less commands act on. */
export interface ShellControl {
  connect(host: string | undefined): Promise<void>;
  close(): Promise<void>;
  quit(): Promise<void>;
  /** The last commands as zkCli's `history` prints them ("3 - ls /"). */
  historyLines(): string[];
  redo(index: number): Promise<void>;
  printWatches: boolean;
  readonly version: string;
}

export interface CommandSpec {
  readonly name: string;
  /** The option text zkCli.sh shows after the name in usage lines. */
  readonly usage: string;
  readonly options?: readonly OptionSpec[];
  /** Options of which at most one may be given (one must, when required). */
  readonly groups?: ReadonlyArray<{ names: readonly string[]; required: boolean }>;
  /** Fewest words, the command included, below which parsing fails with the usage text. */
  readonly minWords?: number;
  /** Runs without a live session (history, redo, printwatches, connect, quit). */
  readonly local?: boolean;
  /** Ours, not zkCli.sh's: left out of the usage block that mirrors zkCli.sh's (listed in --help). */
  readonly extension?: boolean;
  /**
   * "cmd path [watch]": a third word is an old-style watch flag (ls, get, stat); this is the
   * deprecation notice printed when one is given.
   */
  readonly legacyWatchWord?: string;
  run(context: CommandContext, parsed: ParsedWords): Promise<void>;
}

/** An option without a value (-s). */
export function flag(name: string, description: string): OptionSpec {
  return { name, takesValue: false, description };
}

/** An option followed by its value (-v 3). */
export function valued(name: string, description: string): OptionSpec {
  return { name, takesValue: true, description };
}

export function usageOf(spec: CommandSpec): string {
  return `${spec.name} ${spec.usage}`;
}

/** Checks a path as the Java client does before sending, with PathUtils' wording. */
export function checkPathJava(path: string, sequential = false): void {
  const checked = sequential ? `${path}1` : path;
  const problem = pathProblem(checked);
  if (problem === undefined) return;
  const bare = problem.startsWith('Path ');
  const message = bare ? problem : `Invalid path string "${checked}" caused by ${problem}`;
  throw new CommandError(message, ExitCode.USAGE);
}

export function parseJavaInt(text: string, what: string, bits: 32 | 64 = 32): number {
  if (!/^[+-]?\d+$/.test(text)) throw new CommandError(`${what} must be an int value`, ExitCode.USAGE);
  const value = BigInt(text);
  const limit = 1n << BigInt(bits - 1);
  if (value < -limit || value >= limit) {
    throw new CommandError(`${what} must be an int value`, ExitCode.USAGE);
  }
  return Number(value);
}


export function childPath(parent: string, child: string): string {
  return parent === '/' ? `/${child}` : `${parent}/${child}`;
}
