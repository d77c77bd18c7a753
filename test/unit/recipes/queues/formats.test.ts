// Queue item names and the item envelope as Curator's queues write them: priority and delay keys sort
// the way Curator's consumers take items, odd names read as Curator reads them, and a malformed
// envelope is a DecodeError.
import assert from 'node:assert/strict';
import { describe, it } from 'mocha';
import {
  cleanItemId,
  decodeQueueItems,
  delayRemainingMs,
  encodeQueueItems,
  parseDelayUntil,
  parseIdItem,
  parsePriority,
  priorityKey,
  queueItemName,
  sortQueueItems,
} from '../../../../recipes/queues/formats.js';
import { DecodeError, InvalidArgumentError } from '../../../../src/index.js';

const seq = (n: number) => String(n).padStart(10, '0');

describe('queue formats', () => {
  it('names items per kind', () => {
    assert.equal(queueItemName({ kind: 'plain' }), 'queue-');
    assert.equal(queueItemName({ kind: 'priority', priority: 5 }), 'queue-100000005');
    assert.equal(queueItemName({ kind: 'priority', priority: -1 }), 'queue-0FFFFFFFF');
    const delayed = queueItemName({ kind: 'delay', delayUntilEpochMs: 1_700_000_000_000 });
    assert.equal(delayed, 'queue-|18BCFE56800|');
    assert.equal(queueItemName({ kind: 'delay', delayUntilEpochMs: 255 }), 'queue-|000000FF|');
    assert.equal(queueItemName({ kind: 'id', itemId: 'job/7|x' }), 'queue-|job_7_x|');
    assert.throws(() => queueItemName({ kind: 'delay', delayUntilEpochMs: -1 }), InvalidArgumentError);
    assert.throws(() => queueItemName({ kind: 'id', itemId: '' }), InvalidArgumentError);
    assert.throws(() => priorityKey(2 ** 31), InvalidArgumentError);
    assert.equal(cleanItemId('a/b|c'), 'a_b_c');
  });

  it('sorts priorities numerically through plain string order, negatives first', () => {
    const priorities = [5, -1, 0, 2147483647, -2147483648, 16, -17];
    const names = priorities.map((p, i) => `${queueItemName({ kind: 'priority', priority: p })}${seq(i)}`);
    const sorted = sortQueueItems('priority', names).map((n) => parsePriority(n));
    assert.deepEqual(sorted, [...priorities].sort((a, b) => a - b));
  });

  it('keeps FIFO within one priority and orders plain items by sequence', () => {
    const p = queueItemName({ kind: 'priority', priority: 3 });
    const sorted = sortQueueItems('priority', [`${p}${seq(2)}`, `${p}${seq(1)}`]);
    assert.deepEqual(sorted, [`${p}${seq(1)}`, `${p}${seq(2)}`]);
    assert.deepEqual(sortQueueItems('plain', [`queue-${seq(2)}`, 'other', `queue-${seq(1)}`]),
      [`queue-${seq(1)}`, `queue-${seq(2)}`]);
  });

  it('orders delay items by due time and reads odd names as due at once, as Curator does', () => {
    const late = `queue-|${(2000).toString(16).toUpperCase().padStart(8, '0')}|${seq(0)}`;
    const early = `queue-|${(1000).toString(16).toUpperCase().padStart(8, '0')}|${seq(1)}`;
    const plainItem = `queue-${seq(2)}`;
    assert.deepEqual(sortQueueItems('delay', [late, early, plainItem]), [plainItem, early, late]);
    assert.equal(parseDelayUntil('queue-||0000000001'), 0);
    assert.equal(parseDelayUntil('queue-|zz|0000000001'), 0);
    assert.equal(delayRemainingMs(late, 1500), 500);
  });

  it('reads id items and sorts them with the id cut out', () => {
    assert.deepEqual(parseIdItem(`queue-|job_7|${seq(3)}`), { id: 'job_7', cleaned: `queue-${seq(3)}` });
    const noId = 'queue-0000000003';
    assert.deepEqual(parseIdItem(noId), { id: noId, cleaned: noId });
    assert.deepEqual(sortQueueItems('id', [`queue-|b|${seq(1)}`, `queue-|a|${seq(2)}`]),
      [`queue-|b|${seq(1)}`, `queue-|a|${seq(2)}`]);
  });

  it('refuses a priority name whose sign mark disagrees with its value', () => {
    assert.equal(parsePriority('queue-0000000050000000001'), undefined);
    assert.equal(parsePriority(`queue-${seq(1)}`), undefined);
  });

  it('round-trips the item envelope', () => {
    const items = [Buffer.from('one'), Buffer.alloc(0), Buffer.from('three')];
    const bytes = encodeQueueItems(items);
    const one = Buffer.from(encodeQueueItems([Buffer.from('one')])).toString('hex');
    assert.equal(one, '0001000101000000036f6e6502');
    assert.deepEqual(decodeQueueItems(bytes).map((b) => Buffer.from(b).toString()), ['one', '', 'three']);
  });

  it('refuses malformed envelopes with DecodeError', () => {
    const good = Buffer.from(encodeQueueItems([Buffer.from('one')]));
    const cases = [
      good.subarray(0, 4),
      good.subarray(0, good.length - 1),
      Buffer.concat([Buffer.from('00010002', 'hex'), good.subarray(4)]),
      Buffer.from('000100010300', 'hex'),
      Buffer.from('0001000101000000ff6f02', 'hex'),
      Buffer.from('0001000101ffffffff02', 'hex'),
    ];
    for (const bytes of cases) {
      assert.throws(() => decodeQueueItems(bytes), DecodeError, bytes.toString('hex'));
    }
  });
});
