'use strict';
// `npm run test:nemesis`: the same strict runner as .mocharc.cjs, but the nemesis suites (short and long).
const base = require('../../.mocharc.cjs');
module.exports = { ...base, spec: ['test/nemesis/**/*.test.ts'], timeout: 600000 };
