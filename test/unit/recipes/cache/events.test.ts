// Goal: the recipes' event plumbing delivers to listeners and iterators in order, bounds what a slow
// reader buffers, ends cleanly, runs tasks strictly one after another, and waits for a wake-up, a
// signal or a deadline without leaving a timer behind.
import assert from 'node:assert/strict';
import { describe, it } from 'mocha';
import { TimeoutError } from '../../../../src/index.js';
import {
  EventStream,
  EventStreamOverflowError,
  SerialTasks,
  deadlineOf,
  sleep,
  trigger,
  waitFor,
} from '../../../../recipes/cache/events.js';
import { VirtualClock } from '../../../../server/testing/index.js';

describe('recipe event plumbing', () => {
  it('an iterator gets the initial events, then live ones, and ends with the stream', async () => {
    const stream = new EventStream<number>();
    const seen: number[] = [];
    stream.on((n) => seen.push(n));
    const iterator = stream.iterate([1, 2]);
    stream.emit(3);
    stream.end();
    stream.emit(4); // after the end: dropped
    const read: number[] = [];
    for await (const n of iterator) read.push(n);
    assert.deepEqual(read, [1, 2, 3]);
    assert.deepEqual(seen, [3]);
  });

  it('a listener that throws is reported and does not stop the others', () => {
    const errors: unknown[] = [];
    const stream = new EventStream<number>(10, (e) => errors.push(e));
    const seen: number[] = [];
    stream.on(() => {
      throw new Error('boom');
    });
    stream.on((n) => seen.push(n));
    stream.emit(1);
    assert.deepEqual(seen, [1]);
    assert.equal(errors.length, 1);
  });

  it('a reader that falls behind by more than the bound fails with an overflow error', async () => {
    const stream = new EventStream<number>(2);
    const iterator = stream.iterate();
    for (const n of [1, 2, 3]) stream.emit(n);
    assert.deepEqual(await iterator.next(), { done: false, value: 1 });
    assert.deepEqual(await iterator.next(), { done: false, value: 2 });
    await assert.rejects(iterator.next(), EventStreamOverflowError);
  });

  it('an aborted signal ends a waiting iterator with its reason; return() unsubscribes', async () => {
    const stream = new EventStream<number>();
    const controller = new AbortController();
    const iterator = stream.iterate([], controller.signal);
    const waiting = iterator.next();
    controller.abort(new Error('stop'));
    await assert.rejects(waiting, /stop/);
    const other = stream.iterate();
    await other.return!();
    stream.emit(1);
    assert.deepEqual(await other.next(), { done: true, value: undefined });
  });

  it('tasks run one at a time in order, and a failing one does not stop the queue', async () => {
    const errors: unknown[] = [];
    const tasks = new SerialTasks((e) => errors.push(e));
    const log: string[] = [];
    const gate = trigger();
    void tasks.run(async () => {
      await gate.promise;
      log.push('a');
    });
    void tasks.run(async () => {
      throw new Error('b failed');
    });
    void tasks.run(async () => void log.push('c'));
    assert.equal(tasks.pending, 3);
    gate.fire();
    await tasks.drained();
    assert.deepEqual(log, ['a', 'c']);
    assert.equal(errors.length, 1);
  });

  it('waitFor resolves on a wake-up (even a rejected one), rejects on abort and deadline', async () => {
    await waitFor(Promise.resolve(), { what: 'x' });
    await waitFor(Promise.reject(new Error('watch ended')), { what: 'x' });
    const controller = new AbortController();
    const aborted = waitFor(new Promise(() => undefined), { signal: controller.signal, what: 'x' });
    controller.abort(new Error('aborted'));
    await assert.rejects(aborted, /aborted/);
    const deadline = deadlineOf(10);
    const never = new Promise(() => undefined);
    await assert.rejects(waitFor(never, { deadline, what: 'the thing' }), TimeoutError);
    const past = { atMs: 0, clock: new VirtualClock(5) };
    await assert.rejects(waitFor(Promise.resolve(), { deadline: past, what: 'late' }), /late timed out/);
  });

  it('a deadline and a sleep run on the clock they are given, to the millisecond', async () => {
    const clock = new VirtualClock(1000);
    const deadline = deadlineOf(250, clock);
    assert.deepEqual(deadline, { atMs: 1250, clock });
    let outcome = 'pending';
    waitFor(new Promise(() => undefined), { deadline, what: 'w' }).catch((e: Error) => (outcome = e.name));
    let slept = false;
    void sleep(100, undefined, clock).then(() => (slept = true));
    await clock.advance(99);
    assert.equal(slept, false);
    await clock.advance(1);
    assert.equal(slept, true);
    await clock.advance(149);
    assert.equal(outcome, 'pending');
    await clock.advance(1);
    assert.equal(outcome, 'TimeoutError');
    assert.equal(clock.pendingTimers, 0, 'no timer left behind');
  });
});
