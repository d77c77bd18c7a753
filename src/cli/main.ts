// The `zk-cli` command: reads zkCli.sh's options (-server, -timeout, -r) and ours (-c, --help)
// with commander, then runs a single command, a `-c` list, a script from stdin, or the
// interactive shell, and returns the exit code scripts can rely on (listed in --help).

import { readFileSync } from 'node:fs';
import type { Readable, Writable } from 'node:stream';
import { Command, CommanderError } from 'commander';
import { ExitCode, describeFailure, type ExitCodeValue } from './errors.js';
import { defaultHistoryPath } from './history-file.js';
import { recipeCommandsHelp } from './recipe-commands.js';
import { runRepl } from './repl.js';
import { Shell, type ShellOutput } from './shell.js';

export interface MainIO {
  stdin: Readable & { isTTY?: boolean };
  stdout: Writable;
  stderr: Writable;
  env: NodeJS.ProcessEnv;
}

const defaultIO = (): MainIO => ({
  stdin: process.stdin,
  stdout: process.stdout,
  stderr: process.stderr,
  env: process.env,
});

const exitCodeHelp = `
Modes:
  zk-cli -server HOST                   interactive shell (when stdin is a terminal)
  zk-cli -server HOST < script.txt      runs one command per line from stdin
  zk-cli -server HOST -c "cmd; cmd"     runs the listed commands (';' outside quotes separates)
  zk-cli -server HOST ls -s /           runs one command, as zkCli.sh does

Commands, flags and output are those of Apache ZooKeeper's zkCli.sh 3.8; an unknown command (such as
"help") prints the list of commands.

Introspection, beyond zkCli.sh (Curator's locks, elections and services too; -j prints JSON):
${recipeCommandsHelp()}
Exit codes (for a script: the code of the last command that failed, 0 if none failed):
  0    every command succeeded
  1    a command failed (Node does not exist, Node already exists, version No is not valid, ...)
  2    bad invocation: unknown option, missing argument, malformed path or connect string
  3    no server accepted a session, or the connection or session was lost during a command
  127  unknown command
`;

/** Splits a -c argument into commands at ';' outside single or double quotes. */
export function splitCommandList(text: string): string[] {
  const commands: string[] = [];
  let current = '';
  let quote: string | undefined;
  for (const char of text) {
    if (quote !== undefined) {
      if (char === quote) quote = undefined;
    } else if (char === '"' || char === "'") {
      quote = char;
    } else if (char === ';') {
      commands.push(current);
      current = '';
      continue;
    }
    current += char;
  }
  commands.push(current);
  return commands.map((command) => command.trim()).filter((command) => command !== '');
}

/** zkCli.sh spells its long options with one dash; commander wants two. */
function normaliseArgs(args: readonly string[]): string[] {
  const long = new Set(['-server', '-timeout', '-waitforconnection', '-client-configuration']);
  return args.map((arg) => (long.has(arg) ? `-${arg}` : arg));
}

function packageVersion(): string {
  try {
    const url = new URL('../../package.json', import.meta.url);
    const version = (JSON.parse(readFileSync(url, 'utf8')) as { version?: string }).version;
    if (version !== undefined) return version;
  } catch {
    // fall through: running from an unusual layout
  }
  try {
    const url = new URL('../../../package.json', import.meta.url);
    return (JSON.parse(readFileSync(url, 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

interface CliOptions {
  server: string;
  timeout: string;
  readonly?: boolean;
  command?: string;
  waitforconnection?: boolean;
  clientConfiguration?: string;
  history: boolean;
}

function program(io: MainIO): Command {
  return new Command('zk-cli')
    .description('An interactive ZooKeeper shell compatible with zkCli.sh')
    .usage('-server host:port[,host:port][/chroot] [-timeout ms] [-r] [-c "cmd; cmd"] [cmd args]')
    .option('--server <connect>', 'servers to connect to (zkCli.sh: -server)', 'localhost:2181')
    .option('--timeout <ms>', 'session timeout in milliseconds (zkCli.sh: -timeout)', '30000')
    .option('-r, --readonly', 'accept a read-only server')
    .option('-c, --command <commands>', 'run these commands, separated by ";", then exit')
    .option('--waitforconnection', 'wait for the session before reading commands')
    .option('--client-configuration <file>', 'accepted for zkCli.sh compatibility; ignored')
    .option('--no-history', 'do not read or write the history file (~/.zk-cli_history, or $ZK_CLI_HISTORY)')
    .argument('[cmd...]', 'one command and its arguments, run instead of the shell')
    .passThroughOptions()
    .helpOption('-h, --help', 'show this help')
    .addHelpText('after', exitCodeHelp)
    .exitOverride()
    .configureOutput({
      writeOut: (text) => io.stdout.write(text),
      writeErr: (text) => io.stderr.write(text),
    });
}

export async function main(args: string[], io: MainIO = defaultIO()): Promise<number> {
  const command = program(io);
  try {
    command.parse(normaliseArgs(args), { from: 'user' });
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode === 0 ? ExitCode.OK : ExitCode.USAGE;
    throw error;
  }
  const options = command.opts<CliOptions>();
  const single = command.args;
  const sessionTimeoutMs = Number(options.timeout);
  if (!Number.isInteger(sessionTimeoutMs) || sessionTimeoutMs <= 0) {
    io.stderr.write(`zk-cli: -timeout must be a positive number of milliseconds, got ${options.timeout}\n`);
    return ExitCode.USAGE;
  }
  let writeEvent = (text: string): void => void io.stdout.write(text);
  const output: ShellOutput = {
    out: (text) => io.stdout.write(text),
    err: (text) => io.stderr.write(text),
    event: (text) => writeEvent(text),
  };
  const interactive = single.length === 0 && options.command === undefined && io.stdin.isTTY === true;
  await using shell = new Shell({
    host: options.server,
    sessionTimeoutMs,
    readOnly: options.readonly === true,
    output,
    commandTimeoutMs: sessionTimeoutMs,
    version: `${packageVersion()} (menagerie zk-cli)`,
  });
  io.stdout.write(`Connecting to ${options.server}\n`);
  const lineMode = single.length === 0 && options.command === undefined;
  if (lineMode) io.stdout.write('Welcome to ZooKeeper!\n');
  try {
    await shell.connect(options.server, { wait: !interactive || options.waitforconnection === true });
  } catch (error) {
    const failure = describeFailure(error);
    io.stderr.write(`Unable to connect to ${options.server}: ${failure.message}\n`);
    return failure.exitCode === ExitCode.USAGE ? ExitCode.USAGE : ExitCode.CONNECTION;
  }
  if (single.length > 0) {
    await shell.executeLine(single.map(quoteWord).join(' '));
    return shell.exitCode;
  }
  if (options.command !== undefined) {
    for (const line of splitCommandList(options.command)) {
      await shell.executeLine(line);
      if (shell.quitRequested) break;
    }
    return shell.exitCode;
  }
  await runRepl(
    shell,
    {
      input: io.stdin,
      output: io.stdout,
      terminal: interactive,
      historyFile: interactive && options.history ? defaultHistoryPath(io.env) : undefined,
    },
    (write) => (writeEvent = write),
  );
  return shell.exitCode;
}

/** Rejoins argv words into a line the shell splits back into the same words. */
function quoteWord(word: string): string {
  if (word !== '' && !/\s/.test(word) && !/^["']/.test(word)) return word;
  return word.includes('"') ? `'${word}'` : `"${word}"`;
}

export type { ExitCodeValue };
