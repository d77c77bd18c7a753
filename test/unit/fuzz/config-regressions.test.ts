// Regressions found by fuzzing parseZooCfg: every malformed file is a ConfigError naming key, value
// and reason, never a plain Error.
import assert from 'node:assert/strict';
import { describe, it } from 'mocha';
import { ConfigError, parseZooCfg } from '../../../server/config/index.js';

describe('zoo.cfg fuzz regressions', () => {
  it('reports a malformed \\u escape as a ConfigError with its line', () => {
    let caught: unknown;
    try {
      parseZooCfg('dataDir=/d\nclientPort=2181\nsyncLimit=\\u00zz\n');
    } catch (error) {
      caught = error;
    }
    assert.ok(caught instanceof ConfigError, String(caught));
    assert.equal(caught.key, '\\u escape');
    assert.equal(caught.value, '\\u00zz');
    assert.equal(caught.line, 3);
    assert.match(caught.reason, /4 hex digits/);
  });

  it('reports an escape cut short at the end of the file the same way', () => {
    assert.throws(() => parseZooCfg('dataDir=/d\nclientPort=2181\nk=\\u'), ConfigError);
  });
});
