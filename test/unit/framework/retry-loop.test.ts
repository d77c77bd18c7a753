// The retry loop against a fake operation that fails in scripted ways, with a fake sleep and clock:
// which errors are retried, how the policy's sleeps are used, that an indeterminate write is
// resolved (never blindly repeated), and that a signal stops it at once.
import assert from 'node:assert/strict';
import { describe, it } from 'mocha';
import {
  ConnectionLossError,
  ErrorCode,
  KeeperError,
  NoNodeError,
  NodeExistsError,
  SessionExpiredError,
  connectionLoss,
  operations,
  retryLoop,
  retryNTimes,
  type AttemptContext,
  type RetryLoopOptions,
} from '../../../src/index.js';

/** An operation that throws the scripted errors in turn, then returns 'ok'. */
function scripted(errors: Error[]) {
  const calls: AttemptContext[] = [];
  const attempt = async (context: AttemptContext) => {
    calls.push(context);
    const error = errors.shift();
    if (error !== undefined) throw error;
    return 'ok';
  };
  return { attempt, calls };
}

function fakeTime() {
  let nowMs = 0;
  const sleeps: number[] = [];
  return {
    sleeps,
    nowMs: () => nowMs,
    sleep: async (ms: number, signal: AbortSignal | undefined) => {
      signal?.throwIfAborted();
      sleeps.push(ms);
      nowMs += ms;
    },
  };
}

function options<T>(extra: Partial<RetryLoopOptions<T>> = {}): RetryLoopOptions<T> {
  const time = fakeTime();
  return { policy: retryNTimes(3, 100), traits: operations.getData.traits, ...time, ...extra };
}

describe('retry loop', () => {
  it('retries connection loss and operation timeout with the policy sleeps', async () => {
    const timeout = KeeperError.from(ErrorCode.OPERATION_TIMEOUT);
    const { attempt, calls } = scripted([connectionLoss(false), timeout]);
    const time = fakeTime();
    const result = await retryLoop(attempt, options({ ...time }));
    assert.equal(result, 'ok');
    assert.equal(calls.length, 3);
    assert.deepEqual(time.sleeps, [100, 100]);
  });

  it('gives up with the last error when the policy says stop', async () => {
    const { attempt, calls } = scripted(Array.from({ length: 4 }, () => connectionLoss(false)));
    await assert.rejects(retryLoop(attempt, options()), ConnectionLossError);
    assert.equal(calls.length, 4, 'the first attempt and three retries');
  });

  const finalErrors = [new NoNodeError(), new NodeExistsError(), new SessionExpiredError(), new TypeError('x')];
  for (const error of finalErrors) {
    it(`does not retry ${error.name}`, async () => {
      const { attempt, calls } = scripted([error]);
      await assert.rejects(retryLoop(attempt, options()), (e) => e === error);
      assert.equal(calls.length, 1);
    });
  }

  it('waits for the connection before every attempt', async () => {
    let waits = 0;
    const { attempt } = scripted([connectionLoss(false)]);
    await retryLoop(attempt, options({ waitForConnection: async () => void waits++ }));
    assert.equal(waits, 2);
  });

  it('counts a wait for the connection that timed out as a retryable failure', async () => {
    let waits = 0;
    const { attempt, calls } = scripted([]);
    const result = await retryLoop(
      attempt,
      options({
        waitForConnection: async () => {
          if (waits++ < 2) throw connectionLoss(false);
        },
      }),
    );
    assert.equal(result, 'ok');
    assert.equal(calls.length, 1, 'the operation ran only once the connection was back');
  });

  it('never repeats an indeterminate write without a resolver', async () => {
    const lost = connectionLoss(true);
    const { attempt, calls } = scripted([lost]);
    const running = retryLoop(attempt, options({ traits: operations.create.traits }));
    await assert.rejects(running, (e) => e === lost);
    assert.equal(calls.length, 1);
  });

  it('returns the resolved value when the lost write turns out applied', async () => {
    const { attempt, calls } = scripted([connectionLoss(true)]);
    const resolved: KeeperError[] = [];
    const result = await retryLoop(
      attempt,
      options<string>({
        traits: operations.create.traits,
        resolveIndeterminate: async (error) => {
          resolved.push(error);
          return { applied: true, value: 'found' };
        },
      }),
    );
    assert.equal(result, 'found');
    assert.equal(calls.length, 1, 'not repeated');
    assert.equal(resolved.length, 1);
  });

  it('repeats the write when it was not applied, and says so to the attempt', async () => {
    const { attempt, calls } = scripted([connectionLoss(true)]);
    const result = await retryLoop(
      attempt,
      options<string>({
        traits: operations.delete.traits,
        resolveIndeterminate: async () => ({ applied: false }),
      }),
    );
    assert.equal(result, 'ok');
    assert.deepEqual(
      calls.map((c) => c.afterIndeterminate),
      [false, true],
    );
  });

  it('retries the resolution itself when it loses its connection', async () => {
    const { attempt, calls } = scripted([connectionLoss(true)]);
    let resolutions = 0;
    const result = await retryLoop(
      attempt,
      options<string>({
        traits: operations.setData.traits,
        resolveIndeterminate: async () => {
          if (resolutions++ === 0) throw connectionLoss(false);
          return { applied: true, value: 'read back' };
        },
      }),
    );
    assert.equal(result, 'read back');
    assert.equal(resolutions, 2);
    assert.equal(calls.length, 1);
  });

  it('retries an indeterminate idempotent read without resolving', async () => {
    const { attempt, calls } = scripted([connectionLoss(true)]);
    const result = await retryLoop(attempt, options({ traits: operations.sync.traits }));
    assert.equal(result, 'ok');
    assert.equal(calls.length, 2);
  });

  it('stops at once when the signal aborts, before or between attempts', async () => {
    const controller = new AbortController();
    controller.abort(new Error('stop'));
    const first = scripted([]);
    await assert.rejects(retryLoop(first.attempt, options({ signal: controller.signal })), /stop/);
    assert.equal(first.calls.length, 0);

    const later = new AbortController();
    const second = scripted([connectionLoss(false), connectionLoss(false)]);
    const time = fakeTime();
    await assert.rejects(
      retryLoop(second.attempt, {
        ...options(),
        signal: later.signal,
        sleep: async (ms, signal) => {
          later.abort(new Error('stopped while sleeping'));
          return time.sleep(ms, signal);
        },
      }),
      /stopped while sleeping/,
    );
    assert.equal(second.calls.length, 1);
  });

  it('rejects with the signal reason itself, even when it is not an Error', async () => {
    const controller = new AbortController();
    const attempt = async () => {
      controller.abort('just a string');
      throw connectionLoss(false);
    };
    const running = retryLoop(attempt, { ...options(), signal: controller.signal });
    await assert.rejects(running, (reason) => reason === 'just a string');
  });

  it('gives the policy the time spent so far', async () => {
    const seen: number[] = [];
    const time = fakeTime();
    const { attempt } = scripted([connectionLoss(false), connectionLoss(false)]);
    await retryLoop(attempt, {
      ...time,
      traits: operations.getData.traits,
      policy: {
        description: 'spy',
        delayBeforeRetryMs: (_n, elapsedMs) => {
          seen.push(elapsedMs);
          return 250;
        },
      },
    });
    assert.deepEqual(seen, [0, 250]);
  });
});
