// Leader-only cron: two participants run the same schedule with runAsLeader; only the leader's job
// ticks. When the leader's process goes away (its session closed) the other takes over, with a higher
// fencing token.
//
//   node --import tsx examples/leader-cron.ts [host:port]
import type { Framework } from '../src/index.js';
import { runAsLeader } from '../recipes/index.js';
import { ensemble } from './support.js';

await using zk = await ensemble();
const ticksPerTerm = 3;
const terms: Array<{ id: string; term: bigint }> = [];
let termEnded: () => void = () => {};

function cron(id: string, fw: Framework) {
  return runAsLeader(
    fw,
    '/examples/leader/cron',
    async (signal, term) => {
      terms.push({ id, term });
      console.log(`${id} is leader (term ${term})`);
      for (let tick = 1; tick <= ticksPerTerm && !signal.aborted; tick++) {
        console.log(`${id} tick ${tick}`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      termEnded();
      // Hold leadership until it is taken away (the process stops), as a real cron would.
      await new Promise((resolve) => signal.addEventListener('abort', resolve, { once: true }));
    },
    { id },
  );
}

const first = await zk.connect();
const second = await zk.connect();
const done = new Promise<void>((resolve) => (termEnded = resolve));
const selectors = [cron('cron-a', first), cron('cron-b', second)];
await done;

// The leader's process stops: its session closes, its node goes, the other participant takes over.
const leader = terms[0]!.id;
const leaderFramework = leader === 'cron-a' ? first : second;
const nextTerm = new Promise<void>((resolve) => (termEnded = resolve));
await selectors[leader === 'cron-a' ? 0 : 1]!.close();
await leaderFramework.close();
await nextTerm;
await Promise.all(selectors.map((selector) => selector.close()));

const [a, b] = terms;
console.log(`leadership moved from ${a!.id} to ${b!.id}, term ${a!.term} -> ${b!.term}`);
