// What to do with an instance node when (re-)registering, decided from what is there. Curator deletes and
// recreates its node on every reconnect, so consumers see remove + add churn even when the session
// survived (CURATOR-146/181), and it fails with NodeExists while the node of our expired session is not
// yet gone (the Dubbo trap). We keep a node that is already ours, update it in place if it differs, and
// replace a node only when it belongs to one of our own earlier sessions; another live owner is waited
// out (watch the node, then create) rather than fought.

export interface ExistingNode {
  /** 0 for a persistent node. */
  ephemeralOwner: bigint;
  /** The data version, for a conditional setData or delete. */
  version: number;
  data: Uint8Array;
}

export interface RegistrationIntent {
  /** The session registering now. */
  sessionId: bigint;
  /** Sessions this process used before (the node of an expired one may still be there). */
  previousSessionIds: readonly bigint[];
  /** DYNAMIC instances are ephemeral; STATIC and PERMANENT ones persistent. */
  ephemeral: boolean;
  /** The encoded instance we want in the node. */
  data: Uint8Array;
}

export type RegistrationDecision =
  /** No node: create it. */
  | { kind: 'create' }
  /** Ours already, with our data: nothing to do (no churn for consumers). */
  | { kind: 'keep' }
  /** Ours (or a persistent node we are allowed to own), different data: setData at `version`. */
  | { kind: 'update'; version: number }
  /** Left by an earlier session of ours, or of the wrong kind: delete at `version`, then create. */
  | { kind: 'replace'; version: number }
  /** Another live session's ephemeral with this id: watch it, create when it is gone. */
  | { kind: 'wait'; owner: bigint };

export function decideRegistration(
  existing: ExistingNode | undefined,
  intent: RegistrationIntent,
): RegistrationDecision {
  if (existing === undefined) return { kind: 'create' };
  const owner = existing.ephemeralOwner;
  const keepOrUpdate: RegistrationDecision = equalBytes(existing.data, intent.data)
    ? { kind: 'keep' }
    : { kind: 'update', version: existing.version };
  if (intent.ephemeral) {
    if (owner === intent.sessionId) return keepOrUpdate;
    if (owner === 0n || intent.previousSessionIds.includes(owner)) {
      return { kind: 'replace', version: existing.version };
    }
    return { kind: 'wait', owner };
  }
  if (owner === 0n) return keepOrUpdate;
  if (owner === intent.sessionId || intent.previousSessionIds.includes(owner)) {
    return { kind: 'replace', version: existing.version };
  }
  return { kind: 'wait', owner };
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
