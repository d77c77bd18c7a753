// ACLs and authentication as Apache 3.8's providers apply them: the digest and ip schemes, super,
// the permission check, the ACL fix-up of create/setACL (dedupe, `auth` expansion, validity), the
// digest masking of getACL, and whoAmI's client infos. Pure: SHA-1 comes from node:crypto.

import { createHash } from 'node:crypto';
import { ErrorCode, Perms, type ACL, type ClientInfo, type Id } from '../../src/protocol/index.js';

/** Apache's OPEN_ACL_UNSAFE: world:anyone with every permission. */
export const OPEN_ACL_UNSAFE: readonly ACL[] = Object.freeze([
  { perms: Perms.ALL, id: { scheme: 'world', id: 'anyone' } },
]);
/** Apache's READ_ACL_UNSAFE: world:anyone may read (the ACL of /zookeeper/config). */
export const READ_ACL_UNSAFE: readonly ACL[] = Object.freeze([
  { perms: Perms.READ, id: { scheme: 'world', id: 'anyone' } },
]);

/** Java's String.split(regex) for a literal separator: trailing empty strings are dropped. */
function javaSplit(text: string, separator: string, limit = 0): string[] {
  let parts: string[];
  if (limit > 0) {
    parts = [];
    let rest = text;
    while (parts.length < limit - 1) {
      const at = rest.indexOf(separator);
      if (at < 0) break;
      parts.push(rest.slice(0, at));
      rest = rest.slice(at + separator.length);
    }
    parts.push(rest);
    return parts;
  }
  parts = text.split(separator);
  while (parts.length > 1 && parts[parts.length - 1] === '') parts.pop();
  if (parts.length === 1 && parts[0] === '' && text.length > 0) return [];
  return parts;
}

/** digest scheme id for "user:password": "user:" + base64(SHA-1("user:password")). */
export function generateDigest(userPassword: string): string {
  const user = javaSplit(userPassword, ':', 2)[0];
  const hash = createHash('sha1').update(userPassword, 'utf8').digest('base64');
  return `${user}:${hash}`;
}

/** IPv4 "a.b.c.d" as 4 bytes, or undefined (Apache 3.8 matches IPv4 only). */
function ipv4Bytes(address: string): number[] | undefined {
  const parts = address.split('.');
  if (parts.length !== 4) return undefined;
  const bytes: number[] = [];
  for (const part of parts) {
    if (!/^[+-]?\d+$/.test(part)) return undefined;
    const value = Number.parseInt(part, 10);
    if (value < 0 || value > 255) return undefined;
    bytes.push(value);
  }
  return bytes;
}

function maskBytes(bytes: number[], bits: number): number[] {
  return bytes.map((byte, index) => {
    const keep = Math.max(0, Math.min(8, bits - index * 8));
    return byte & ((0xff << (8 - keep)) & 0xff);
  });
}

/** "a.b.c.d[/bits]" → address bytes and prefix length, or undefined when malformed. */
function parseIpExpression(expression: string): { bytes: number[]; bits: number } | undefined {
  const [address, bitsText] = javaSplit(expression, '/', 2) as [string, string | undefined];
  const bytes = ipv4Bytes(address);
  if (bytes === undefined) return undefined;
  let bits = 32;
  if (bitsText !== undefined) {
    if (!/^[+-]?\d+$/.test(bitsText)) return undefined;
    bits = Number.parseInt(bitsText, 10);
    if (bits < 0 || bits > 32) return undefined;
  }
  return { bytes, bits };
}

/** Does the client address `address` fall in the ACL expression "a.b.c.d[/bits]"? */
export function ipMatches(address: string, expression: string): boolean {
  const acl = parseIpExpression(expression);
  const remote = ipv4Bytes(address);
  if (acl === undefined || remote === undefined) return false;
  const aclMasked = maskBytes(acl.bytes, acl.bits);
  const remoteMasked = maskBytes(remote, acl.bits);
  return aclMasked.every((byte, index) => byte === remoteMasked[index]);
}

interface Provider {
  /** Does the id name something a session can authenticate as (used by the `auth` expansion)? */
  readonly authenticated: boolean;
  isValid(id: string): boolean;
  matches(authId: string, aclId: string): boolean;
  userName(id: string): string;
}

const providers: ReadonlyMap<string, Provider> = new Map<string, Provider>([
  [
    'digest',
    {
      authenticated: true,
      isValid: (id) => javaSplit(id, ':').length === 2,
      matches: (authId, aclId) => authId === aclId,
      userName: (id) => javaSplit(id, ':')[0] ?? '',
    },
  ],
  [
    'ip',
    {
      authenticated: false,
      isValid: (id) => parseIpExpression(id) !== undefined,
      matches: ipMatches,
      userName: (id) => id,
    },
  ],
]);

/**
 * The permission check: passes when the ACL list is empty, the ids include super, or an entry
 * grants one of `perm`'s bits to world:anyone or to an id the session holds.
 */
export function checkAcl(acl: readonly ACL[] | null, perm: number, authIds: readonly Id[]): boolean {
  if (acl === null || acl.length === 0) return true;
  if (authIds.some((id) => id.scheme === 'super')) return true;
  for (const entry of acl) {
    if ((entry.perms & perm) === 0) continue;
    if (entry.id.scheme === 'world' && entry.id.id === 'anyone') return true;
    const provider = providers.get(entry.id.scheme);
    if (provider === undefined) continue;
    for (const authId of authIds) {
      if (authId.scheme === entry.id.scheme && provider.matches(authId.id, entry.id.id)) return true;
    }
  }
  return false;
}

/** A connection's ids as the set Apache keeps them in: each (scheme, id) once, first seen first. */
function uniqueIds(authIds: readonly Id[]): Id[] {
  return authIds.filter(
    (id, index) => authIds.findIndex((other) => other.scheme === id.scheme && other.id === id.id) === index,
  );
}

function sameAcl(a: ACL, b: ACL): boolean {
  return a.perms === b.perms && a.id.scheme === b.id.scheme && a.id.id === b.id.id;
}

/**
 * create/setACL's ACL fix-up: dedupe; empty → InvalidACL; world only as anyone; `auth` expands to
 * every authenticated (digest) id of the session, none → InvalidACL; other schemes need a provider
 * and a valid id. Returns the ACL to store, or the error code.
 */
export function fixupAcl(acl: readonly ACL[] | null, authIds: readonly Id[]): ACL[] | number {
  const unique: ACL[] = [];
  for (const entry of acl ?? []) if (!unique.some((seen) => sameAcl(seen, entry))) unique.push(entry);
  if (unique.length === 0) return ErrorCode.INVALID_ACL;
  const fixed: ACL[] = [];
  for (const entry of unique) {
    const { scheme, id } = entry.id;
    if (scheme === 'world' && id === 'anyone') {
      fixed.push(entry);
    } else if (scheme === 'auth') {
      let expanded = false;
      for (const authId of uniqueIds(authIds)) {
        if (providers.get(authId.scheme)?.authenticated) {
          expanded = true;
          fixed.push({ perms: entry.perms, id: { scheme: authId.scheme, id: authId.id } });
        }
      }
      if (!expanded) return ErrorCode.INVALID_ACL;
    } else {
      const provider = providers.get(scheme);
      if (provider === undefined || !provider.isValid(id)) return ErrorCode.INVALID_ACL;
      fixed.push(entry);
    }
  }
  return fixed;
}

/** getACL without ADMIN: every digest id shows only its user ("user:x"). */
export function maskDigests(acl: readonly ACL[]): ACL[] {
  return acl.map((entry) =>
    entry.id.scheme === 'digest'
      ? { perms: entry.perms, id: { scheme: 'digest', id: entry.id.id.replace(/:.*/s, ':x') } }
      : entry,
  );
}

/**
 * whoAmI: (scheme, user) per id the connection holds; super and unknown schemes give "". Apache keeps
 * the ids in a set, so an id added twice (addauth repeated) is listed once.
 */
export function clientInfos(authIds: readonly Id[]): ClientInfo[] {
  return uniqueIds(authIds).map((id) => ({
    authScheme: id.scheme,
    user: providers.get(id.scheme)?.userName(id.id) ?? '',
  }));
}

/** The outcome of an addauth: ids to add to the connection, or an error code (AuthFailed). */
export type AuthOutcome = { ok: true; ids: Id[] } | { ok: false; err: number };

/**
 * addauth: digest adds digest:user:hash (and super:"" first when it equals `superDigest`); ip adds the
 * connection's own address id; any other scheme fails with AuthFailed, as Apache's registry does.
 */
export function authenticate(
  scheme: string,
  auth: Uint8Array | null,
  options: { superDigest?: string; remoteAddress?: string } = {},
): AuthOutcome {
  if (scheme === 'digest') {
    const digest = generateDigest(Buffer.from(auth ?? []).toString('utf8'));
    const ids: Id[] = [];
    if (options.superDigest !== undefined && digest === options.superDigest) {
      ids.push({ scheme: 'super', id: '' });
    }
    ids.push({ scheme: 'digest', id: digest });
    return { ok: true, ids };
  }
  if (scheme === 'ip' && options.remoteAddress !== undefined) {
    return { ok: true, ids: [{ scheme: 'ip', id: options.remoteAddress }] };
  }
  return { ok: false, err: ErrorCode.AUTH_FAILED };
}
