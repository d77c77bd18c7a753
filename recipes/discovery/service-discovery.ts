// ServiceDiscovery: register this process's service instances and find others' (Curator's
// curator-x-discovery), in Curator's layout `<basePath>/<name>/<id>` and its JSON, so Node services
// and Java services using Curator see each other.
//
//   await using discovery = new ServiceDiscovery(zk, { basePath: '/services' });
//   await discovery.register({ name: 'api', port: 8080, payload: { region: 'eu' } });
//   const instances = await discovery.instances('api');
//   await using provider = await discovery.provider('api');
//   provider.getInstance();
//
// Guarantees. A DYNAMIC instance is an ephemeral node kept by a PersistentNode: SUSPENDED does
// nothing (the node may still be there); RECONNECTED on the same session checks the node and keeps it
// when it is ours with our data (no remove/add churn for consumers, unlike Curator); after a session
// loss it is registered again: a node left by one of our earlier sessions is replaced, a node of
// another live session with the same id is waited out, never deleted. A long pause that outlives the
// session makes the instance vanish until we are back. STATIC instances are persistent and deleted on
// unregister / close; PERMANENT ones are persistent and kept on close. Reads never throw on a broken
// instance node: it is reported (onBrokenInstance) and skipped.
import { networkInterfaces } from 'node:os';
import { randomUUID } from 'node:crypto';
import {
  ErrorCode,
  InvalidArgumentError,
  observeRegistration,
  type Framework,
  type FrameworkClock,
} from '../../src/index.js';
import { hasErrorCode } from '../cache/events.js';
import { PersistentNode } from '../nodes/persistent-node.js';
import {
  decodeServiceInstance,
  encodeServiceInstance,
  instanceProblem,
  type DecodeOptions,
  type ServiceInstance,
  type ServiceType,
  type UriSpec,
  type InstanceStatus,
} from './instance-format.js';
import { instancePath, servicePath } from './paths.js';
import { ServiceCache, type ServiceCacheOptions } from './service-cache.js';
import { ServiceProvider, type ServiceProviderOptions } from './service-provider.js';

/** Instance reads `instances()` has in flight at once. */
const INSTANCE_READS_IN_FLIGHT_MAX = 500;

export interface ServiceDiscoveryOptions {
  /** Where services live, e.g. '/services' (Curator's basePath). */
  basePath: string;
  /** Checks a payload read from ZooKeeper; returns why it is unacceptable, or undefined. */
  validatePayload?: DecodeOptions['validatePayload'];
  /** Writes `@class` into payloads for Java readers that want a specific class (see EncodeOptions). */
  payloadClass?: string;
  /** A node that is not a readable instance; a warning by default. */
  onBrokenInstance?: (broken: { name: string; id: string; problem: string }) => void;
  /** Failures of background re-registration; a warning by default. */
  onError?: (error: unknown) => void;
  /** Where registration timeouts and retry pauses read the time. Default: real time. */
  clock?: FrameworkClock;
}

/** What `register` takes: a name and whatever else differs from the defaults. */
export interface InstanceInput<P> {
  name: string;
  /** Default: a random UUID (Curator's default). */
  id?: string;
  /** Default: the first non-loopback IPv4 address (Curator's default), else null. */
  address?: string | null;
  port?: number | null;
  sslPort?: number | null;
  payload?: P | null;
  /** Default: now. */
  registrationTimeUTC?: number;
  /** Default DYNAMIC (ephemeral); DYNAMIC_SEQUENTIAL is refused. */
  serviceType?: ServiceType;
  uriSpec?: UriSpec | null;
  status?: InstanceStatus;
  zone?: string | null;
  weight?: number;
  version?: string | null;
  metadata?: Record<string, string>;
}

/** A complete instance from the input, with Curator's defaults; InvalidArgumentError for a bad one. */
export function serviceInstance<P>(input: InstanceInput<P>): ServiceInstance<P> {
  if (input === null || typeof input !== 'object') throw new InvalidArgumentError('an instance is required');
  if (input.serviceType === 'DYNAMIC_SEQUENTIAL') {
    throw new InvalidArgumentError('DYNAMIC_SEQUENTIAL instances are not supported: give each an id');
  }
  const instance: ServiceInstance<P> = {
    name: input.name,
    id: input.id ?? randomUUID(),
    address: input.address === undefined ? localAddress() : input.address,
    port: input.port ?? null,
    sslPort: input.sslPort ?? null,
    payload: input.payload ?? null,
    registrationTimeUTC: input.registrationTimeUTC ?? Date.now(),
    serviceType: input.serviceType ?? 'DYNAMIC',
    uriSpec: input.uriSpec ?? null,
    status: input.status ?? 'up',
    zone: input.zone ?? null,
    weight: input.weight ?? 1,
    version: input.version ?? null,
    metadata: input.metadata ?? {},
  };
  const problem = instanceProblem(instance);
  if (problem !== undefined) throw new InvalidArgumentError(`bad service instance: ${problem}`);
  return instance;
}

function localAddress(): string | null {
  for (const addresses of Object.values(networkInterfaces())) {
    for (const address of addresses ?? []) {
      if (address.family === 'IPv4' && !address.internal) return address.address;
    }
  }
  return null;
}

interface Registered<P> {
  instance: ServiceInstance<P>;
  node: PersistentNode;
}

export class ServiceDiscovery<P = unknown> implements AsyncDisposable {
  readonly basePath: string;
  readonly #zk: Framework;
  readonly #options: ServiceDiscoveryOptions;
  readonly #registered = new Map<string, Registered<P>>();
  readonly #closeables = new Set<AsyncDisposable>();
  #closed: Promise<void> | undefined;

  constructor(zk: Framework, options: ServiceDiscoveryOptions) {
    if (options === null || typeof options !== 'object') {
      throw new InvalidArgumentError('options are required');
    }
    servicePath(options.basePath, 'check'); // validates the base path
    this.basePath = options.basePath;
    this.#zk = zk;
    this.#options = options;
  }

  /** Instances registered through this object, by id. */
  get registered(): ServiceInstance<P>[] {
    return [...this.#registered.values()].map((entry) => entry.instance);
  }

  /**
   * Registers an instance and keeps it registered (re-created after deletion or session loss) until
   * unregister or close. Resolves with the complete instance once its node exists.
   */
  async register(
    input: InstanceInput<P> | ServiceInstance<P>,
    options: { signal?: AbortSignal; timeoutMs?: number } = {},
  ): Promise<ServiceInstance<P>> {
    this.#checkOpen();
    const instance = serviceInstance<P>(input);
    if (this.#registered.has(instance.id)) {
      await this.update(instance, options);
      return instance;
    }
    const node = new PersistentNode(this.#zk, instancePath(this.basePath, instance.name, instance.id), {
      mode: instance.serviceType === 'DYNAMIC' ? 'EPHEMERAL' : 'PERSISTENT',
      data: this.#encode(instance),
      deleteOnClose: instance.serviceType !== 'PERMANENT',
      onError: this.#onError,
      clock: this.#options.clock,
    });
    this.#registered.set(instance.id, { instance, node });
    try {
      const ref = { path: node.path, name: instance.name, id: instance.id };
      await observeRegistration(ref, () => node.start(options));
    } catch (error) {
      this.#registered.delete(instance.id);
      await node.close();
      throw error;
    }
    return instance;
  }

  /** Replaces a registered instance's data (same id); the node is updated in place. */
  async update(instance: ServiceInstance<P>, options: { signal?: AbortSignal } = {}): Promise<void> {
    this.#checkOpen();
    const entry = this.#registered.get(instance.id);
    if (entry === undefined) throw new InvalidArgumentError(`instance ${instance.id} is not registered here`);
    if (instance.name !== entry.instance.name) {
      throw new InvalidArgumentError('an update cannot change the service name; unregister and register');
    }
    const complete = serviceInstance<P>(instance);
    const data = this.#encode(complete);
    entry.instance = complete;
    await entry.node.setData(data, options);
  }

  /** Stops keeping the instance and deletes its node (if it is ours). */
  async unregister(instance: ServiceInstance<P> | string): Promise<void> {
    const id = typeof instance === 'string' ? instance : instance.id;
    const entry = this.#registered.get(id);
    if (entry === undefined) return;
    // Forget it first, so a reconnect in between cannot bring it back (CURATOR-164).
    this.#registered.delete(id);
    await entry.node.close();
  }

  /** The service names under the base path. */
  async names(options: { signal?: AbortSignal } = {}): Promise<string[]> {
    try {
      const { children } = await this.#zk.getChildren(this.basePath, { signal: options.signal });
      return children.sort();
    } catch (error) {
      if (hasErrorCode(error, ErrorCode.NO_NODE)) return [];
      throw error;
    }
  }

  /** The readable instances of a service, sorted by id (broken ones go to onBrokenInstance). */
  async instances(name: string, options: { signal?: AbortSignal } = {}): Promise<ServiceInstance<P>[]> {
    let ids: string[];
    try {
      const path = servicePath(this.basePath, name);
      ids = (await this.#zk.getChildren(path, { signal: options.signal })).children;
    } catch (error) {
      if (hasErrorCode(error, ErrorCode.NO_NODE)) return [];
      throw error;
    }
    // The instances' reads go out together (in bounded chunks), not one round trip each.
    const found: ServiceInstance<P>[] = [];
    const sorted = ids.sort();
    for (let start = 0; start < sorted.length; start += INSTANCE_READS_IN_FLIGHT_MAX) {
      const chunk = sorted.slice(start, start + INSTANCE_READS_IN_FLIGHT_MAX);
      const read = await Promise.all(chunk.map((id) => this.instance(name, id, options)));
      for (const instance of read) if (instance !== undefined) found.push(instance);
    }
    return found;
  }

  /** One instance, or undefined when absent or unreadable. */
  async instance(
    name: string,
    id: string,
    options: { signal?: AbortSignal } = {},
  ): Promise<ServiceInstance<P> | undefined> {
    let data: Buffer;
    try {
      const path = instancePath(this.basePath, name, id);
      data = (await this.#zk.getData(path, { signal: options.signal })).data ?? Buffer.alloc(0);
    } catch (error) {
      if (hasErrorCode(error, ErrorCode.NO_NODE)) return undefined;
      throw error;
    }
    const decoded = decodeServiceInstance<P>(data, {
      expected: { name, id },
      ...this.#validation(),
    });
    if (decoded.ok) return decoded.instance;
    this.#reportBroken({ name, id, problem: decoded.problem });
    return undefined;
  }

  /** A started cache of one service's instances; closed with this object unless closed before. */
  async cache(
    name: string,
    options: Omit<ServiceCacheOptions, 'validatePayload'> & { signal?: AbortSignal } = {},
  ): Promise<ServiceCache<P>> {
    this.#checkOpen();
    const { signal, ...cacheOptions } = options;
    const cache = new ServiceCache<P>(this.#zk, this.basePath, name, {
      ...cacheOptions,
      ...this.#validation(),
    });
    cache.onChange((event) => {
      if (event.type === 'broken') this.#reportBroken({ name, id: event.id, problem: event.problem });
    });
    try {
      await cache.start({ signal });
    } catch (error) {
      await cache.close();
      throw error;
    }
    this.#track(cache);
    return cache;
  }

  /** A provider over a new cache of the service; closing the provider closes its cache. */
  async provider(
    name: string,
    options: ServiceProviderOptions<P> & { signal?: AbortSignal } = {},
  ): Promise<ServiceProvider<P>> {
    const { signal, ...providerOptions } = options;
    const cache = await this.cache(name, { signal });
    const provider = new ServiceProvider<P>(cache, providerOptions, true);
    this.#track(provider);
    return provider;
  }

  /** Unregisters every instance registered here (PERMANENT ones stay) and closes caches and providers. */
  close(): Promise<void> {
    this.#closed ??= (async () => {
      const entries = [...this.#registered.values()];
      this.#registered.clear();
      await Promise.all(entries.map((entry) => entry.node.close()));
      await Promise.all([...this.#closeables].map((c) => c[Symbol.asyncDispose]()));
    })();
    return this.#closed;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  #track(closeable: AsyncDisposable): void {
    this.#closeables.add(closeable);
  }

  #encode(instance: ServiceInstance<P>): Uint8Array {
    const payloadClass = this.#options.payloadClass;
    return encodeServiceInstance(instance, payloadClass === undefined ? {} : { payloadClass });
  }

  #validation(): Pick<DecodeOptions, 'validatePayload'> {
    const validatePayload = this.#options.validatePayload;
    return validatePayload === undefined ? {} : { validatePayload };
  }

  #checkOpen(): void {
    if (this.#closed !== undefined) throw new InvalidArgumentError('the service discovery is closed');
  }

  readonly #onError = (error: unknown): void => {
    const report =
      this.#options.onError ??
      ((e: unknown) => process.emitWarning(`service discovery: ${String(e)}`, 'RecipeWarning'));
    report(error);
  };

  #reportBroken(broken: { name: string; id: string; problem: string }): void {
    const report =
      this.#options.onBrokenInstance ??
      ((b: typeof broken) =>
        process.emitWarning(`broken service instance ${b.name}/${b.id}: ${b.problem}`, 'RecipeWarning'));
    report(broken);
  }
}
