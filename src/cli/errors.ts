// Exit codes zk-cli documents for scripts, and the error a command throws to print a message and
// set one of them. Unexpected errors are mapped here too, so every failure has a code.

import {
  ClosedError,
  ErrorCode,
  InvalidArgumentError,
  KeeperError,
  TimeoutError,
} from '../protocol/index.js';
import { cliErrorMessage } from './format.js';

/** Process exit codes (also the status of each command in a script). */
export const ExitCode = {
  /** Every command succeeded. */
  OK: 0,
  /** A command failed: ZooKeeper refused it (no node, node exists, bad version, no auth, ...). */
  FAILED: 1,
  /** Bad invocation: unknown option, missing argument, malformed path or connect string. */
  USAGE: 2,
  /** No server accepted a session, the connection was lost mid-command, or the session ended. */
  CONNECTION: 3,
  /** The command does not exist (as zkCli.sh, and shells, use 127). */
  NOT_FOUND: 127,
} as const;

export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];

/** A command failure with the exact text to print on stderr and its exit code. */
export class CommandError extends Error {
  constructor(
    message: string,
    readonly exitCode: ExitCodeValue = ExitCode.FAILED,
  ) {
    super(message);
    this.name = 'CommandError';
  }
}

const connectionCodes = new Set<number>([
  ErrorCode.CONNECTION_LOSS,
  ErrorCode.SESSION_EXPIRED,
  ErrorCode.SESSION_MOVED,
  ErrorCode.OPERATION_TIMEOUT,
  ErrorCode.REQUEST_TIMEOUT,
]);

/** The message and exit code for anything a command threw. */
export function describeFailure(error: unknown): { message: string; exitCode: ExitCodeValue } {
  if (error instanceof CommandError) return { message: error.message, exitCode: error.exitCode };
  if (error instanceof KeeperError) {
    const exitCode = connectionCodes.has(error.code) ? ExitCode.CONNECTION : ExitCode.FAILED;
    return { message: cliErrorMessage(error), exitCode };
  }
  if (error instanceof ClosedError || error instanceof TimeoutError) {
    return { message: error.message, exitCode: ExitCode.CONNECTION };
  }
  if (error instanceof InvalidArgumentError) return { message: error.message, exitCode: ExitCode.USAGE };
  return { message: error instanceof Error ? error.message : String(error), exitCode: ExitCode.FAILED };
}
