// The nemesis: a seeded schedule of faults (kill -9 or SIGSTOP of the leader or of random members,
// never more than a minority of voters at once), carried out on a real-process ensemble, with the
// time each fault took to recover from: until a probe client's write succeeds again, and until the
// faulted members serve again after being restarted or resumed.
import { performance } from 'node:perf_hooks';
import { ZooKeeperClient } from '../../src/index.js';
import type { Ensemble, EnsembleMember } from '../support/ensemble.js';
import { Prng } from '../simulation/prng.js';

export type FaultAction = 'kill9' | 'pause';

export interface PlannedFault {
  /** From the start of the fault phase. */
  readonly atMs: number;
  readonly action: FaultAction;
  /** Whether the first target is the current leader (else a random voter or observer). */
  readonly leader: boolean;
  /** How many members at once (at most a minority of voters). */
  readonly count: number;
  /** How long the members stay down before they are restarted or resumed. */
  readonly holdMs: number;
}

export interface FaultRecord {
  readonly action: FaultAction;
  readonly members: readonly string[];
  /** When injected, ms after the fault phase began. */
  readonly atMs: number;
  /** Until the probe's first successful write after the fault (undefined: none within the bound). */
  readonly writeRecoveryMs: number | undefined;
  /** From the heal (restart / SIGCONT) until every faulted member serves again. */
  readonly rejoinMs: number | undefined;
  /** The probe's session expired during this fault (it then starts a new one). */
  readonly probeSessionExpired: boolean;
  readonly error?: string;
}

/** Faults one after another until `durationMs`: gap, fault, hold, heal, gap, ... */
export function planFaults(seed: number, durationMs: number, voters: number): PlannedFault[] {
  const random = new Prng(seed);
  const minority = Math.floor((voters - 1) / 2);
  const plan: PlannedFault[] = [];
  let at = 1_000 + random.float() * 1_000;
  while (at < durationMs - 2_000) {
    const holdMs = 800 + Math.floor(random.float() * 1_700);
    plan.push({
      atMs: Math.round(at),
      action: random.float() < 0.6 ? 'kill9' : 'pause',
      leader: random.float() < 0.6,
      count: 1 + Math.floor(random.float() * minority),
      holdMs,
    });
    // The next fault after this one healed and settled a little (a member restart takes a while).
    at += holdMs + 2_500 + random.float() * 2_000;
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
      faults.push(await inject(ensemble, fault, probe, random, now() - start));
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
): Promise<FaultRecord> {
  const targets = await chooseTargets(ensemble, fault, random);
  const names = targets.map((t) => `${t.member.id}${t.leader ? ' (leader)' : ''}`);
  const injectedAt = now();
  for (const { member } of targets) {
    if (fault.action === 'kill9') await member.kill9();
    else member.pause();
  }
  const expiredBefore = probe.sessionsExpired;
  const recovery = probe.timeFirstWrite(injectedAt, 30_000);
  await new Promise((resolve) => setTimeout(resolve, fault.holdMs));
  const healedAt = now();
  let rejoinMs: number | undefined;
  let error: string | undefined;
  try {
    for (const { member } of targets) {
      if (fault.action === 'kill9') await member.restart();
      else member.resume();
    }
    const serving = ['leader', 'follower', 'observer'] as const;
    await Promise.all(targets.map(({ member }) => member.waitMode(serving, 45_000)));
    // A resumed leader goes on saying 'leader' until it notices it was replaced: wait for one leader.
    await ensemble.leader(45_000);
    rejoinMs = now() - healedAt;
  } catch (failure) {
    error = String(failure).split('\n')[0];
  }
  const writeRecoveryMs = await recovery;
  const probeSessionExpired = probe.sessionsExpired > expiredBefore;
  const record = { action: fault.action, members: names, atMs, writeRecoveryMs, rejoinMs };
  const full = { ...record, probeSessionExpired };
  return error === undefined ? full : { ...full, error };
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
