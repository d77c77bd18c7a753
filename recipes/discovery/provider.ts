// Choosing an instance to call, as Curator's ServiceProvider does, without its I/O: filter out instances
// that are not up or that this client has seen failing (DownInstancePolicy: hidden once `errorThreshold`
// errors were noted, until `timeoutMs` after the first), then apply a strategy: round robin (Curator's
// default), random (weighted by our `weight`), or sticky (keep the last pick while it is listed).
// Pure: the clock and the random source come in; strategy and down-instance state are plain values.
import type { InstanceStatus, ServiceInstance } from './instance-format.js';

export interface DownInstancePolicy {
  timeoutMs: number;
  errorThreshold: number;
}

/** Curator's defaults: 30 s, 2 errors. */
export const DOWN_INSTANCE_POLICY_DEFAULT: DownInstancePolicy = { timeoutMs: 30_000, errorThreshold: 2 };
/** Instances tracked as failing at most; the oldest entries go first beyond it. */
export const DOWN_INSTANCES_MAX = 10_000;

/** Errors noted per instance id, with the time of the first. */
export type DownInstances = ReadonlyMap<string, { sinceMs: number; errors: number }>;

/** Notes one error against an instance (e.g. a failed call), forgetting entries that timed out. */
export function noteInstanceError(
  down: DownInstances,
  instanceId: string,
  nowMs: number,
  policy: DownInstancePolicy = DOWN_INSTANCE_POLICY_DEFAULT,
): DownInstances {
  const next = new Map([...down].filter(([, entry]) => nowMs - entry.sinceMs < policy.timeoutMs));
  const entry = next.get(instanceId);
  next.delete(instanceId);
  next.set(instanceId, { sinceMs: entry?.sinceMs ?? nowMs, errors: (entry?.errors ?? 0) + 1 });
  while (next.size > DOWN_INSTANCES_MAX) next.delete(next.keys().next().value!);
  return next;
}

export function isInstanceDown(
  down: DownInstances,
  instanceId: string,
  nowMs: number,
  policy: DownInstancePolicy = DOWN_INSTANCE_POLICY_DEFAULT,
): boolean {
  const entry = down.get(instanceId);
  if (entry === undefined || nowMs - entry.sinceMs >= policy.timeoutMs) return false;
  return entry.errors >= policy.errorThreshold;
}

export interface UsableOptions<P> {
  nowMs: number;
  down?: DownInstances;
  policy?: DownInstancePolicy;
  /** Statuses that take traffic; default only 'up'. */
  statuses?: readonly InstanceStatus[];
  /** Extra filters, e.g. a zone preference. */
  filters?: ReadonlyArray<(instance: ServiceInstance<P>) => boolean>;
}

export function usableInstances<P>(
  instances: readonly ServiceInstance<P>[],
  options: UsableOptions<P>,
): ServiceInstance<P>[] {
  const statuses = options.statuses ?? ['up'];
  const down = options.down ?? new Map();
  return instances.filter(
    (instance) =>
      statuses.includes(instance.status) &&
      !isInstanceDown(down, instance.id, options.nowMs, options.policy) &&
      (options.filters ?? []).every((keep) => keep(instance)),
  );
}

export type ProviderStrategy = 'round-robin' | 'random' | 'sticky-round-robin' | 'sticky-random';

/** What a strategy remembers between picks. */
export interface StrategyState {
  /** Round robin's position (Curator: an ever-increasing counter modulo the list length). */
  counter: number;
  /** The sticky strategies' current instance id. */
  stickyId: string | undefined;
}

export const STRATEGY_STATE_INITIAL: StrategyState = { counter: 0, stickyId: undefined };

export interface Pick<P> {
  instance: ServiceInstance<P> | undefined;
  state: StrategyState;
}

/** Picks one of `instances` (already filtered); `random` returns a number in [0, 1). */
export function pickInstance<P>(
  instances: readonly ServiceInstance<P>[],
  strategy: ProviderStrategy,
  state: StrategyState,
  random: () => number,
): Pick<P> {
  if (instances.length === 0) return { instance: undefined, state: { ...state, stickyId: undefined } };
  if (strategy === 'sticky-round-robin' || strategy === 'sticky-random') {
    const current = instances.find((instance) => instance.id === state.stickyId);
    if (current !== undefined) return { instance: current, state };
    const base = strategy === 'sticky-round-robin' ? 'round-robin' : 'random';
    const picked = pickInstance(instances, base, state, random);
    return { instance: picked.instance, state: { ...picked.state, stickyId: picked.instance?.id } };
  }
  if (strategy === 'round-robin') {
    const instance = instances[state.counter % instances.length];
    return { instance, state: { ...state, counter: (state.counter + 1) % Number.MAX_SAFE_INTEGER } };
  }
  return { instance: pickWeighted(instances, random()), state };
}

/** Weighted random choice; instances of weight 0 are never picked (none at all if every weight is 0). */
function pickWeighted<P>(
  instances: readonly ServiceInstance<P>[],
  draw: number,
): ServiceInstance<P> | undefined {
  const total = instances.reduce((sum, instance) => sum + instance.weight, 0);
  if (total <= 0) return undefined;
  let remaining = draw * total;
  for (const instance of instances) {
    if (instance.weight <= 0) continue;
    remaining -= instance.weight;
    if (remaining < 0) return instance;
  }
  return instances.findLast((instance) => instance.weight > 0);
}
