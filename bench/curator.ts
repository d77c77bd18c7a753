// Curator 5.4 for the bench: the interop tests' Java harness and line protocol
// (test/interop/java/CuratorHarness.java, driven by test/support/curator.ts), started with the JVM's
// default JIT and heap instead of the tests' quick-start flags (C1 only), so Curator is measured at
// its best.
import { CuratorHarness, curatorAvailable, startCurator } from '../test/support/curator.js';
import { trackChild } from './children.js';

export { curatorAvailable, type CuratorHarness };

/** A Curator JVM whose 'default' client is connected to `connectString`; close() ends it. */
export async function startBenchCurator(connectString: string): Promise<CuratorHarness> {
  return await startCurator(connectString, { jvm: 'default', onSpawn: trackChild });
}
