// The observer interface the client, the framework and the recipes report to, and the process-wide
// list of installed observers. Nothing is measured unless an observer asks for it: with none
// installed a hook is a function call that returns at once. Observers come in two kinds here:
// metrics (prometheus.ts, installed by the application with a registry of its choosing) and tracing
// (tracing.ts, installed by default; it is a no-op until the application installs an OpenTelemetry
// SDK). An observer that throws is ignored: observing must never break the thing observed.
//
// This file imports nothing of the client or the recipes, so every layer may call it.

/** One request's round trip, reported when its reply (or its failure) arrives. */
export interface RequestObservation {
  /** The opcode's name, e.g. 'getData', 'create', 'multi'. */
  readonly op: string;
  readonly durationMs: number;
  /** ZooKeeper's error code: 0 for success; -4 (ConnectionLoss) for a request the connection lost. */
  readonly errorCode: number;
}

/** A client's connection state as the client reports it ('connected', 'disconnected', 'expired', ...). */
export interface ClientStateObservation {
  /** The client object, as an identity for per-client bookkeeping (hold it weakly). */
  readonly client: object;
  readonly state: string;
  /** performance.now() when it changed. */
  readonly atMs: number;
}

/** Which lock: its directory and kind ('mutex', 'read', 'write', 'latch', 'lease', or 'lock'). */
export interface LockRef {
  readonly path: string;
  readonly kind: string;
}

export type LockWaitOutcome = 'acquired' | 'busy' | 'timeout' | 'aborted' | 'error';

export interface LockWaitObservation {
  /** The wait ended; `node` is the acquired contender node (with its fencing token) when acquired. */
  end(outcome: LockWaitOutcome, node?: { path: string; fencingToken: bigint }, error?: unknown): void;
}

export interface LockHoldObservation {
  /** The hold ended: released by its holder, or lost (session expired, node deleted, deadline). */
  end(how: 'released' | 'lost', reason?: string): void;
}

export interface LeadershipTermRef {
  readonly path: string;
  /** 'latch' or 'selector'. */
  readonly recipe: string;
  readonly fencingToken: bigint;
  readonly participantId?: string | undefined;
}

export interface LeadershipObservation {
  end(): void;
}

export interface RegistrationRef {
  readonly path: string;
  readonly name: string;
  readonly id: string;
}

export interface RegistrationObservation {
  end(error?: unknown): void;
}

/** What an observer may watch; every member is optional. */
export interface Observer {
  request?(observation: RequestObservation): void;
  clientState?(observation: ClientStateObservation): void;
  lockWait?(lock: LockRef): LockWaitObservation | undefined;
  lockHold?(lock: LockRef & { nodePath: string; fencingToken: bigint }): LockHoldObservation | undefined;
  leadershipTerm?(term: LeadershipTermRef): LeadershipObservation | undefined;
  registration?(registration: RegistrationRef): RegistrationObservation | undefined;
  cacheRebuilt?(cache: { path: string; reason: string }): void;
}

/** At most this many observers at once: installing in a loop without disposing is a leak, not a feature. */
export const OBSERVERS_MAX = 32;

const installed: Observer[] = [];
/** Observers that want `request`, kept apart so the client's hot path looks at one array. */
let requestObservers: Observer[] = [];

function refresh(): void {
  requestObservers = installed.filter((o) => typeof o.request === 'function');
}

/**
 * Installs `observer` process-wide; disposing the returned handle (or calling it) removes it again.
 * Every client, framework and recipe of this process reports to every installed observer.
 */
export function installObserver(observer: Observer): Disposable & (() => void) {
  if (installed.length >= OBSERVERS_MAX) {
    throw new RangeError(`at most ${OBSERVERS_MAX} observers may be installed at once`);
  }
  installed.push(observer);
  refresh();
  const uninstall = () => {
    const index = installed.indexOf(observer);
    if (index >= 0) installed.splice(index, 1);
    refresh();
  };
  return Object.assign(uninstall, { [Symbol.dispose]: uninstall });
}

/** The observers installed now, in installation order. */
export function installedObservers(): readonly Observer[] {
  return installed;
}

function safely(run: () => void): void {
  try {
    run();
  } catch {
    // an observer's failure is its own; the client goes on
  }
}

/** Calls `pick` on each observer that has the hook, collecting the observations it starts. */
function start<T>(pick: (o: Observer) => T | undefined): T[] {
  const started: T[] = [];
  for (const observer of installed) {
    safely(() => {
      const observation = pick(observer);
      if (observation !== undefined) started.push(observation);
    });
  }
  return started;
}

// ----- the hooks: what the client, the framework and the recipes call -----

/**
 * Starts timing one request; the returned function reports its end with the error code (0 = ok).
 * Undefined (nothing to do) when no observer wants requests.
 */
export function observeRequest(op: string): ((errorCode: number) => void) | undefined {
  if (requestObservers.length === 0) return undefined;
  const observers = requestObservers;
  const startedMs = performance.now();
  return (errorCode) => {
    const observation = { op, durationMs: performance.now() - startedMs, errorCode };
    for (const observer of observers) safely(() => observer.request!(observation));
  };
}

export function observeClientState(client: object, state: string): void {
  if (installed.length === 0) return;
  const observation = { client, state, atMs: performance.now() };
  for (const observer of installed) safely(() => observer.clientState?.(observation));
}

const LOCK_MARKERS: ReadonlyArray<[string, string]> = [
  ['__READ__', 'read'],
  ['__WRIT__', 'write'],
  ['latch-', 'latch'],
  ['lease-', 'lease'],
  ['lock-', 'mutex'],
];

/** The lock kind a contender node name (or marker) shows, by Curator's markers. */
export function lockKindOf(nodeNameOrMarker: string): string {
  let best: { index: number; kind: string } | undefined;
  for (const [marker, kind] of LOCK_MARKERS) {
    const index = nodeNameOrMarker.lastIndexOf(marker);
    if (index >= 0 && (best === undefined || index > best.index)) best = { index, kind };
  }
  return best?.kind ?? 'lock';
}

function errorTimedOut(error: unknown): boolean {
  return error instanceof Error && (error.name === 'LockTimeoutError' || error.name === 'TimeoutError');
}

/**
 * Observes one acquire of the lock at `path` around `run` (the wait). `run` resolves with the acquired
 * node, or undefined when a try-once found the lock taken; `signal` tells an abort from a failure.
 */
export async function observeLockWait<T extends { path: string; czxid: bigint } | undefined>(
  path: string,
  marker: string,
  signal: AbortSignal | undefined,
  run: () => Promise<T>,
): Promise<T> {
  if (installed.length === 0) return run();
  const lock = { path, kind: lockKindOf(marker) };
  const observations = start((o) => o.lockWait?.(lock));
  const end = (outcome: LockWaitOutcome, node?: { path: string; fencingToken: bigint }, error?: unknown) => {
    for (const observation of observations) safely(() => observation.end(outcome, node, error));
  };
  try {
    const node = await run();
    if (node === undefined) end('busy');
    else end('acquired', { path: node.path, fencingToken: node.czxid });
    return node;
  } catch (error) {
    end(signal?.aborted === true ? 'aborted' : errorTimedOut(error) ? 'timeout' : 'error', undefined, error);
    throw error;
  }
}

/** The part of a held lease the hold observation listens to: its state events. */
export interface LeaseEvents {
  on(event: 'state', listener: (state: { kind: string; reason?: unknown }) => void): unknown;
  off(event: 'state', listener: (state: { kind: string; reason?: unknown }) => void): unknown;
}

/** Observes a held lock node from now until its lease says released or lost. */
export function observeLockHold(node: { path: string; czxid: bigint }, lease: LeaseEvents): void {
  if (installed.length === 0) return;
  const slash = node.path.lastIndexOf('/');
  const lock = {
    path: slash <= 0 ? '/' : node.path.slice(0, slash),
    kind: lockKindOf(node.path.slice(slash + 1)),
    nodePath: node.path,
    fencingToken: node.czxid,
  };
  const observations = start((o) => o.lockHold?.(lock));
  if (observations.length === 0) return;
  const onState = (state: { kind: string; reason?: unknown }) => {
    if (state.kind !== 'released' && state.kind !== 'lost') return;
    lease.off('state', onState);
    const reason = state.reason === undefined ? undefined : String(state.reason);
    for (const observation of observations) safely(() => observation.end(state.kind as 'released', reason));
  };
  lease.on('state', onState);
}

/** Observes one leadership term; call `end` when it ends (never twice). */
export function observeLeadershipTerm(term: LeadershipTermRef): LeadershipObservation {
  if (installed.length === 0) return { end: () => undefined };
  const observations = start((o) => o.leadershipTerm?.(term));
  let ended = false;
  return {
    end: () => {
      if (ended) return;
      ended = true;
      for (const observation of observations) safely(() => observation.end());
    },
  };
}

/** Observes one service registration around `run` (creating the instance's node). */
export async function observeRegistration<T>(
  registration: RegistrationRef,
  run: () => Promise<T>,
): Promise<T> {
  if (installed.length === 0) return run();
  const observations = start((o) => o.registration?.(registration));
  try {
    const result = await run();
    for (const observation of observations) safely(() => observation.end());
    return result;
  } catch (error) {
    for (const observation of observations) safely(() => observation.end(error));
    throw error;
  }
}

/** A cache read its whole tree again ('reconnect' or 'new-session'). */
export function observeCacheRebuild(path: string, reason: string): void {
  if (installed.length === 0) return;
  for (const observer of installed) safely(() => observer.cacheRebuilt?.({ path, reason }));
}
