// Double barrier: three workers enter together once all three have arrived, do their part, and leave
// together once all three are done.
//
//   node --import tsx examples/barrier.ts [host:port]
import { DoubleBarrier } from '../recipes/index.js';
import { ensemble } from './support.js';

await using zk = await ensemble();
const members = 3;

async function member(name: string, workMs: number): Promise<void> {
  const barrier = new DoubleBarrier(await zk.connect(), '/examples/barriers/batch', members);
  console.log(`${name} waiting to enter`);
  await barrier.enter({ timeoutMs: 10_000 });
  console.log(`${name} entered`);
  await new Promise((resolve) => setTimeout(resolve, workMs));
  await barrier.leave({ timeoutMs: 10_000 });
  console.log(`${name} left`);
}

await Promise.all([member('member-1', 30), member('member-2', 60), member('member-3', 90)]);
console.log(`all ${members} members entered and left together`);
