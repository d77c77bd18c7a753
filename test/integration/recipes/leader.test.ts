// Leader latch, selector and runAsLeader against Apache ZooKeeper 3.8: exactly one leader, terms
// that strictly increase, leadership handed on when the leader closes or its session is lost, the
// job's signal aborted on loss, and a selector that keeps re-queueing after a job throws.
import assert from 'node:assert/strict';
import { it } from 'mocha';
import { retryNTimes, type Framework } from '../../../src/index.js';
import { LeaderLatch, runAsLeader, type LeadershipChange } from '../../../recipes/index.js';
import { startControlledProxy, type ControlledProxy } from '../../support/controlled-proxy.js';
import { describeOnRecipeServers } from './discovery-support/servers.js';
import { eventually } from '../framework/support/wait.js';

describeOnRecipeServers('leader election', '/election/latch-', (suite) => {
  const { fx, path: freshPath } = suite;
  // The specs keep their indentation in this block, so specs added on other branches still merge.
  {
    const frameworkOptions = { retry: retryNTimes(3, 50), connectionTimeoutMs: 15_000 };

    function connect(options: { viaProxy?: ControlledProxy; sessionTimeoutMs?: number } = {}) {
      return fx.framework({
        ...frameworkOptions,
        sessionTimeoutMs: options.sessionTimeoutMs ?? 4000,
        ...(options.viaProxy === undefined
          ? {}
          : {
              connectString: options.viaProxy.connectString,
              client: { connectTimeoutMs: 300, reconnectDelayMaxMs: 50 },
            }),
      });
    }

    /** A proxy to the server, closed after the test (after the frameworks using it). */
    async function newProxy(): Promise<ControlledProxy> {
      const proxy = await startControlledProxy(suite.server.port);
      fx.defer({ [Symbol.asyncDispose]: () => proxy.close() });
      return proxy;
    }

    function latch(fw: Framework, path: string, id: string, options = {}): LeaderLatch {
      const l = new LeaderLatch(fw, path, { id, ...options });
      fx.defer({ [Symbol.asyncDispose]: () => l.close({ mode: 'silent' }) });
      l.start();
      return l;
    }

    it('elects exactly one leader, hands leadership on at close, with increasing terms', async () => {
      const path = freshPath();
      const all: LeaderLatch[] = [];
      for (const id of ['a', 'b', 'c']) all.push(latch(await connect(), path, id));
      const first = await Promise.race(all.map((l) => l.whenLeader().then((term) => ({ l, term }))));
      await eventually(async () => (await first.l.participants()).length === 3); // all nodes made
      const participants = await first.l.participants();
      assert.equal(participants.length, 3);
      assert.equal(participants.filter((p) => p.isLeader).length, 1);
      assert.equal(all.filter((l) => l.hasLeadership).length, 1);
      const leaderId = (await first.l.leader())!.id;
      assert.equal(participants[0]!.id, leaderId);
      const rest = all.filter((l) => l !== first.l);
      await first.l.close();
      assert.ok(first.term.signal.aborted, 'the closed leader term ended');
      const second = await Promise.race(rest.map((l) => l.whenLeader().then((term) => ({ l, term }))));
      assert.ok(second.term.term > first.term.term, 'terms strictly increase');
      assert.equal(rest.filter((l) => l.hasLeadership).length, 1);
    });

    it('reports changes as an async iterable; close notify says notLeader, silent says nothing', async () => {
      const path = freshPath();
      const fw = await connect();
      const notify = latch(fw, path, 'n');
      const seen: LeadershipChange[] = [];
      const controller = new AbortController();
      const reading = (async () => {
        for await (const change of notify.changes({ signal: controller.signal })) seen.push(change);
      })();
      await notify.whenLeader();
      await notify.close({ mode: 'notify' });
      await reading;
      assert.deepEqual(seen.map((c) => c.isLeader), [true, false]);
      const silent = latch(fw, path, 's');
      await silent.whenLeader();
      const after: LeadershipChange[] = [];
      silent.onChange((c) => after.push(c));
      await silent.close({ mode: 'silent' });
      assert.deepEqual(after, []);
    });

    it('whenLeader rejects with the abort reason while someone else leads', async () => {
      const path = freshPath();
      const leader = latch(await connect(), path, 'a');
      await leader.whenLeader();
      const follower = latch(await connect(), path, 'b');
      const controller = new AbortController();
      const waiting = follower.whenLeader({ signal: controller.signal });
      controller.abort(new Error('stop waiting'));
      await assert.rejects(waiting, /stop waiting/);
      assert.equal(follower.hasLeadership, false);
    });

    it('a leader cut off from its server loses its term; another leads with a higher term', async () => {
      const path = freshPath();
      const proxy = await newProxy();
      const cut = latch(await connect({ viaProxy: proxy, sessionTimeoutMs: 1200 }), path, 'cut');
      const term = await cut.whenLeader();
      const other = latch(await connect(), path, 'other');
      proxy.blackhole(true);
      await new Promise<void>((resolve) => term.signal.addEventListener('abort', () => resolve()));
      assert.equal(cut.hasLeadership, false);
      const next = await other.whenLeader();
      assert.ok(next.term > term.term);
      proxy.blackhole(false);
    });

    it('a pausing latch stays leader, uncertain, through a short disconnect', async () => {
      const path = freshPath();
      const proxy = await newProxy();
      const pausing = latch(await connect({ viaProxy: proxy }), path, 'p');
      const term = await pausing.whenLeader();
      const changes: LeadershipChange[] = [];
      pausing.onChange((c) => changes.push(c));
      const doubting = new Promise<void>((resolve) => {
        const off = pausing.onChange((c) => !c.isLeader && (off(), resolve()));
      });
      proxy.dropAll();
      await doubting;
      assert.equal(pausing.hasLeadership, false, 'not leader while uncertain');
      const again = await pausing.whenLeader();
      assert.equal(again, term, 'the same term goes on');
      assert.equal(term.signal.aborted, false);
      assert.deepEqual(changes.map((c) => [c.isLeader, !c.isLeader && c.uncertain === true]), [
        [false, true],
        [true, false],
      ]);
    });

    it('a latch set to resign ends its term at SUSPENDED and leads again after reconnecting', async () => {
      const path = freshPath();
      const proxy = await newProxy();
      const fw = await connect({ viaProxy: proxy });
      const resigning = latch(fw, path, 'r', { onSuspended: 'resign' });
      const first = await resigning.whenLeader();
      proxy.dropAll();
      await new Promise<void>((resolve) => first.signal.addEventListener('abort', () => resolve()));
      const second = await resigning.whenLeader();
      assert.ok(second.term > first.term, 'a new node, a new term');
      assert.equal((await resigning.participants()).length, 1, 'the old node is gone');
    });

    it('closing the framework first ends the terms of the latch and the selector', async () => {
      const path = freshPath();
      const fw = await connect();
      const l = latch(fw, path, 'x');
      let jobEnded!: () => void;
      let jobStarted!: () => void;
      const ended = new Promise<void>((resolve) => (jobEnded = resolve));
      const started = new Promise<void>((resolve) => (jobStarted = resolve));
      const selector = runAsLeader(fw, `${path}-selector`, async (signal) => {
        jobStarted();
        await new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve()));
        jobEnded();
      });
      await l.whenLeader();
      await started;
      const notLeader = new Promise<void>((resolve) => l.onChange((c) => !c.isLeader && resolve()));
      await fw.close();
      await notLeader;
      await ended;
      await l.close();
      await selector.close();
      assert.equal(l.hasLeadership, false);
      assert.equal(selector.hasLeadership, false);
    });

    it('runAsLeader: one job at a time, restarts after a throw or interrupt, aborts on close', async () => {
      const path = freshPath();
      let running = 0;
      let maxRunning = 0;
      const terms: bigint[] = [];
      const errors: unknown[] = [];
      let runs = 0;
      let fourthRun!: () => void;
      const fourth = new Promise<void>((resolve) => (fourthRun = resolve));
      const job = async (signal: AbortSignal, term: bigint) => {
        running++;
        maxRunning = Math.max(maxRunning, running);
        terms.push(term);
        runs++;
        try {
          if (runs === 1) throw new Error('job failed');
          if (runs >= 4) fourthRun();
          await new Promise<void>((resolve) => {
            if (signal.aborted) resolve();
            signal.addEventListener('abort', () => resolve(), { once: true });
            if (runs === 2) setImmediate(resolve); // returns on its own: requeue
          });
        } finally {
          running--;
        }
      };
      const a = runAsLeader(await connect(), path, job, { id: 'a', onError: (e) => errors.push(e) });
      const b = runAsLeader(await connect(), path, job, { id: 'b', onError: (e) => errors.push(e) });
      try {
        await new Promise<void>((resolve) => {
          const check = () => (runs >= 3 ? resolve() : setTimeout(check, 10));
          check();
        });
        (a.hasLeadership ? a : b).interruptLeadership();
        await fourth;
        assert.equal(maxRunning, 1);
        assert.equal(errors.length, 1);
        for (let i = 1; i < terms.length; i++) assert.ok(terms[i]! > terms[i - 1]!);
      } finally {
        await a.close();
        await b.close();
      }
      assert.equal(running, 0, 'close waited for the job to return');
    });
  }
});
