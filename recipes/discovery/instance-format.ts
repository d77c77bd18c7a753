// Service instances as Curator's curator-x-discovery 5.4 stores them, so Node and Java services see each
// other. Curator's default serializer (JsonInstanceSerializer, compatible mode) writes
//   {"name","id","address","port","sslPort","payload","registrationTimeUTC","serviceType","uriSpec"}
// and reads with unknown properties ignored. We write the same keys in the same order, plus `enabled`
// (Curator reads it, and its ServiceProvider skips disabled instances) and our own fields under one
// `menagerie` key that Curator ignores: {"status","zone","weight","version","metadata"}.
//
// Traps, each checked against real Curator: the payload carries `@class` (a Java class name) when Java
// wrote it; a payload whose `@class` names a class the Java reader lacks, or a JSON array payload,
// makes Curator's queryForInstances fail for the whole service. So we never write `@class` unless asked,
// never write an array payload, and on read we report a broken instance instead of throwing.
import { InvalidArgumentError } from '../../src/index.js';
import { segmentProblem } from './paths.js';

export const SERVICE_TYPES = ['DYNAMIC', 'STATIC', 'PERMANENT', 'DYNAMIC_SEQUENTIAL'] as const;
/** DYNAMIC = ephemeral (the default), DYNAMIC_SEQUENTIAL = ephemeral sequential, the others persistent. */
export type ServiceType = (typeof SERVICE_TYPES)[number];

export const INSTANCE_STATUSES = ['up', 'draining', 'down'] as const;
/** up: takes traffic; draining: finishing work, no new traffic; down: registered but not serving. */
export type InstanceStatus = (typeof INSTANCE_STATUSES)[number];

/** The node's data is limited by the server's jute.maxbuffer anyway; refuse to parse beyond it. */
export const INSTANCE_BYTES_MAX = 0xfffff;
export const METADATA_ENTRIES_MAX = 256;
/** The key under which our extra fields live; Curator's reader ignores it. */
export const EXTENSION_KEY = 'menagerie';
/** Jackson's type property for the payload (`@JsonTypeInfo(use = CLASS)`). */
export const JAVA_CLASS_KEY = '@class';

/** Curator's UriSpec: a template such as `{scheme}://{address}:{port}` cut into parts. */
export interface UriSpec {
  parts: Array<{ value: string; variable: boolean }>;
}

export interface ServiceInstance<P = unknown> {
  name: string;
  id: string;
  address: string | null;
  port: number | null;
  sslPort: number | null;
  payload: P | null;
  /** Milliseconds since the epoch. */
  registrationTimeUTC: number;
  serviceType: ServiceType;
  uriSpec: UriSpec | null;
  status: InstanceStatus;
  zone: string | null;
  /** Relative share of traffic; 1 unless set. */
  weight: number;
  version: string | null;
  metadata: Record<string, string>;
}

export interface EncodeOptions {
  /**
   * The Java class a Java reader should make of the payload, written as `@class` (e.g.
   * 'java.util.LinkedHashMap'). Leave it out unless Java readers need it: without it Curator reads an
   * object payload as a LinkedHashMap, and with a class the reader lacks it fails the whole query.
   */
  payloadClass?: string;
}

/** The instance as Curator-readable JSON bytes; InvalidArgumentError for one we would not read back. */
export function encodeServiceInstance<P>(
  instance: ServiceInstance<P>,
  options: EncodeOptions = {},
): Uint8Array {
  const problem = instanceProblem(instance);
  if (problem !== undefined) throw new InvalidArgumentError(`bad service instance: ${problem}`);
  let payload: unknown = instance.payload;
  if (Array.isArray(payload)) {
    throw new InvalidArgumentError(
      'a payload must not be a JSON array: Curator cannot read it; wrap it in an object',
    );
  }
  if (options.payloadClass !== undefined) {
    if (!isPlainObject(payload)) throw new InvalidArgumentError('payloadClass needs an object payload');
    payload = { [JAVA_CLASS_KEY]: options.payloadClass, ...payload };
  }
  const extension: Record<string, unknown> = { status: instance.status };
  if (instance.zone !== null) extension.zone = instance.zone;
  extension.weight = instance.weight;
  if (instance.version !== null) extension.version = instance.version;
  extension.metadata = instance.metadata;
  const json = {
    name: instance.name,
    id: instance.id,
    address: instance.address,
    port: instance.port,
    sslPort: instance.sslPort,
    payload: payload ?? null,
    registrationTimeUTC: instance.registrationTimeUTC,
    serviceType: instance.serviceType,
    uriSpec: instance.uriSpec,
    enabled: instance.status === 'up',
    [EXTENSION_KEY]: extension,
  };
  return new TextEncoder().encode(JSON.stringify(json));
}

export type DecodedInstance<P> =
  | {
      ok: true;
      instance: ServiceInstance<P>;
      /** The payload's `@class` as Java wrote it (removed from the payload), or null. */
      payloadClass: string | null;
    }
  | { ok: false; problem: string };

export interface DecodeOptions {
  /** Checks the payload (e.g. a zod schema's safeParse); returns why it is unacceptable, or undefined. */
  validatePayload?: (payload: unknown) => string | undefined;
  /** The name and id the node's path says it has; a mismatch is a broken instance. */
  expected?: { name: string; id: string };
}

/** Reads an instance written by Curator or by us. Never throws: a broken one comes back with its problem. */
export function decodeServiceInstance<P = unknown>(
  bytes: Uint8Array,
  options: DecodeOptions = {},
): DecodedInstance<P> {
  if (bytes.length > INSTANCE_BYTES_MAX) {
    return broken(`instance data of ${bytes.length} bytes is over the limit`);
  }
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch (error) {
    return broken(`not JSON: ${(error as Error).message}`);
  }
  if (!isPlainObject(json)) return broken('not a JSON object');
  const fields = readCuratorFields(json);
  if (typeof fields === 'string') return broken(fields);
  const extension = readExtension(json[EXTENSION_KEY], fields.enabled);
  if (typeof extension === 'string') return broken(extension);
  const { name, id } = fields;
  if (options.expected !== undefined && (options.expected.name !== name || options.expected.id !== id)) {
    return broken(`node ${options.expected.name}/${options.expected.id} holds instance ${name}/${id}`);
  }
  let payload = json.payload ?? null;
  let payloadClass: string | null = null;
  if (isPlainObject(payload) && JAVA_CLASS_KEY in payload) {
    const { [JAVA_CLASS_KEY]: javaClass, ...rest } = payload;
    if (typeof javaClass !== 'string') return broken(`payload ${JAVA_CLASS_KEY} must be a string`);
    payloadClass = javaClass;
    payload = rest;
  }
  const payloadIssue = options.validatePayload?.(payload);
  if (payloadIssue !== undefined) return broken(`payload: ${payloadIssue}`);
  const { enabled: _enabled, ...curator } = fields;
  return { ok: true, payloadClass, instance: { ...curator, payload: payload as P | null, ...extension } };
}

function broken(problem: string): { ok: false; problem: string } {
  return { ok: false, problem };
}

type OurFields = 'payload' | 'status' | 'zone' | 'weight' | 'version' | 'metadata';
type CuratorFields = Omit<ServiceInstance, OurFields> & { enabled: boolean };

/** Curator's fields with Curator's defaults for absent ones (its no-argument constructor). */
function readCuratorFields(json: Record<string, unknown>): CuratorFields | string {
  const name = json.name;
  const id = json.id;
  if (typeof name !== 'string' || segmentProblem(name) !== undefined) {
    return `bad name ${JSON.stringify(name)}`;
  }
  if (typeof id !== 'string' || segmentProblem(id) !== undefined) return `bad id ${JSON.stringify(id)}`;
  const address = json.address ?? null;
  if (address !== null && typeof address !== 'string') return 'address must be a string';
  const port = readPort(json.port, 'port');
  if (typeof port === 'string') return port;
  const sslPort = readPort(json.sslPort, 'sslPort');
  if (typeof sslPort === 'string') return sslPort;
  const registrationTimeUTC = json.registrationTimeUTC ?? 0;
  if (typeof registrationTimeUTC !== 'number' || !Number.isFinite(registrationTimeUTC)) {
    return 'registrationTimeUTC must be a number';
  }
  const serviceType = json.serviceType ?? 'DYNAMIC';
  if (!(SERVICE_TYPES as readonly unknown[]).includes(serviceType)) {
    return `unknown serviceType ${String(serviceType)}`;
  }
  const uriSpec = readUriSpec(json.uriSpec ?? null);
  if (typeof uriSpec === 'string') return uriSpec;
  const enabled = json.enabled ?? true;
  if (typeof enabled !== 'boolean') return 'enabled must be a boolean';
  return {
    name,
    id,
    address,
    port,
    sslPort,
    registrationTimeUTC: Math.trunc(registrationTimeUTC),
    serviceType: serviceType as ServiceType,
    uriSpec,
    enabled,
  };
}

/** Ports as Jackson reads an Integer: a number, or a string of digits; null when absent. */
function readPort(value: unknown, what: string): number | null | string {
  if (value === undefined || value === null) return null;
  const port = typeof value === 'string' && /^[0-9]{1,5}$/.test(value) ? Number(value) : value;
  if (typeof port !== 'number' || !Number.isInteger(port) || port < 0 || port > 65535) {
    return `${what} must be a port number, got ${JSON.stringify(value)}`;
  }
  return port;
}

function readUriSpec(value: unknown): UriSpec | null | string {
  if (value === null) return null;
  if (!isPlainObject(value) || !Array.isArray(value.parts)) return 'uriSpec must be {parts: [...]}';
  const parts: UriSpec['parts'] = [];
  for (const part of value.parts) {
    if (!isPlainObject(part) || typeof part.value !== 'string' || typeof part.variable !== 'boolean') {
      return 'uriSpec parts must be {value: string, variable: boolean}';
    }
    parts.push({ value: part.value, variable: part.variable });
  }
  return { parts };
}

type Extension = Pick<ServiceInstance, 'status' | 'zone' | 'weight' | 'version' | 'metadata'>;

/** Our fields; for an instance Java wrote, the defaults, with `enabled: false` read as down. */
function readExtension(value: unknown, enabled: boolean): Extension | string {
  const status = enabled ? 'up' : 'down';
  const defaults: Extension = { status, zone: null, weight: 1, version: null, metadata: {} };
  if (value === undefined || value === null) return defaults;
  if (!isPlainObject(value)) return `${EXTENSION_KEY} must be an object`;
  const written = value.status ?? 'up';
  if (!(INSTANCE_STATUSES as readonly unknown[]).includes(written)) {
    return `unknown status ${String(written)}`;
  }
  const zone = value.zone ?? null;
  if (zone !== null && typeof zone !== 'string') return 'zone must be a string';
  const weight = value.weight ?? 1;
  if (typeof weight !== 'number' || !Number.isFinite(weight) || weight < 0) {
    return 'weight must be a number >= 0';
  }
  const version = value.version ?? null;
  if (version !== null && typeof version !== 'string') return 'version must be a string';
  const metadata = readMetadata(value.metadata ?? {});
  if (typeof metadata === 'string') return metadata;
  // A Java operator who sets enabled=false on one of our instances has taken it out of service.
  const effective = !enabled && written === 'up' ? 'down' : (written as InstanceStatus);
  return { status: effective, zone, weight, version, metadata };
}

function readMetadata(value: unknown): Record<string, string> | string {
  if (!isPlainObject(value)) return 'metadata must be an object of strings';
  const entries = Object.entries(value);
  if (entries.length > METADATA_ENTRIES_MAX) return `metadata has more than ${METADATA_ENTRIES_MAX} entries`;
  const metadata: Record<string, string> = {};
  for (const [key, entry] of entries) {
    if (typeof entry !== 'string') return `metadata ${key} must be a string`;
    metadata[key] = entry;
  }
  return metadata;
}

/** Why an instance cannot be written as given, or undefined. */
export function instanceProblem(instance: ServiceInstance<unknown>): string | undefined {
  const fields: Array<string | undefined> = [
    segmentProblem(instance.name, 'service name'),
    segmentProblem(instance.id, 'instance id'),
    instance.address === null || typeof instance.address === 'string'
      ? undefined
      : 'address must be a string',
    portProblem(instance.port, 'port'),
    portProblem(instance.sslPort, 'sslPort'),
    Number.isSafeInteger(instance.registrationTimeUTC) ? undefined : 'registrationTimeUTC must be an integer',
    SERVICE_TYPES.includes(instance.serviceType) ? undefined : `unknown serviceType ${instance.serviceType}`,
    INSTANCE_STATUSES.includes(instance.status) ? undefined : `unknown status ${instance.status}`,
    Number.isFinite(instance.weight) && instance.weight >= 0 ? undefined : 'weight must be a number >= 0',
    metadataProblem(instance.metadata),
  ];
  return fields.find((problem) => problem !== undefined);
}

function portProblem(port: number | null, what: string): string | undefined {
  if (port === null || (Number.isInteger(port) && port >= 0 && port <= 65535)) return undefined;
  return `${what} must be 0..65535 or null`;
}

function metadataProblem(metadata: Record<string, string>): string | undefined {
  const read = readMetadata(metadata);
  return typeof read === 'string' ? read : undefined;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
