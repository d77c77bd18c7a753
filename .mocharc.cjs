'use strict';
// Strict runner: TypeScript through tsx, a run with no test fails, `.only` fails in CI,
// and the root hooks in test/setup.ts turn unhandled rejections and leaked handles into failures.
module.exports = {
  'node-option': ['import=tsx', 'unhandled-rejections=strict'],
  spec: ['test/unit/**/*.test.ts', 'test/integration/**/*.test.ts', 'test/conformance/**/*.test.ts'],
  require: ['test/setup.ts'],
  reporter: 'test/reporter.cjs',
  'fail-zero': true,
  'forbid-only': true,
  timeout: 20000,
  extension: ['ts'],
};
