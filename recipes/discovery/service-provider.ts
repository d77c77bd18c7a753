// ServiceProvider: picks an instance of a service to call (Curator's ServiceProvider), from a
// ServiceCache, with a strategy (round robin, weighted random, sticky) and a down-instance policy: an
// instance this client reported failing (`noteError`) `errorThreshold` times is hidden for `timeoutMs`.
//
//   await using provider = await discovery.provider('api', { strategy: 'round-robin' });
//   const instance = provider.getInstance();         // undefined when none is usable
//   try { await call(instance) } catch (e) { provider.noteError(instance); throw e; }
//
// Guarantees: picks come from the cache (see ServiceCache: possibly stale while SUSPENDED). Only
// instances with a usable status ('up' unless `statuses` says otherwise) are picked. No I/O per pick.
import {
  DOWN_INSTANCE_POLICY_DEFAULT,
  noteInstanceError,
  pickInstance,
  STRATEGY_STATE_INITIAL,
  usableInstances,
  type DownInstancePolicy,
  type DownInstances,
  type ProviderStrategy,
  type StrategyState,
} from './provider.js';
import type { InstanceStatus, ServiceInstance } from './instance-format.js';
import type { ServiceCache } from './service-cache.js';

export interface ServiceProviderOptions<P> {
  /** Default 'round-robin' (Curator's default). */
  strategy?: ProviderStrategy;
  downInstancePolicy?: DownInstancePolicy;
  /** Statuses that take traffic; default ['up']. */
  statuses?: readonly InstanceStatus[];
  filters?: ReadonlyArray<(instance: ServiceInstance<P>) => boolean>;
  /** Default Math.random. */
  random?: () => number;
  /** Default Date.now. */
  nowMs?: () => number;
}

export class ServiceProvider<P = unknown> implements AsyncDisposable {
  #state: StrategyState = STRATEGY_STATE_INITIAL;
  #down: DownInstances = new Map();

  constructor(
    readonly cache: ServiceCache<P>,
    private readonly options: ServiceProviderOptions<P> = {},
    private readonly ownsCache = false,
  ) {}

  /** Every instance that may be picked now. */
  getAllInstances(): ServiceInstance<P>[] {
    return usableInstances(this.cache.instances, {
      nowMs: (this.options.nowMs ?? Date.now)(),
      down: this.#down,
      policy: this.options.downInstancePolicy ?? DOWN_INSTANCE_POLICY_DEFAULT,
      ...(this.options.statuses === undefined ? {} : { statuses: this.options.statuses }),
      ...(this.options.filters === undefined ? {} : { filters: this.options.filters }),
    });
  }

  /** One instance by the strategy, or undefined when none is usable. */
  getInstance(): ServiceInstance<P> | undefined {
    const strategy = this.options.strategy ?? 'round-robin';
    const random = this.options.random ?? Math.random;
    const picked = pickInstance(this.getAllInstances(), strategy, this.#state, random);
    this.#state = picked.state;
    return picked.instance;
  }

  /** Reports a failed call to `instance`; enough of them hide it for a while. */
  noteError(instance: ServiceInstance<P> | string): void {
    const id = typeof instance === 'string' ? instance : instance.id;
    const policy = this.options.downInstancePolicy ?? DOWN_INSTANCE_POLICY_DEFAULT;
    this.#down = noteInstanceError(this.#down, id, (this.options.nowMs ?? Date.now)(), policy);
  }

  async close(): Promise<void> {
    if (this.ownsCache) await this.cache.close();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}
