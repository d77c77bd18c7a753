// Path rules against Apache's PathUtils.validatePath: each reason it gives, where it gives it,
// the sequential form (checked as if a digit followed), the refused unicode ranges, and the helpers.
import assert from 'node:assert/strict';
import { describe, it } from 'mocha';
import { baseName, joinPath, parentPath, pathProblem, sequenceSuffix } from '../../../src/protocol/index.js';

describe('pathProblem', () => {
  it('accepts ordinary paths', () => {
    const valid = ['/', '/a', '/a/b', '/a.b', '/a/.b', '/a/..b', '/a/...', '/zookeeper/quota', '/ü/日本'];
    for (const path of valid) {
      assert.equal(pathProblem(path), undefined, path);
    }
  });

  it('gives each of Apache’s reasons', () => {
    const cases: Array<[string, string]> = [
      ['', 'Path length must be > 0'],
      ['a', 'Path must start with / character'],
      ['a/b', 'Path must start with / character'],
      ['/a/', 'Path must not end with / character'],
      ['/a\u0000b', 'null character not allowed @2'],
      ['//a', 'empty node name specified @1'],
      ['/a//b', 'empty node name specified @3'],
      ['/.', 'relative paths not allowed @1'],
      ['/a/./b', 'relative paths not allowed @3'],
      ['/..', 'relative paths not allowed @2'],
      ['/a/../b', 'relative paths not allowed @4'],
      ['/a\u0001', 'invalid character @2'],
    ];
    for (const [path, reason] of cases) assert.equal(pathProblem(path), reason, JSON.stringify(path));
  });

  it('refuses the unicode ranges Apache refuses, and their neighbours pass', () => {
    const refused = [0x01, 0x1f, 0x7f, 0x9f, 0xd800, 0xdfff, 0xe000, 0xf8ff, 0xfff0, 0xffff];
    const allowed = [0x20, 0x7e, 0xa0, 0xd7ff, 0xf900, 0xffef];
    for (const code of refused) {
      assert.equal(pathProblem(`/a${String.fromCharCode(code)}`), 'invalid character @2', code.toString(16));
    }
    for (const code of allowed) {
      assert.equal(pathProblem(`/a${String.fromCharCode(code)}`), undefined, code.toString(16));
    }
    // A character outside the BMP is a surrogate pair in UTF-16, and Apache checks UTF-16 units.
    assert.equal(pathProblem('/\u{1f600}'), 'invalid character @1');
  });

  it('checks a sequential path as if the sequence number followed it', () => {
    assert.equal(pathProblem('/a/', { sequential: true }), undefined);
    assert.equal(pathProblem('/', { sequential: true }), undefined);
    assert.equal(pathProblem('/a/.', { sequential: true }), undefined);
    assert.equal(pathProblem('/a/..', { sequential: true }), undefined);
    assert.equal(pathProblem('/a//', { sequential: true }), 'empty node name specified @3');
    assert.equal(pathProblem('/./', { sequential: true }), 'relative paths not allowed @1');
    assert.equal(pathProblem('', { sequential: true }), 'Path must start with / character');
    assert.equal(pathProblem('/a/', { sequential: false }), 'Path must not end with / character');
  });
});

describe('path helpers', () => {
  it('splits and joins', () => {
    assert.equal(parentPath('/a/b'), '/a');
    assert.equal(parentPath('/a'), '/');
    assert.equal(baseName('/a/b'), 'b');
    assert.equal(baseName('/'), '');
    assert.equal(joinPath('/', 'a'), '/a');
    assert.equal(joinPath('/a', 'b'), '/a/b');
  });

  it('formats sequence suffixes as Java’s %010d of a signed int', () => {
    assert.equal(sequenceSuffix(0), '0000000000');
    assert.equal(sequenceSuffix(1), '0000000001');
    assert.equal(sequenceSuffix(2 ** 31 - 1), '2147483647');
    // The parent's counter is an int: one past the maximum wraps to the minimum.
    assert.equal(sequenceSuffix(2 ** 31), '-2147483648');
    assert.equal(sequenceSuffix(-1), '-000000001');
    assert.equal(sequenceSuffix(-12345), '-000012345');
  });
});
