// The interactive loop on node:readline: zkCli's prompt, tab completion of commands and znode
// paths, persisted line history, watch events printed above the prompt, Ctrl-C to abandon the
// running command (or the typed line), Ctrl-D or `quit` to leave.

import readline from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import { completeCommand, completePath, completionTarget } from './completion.js';
import { HISTORY_LINES_MAX, loadHistory, saveHistory } from './history-file.js';
import type { Shell } from './shell.js';

export interface ReplOptions {
  input: Readable;
  output: Writable;
  /** Whether input is a terminal (raw keys: tab, arrows); false reads plain lines. */
  terminal: boolean;
  /** Where the line history persists; none when absent. */
  historyFile?: string;
  /** Longest wait for the children of a path being completed. */
  completionTimeoutMs?: number;
}

/** Candidates for the word at the end of `line`, and that word (what readline replaces). */
export async function complete(shell: Shell, line: string, timeoutMs = 2_000): Promise<[string[], string]> {
  const target = completionTarget(line);
  if (target.kind === 'command') return [completeCommand(target.prefix), target.prefix];
  if (target.kind !== 'path') return [[], ''];
  const client = shell.session;
  if (client === undefined) return [[], target.word];
  const timeout = new AbortController();
  const timer = setTimeout(() => timeout.abort(), timeoutMs);
  try {
    const { children } = await client.getChildren(target.parent, { signal: timeout.signal });
    return [completePath(target.parent, target.prefix, children), target.word];
  } catch {
    return [[], target.word]; // no such parent, or no answer in time: nothing to offer
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Runs the loop until end of input or `quit`. `setEventWriter` receives the function that prints
 * an asynchronous event without garbling the line being typed.
 */
export async function runRepl(
  shell: Shell,
  options: ReplOptions,
  setEventWriter: (write: (text: string) => void) => void,
): Promise<void> {
  const { input, output } = options;
  const rl = readline.createInterface({
    input,
    output,
    terminal: options.terminal,
    history: options.historyFile === undefined ? [] : loadHistory(options.historyFile),
    historySize: HISTORY_LINES_MAX,
    prompt: shell.prompt,
    completer: (line: string, callback: (error: null, result: [string[], string]) => void) => {
      complete(shell, line, options.completionTimeoutMs).then((result) => callback(null, result));
    },
  });
  const historyFile = options.historyFile;
  if (historyFile !== undefined) rl.on('history', (lines: string[]) => saveHistory(historyFile, lines));
  let busy = false;
  setEventWriter((text) => {
    if (busy || !options.terminal) {
      output.write(text);
      return;
    }
    readline.clearLine(output, 0);
    readline.cursorTo(output, 0);
    output.write(text);
    rl.setPrompt(shell.prompt); // the event may be the state change the prompt shows
    rl.prompt(true);
  });
  rl.on('SIGINT', () => {
    if (shell.interrupt()) return;
    output.write('^C\n');
    rl.write(null, { ctrl: true, name: 'u' });
    rl.prompt();
  });
  // Without a terminal zkCli.sh shows no prompt either: the output is the commands' alone.
  const prompt = () => {
    if (options.terminal) rl.prompt();
  };
  try {
    prompt();
    for await (const line of rl) {
      busy = true;
      await shell.executeLine(line);
      busy = false;
      if (shell.quitRequested) break;
      rl.setPrompt(shell.prompt);
      prompt();
    }
  } finally {
    setEventWriter((text) => output.write(text));
    rl.close();
  }
}
