'use strict';
// `npm run test:sim`: the same strict runner as .mocharc.cjs, but only the long simulation.
const base = require('../../.mocharc.cjs');
module.exports = { ...base, spec: ['test/simulation/**/*.test.ts'], timeout: 600000 };
