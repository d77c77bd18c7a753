// The REPL's persisted line history (~/.zk-cli_history by default): the newest lines last, at
// most HISTORY_LINES_MAX of them, read at start and rewritten after each line. A history file
// that cannot be read or written never stops the shell.

import { readFileSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import path from 'node:path';

export const HISTORY_LINES_MAX = 1000;

export function defaultHistoryPath(env: NodeJS.ProcessEnv): string {
  return env.ZK_CLI_HISTORY ?? path.join(homedir(), '.zk-cli_history');
}

/** Lines from the file, newest first (readline's order), bounded. */
export function loadHistory(file: string): string[] {
  try {
    return parseHistory(readFileSync(file, 'utf8'));
  } catch {
    return [];
  }
}

export function parseHistory(text: string): string[] {
  return text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .slice(-HISTORY_LINES_MAX)
    .reverse();
}

/** The file's text for readline's history (newest first). */
export function formatHistory(newestFirst: readonly string[]): string {
  const lines = newestFirst.slice(0, HISTORY_LINES_MAX).reverse();
  return lines.length === 0 ? '' : `${lines.join('\n')}\n`;
}

export function saveHistory(file: string, newestFirst: readonly string[]): void {
  try {
    writeFileSync(file, formatHistory(newestFirst), { mode: 0o600 });
  } catch {
    // An unwritable home directory costs the history, not the session.
  }
}
