// Goal: the full nemesis (`npm run test:nemesis`): 3- and 5-voter ensembles, each with an observer,
// a minute each of kill -9 and SIGSTOP of leaders and followers on a seeded schedule, against Apache
// ZooKeeper 3.8 and ours side by side; every run must stay linearizable, lose no acknowledged write,
// and keep the mutex recipe's counter exact with rising fencing tokens.
import { describeNemesis, fromEnvironment } from '../suite.js';

describeNemesis({
  title: 'nemesis, long runs',
  runs: [
    { voters: 3, ...fromEnvironment(2, 60_000) },
    { voters: 5, ...fromEnvironment(3, 60_000) },
  ],
});
