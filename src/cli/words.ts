// How a zk-cli command line becomes words and options, the way zkCli.sh splits it (whitespace,
// with "double" or 'single' quoted words) and the way Apache commons-cli's DefaultParser reads
// short options (-s, -v 3, -v3, -se, -file path; -- ends options; a negative number can be an
// option's value). Pure: errors come back as values carrying commons-cli's wording.

const wordPattern = /\s*([^"']\S*|"[^"]*"|'[^']*')\s*/g;
const quotedPattern = /^(['"])(.*)\1$/;

/** Splits a line into words; a word wrapped in matching quotes loses them (zkCli's ARGS_PATTERN). */
export function splitWords(line: string): string[] {
  const words: string[] = [];
  // Trimmed first: Java's pattern would make a word of a lone blank.
  const text = line.trim();
  wordPattern.lastIndex = 0;
  for (let match = wordPattern.exec(text); match !== null; match = wordPattern.exec(text)) {
    if (match[0] === '') {
      wordPattern.lastIndex++;
      continue;
    }
    const word = match[1]!;
    const quoted = quotedPattern.exec(word);
    words.push(quoted === null ? word : quoted[2]!);
  }
  return words;
}

/** One option a command accepts: its name after the dash and whether it takes a value. */
export interface OptionSpec {
  readonly name: string;
  readonly takesValue: boolean;
  readonly description: string;
}

export interface ParsedWords {
  /** Present options: the value for those that take one, true for flags. */
  readonly options: ReadonlyMap<string, string | true>;
  /** The words that are not options, the command name first (as commons-cli's getArgs()). */
  readonly args: readonly string[];
}

/** A parse failure, with the message zkCli.sh prints (the Java exception's toString). */
export class OptionParseError extends Error {}

const prefix = 'org.apache.commons.cli.';

function isNegativeNumber(word: string): boolean {
  return /^-\d+(\.\d+)?$/.test(word);
}

/**
 * Reads options wherever they appear among the words, as DefaultParser does. `groups` lists
 * option groups of which at most one may be given (and one must be, when `required`).
 */
export function parseOptions(
  words: readonly string[],
  specs: readonly OptionSpec[],
  groups: ReadonlyArray<{ names: readonly string[]; required: boolean }> = [],
): ParsedWords {
  const byName = new Map(specs.map((spec) => [spec.name, spec]));
  const options = new Map<string, string | true>();
  const args: string[] = [];
  const order: string[] = [];
  let pending: OptionSpec | undefined;
  let rest = false;
  const isOptionWord = (word: string) =>
    word.startsWith('-') && word.length > 1 && (byName.has(word.slice(1)) || byName.has(word[1]!));
  const set = (spec: OptionSpec, value: string | true) => {
    for (const group of groups) {
      if (!group.names.includes(spec.name)) continue;
      const chosen = order.find((name) => group.names.includes(name) && name !== spec.name);
      if (chosen !== undefined) {
        throw new OptionParseError(
          `${prefix}AlreadySelectedException: The option '${spec.name}' was specified but an option ` +
            `from this group has already been selected: '${chosen}'`,
        );
      }
    }
    options.set(spec.name, value);
    order.push(spec.name);
  };
  for (const word of words) {
    if (pending !== undefined) {
      if (isOptionWord(word) && !isNegativeNumber(word)) break;
      set(pending, word);
      pending = undefined;
      continue;
    }
    if (rest || word === '-' || !word.startsWith('-')) {
      args.push(word);
      continue;
    }
    if (word === '--') {
      rest = true;
      continue;
    }
    const whole = byName.get(word.slice(1));
    if (whole !== undefined) {
      if (whole.takesValue) pending = whole;
      else set(whole, true);
      continue;
    }
    pending = readConcatenated(word, byName, set);
  }
  if (pending !== undefined) {
    const message = `MissingArgumentException: Missing argument for option: ${pending.name}`;
    throw new OptionParseError(`${prefix}${message}`);
  }
  for (const group of groups) {
    if (group.required && !group.names.some((name) => options.has(name))) {
      const list = group.names.map((name) => `-${name} ${byName.get(name)?.description ?? ''}`);
      const message = `MissingOptionException: Missing required option: [${list.join(', ')}]`;
      throw new OptionParseError(`${prefix}${message}`);
    }
  }
  return { options, args };
}

/** "-se" (two flags) or "-v3" (an option and its value); returns an option still waiting for its value. */
function readConcatenated(
  word: string,
  byName: ReadonlyMap<string, OptionSpec>,
  set: (spec: OptionSpec, value: string | true) => void,
): OptionSpec | undefined {
  const letters = word.slice(1);
  for (let i = 0; i < letters.length; i++) {
    const spec = byName.get(letters[i]!);
    if (spec === undefined) {
      throw new OptionParseError(`${prefix}UnrecognizedOptionException: Unrecognized option: ${word}`);
    }
    if (!spec.takesValue) {
      set(spec, true);
      continue;
    }
    const value = letters.slice(i + 1);
    if (value === '') return spec;
    set(spec, value);
    return undefined;
  }
  return undefined;
}
