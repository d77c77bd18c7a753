// Goal: a short nemesis run (part of npm test) proves the harness end to end on a 3-voter ensemble:
// under kill -9 and SIGSTOP of members, the register histories stay linearizable, no acknowledged write
// is lost and the mutex recipe keeps its counter exact. The long runs are `npm run test:nemesis`.
import { describeNemesis, fromEnvironment } from './suite.js';

describeNemesis({
  title: 'nemesis, short run',
  runs: [{ voters: 3, ...fromEnvironment(12, 12_000), registerClients: 3, lockClients: 2 }],
});
