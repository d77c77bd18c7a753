// The reference-counted ACL cache Apache's snapshots store: each distinct ACL list gets a long id,
// nodes hold the id, and an entry goes away when no node uses it. -1 stands for OPEN_ACL_UNSAFE.

import type { ACL } from '../../src/protocol/index.js';
import { OPEN_ACL_UNSAFE } from '../auth/acl.js';

export const OPEN_UNSAFE_ACL_REF = -1n;

const OPEN_KEY = JSON.stringify([[31, 'world', 'anyone']]);

function aclKey(acl: readonly ACL[]): string {
  // Nearly every create carries world:anyone with all permissions: its key without a JSON walk.
  if (acl.length === 1) {
    const { perms, id } = acl[0]!;
    if (perms === 31 && id.scheme === 'world' && id.id === 'anyone') return OPEN_KEY;
  }
  return JSON.stringify(acl.map((entry) => [entry.perms, entry.id.scheme, entry.id.id]));
}

export class AclCache {
  private readonly byRef = new Map<bigint, { acl: readonly ACL[]; key: string; refs: number }>();
  private readonly byKey = new Map<string, bigint>();
  private lastRef = 0n;

  /** The id for this ACL list, counting one more user. */
  acquire(acl: readonly ACL[] | null): bigint {
    if (acl === null) return OPEN_UNSAFE_ACL_REF;
    const key = aclKey(acl);
    let ref = this.byKey.get(key);
    if (ref === undefined) {
      ref = ++this.lastRef;
      this.byKey.set(key, ref);
      const copy = acl.map((entry) => ({ perms: entry.perms, id: { ...entry.id } }));
      this.byRef.set(ref, { acl: copy, key, refs: 0 });
    }
    this.byRef.get(ref)!.refs++;
    return ref;
  }

  /** One user fewer; the entry is dropped at zero. */
  release(ref: bigint): void {
    const entry = this.byRef.get(ref);
    if (entry === undefined) return;
    if (--entry.refs <= 0) {
      this.byRef.delete(ref);
      this.byKey.delete(entry.key);
    }
  }

  get(ref: bigint): readonly ACL[] {
    if (ref === OPEN_UNSAFE_ACL_REF) return OPEN_ACL_UNSAFE;
    const entry = this.byRef.get(ref);
    if (entry === undefined) throw new Error(`ACL reference ${ref} is not in the cache`);
    return entry.acl;
  }

  /** Every entry, for a snapshot (Apache writes the map without the counts). */
  entries(): Map<bigint, readonly ACL[]> {
    return new Map([...this.byRef].map(([ref, entry]) => [ref, entry.acl]));
  }

  /** Loads a snapshot's map; reference counts are rebuilt as nodes are loaded (addUsage). */
  load(acls: ReadonlyMap<bigint, readonly ACL[]>): void {
    this.byRef.clear();
    this.byKey.clear();
    this.lastRef = 0n;
    for (const [ref, acl] of acls) {
      const key = aclKey(acl);
      this.byRef.set(ref, { acl, key, refs: 0 });
      this.byKey.set(key, ref);
      if (ref > this.lastRef) this.lastRef = ref;
    }
  }

  /** A loaded node uses `ref`. */
  addUsage(ref: bigint): void {
    const entry = this.byRef.get(ref);
    if (entry !== undefined) entry.refs++;
  }

  /** Drops entries no loaded node uses (after a snapshot load). */
  purgeUnused(): void {
    for (const [ref, entry] of this.byRef) {
      if (entry.refs <= 0) {
        this.byRef.delete(ref);
        this.byKey.delete(entry.key);
      }
    }
  }

  get size(): number {
    return this.byRef.size;
  }
}
