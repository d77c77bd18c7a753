// A short slice of the decoder and zoo.cfg fuzzer (npm run fuzz runs the long one): mutated request,
// ConnectRequest and multi frames only ever fail with DecodeError, mutated configs only with ConfigError.
import assert from 'node:assert/strict';
import { describe, it } from 'mocha';
import { fuzzInProcess } from '../../fuzz/in-process.js';

describe('decoder and zoo.cfg fuzz (short slice)', () => {
  for (const seed of [1, 2]) {
    it(`20,000 mutated inputs from seed ${seed} give only typed errors`, () => {
      const counts = fuzzInProcess(seed, 20_000);
      assert.deepEqual(counts.findings, []);
      // The mutations must reach both outcomes, or the fuzzer tests nothing.
      assert.ok(counts.decoded > 1000 && counts.decodeErrors > 1000, JSON.stringify(counts));
      assert.ok(counts.configsParsed > 100 && counts.configErrors > 100, JSON.stringify(counts));
    });
  }
});
