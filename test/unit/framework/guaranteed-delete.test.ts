// Guaranteed deletes against a fake host whose deletes fail in scripted ways: retried through
// connection loss until done, NoNode counts as gone, a refusal is final, and a delete is abandoned
// when its session ends or the framework closes; every outcome reaches the listeners.
import assert from 'node:assert/strict';
import { describe, it } from 'mocha';
import { BadVersionError, NoNodeError, connectionLoss } from '../../../src/index.js';
import { GuaranteedDeletes, type GuaranteedDeleteOutcome } from '../../../src/framework/guaranteed-delete.js';

function fakeHost(results: Array<Error | 'ok' | 'hang'>, sessionId = 5n) {
  const calls: string[] = [];
  const host = {
    session: sessionId,
    sessionId: () => host.session,
    waitForConnection: async () => undefined,
    deleteOnce: async (serverPath: string, _version: number, signal: AbortSignal) => {
      calls.push(serverPath);
      const next = results.shift() ?? 'ok';
      if (next === 'hang') {
        signal.throwIfAborted();
        await new Promise((_, reject) => {
          signal.addEventListener('abort', () => reject(signal.reason), { once: true });
        });
      }
      if (next instanceof Error) throw next;
    },
  };
  return { host, calls };
}

describe('guaranteed deletes', () => {
  it('retries through connection loss until the delete succeeds', async () => {
    const { host, calls } = fakeHost([connectionLoss(false), connectionLoss(true), 'ok']);
    const deletes = new GuaranteedDeletes(host, () => undefined);
    const seen: GuaranteedDeleteOutcome[] = [];
    deletes.onOutcome((outcome) => seen.push(outcome));
    const outcome = await deletes.add('/ns/a', '/a', -1, 5n);
    assert.deepEqual(outcome, { path: '/a', outcome: 'deleted' });
    assert.deepEqual(seen, [outcome]);
    assert.equal(calls.length, 3);
    assert.deepEqual(deletes.paths, []);
  });

  it('counts NoNode as gone and a refusal as final', async () => {
    const gone = new GuaranteedDeletes(fakeHost([new NoNodeError()]).host, () => undefined);
    assert.equal((await gone.add('/a', '/a', -1, 5n)).outcome, 'gone');
    const refusal = new BadVersionError();
    const refused = new GuaranteedDeletes(fakeHost([refusal]).host, () => undefined);
    assert.deepEqual(await refused.add('/a', '/a', 3, 5n), { path: '/a', outcome: 'failed', error: refusal });
  });

  it('joins a delete of the same path that is already pending', async () => {
    const { host, calls } = fakeHost(['hang']);
    const deletes = new GuaranteedDeletes(host, () => undefined);
    const first = deletes.add('/a', '/a', -1, 5n);
    const second = deletes.add('/a', '/a', -1, 5n);
    assert.equal(first, second);
    await new Promise((resolve) => setImmediate(resolve));
    await deletes.close();
    assert.equal((await first).outcome, 'abandoned');
    assert.equal(calls.length, 1);
  });

  it('abandons the deletes of a session that ended, not of others', async () => {
    const { host } = fakeHost(['hang', 'hang']);
    const deletes = new GuaranteedDeletes(host, () => undefined);
    const ours = deletes.add('/a', '/a', -1, 5n);
    const later = deletes.add('/b', '/b', -1, 0n); // asked before any session: not tied to 5n
    await new Promise((resolve) => setImmediate(resolve));
    deletes.abandonSession(5n);
    assert.equal((await ours).outcome, 'abandoned');
    assert.deepEqual(deletes.paths, ['/b']);
    await deletes.close();
    assert.equal((await later).outcome, 'abandoned');
  });

  it('abandons a delete whose session is no longer the current one', async () => {
    const { host, calls } = fakeHost([], 9n);
    const deletes = new GuaranteedDeletes(host, () => undefined);
    assert.equal((await deletes.add('/a', '/a', -1, 5n)).outcome, 'abandoned');
    assert.equal(calls.length, 0);
    // Asked before any session existed: any session will do.
    assert.equal((await deletes.add('/a', '/a', -1, 0n)).outcome, 'deleted');
  });

  it('sends listener errors to onListenerError', async () => {
    const errors: unknown[] = [];
    const deletes = new GuaranteedDeletes(fakeHost([]).host, (error) => errors.push(error));
    deletes.onOutcome(() => {
      throw new Error('listener bug');
    });
    await deletes.add('/a', '/a', -1, 5n);
    assert.equal(errors.length, 1);
  });
});
