// A short slice of the socket fuzzer and of the hostile sequences against the standalone server (npm
// run fuzz runs the long campaign): no hang, no crash, and a fresh client is served after each.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'mocha';
import { startServer, type RunningServer } from '../../server/index.js';
import {
  bigData, connectionFlood, deepPath, hostileLengths, manyChildren, manyWatches, neverReads,
} from '../fuzz/hostile.js';
import { FUZZ_SUPER_DIGEST, checkServes, fuzzSockets, newSocketCounts } from '../fuzz/socket-fuzz.js';

describe('socket fuzz (short slice)', function () {
  this.timeout(60_000);
  let server: RunningServer;
  before(async () => {
    server = await startServer({
      maxClientConnectionsPerIp: 0,
      superDigest: FUZZ_SUPER_DIGEST,
      tickTimeMs: 500,
    });
  });
  after(async () => {
    await server.stop();
  });

  it('survives 800 random and mutated-frame cases and keeps serving', async () => {
    const counts = await fuzzSockets({
      port: server.port, seed: 13, casesMax: 800, deadlineMs: Date.now() + 30_000, concurrency: 8,
      healthEvery: 100, hangTimeoutMs: 15_000,
    });
    assert.deepEqual(counts.findings, []);
    assert.equal(counts.cases, 800);
    assert.ok(counts.healthChecks >= 8, `health checks: ${counts.healthChecks}`);
    assert.ok(counts.closedByServer > 0 && counts.replies > 0, JSON.stringify(counts));
  });

  const hostile: Array<[string, (port: number) => Promise<void>]> = [
    ['negative and huge vector lengths', hostileLengths],
    ['deep paths', async (port) => { await deepPath(port, 2000); await deepPath(port, 200_000); }],
    ['1 MB data (refused) and data just under the frame limit', bigData],
    ['5,000 children under one node', (port) => manyChildren(port, 5000)],
    ['2,000 watches on one session', (port) => manyWatches(port, 2000)],
    ['a flood of 300 connections', (port) => connectionFlood(port, 300)],
    ['a client that never reads 300 large replies', (port) => neverReads(port, 300)],
  ];
  for (const [name, run] of hostile) {
    it(`survives ${name}`, async () => {
      await run(server.port);
      await checkServes(server.port, newSocketCounts(), name.replace(/[^a-z0-9]/gi, '-'));
    });
  }
});
