// `npm run fuzz`: a bounded fuzzing campaign against an in-process standalone server. Phases: the pure
// decoders and parseZooCfg in process, then garbage on an ensemble peer's ports (peer-fuzz.ts), then
// the hostile sequences, then mutated frames over loopback sockets. Environment: FUZZ_TIME_MS (default
// 5 minutes), FUZZ_INPUTS (decoder inputs, default 1,000,000), FUZZ_SEED (replays a run),
// FUZZ_HEAP_MAX_MB (heap bound in the socket phase, default 512).
// Prints counts; exits 1 on any finding (a crash, a hang, a wrong reply, memory over its bound).

import { startServer } from '../../server/index.js';
import { HOSTILE_CASES, runHostileCase } from './hostile.js';
import { fuzzInProcess, newCounts, type Finding } from './in-process.js';
import { fuzzPeerPorts, fuzzPeerWireOnce } from './peer-fuzz.js';
import { Prng } from './inputs.js';
import { FUZZ_SUPER_DIGEST, fuzzSockets, newSocketCounts } from './socket-fuzz.js';

const timeMs = Number(process.env.FUZZ_TIME_MS ?? 5 * 60_000);
const inputsMax = Number(process.env.FUZZ_INPUTS ?? 1_000_000);
const seed = Number(process.env.FUZZ_SEED ?? Date.now() % 2 ** 31);
const heapMb = Number(process.env.FUZZ_HEAP_MAX_MB ?? 512);
const startedMs = Date.now();
const mb = (bytes: number) => `${(bytes / 2 ** 20).toFixed(0)} MB`;

async function main(): Promise<number> {
  console.log(`fuzz: seed ${seed}, time ${timeMs} ms, in-process inputs up to ${inputsMax}`);
  const findings: Finding[] = [];

  // Phase 1 (a third of the time): the decoders and the config parser, in batches.
  const inProcess = newCounts();
  const phase1EndMs = startedMs + timeMs / 3;
  let done = 0;
  while (done < inputsMax && Date.now() < phase1EndMs) {
    const batch = Math.min(10_000, inputsMax - done);
    fuzzInProcess(seed + done, batch, inProcess);
    done += batch;
  }
  findings.push(...inProcess.findings);
  console.log(
    `decoders: ${done} inputs (${inProcess.decoded} decoded, ${inProcess.decodeErrors} DecodeErrors); ` +
      `zoo.cfg: ${inProcess.configsParsed} parsed, ${inProcess.configErrors} ConfigErrors; ` +
      `${inProcess.findings.length} findings, ${((Date.now() - startedMs) / 1000).toFixed(1)} s`,
  );

  // The peer wire decoder (a tenth as many inputs), then garbage on an ensemble peer's two ports.
  const peerWireRng = new Prng(seed);
  const peers = { cases: 0, decoded: 0, decodeErrors: 0, healthChecks: 0, findings: [] as Finding[] };
  for (let i = 0; i < done / 10; i++) fuzzPeerWireOnce(peerWireRng, peers);
  const peerPorts = await fuzzPeerPorts({ seed, casesMax: 5_000, deadlineMs: Date.now() + timeMs / 10 });
  findings.push(...peers.findings, ...peerPorts.findings);
  const peerInputs = peers.decoded + peers.decodeErrors;
  console.log(`peers: ${peerInputs} wire inputs (${peers.decodeErrors} DecodeErrors), ` +
    `${peerPorts.cases} socket cases, ${peerPorts.healthChecks} health checks`);

  const serverOptions = { maxClientConnectionsPerIp: 0, superDigest: FUZZ_SUPER_DIGEST, tickTimeMs: 500 };
  await using server = await startServer(serverOptions);
  // With --expose-gc (as npm run fuzz runs it) the heap is measured after a collection: live data only.
  const collect = (globalThis as { gc?: () => void }).gc;
  const memory = () => {
    collect?.();
    return process.memoryUsage();
  };

  // Phase 2: hostile sequences, each once.
  for (const hostile of HOSTILE_CASES) {
    const t0 = Date.now();
    try {
      await runHostileCase(hostile, server.port);
      console.log(`hostile: ${hostile.name}: ok (${Date.now() - t0} ms, heap ${mb(memory().heapUsed)})`);
    } catch (error) {
      findings.push({ target: `hostile/${hostile.name}`, input: '', error: String((error as Error).stack) });
      console.log(`hostile: ${hostile.name}: FAILED ${String(error)}`);
    }
  }

  // Phase 3: the rest of the time, mutated frames over sockets.
  const sockets = newSocketCounts();
  let lastPrintMs = Date.now();
  await fuzzSockets(
    {
      port: server.port, seed, casesMax: Number.MAX_SAFE_INTEGER, deadlineMs: startedMs + timeMs,
      concurrency: 16, memory, heapUsedBytesMax: heapMb * 2 ** 20,
      onProgress: (c) => {
        if (Date.now() - lastPrintMs < 10_000) return;
        lastPrintMs = Date.now();
        console.log(`sockets: ${c.cases} cases, ${c.framesSent} frames, heap ${mb(memory().heapUsed)}`);
      },
    },
    sockets,
  );
  findings.push(...sockets.findings);
  console.log(
    `sockets: ${sockets.cases} cases, ${sockets.framesSent} frames (${mb(sockets.bytesSent)}), ` +
      `${sockets.replies} replies, ${sockets.closedByServer} closed by the server, ` +
      `${sockets.healthChecks} health checks passed; max heap ${mb(sockets.heapUsedMaxBytes)}, ` +
      `max rss ${mb(sockets.rssMaxBytes)}; server connections left open: ${server.connectionCount}`,
  );
  const total = done + sockets.framesSent;
  const seconds = ((Date.now() - startedMs) / 1000).toFixed(1);
  console.log(`total: ${total} inputs in ${seconds} s, ${findings.length} findings`);
  for (const finding of findings.slice(0, 20)) console.log(finding);
  return findings.length === 0 ? 0 : 1;
}

process.exitCode = await main();
