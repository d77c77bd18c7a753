// Argument checks that run before anything is sent: paths, versions, data, ACLs and create modes.
// Each throws InvalidArgumentError with the reason; none of them touches the network.

import { createHash } from 'node:crypto';
import {
  CreateMode,
  InvalidArgumentError,
  OpCode,
  Perms,
  TTL_MAX_MS,
  createModeTraits,
  pathProblem,
  type ACL,
  type CreateModeFlag,
  type CreateModeName,
} from '../protocol/index.js';

/** ACLs as ZooKeeper's ZooDefs.Ids names them. */
export const Acls = {
  /** world:anyone may do anything. */
  OPEN_ACL_UNSAFE: [{ perms: Perms.ALL, id: { scheme: 'world', id: 'anyone' } }] as readonly ACL[],
  /** Only the authenticated creator (every id the session holds) may do anything. */
  CREATOR_ALL_ACL: [{ perms: Perms.ALL, id: { scheme: 'auth', id: '' } }] as readonly ACL[],
  /** world:anyone may read. */
  READ_ACL_UNSAFE: [{ perms: Perms.READ, id: { scheme: 'world', id: 'anyone' } }] as readonly ACL[],
} as const;

/** Data as users pass it: bytes, or a string sent as UTF-8. */
export type Data = Uint8Array | string;

export function checkPath(path: string, options: { sequential?: boolean } = {}): void {
  const problem = pathProblem(path, options);
  if (problem !== undefined)
    throw new InvalidArgumentError(`invalid path ${JSON.stringify(path)}: ${problem}`);
}

/** -1 (any version) or a non-negative 32-bit version. */
export function checkVersion(version: number, what = 'version'): number {
  if (!Number.isInteger(version) || version < -1 || version > 0x7fffffff) {
    throw new InvalidArgumentError(
      `${what} must be -1 (any) or an integer from 0 to 2147483647, got ${version}`,
    );
  }
  return version;
}

export function toBuffer(data: Data | null | undefined): Buffer | null {
  if (data === undefined || data === null) return null;
  if (typeof data === 'string') return Buffer.from(data, 'utf8');
  if (data instanceof Uint8Array)
    return Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.length);
  throw new InvalidArgumentError('data must be a Uint8Array or a string');
}

export function checkAcl(acl: readonly ACL[]): ACL[] {
  if (!Array.isArray(acl) || acl.length === 0)
    throw new InvalidArgumentError('acl must be a non-empty array');
  for (const entry of acl) {
    const ok =
      entry !== null &&
      typeof entry === 'object' &&
      Number.isInteger(entry.perms) &&
      typeof entry.id?.scheme === 'string' &&
      typeof entry.id?.id === 'string';
    if (!ok) throw new InvalidArgumentError(`invalid ACL entry ${JSON.stringify(entry)}`);
  }
  return acl as ACL[];
}

export interface CreateModeOptions {
  /** A CreateMode name (`'EPHEMERAL'`) or flag; PERSISTENT when absent. */
  mode?: CreateModeName | CreateModeFlag;
  /** Time to live in ms, for the *_WITH_TTL modes only (1 .. 2^40-1). */
  ttlMs?: number;
}

export interface CreatePlan {
  readonly opCode: number;
  readonly flags: number;
  readonly ttl: bigint | undefined;
  readonly sequential: boolean;
}

/** Which opcode and flags a create with these options becomes. */
export function planCreate(options: CreateModeOptions): CreatePlan {
  const flag =
    typeof options.mode === 'string' ? CreateMode[options.mode] : (options.mode ?? CreateMode.PERSISTENT);
  const traits = flag === undefined ? undefined : createModeTraits(flag);
  if (traits === undefined)
    throw new InvalidArgumentError(`unknown create mode ${JSON.stringify(options.mode)}`);
  if (traits.ttl) {
    const ttlMs = options.ttlMs;
    if (ttlMs === undefined || !Number.isInteger(ttlMs) || ttlMs <= 0 || BigInt(ttlMs) > TTL_MAX_MS) {
      throw new InvalidArgumentError(`a TTL mode needs ttlMs from 1 to ${TTL_MAX_MS}, got ${ttlMs}`);
    }
    return {
      opCode: OpCode.createTTL,
      flags: traits.flag,
      ttl: BigInt(ttlMs),
      sequential: traits.sequential,
    };
  }
  if (options.ttlMs !== undefined)
    throw new InvalidArgumentError('ttlMs is only valid with a *_WITH_TTL mode');
  const opCode = traits.container ? OpCode.createContainer : OpCode.create2;
  return { opCode, flags: traits.flag, ttl: undefined, sequential: traits.sequential };
}

/** The digest ACL id of a user and password: "user:" + base64(SHA-1("user:password")). */
export function digestId(user: string, password: string): string {
  const hash = createHash('sha1').update(`${user}:${password}`, 'utf8').digest('base64');
  return `${user}:${hash}`;
}
