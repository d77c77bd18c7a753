// The Java properties format that zoo.cfg is written in (java.util.Properties.load): one entry per
// logical line, `#` or `!` comment lines, the key ending at the first unescaped `=`, `:` or
// whitespace, a trailing backslash continuing the line, and backslash escapes (\t \n \r \f \uXXXX).
// Apache trims every key and value afterwards; so do we. Pure: text in, entries out.

/** One entry with the line it started on, so config errors can point at it. */
export interface PropertyEntry {
  readonly key: string;
  readonly value: string;
  readonly line: number;
}

/** Splits the text into logical lines (joining continuations) with their first physical line number. */
function logicalLines(text: string): Array<{ text: string; line: number }> {
  const physical = text.split(/\r\n|\r|\n/);
  const lines: Array<{ text: string; line: number }> = [];
  for (let i = 0; i < physical.length; i++) {
    const start = i;
    let current = physical[i].replace(/^[ \t\f]+/, '');
    if (current.startsWith('#') || current.startsWith('!')) continue;
    // An odd number of trailing backslashes continues the line; leading blanks of the next are dropped.
    while (endsWithContinuation(current) && i + 1 < physical.length) {
      current = current.slice(0, -1) + physical[++i].replace(/^[ \t\f]+/, '');
    }
    if (endsWithContinuation(current)) current = current.slice(0, -1);
    if (current.length > 0) lines.push({ text: current, line: start + 1 });
  }
  return lines;
}

function endsWithContinuation(text: string): boolean {
  let slashes = 0;
  for (let i = text.length - 1; i >= 0 && text[i] === '\\'; i--) slashes++;
  return slashes % 2 === 1;
}

const escapes: Readonly<Record<string, string>> = { t: '\t', n: '\n', r: '\r', f: '\f' };

/** A malformed \\u escape: the one syntax error a properties file can have. */
export class PropertiesSyntaxError extends Error {
  constructor(
    readonly line: number,
    readonly escape: string,
  ) {
    super(`line ${line}: malformed \\uxxxx escape ${JSON.stringify(escape)}`);
    this.name = 'PropertiesSyntaxError';
  }
}

/** Resolves backslash escapes; an unknown escape stands for the character itself, as in Java. */
function unescape(text: string, line: number): string {
  let out = '';
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c !== '\\' || i + 1 >= text.length) {
      out += c;
      continue;
    }
    const next = text[++i];
    if (next === 'u') {
      const hex = text.slice(i + 1, i + 5);
      if (!/^[0-9a-fA-F]{4}$/.test(hex)) throw new PropertiesSyntaxError(line, `\\u${hex}`);
      out += String.fromCharCode(parseInt(hex, 16));
      i += 4;
    } else {
      out += escapes[next] ?? next;
    }
  }
  return out;
}

/** Splits one logical line into raw key and raw value at the first unescaped separator. */
function splitEntry(text: string): { key: string; value: string } {
  let i = 0;
  while (i < text.length) {
    const c = text[i];
    if (c === '\\') {
      i += 2;
      continue;
    }
    if (c === '=' || c === ':' || c === ' ' || c === '\t' || c === '\f') break;
    i++;
  }
  const key = text.slice(0, i);
  let rest = text.slice(i).replace(/^[ \t\f]+/, '');
  if (rest.startsWith('=') || rest.startsWith(':')) rest = rest.slice(1).replace(/^[ \t\f]+/, '');
  return { key, value: rest };
}

/**
 * Parses properties text. A key given twice keeps its last value (as Properties does), but at the
 * position of its last occurrence. Throws only for a malformed \u escape (with its line number).
 */
export function parseProperties(text: string): PropertyEntry[] {
  const byKey = new Map<string, PropertyEntry>();
  for (const { text: lineText, line } of logicalLines(text)) {
    const raw = splitEntry(lineText);
    const key = unescape(raw.key, line).trim();
    const value = unescape(raw.value, line).trim();
    byKey.delete(key);
    byKey.set(key, { key, value, line });
  }
  return [...byKey.values()];
}
