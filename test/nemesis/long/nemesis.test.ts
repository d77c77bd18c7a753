// Goal: the full nemesis (`npm run test:nemesis`): 3- and 5-voter ensembles, each with an observer,
// a minute each of kill -9 and SIGSTOP of leaders and followers, then a minute each of full disks and
// network partitions (majority/minority, a bridge member, an isolated leader; where this machine
// allows: root, iproute2), on seeded schedules, against Apache ZooKeeper 3.8 and ours side by side;
// every run must stay linearizable, lose no acknowledged write, and keep the mutex recipe's counter
// exact with rising fencing tokens.
import { PARTITION_FAULTS } from '../nemesis.js';
import { describeNemesis, fromEnvironment } from '../suite.js';

describeNemesis({
  title: 'nemesis, long runs',
  runs: [
    { voters: 3, ...fromEnvironment(2, 60_000) },
    { voters: 5, ...fromEnvironment(3, 60_000) },
    { voters: 3, ...fromEnvironment(4, 60_000), faults: ['disk-full', ...PARTITION_FAULTS] },
    { voters: 5, ...fromEnvironment(5, 60_000), faults: ['disk-full', ...PARTITION_FAULTS] },
  ],
});
