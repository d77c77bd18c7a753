// What a consumer takes next: items in queue order, locked items skipped, a delay queue waiting for its
// first due item, and lock nodes named after their items.
import assert from 'node:assert/strict';
import { describe, it } from 'mocha';
import { itemLockPath, nextQueueItems } from '../../../../recipes/queues/consumer.js';
import { queueItemName } from '../../../../recipes/queues/formats.js';
import { InvalidArgumentError } from '../../../../src/index.js';

const seq = (n: number) => String(n).padStart(10, '0');
const delayed = (delayUntilEpochMs: number, n: number) =>
  `${queueItemName({ kind: 'delay', delayUntilEpochMs })}${seq(n)}`;

describe('queue consumer', () => {
  it('takes items in order, skipping locked ones and foreign children', () => {
    const children = [`queue-${seq(2)}`, 'lock', `queue-${seq(0)}`, `queue-${seq(1)}`];
    assert.deepEqual(nextQueueItems('plain', children, 0, new Set([`queue-${seq(1)}`])), {
      kind: 'take',
      items: [`queue-${seq(0)}`, `queue-${seq(2)}`],
    });
    assert.deepEqual(nextQueueItems('plain', ['lock'], 0), { kind: 'empty' });
  });

  it('waits for the first due item of a delay queue, then takes only due items', () => {
    const children = [delayed(5_000, 0), delayed(1_000, 1), delayed(9_000, 2)];
    assert.deepEqual(nextQueueItems('delay', children, 500), { kind: 'wait', untilMs: 1_000 });
    assert.deepEqual(nextQueueItems('delay', children, 6_000), {
      kind: 'take',
      items: [delayed(1_000, 1), delayed(5_000, 0)],
    });
  });

  it('names the lock node after the item', () => {
    assert.equal(itemLockPath('/q/locks', `queue-${seq(3)}`), `/q/locks/queue-${seq(3)}`);
    assert.throws(() => itemLockPath('/q/locks', 'other'), InvalidArgumentError);
  });
});
