// The code blocks in README.md and docs/ are copies of type-checked files under examples/: this checks
// that every TypeScript block still appears, line by line and in order, in one of those files, so a
// renamed option or a changed signature fails here instead of silently rotting in the docs. Import
// lines are skipped (the docs import from 'menagerie', the examples from the sources), and so are
// `// ...` elisions; whitespace runs count as one space.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'mocha';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

function filesUnder(dir: string, suffix: string, skip: ReadonlySet<string> = new Set()): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = path.join(dir, name);
    if (statSync(full).isDirectory()) return skip.has(name) ? [] : filesUnder(full, suffix, skip);
    return name.endsWith(suffix) ? [full] : [];
  });
}

/** The lines a block is compared by: trimmed, single-spaced, without imports and elisions. */
function codeLines(text: string): string[] {
  return text
    .split('\n')
    .map((line) => line.trim().replace(/\s+/g, ' '))
    .filter((line) => line !== '' && line !== '...' && line !== '// ...' && !line.startsWith('import '));
}

/** Whether `block` occurs in `source` as a subsequence of lines (elided lines may sit between). */
export function appearsIn(block: readonly string[], source: readonly string[]): boolean {
  let at = 0;
  for (const line of block) {
    at = source.indexOf(line, at);
    if (at < 0) return false;
    at++;
  }
  return true;
}

/** The first line of `block` that no source continues to, for the failure message. */
function firstMissing(block: readonly string[], sources: ReadonlyArray<readonly string[]>): string {
  let best = 0;
  for (const source of sources) {
    let at = 0;
    let matched = 0;
    for (const line of block) {
      at = source.indexOf(line, at);
      if (at < 0) break;
      at++;
      matched++;
    }
    best = Math.max(best, matched);
  }
  return block[best] ?? '';
}

interface CodeBlock {
  readonly doc: string;
  readonly line: number;
  readonly lines: readonly string[];
}

function typeScriptBlocks(doc: string): CodeBlock[] {
  const text = readFileSync(doc, 'utf8');
  return [...text.matchAll(/^```(?:ts|typescript)\n([\s\S]*?)^```/gm)].map((match) => ({
    doc: path.relative(root, doc),
    line: text.slice(0, match.index).split('\n').length,
    lines: codeLines(match[1]!),
  }));
}

describe('code in the docs', () => {
  const docs = [path.join(root, 'README.md'), ...filesUnder(path.join(root, 'docs'), '.md', new Set(['api']))];
  const blocks = docs.flatMap(typeScriptBlocks);
  const sources = filesUnder(path.join(root, 'examples'), '.ts').map((file) =>
    codeLines(readFileSync(file, 'utf8')),
  );

  it('finds the blocks it checks', () => {
    assert.ok(blocks.length >= 15, `only ${blocks.length} TypeScript blocks found in the docs`);
  });

  it('shows only code that is in a type-checked example file', () => {
    const stale = blocks
      .filter((block) => !sources.some((source) => appearsIn(block.lines, source)))
      .map((block) => `${block.doc}:${block.line}: ${firstMissing(block.lines, sources)}`);
    assert.deepEqual(stale, [], 'doc blocks that no file under examples/ contains (first differing line)');
  });

  it('tells a changed line from an elided one', () => {
    const source = ['a();', 'b();', 'c();'];
    assert.ok(appearsIn(['a();', 'c();'], source));
    assert.ok(!appearsIn(['c();', 'a();'], source));
    assert.ok(!appearsIn(['a(1);'], source));
  });
});
