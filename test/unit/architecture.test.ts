// The pure cores (the codec, the data tree, request preparation, consensus) read no clock and use
// no timers or randomness: time and randomness come in as inputs, so a seeded simulator can replay
// them. This parses their TypeScript sources (so comments and strings do not count) and looks for
// the uses that would break that; dependency-cruiser's rule covers the imports.
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'mocha';
import ts from 'typescript';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const pureFolders = ['src/protocol', 'server/tree', 'server/quorum', 'server/core'];

/** Names whose mere use means a timer, a clock or randomness. */
const forbiddenNames = new Set([
  'setTimeout', 'setInterval', 'setImmediate', 'queueMicrotask',
  'randomBytes', 'randomUUID', 'randomInt', 'getRandomValues',
]);
/** `object.property` pairs that read a clock or randomness. */
const forbiddenMembers = new Set(['Date.now', 'Math.random', 'performance.now', 'process.hrtime']);

/** The forbidden uses in one source text, as "line: what"; comments and strings are not code. */
export function impureUses(fileName: string, source: string): string[] {
  const file = ts.createSourceFile(fileName, source, ts.ScriptTarget.Latest, true);
  const found: string[] = [];
  const report = (node: ts.Node, what: string) =>
    found.push(`${file.getLineAndCharacterOfPosition(node.getStart(file)).line + 1}: ${what}`);
  const visit = (node: ts.Node): void => {
    if (ts.isIdentifier(node) && forbiddenNames.has(node.text)) report(node, node.text);
    if (ts.isPropertyAccessExpression(node) && ts.isIdentifier(node.expression)) {
      const member = `${node.expression.text}.${node.name.text}`;
      if (forbiddenMembers.has(member)) report(node, member);
    }
    if (ts.isNewExpression(node) && ts.isIdentifier(node.expression) && node.expression.text === 'Date') {
      report(node, 'new Date(');
    }
    ts.forEachChild(node, visit);
  };
  visit(file);
  return found;
}

function sourcesUnder(folder: string): string[] {
  const full = path.join(root, folder);
  if (!existsSync(full)) return [];
  return readdirSync(full).flatMap((name) => {
    const child = path.join(folder, name);
    if (statSync(path.join(root, child)).isDirectory()) return sourcesUnder(child);
    return name.endsWith('.ts') ? [child] : [];
  });
}

describe('architecture: pure cores', () => {
  it('finds the codec sources (the scan is not vacuous)', () => {
    assert.ok(sourcesUnder('src/protocol').length >= 5);
  });

  it('finds each forbidden use in code, and none in comments or strings', () => {
    const source = [
      "// Date.now() in a comment, 'setTimeout' in a string",
      "const a = 'Math.random()'; /* setTimeout */ const b = `${Date.now()}`;",
      'setInterval(f); setImmediate(f); queueMicrotask(f); const t = new Date(0);',
      'const r = Math.random() + performance.now() + Number(process.hrtime.bigint());',
      "import { randomBytes } from 'node:crypto';",
    ].join('\n');
    assert.deepEqual(impureUses('x.ts', source), [
      '2: Date.now',
      '3: setInterval',
      '3: setImmediate',
      '3: queueMicrotask',
      '3: new Date(',
      '4: Math.random',
      '4: performance.now',
      '4: process.hrtime',
      '5: randomBytes',
    ]);
  });

  for (const folder of pureFolders) {
    it(`${folder} reads no clock and uses no timers or randomness`, function () {
      const files = sourcesUnder(folder);
      if (files.length === 0) this.skip();
      const found = files.flatMap((file) =>
        impureUses(file, readFileSync(path.join(root, file), 'utf8')).map((use) => `${file}:${use}`),
      );
      assert.deepEqual(found, []);
    });
  }
});
