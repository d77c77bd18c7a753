// One member of our ensemble in its own process for the ensemble benchmarks, started exactly as
// `zk-server start-foreground zoo.cfg` starts it (the TypeScript sources through tsx, so no build is
// needed): `node --import tsx ensemble-member-child.ts zoo.cfg`. It runs until killed.
import { main } from '../server/cli.js';

const configFile = process.argv[2];
if (configFile === undefined) throw new Error('usage: ensemble-member-child.ts zoo.cfg');
process.exitCode = await main(['start-foreground', configFile]);
