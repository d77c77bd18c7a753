// Goal: a short nemesis run (part of npm test) proves the harness end to end on a 3-voter ensemble:
// under kill -9 and SIGSTOP of members, and where this machine can make network namespaces (root,
// iproute2) also a majority/minority partition or an isolated leader, the register histories stay
// linearizable, no acknowledged write is lost and the mutex recipe keeps its counter exact.
// Without namespaces the run is kill -9 and SIGSTOP only (the reason is printed). The long runs,
// disk-full included, are `npm run test:nemesis` (test/nemesis/README.md).
import { describeNemesis, fromEnvironment } from './suite.js';

describeNemesis({
  title: 'nemesis, short run',
  runs: [
    {
      voters: 3,
      ...fromEnvironment(12, 12_000),
      registerClients: 3,
      lockClients: 2,
      faults: ['kill9', 'pause', 'partition-halves', 'partition-leader'],
    },
  ],
});
