// A PersistentTtlNode touches its TTL child on its clock, every ttlMs / 2, on both kinds of time
// (test/support/clock-kits.ts): exactly at +500 and +1000 ms on virtual time, as bounds on Apache.
import assert from 'node:assert/strict';
import { it } from 'mocha';
import { PersistentTtlNode } from '../../../../recipes/index.js';
import { describeOnClocks } from '../../../support/clock-kits.js';

describeOnClocks(
  'TTL node touches on the clock',
  (kit) => {
    it('touches the TTL child every ttlMs / 2 from start', async () => {
      const k = kit();
      const owner = await k.connect({ sessionTimeoutMs: 3000 });
      const observer = await k.connect({ sessionTimeoutMs: 3000 });
      const options = { ttlMs: 1000, data: 'me', clock: k.clock };
      const node = k.own(new PersistentTtlNode(owner, '/ttl/job', options));
      await node.start({ timeoutMs: 2000 });
      const startedMs = k.clock.nowMs();
      const touches: number[] = [];
      const arm = (): Promise<unknown> =>
        observer.exists(node.layout.touchPath, {
          watch: (event) => {
            if (event.type !== 'nodeDataChanged') return;
            touches.push(k.clock.nowMs() - startedMs);
            arm().catch(() => undefined);
          },
        });
      assert.ok((await arm()) !== null, 'the first touch made the TTL child');
      await k.until(() => touches.length >= 2, { limitMs: 5000 });
      k.assertElapsed(touches[0]!, 500, 'first touch');
      k.assertElapsed(touches[1]!, 1000, 'second touch');
    });
  },
  { virtual: { extendedTypesEnabled: true } },
);
