// Issue 9's speed figures: a 3-member ensemble of ours beside a 3-member Apache 3.8 ensemble, every
// member a process of its own (bench/ensembles.ts), both driven by our client. Writes (create,
// setData on 100-byte znodes at 1 and 64 outstanding) through a follower and through the leader; and
// failover: the leader is killed with SIGKILL and a client whose connect string lists every member
// retries a setData until one succeeds; the killed member is restarted between rounds.
import { randomBytes } from 'node:crypto';
import { ZooKeeperClient } from '../src/client/index.js';
import { connectClient } from './clients.js';
import { comparison, type Comparison, type Figure, type RunMode, type Side } from './comparison.js';
import {
  modeOf, startBenchEnsemble, type BenchEnsemble, type EnsembleKind, type EnsembleMemberProcess,
} from './ensembles.js';
import { apacheAvailable } from './servers.js';
import { lifecycleFigures, lifecycleRound, ZNODE_BYTES, type ClientOp } from './workload.js';

const SIDES: Array<{ label: string; kind: EnsembleKind }> = [
  { label: 'our ensemble', kind: 'ours' },
  { label: 'Apache 3.8 ensemble', kind: 'apache' },
];
const WRITE_COUNTS = { quick: { 1: 100, 64: 1000 }, full: { 1: 400, 64: 5000 } };
const WRITE_OPS: readonly ClientOp[] = ['create', 'setData'];
const PLACEMENTS = ['via follower', 'via leader'] as const;
const FAILOVER_KEY = 'leader kill → first write';
const NEW_LEADER_KEY = 'leader kill → a new leader serves';
const RETRY_PAUSE_MS = 2;

async function skipReason(): Promise<string | undefined> {
  if (!apacheAvailable()) return 'Apache ZooKeeper (Debian `zookeeper`) or java is not installed';
  return undefined;
}

interface EnsemblesContext {
  ensembles: BenchEnsemble[];
}

/** Both ensembles for the whole comparison (each side uses its own; the other idles meanwhile). */
async function startEnsembles(): Promise<EnsemblesContext & AsyncDisposable> {
  const ensembles: BenchEnsemble[] = [];
  const stopAll = async () => {
    await Promise.all(ensembles.map((e) => e.stop().catch(() => undefined)));
  };
  try {
    for (const { kind } of SIDES) ensembles.push(await startBenchEnsemble(kind));
  } catch (error) {
    await stopAll();
    throw error;
  }
  return { ensembles, [Symbol.asyncDispose]: stopAll };
}

function placedFigures(): Figure[] {
  const base = lifecycleFigures(WRITE_OPS);
  return PLACEMENTS.flatMap((placement) => base.map((f) => ({ ...f, key: `${placement}: ${f.key}` })));
}

function writeComparison(): Comparison {
  const side = (index: number): Side<EnsemblesContext> => ({
    label: SIDES[index]!.label,
    async measure({ ensembles }, { quick, signal }: RunMode) {
      const ensemble = ensembles[index]!;
      const leader = await ensemble.settled(signal);
      const follower = ensemble.members.find((m) => m !== leader)!;
      const figures: Record<string, number> = {};
      for (const placement of PLACEMENTS) {
        const member = placement === 'via leader' ? leader : follower;
        const client = await connectClient('ours', member.connectString);
        try {
          const counts = WRITE_COUNTS[quick ? 'quick' : 'full'];
          const round = await lifecycleRound(client, counts, signal, WRITE_OPS);
          for (const [key, value] of Object.entries(round)) figures[`${placement}: ${key}`] = value;
        } finally {
          await client.close();
        }
      }
      return figures;
    },
  });
  return comparison<EnsemblesContext>({
    name: 'Ensemble writes: 3 members of ours vs 3 of Apache 3.8, driven by our client',
    notes: [
      'Each member its own process on loopback with its own dataDir (durable: fsync before ack);',
      '  tickTime 2000, initLimit 10, syncLimit 5 on both. The client connects to one member only.',
      'Goal (issue 9): ≥ 1.3× Apache through a follower and through the leader, at 1 and 64 outstanding.',
    ],
    figures: placedFigures(),
    sides: [side(0), side(1)],
    firstIsOurs: true,
    rounds: { quick: 2, full: 6 },
    roundTimeLimitMs: { quick: 60_000, full: 180_000 },
    skipReason,
    setup: startEnsembles,
  });
}

/** Polls the members' `srvr` until one of them reports leading; resolves with the time it took. */
async function newLeaderServes(
  members: readonly EnsembleMemberProcess[],
  startMs: number,
  signal: AbortSignal,
): Promise<number> {
  for (;;) {
    signal.throwIfAborted();
    const modes = await Promise.all(members.map(modeOf));
    if (modes.includes('leader')) return performance.now() - startMs;
    await new Promise((resolve) => setTimeout(resolve, RETRY_PAUSE_MS));
  }
}

/**
 * Kills the leader, then times the first setData that succeeds, and (polling `srvr` beside it) the
 * first survivor that reports leading, which leaves out the client's reconnect backoff. The killed
 * member restarts afterwards.
 */
async function failoverRound(ensemble: BenchEnsemble, signal: AbortSignal): Promise<Record<string, number>> {
  const leader = await ensemble.settled(signal);
  const client = new ZooKeeperClient({ connectString: ensemble.connectString, sessionTimeoutMs: 30_000 });
  const path = `/failover-${randomBytes(6).toString('hex')}`;
  const data = randomBytes(ZNODE_BYTES);
  try {
    await client.connect({ timeoutMs: 20_000, signal });
    await client.create(path, data);
    const survivors = ensemble.members.filter((m) => m !== leader);
    const startMs = performance.now();
    await ensemble.kill(leader);
    const newLeaderMs = newLeaderServes(survivors, startMs, signal);
    for (;;) {
      signal.throwIfAborted();
      try {
        await client.setData(path, data);
        break;
      } catch {
        await new Promise((resolve) => setTimeout(resolve, RETRY_PAUSE_MS));
      }
    }
    const firstWriteMs = performance.now() - startMs;
    return { [FAILOVER_KEY]: firstWriteMs, [NEW_LEADER_KEY]: await newLeaderMs };
  } finally {
    await client.close();
    ensemble.restart(leader);
    await ensemble.settled(signal);
  }
}

function failoverComparison(): Comparison {
  const side = (index: number): Side<EnsemblesContext> => ({
    label: SIDES[index]!.label,
    async measure({ ensembles }, { signal }: RunMode) {
      return await failoverRound(ensembles[index]!, signal);
    },
  });
  return comparison<EnsemblesContext>({
    name: 'Ensemble failover: leader kill -9 → first successful write, ours vs Apache 3.8',
    notes: [
      'Our client lists all three members; it is connected to whichever it picked (leader or not).',
      '  The time runs from SIGKILL of the leader to the first setData answered OK (retried every',
      `  ${RETRY_PAUSE_MS} ms after an error). The killed member restarts and rejoins between rounds.`,
      'The client backs off up to 1 s (at random) after a refused connection, as Apache\'s does, so',
      `  "${NEW_LEADER_KEY}" (the first survivor whose srvr says leader, polled every ${RETRY_PAUSE_MS} ms)`,
      '  is given too: the servers\' part of the failover without the client\'s.',
      'Goal (issue 9): ≤ 0.75× Apache.',
    ],
    figures: [
      { key: FAILOVER_KEY, unit: 'ms', higherIsBetter: false },
      { key: NEW_LEADER_KEY, unit: 'ms', higherIsBetter: false },
    ],
    sides: [side(0), side(1)],
    firstIsOurs: true,
    rounds: { quick: 4, full: 10 },
    warmup: false,
    roundTimeLimitMs: { quick: 90_000, full: 120_000 },
    skipReason,
    setup: startEnsembles,
  });
}

export function ensembleComparisons(): Comparison[] {
  return [writeComparison(), failoverComparison()];
}
