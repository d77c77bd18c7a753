'use strict';
// The suites to run are named by the npm scripts (so `npx mocha some.test.ts` runs just that file).
// Strict runner: TypeScript through tsx, a run with no test fails, `.only` fails in CI,
// and the root hooks in test/setup.ts turn unhandled rejections and leaked handles into failures.
module.exports = {
  'node-option': ['import=tsx', 'unhandled-rejections=strict'],
  require: ['test/setup.ts'],
  reporter: 'test/reporter.cjs',
  'fail-zero': true,
  'forbid-only': true,
  timeout: 20000,
  extension: ['ts'],
};
