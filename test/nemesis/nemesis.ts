// The nemesis: a seeded schedule of faults (kill -9 or SIGSTOP of the leader or of random members,
// never more than a minority of voters at once; with a small disk per member, one member's disk
// filled; with network namespaces, partitions: majority/minority, a bridge member seeing both sides,
// an isolated leader), carried out on a real-process ensemble, with the time each fault took to
// recover from: until a probe client's write succeeds again, and until the faulted members serve
// again after being restarted, resumed, given their space back (and restarted) or reconnected.
import { performance } from 'node:perf_hooks';
import { ZooKeeperClient } from '../../src/index.js';
import type { Ensemble, EnsembleMember } from '../support/ensemble.js';
import { Prng } from '../simulation/prng.js';
import { fillDisk, freeDisk } from './disk.js';
import type { NetworkLab } from './netns.js';

export type FaultAction =
  | 'kill9'
  | 'pause'
  | 'disk-full'
  | 'partition-halves'
  | 'partition-bridge'
  | 'partition-leader';

export const PROCESS_FAULTS: readonly FaultAction[] = ['kill9', 'pause'];
export const PARTITION_FAULTS: readonly FaultAction[] = [
  'partition-halves',
  'partition-bridge',
  'partition-leader',
];

export interface PlannedFault {
  /** From the start of the fault phase. */
  readonly atMs: number;
  readonly action: FaultAction;
  /** Whether the first target is the current leader (else a random voter or observer). */
  readonly leader: boolean;
  /** How many members at once (at most a minority of voters). */
  readonly count: number;
  /** How long the fault lasts before it is healed. */
  readonly holdMs: number;
}

export interface FaultRecord {
  readonly action: FaultAction;
  readonly members: readonly string[];
  /** When injected, ms after the fault phase began. */
  readonly atMs: number;
  /** Until the probe's first successful write after the fault (undefined: none within the bound). */
  readonly writeRecoveryMs: number | undefined;
  /** From the heal (restart / SIGCONT / space freed and restart / links back) until all serve again. */
  readonly rejoinMs: number | undefined;
  /** The probe's session expired during this fault (it then starts a new one). */
  readonly probeSessionExpired: boolean;
  /** What the fault looked like (the partition's sides; what a member did on a full disk). */
  readonly detail?: string;
  readonly error?: string;
}

/**
 * Faults one after another until `durationMs`: gap, fault, hold, heal, gap, ... drawn from `actions`
 * (kill -9 and SIGSTOP by default, kill -9 more often; with other actions, each equally likely).
 * The plan depends on the seed and the actions only: both kinds of ensemble get the same one.
 */
export function planFaults(
  seed: number,
  durationMs: number,
  voters: number,
  actions: readonly FaultAction[] = PROCESS_FAULTS,
): PlannedFault[] {
  const random = new Prng(seed);
  const minority = Math.floor((voters - 1) / 2);
  const plan: PlannedFault[] = [];
  const processOnly = actions.length === 2 && actions.every((a) => PROCESS_FAULTS.includes(a));
  let at = 1_000 + random.float() * 1_000;
  while (at < durationMs - 2_000) {
    const holdMs = 800 + Math.floor(random.float() * 1_700);
    const draw = random.float();
    const drawn = actions[Math.floor(draw * actions.length)]!;
    const action = processOnly ? (draw < 0.6 ? 'kill9' : 'pause') : drawn;
    // A full disk and a partition are held longer: long enough for an election and for a full log to bite.
    const longerMs = PROCESS_FAULTS.includes(action) ? 0 : 1_500;
    plan.push({
      atMs: Math.round(at),
      action,
      leader: random.float() < 0.6,
      count: 1 + Math.floor(random.float() * minority),
      holdMs: holdMs + longerMs,
    });
    // The next fault after this one healed and settled a little (a member restart takes a while).
    at += holdMs + longerMs + 2_500 + random.float() * 2_000;
  }
  return plan;
}

export interface NemesisRun {
  readonly faults: FaultRecord[];
  readonly done: Promise<void>;
}

const now = () => performance.now();

/** Carries out `plan` on `ensemble`, writing to `probePath` to time recoveries. */
export function runFaults(
  ensemble: Ensemble,
  plan: readonly PlannedFault[],
  probePath: string,
  seed: number,
  network?: NetworkLab,
): NemesisRun {
  const faults: FaultRecord[] = [];
  const random = new Prng(seed ^ 0x5eed);
  const done = (async () => {
    await using probe = new Probe(ensemble.connectString, probePath);
    const start = now();
    for (const fault of plan) {
      if (now() - start > fault.atMs + 2_000) continue; // the previous fault overran this one's slot
      const wait = start + fault.atMs - now();
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
      faults.push(await inject(ensemble, fault, probe, random, now() - start, network));
    }
  })();
  return { faults, done };
}

async function inject(
  ensemble: Ensemble,
  fault: PlannedFault,
  probe: Probe,
  random: Prng,
  atMs: number,
  network: NetworkLab | undefined,
): Promise<FaultRecord> {
  const expiredBefore = probe.sessionsExpired;
  let recovery: Promise<number | undefined> = Promise.resolve(undefined);
  let rejoinMs: number | undefined;
  let error: string | undefined;
  let names: string[] = [];
  let detail: string | undefined;
  try {
    const carried = await carryOut(ensemble, fault, random, network);
    names = carried.names;
    recovery = probe.timeFirstWrite(now(), 30_000);
    await new Promise((resolve) => setTimeout(resolve, fault.holdMs));
    detail = await carried.heal();
    const healedAt = now();
    const serving = ['leader', 'follower', 'observer'] as const;
    await Promise.all(carried.members.map((member) => member.waitMode(serving, 45_000)));
    // A resumed (or reconnected) leader says 'leader' until it notices it was replaced: wait for one.
    await ensemble.leader(45_000);
    rejoinMs = now() - healedAt;
  } catch (failure) {
    error = String(failure).split('\n')[0];
    await network?.heal().catch(() => {});
  }
  const writeRecoveryMs = await recovery;
  const probeSessionExpired = probe.sessionsExpired > expiredBefore;
  const record = { action: fault.action, members: names, atMs, writeRecoveryMs, rejoinMs };
  const full = { ...record, probeSessionExpired, ...(detail === undefined ? {} : { detail }) };
  return error === undefined ? full : { ...full, error };
}

interface CarriedOut {
  /** The members named in the report (the leader marked). */
  readonly names: string[];
  /** The members that must serve again after the heal. */
  readonly members: EnsembleMember[];
  /** Ends the fault; resolves with a note on what the fault did, for the report. */
  heal(): Promise<string | undefined>;
}

async function carryOut(
  ensemble: Ensemble,
  fault: PlannedFault,
  random: Prng,
  network: NetworkLab | undefined,
): Promise<CarriedOut> {
  if (PARTITION_FAULTS.includes(fault.action)) {
    if (network === undefined) throw new Error(`${fault.action} needs network namespaces`);
    return await partition(ensemble, fault, random, network);
  }
  const targets = await chooseTargets(ensemble, fault, random);
  const names = targets.map((t) => `${t.member.id}${t.leader ? ' (leader)' : ''}`);
  const members = targets.map((t) => t.member);
  if (fault.action === 'disk-full') return await diskFull(members[0]!, names[0]!);
  for (const member of members) {
    if (fault.action === 'kill9') await member.kill9();
    else member.pause();
  }
  const heal = async () => {
    for (const member of members) {
      if (fault.action === 'kill9') await member.restart();
      else member.resume();
    }
    return undefined;
  };
  return { names, members, heal };
}

/**
 * Fills one member's disk. At the heal, notes what it did meanwhile (exited, stopped serving or went
 * on serving), gives the space back and restarts it, as an operator would after freeing space.
 */
async function diskFull(member: EnsembleMember, name: string): Promise<CarriedOut> {
  member.tolerateExit();
  const filledBytes = await fillDisk(member.dataDir);
  const heal = async () => {
    const state = member.state === 'stopped' ? 'exited' : (await member.mode()) || 'not serving';
    await freeDisk(member.dataDir);
    await member.restart();
    return `filled ${(filledBytes / 2 ** 20).toFixed(1)} MiB; meanwhile the member: ${state}`;
  };
  return { names: [name], members: [member], heal };
}

/**
 * Cuts links between members (blackhole routes; clients still reach every member): a minority of
 * voters from the rest, two minorities joined only through one bridge voter, or the leader alone.
 * Observers go to a random side.
 */
async function partition(
  ensemble: Ensemble,
  fault: PlannedFault,
  random: Prng,
  network: NetworkLab,
): Promise<CarriedOut> {
  const leader = await ensemble.leader(10_000).catch(() => undefined);
  const ids = ensemble.members.map((m) => m.id);
  const voters = ensemble.members.filter((m) => m.role === 'participant').map((m) => m.id);
  const observers = ids.filter((id) => !voters.includes(id));
  const shuffledVoters = shuffle(voters, random);
  let groups: number[][];
  if (fault.action === 'partition-leader' && leader !== undefined) {
    groups = [[leader.id], ids.filter((id) => id !== leader.id)];
  } else if (fault.action === 'partition-bridge') {
    const half = Math.floor((voters.length - 1) / 2);
    const sides = [shuffledVoters.slice(1, 1 + half), shuffledVoters.slice(1 + half)];
    for (const id of observers) sides[random.float() < 0.5 ? 0 : 1]!.push(id);
    groups = sides; // shuffledVoters[0] is in neither: it sees both sides
  } else {
    const small = shuffledVoters.slice(0, Math.floor((voters.length - 1) / 2));
    for (const id of observers) if (random.float() < 0.5) small.push(id);
    groups = [small, ids.filter((id) => !small.includes(id))];
  }
  await network.partition(groups);
  const mark = (id: number) => `${id}${leader?.id === id ? ' (leader)' : ''}`;
  const sides = groups.map((g) => `{${g.map(mark).join(', ')}}`).join(' | ');
  const bridged = ids.filter((id) => !groups.flat().includes(id));
  const detail = bridged.length > 0 ? `${sides}, bridge ${bridged.map(mark).join(', ')}` : sides;
  const heal = async () => {
    await network.heal();
    return detail;
  };
  const names = fault.action === 'partition-leader' ? [mark(groups[0]![0]!)] : groups[0]!.map(mark);
  return { names, members: ensemble.members.filter((m) => m.state === 'running'), heal };
}

function shuffle<T>(items: readonly T[], random: Prng): T[] {
  const copy = [...items];
  for (let i = copy.length - 1; i > 0; i--) {
    const j = Math.floor(random.float() * (i + 1));
    [copy[i], copy[j]] = [copy[j]!, copy[i]!];
  }
  return copy;
}

async function chooseTargets(
  ensemble: Ensemble,
  fault: PlannedFault,
  random: Prng,
): Promise<{ member: EnsembleMember; leader: boolean }[]> {
  const leader = await ensemble.leader(10_000).catch(() => undefined);
  const chosen: { member: EnsembleMember; leader: boolean }[] = [];
  if (fault.leader && leader !== undefined) chosen.push({ member: leader, leader: true });
  const voters = ensemble.members.filter((m) => m.role === 'participant');
  const votersDownMax = Math.floor((voters.length - 1) / 2);
  const candidates = ensemble.members.filter((m) => m.state === 'running' && m !== leader);
  while (chosen.length < fault.count && candidates.length > 0) {
    const [member] = candidates.splice(Math.floor(random.float() * candidates.length), 1);
    const votersChosen = chosen.filter((c) => c.member.role === 'participant').length;
    if (member!.role === 'participant' && votersChosen >= votersDownMax) continue;
    chosen.push({ member: member!, leader: false });
  }
  return chosen;
}

/** The client whose writes time recoveries; a new session replaces one that expired. */
class Probe implements AsyncDisposable {
  sessionsExpired = 0;
  #client: ZooKeeperClient | undefined;

  constructor(
    private readonly connectString: string,
    private readonly path: string,
  ) {}

  /** Writes until one succeeds; resolves with the time since `fromMs`, or undefined after `boundMs`. */
  async timeFirstWrite(fromMs: number, boundMs: number): Promise<number | undefined> {
    for (let attempt = 0; now() - fromMs < boundMs; attempt++) {
      try {
        const client = await this.#session();
        await client.setData(this.path, String(attempt), { signal: AbortSignal.timeout(2_000) });
        return now() - fromMs;
      } catch {
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    }
    return undefined;
  }

  async #session(): Promise<ZooKeeperClient> {
    const state = this.#client?.state.type;
    if (this.#client !== undefined && state !== 'expired' && state !== 'closed') return this.#client;
    if (state === 'expired') this.sessionsExpired++;
    await this.#client?.close();
    this.#client = undefined;
    const client = new ZooKeeperClient({
      connectString: this.connectString,
      sessionTimeoutMs: 8_000,
      reconnectDelayMaxMs: 200,
    });
    try {
      await client.connect({ timeoutMs: 2_000 });
    } catch (error) {
      await client.close();
      throw error;
    }
    this.#client = client;
    return client;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.#client?.close();
  }
}
