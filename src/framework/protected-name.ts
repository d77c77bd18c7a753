// Protected names (Curator's ProtectedUtils): a create whose reply is lost can be found again by a
// unique prefix, "_c_" + a random UUID + "-", put before the node's own name. After a connection
// loss the parent's children are listed and the one carrying our prefix is ours.

import { randomUUID } from 'node:crypto';
import { baseName, parentPath } from '../protocol/index.js';

export const PROTECTED_PREFIX = '_c_';
/** "_c_" + 36 UUID characters + "-". */
const PROTECTED_PREFIX_CHARS = PROTECTED_PREFIX.length + 36 + 1;

/** A fresh protection id (the UUID). */
export function newProtectionId(): string {
  return randomUUID();
}

/** `/parent/name` becomes `/parent/_c_<id>-name` (for a sequential path, the suffix follows). */
export function protectedPath(path: string, id: string): string {
  const parent = parentPath(path);
  const name = baseName(path);
  const protectedName = `${PROTECTED_PREFIX}${id}-${name}`;
  return parent === '/' ? `/${protectedName}` : `${parent}/${protectedName}`;
}

/** The child of `children` created with protection id `id`, if any. */
export function findProtectedChild(children: readonly string[], id: string): string | undefined {
  const prefix = `${PROTECTED_PREFIX}${id}-`;
  return children.find((child) => child.startsWith(prefix));
}

/** True when a node name carries a protection prefix. */
export function isProtectedName(name: string): boolean {
  return (
    name.length > PROTECTED_PREFIX_CHARS &&
    name.startsWith(PROTECTED_PREFIX) &&
    name[PROTECTED_PREFIX_CHARS - 1] === '-'
  );
}

/** A node name without its protection prefix ("_c_<id>-lock-0000000003" becomes "lock-0000000003"). */
export function unprotectedName(name: string): string {
  return isProtectedName(name) ? name.slice(PROTECTED_PREFIX_CHARS) : name;
}
