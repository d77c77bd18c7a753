// The bounded channel behind state and persistent-watch iteration: order, ending with and without
// an error, the overflow limit, and early return from a for-await loop.
import assert from 'node:assert/strict';
import { describe, it } from 'mocha';
import { Channel, ChannelOverflowError } from '../../../src/client/channel.js';

describe('Channel', () => {
  it('yields pushed items in order, to waiting and later readers alike', async () => {
    const channel = new Channel<number>(10);
    const first = channel.next();
    channel.push(1);
    channel.push(2);
    channel.end();
    assert.deepEqual(await first, { value: 1, done: false });
    const rest: number[] = [];
    for await (const item of channel) rest.push(item);
    assert.deepEqual(rest, [2]);
  });

  it('throws the end error once after the queued items', async () => {
    const channel = new Channel<string>(10);
    channel.push('a');
    channel.end(new Error('gone'));
    assert.deepEqual(await channel.next(), { value: 'a', done: false });
    await assert.rejects(channel.next(), /gone/);
    assert.deepEqual(await channel.next(), { value: undefined, done: true });
  });

  it('ends with an overflow error instead of growing past its limit', async () => {
    const channel = new Channel<number>(2);
    for (let i = 0; i < 5; i++) channel.push(i);
    assert.equal(channel.done, true);
    assert.equal((await channel.next()).value, 0);
    assert.equal((await channel.next()).value, 1);
    await assert.rejects(channel.next(), ChannelOverflowError);
  });

  it('calls its return hook when a loop leaves early', async () => {
    let returned = 0;
    const channel = new Channel<number>(10, () => returned++);
    channel.push(1);
    channel.push(2);
    for await (const item of channel) if (item === 1) break;
    assert.equal(returned, 1);
    assert.equal(channel.done, true);
  });

  it('calls its end hook once, however it ends: end(), overflow, or a loop leaving', async () => {
    let ended = 0;
    const byEnd = new Channel<number>(10, undefined, () => ended++);
    byEnd.end();
    byEnd.end();
    assert.equal(ended, 1);
    const byOverflow = new Channel<number>(1, undefined, () => ended++);
    byOverflow.push(1);
    byOverflow.push(2);
    assert.equal(ended, 2);
    let returned = 0;
    const byReturn = new Channel<number>(10, () => returned++, () => ended++);
    byReturn.push(1);
    for await (const item of byReturn) if (item === 1) break;
    assert.deepEqual([ended, returned], [3, 1]);
  });
});
