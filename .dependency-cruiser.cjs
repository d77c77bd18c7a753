'use strict';
// The layering rules of docs/ARCHITECTURE.md, checked in `npm test` so they cannot drift.
const pure = '^(src/protocol|server/(core|tree|sessions|auth|quorum))/';
module.exports = {
  forbidden: [
    {
      name: 'recipes-use-public-api',
      comment: 'recipes/ sees only the package surface (src/index.ts), so recipes run unchanged on Apache ZooKeeper.',
      severity: 'error',
      from: { path: '^recipes/' },
      to: { path: '^(src|server)/', pathNot: '^src/index\\.ts$' },
    },
    {
      name: 'server-uses-protocol-only',
      comment:
        'server/ shares the wire protocol with the client and nothing else of src/; the test kit ' +
        '(server/testing) plugs the client into the server in process, so it sees both.',
      severity: 'error',
      from: { path: '^server/', pathNot: '^server/testing/' },
      to: { path: '^src/', pathNot: '^src/protocol/' },
    },
    {
      name: 'protocol-is-below-everything',
      comment: 'src/protocol/ imports nothing of the client, framework, recipes or server.',
      severity: 'error',
      from: { path: '^src/protocol/' },
      to: { path: '^(src/(client|framework|cli)|recipes|server)/' },
    },
    {
      name: 'client-below-framework',
      severity: 'error',
      from: { path: '^src/client/' },
      to: { path: '^(src/framework|recipes|server)/' },
    },
    {
      name: 'pure-cores-do-no-io',
      comment: 'The codec, the data tree and consensus are driven by a deterministic simulator: no sockets, files or timers.',
      severity: 'error',
      from: { path: pure },
      to: { path: '^(node:)?(net|fs|fs/promises|timers|timers/promises|dgram|child_process|http|https|tls)$' },
    },
    {
      name: 'no-circular',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsConfig: { fileName: 'tsconfig.json' },
    tsPreCompilationDeps: true,
    exclude: { path: '(^|/)(dist|node_modules)/' },
  },
};
