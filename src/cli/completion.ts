// Tab completion, as zkCli.sh's JLine completer does it: the first word completes to command
// names, a word starting with "/" to the children of the znode it names so far. The parsing and
// matching are pure; the caller fetches the children.

import { commandNames } from './commands.js';

export type CompletionTarget =
  | { readonly kind: 'command'; readonly prefix: string }
  | { readonly kind: 'path'; readonly word: string; readonly parent: string; readonly prefix: string }
  | { readonly kind: 'none' };

/** What the word under the cursor (the end of `line`) should complete to. */
export function completionTarget(line: string): CompletionTarget {
  const word = /(\S*)$/.exec(line)![1]!;
  if (word.startsWith('/')) {
    const slash = word.lastIndexOf('/');
    const parent = slash === 0 ? '/' : word.slice(0, slash);
    return { kind: 'path', word, parent, prefix: word.slice(slash + 1) };
  }
  if (line.trimStart() === word) return { kind: 'command', prefix: word };
  return { kind: 'none' };
}

/** Command names starting with `prefix`, in zkCli's order. */
export function completeCommand(prefix: string): string[] {
  return commandNames().filter((name) => name.startsWith(prefix));
}

/** Full paths of the children of `parent` whose names start with `prefix`, sorted. */
export function completePath(parent: string, prefix: string, children: readonly string[]): string[] {
  return children
    .filter((child) => child.startsWith(prefix))
    .sort()
    .map((child) => (parent === '/' ? `/${child}` : `${parent}/${child}`));
}
