// A core's state as snapshot bytes for a SNAP sync, in Apache's snapshot format (the same bytes a
// snapshot file holds), and back into a core. Used by the in-memory storage; synchronous, so no
// delivery can slip in between reading the state and sending it.

import type { ACL } from '../../src/protocol/index.js';
import { coreSnapshotSource } from '../durable/core-adapter.js';
import type { PersistedNode, ServerCore } from '../core/server-core.js';
import { EMPTY_ZXID_DIGEST, SnapshotDecoder, SnapshotEncoder } from '../persistence/snapshot-format.js';

/** The core's state exactly as it is now (as of core.lastProcessedZxid). */
export function encodeCoreSnapshot(core: ServerCore): Uint8Array {
  const source = coreSnapshotSource(core, { withDigest: false });
  const encoder = new SnapshotEncoder();
  const chunks = [
    encoder.header(),
    encoder.sessions([...source.sessions()]),
    encoder.aclEntries([...source.aclEntries()]),
  ];
  const nodes = source.nodes();
  for (let step = nodes.next(); step.done !== true; step = nodes.next()) {
    chunks.push(encoder.node(step.value));
  }
  chunks.push(encoder.endOfNodes(), encoder.seal(), encoder.digest(EMPTY_ZXID_DIGEST), encoder.seal());
  return Buffer.concat(chunks);
}

/** Replaces `core`'s state with the snapshot's, as of `zxid`; sessions are re-armed from `nowMs`. */
export function restoreCoreSnapshot(core: ServerCore, zxid: bigint, bytes: Uint8Array, nowMs: number): void {
  const decoder = new SnapshotDecoder('a snapshot from the leader');
  decoder.push(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
  decoder.end();
  const sessions: Array<{ sessionId: bigint; timeoutMs: number }> = [];
  const acls = new Map<bigint, readonly ACL[]>();
  const nodes: PersistedNode[] = [];
  for (let step = decoder.next(); step.kind !== 'done'; step = decoder.next()) {
    if (step.kind === 'session') {
      sessions.push({ sessionId: step.session.id, timeoutMs: step.session.timeoutMs });
    } else if (step.kind === 'acl') {
      acls.set(step.entry.ref, step.entry.acl);
    } else if (step.kind === 'node') {
      nodes.push(step.node.path === '' ? { ...step.node, path: '/' } : step.node);
    }
  }
  core.restore({ lastProcessedZxid: zxid, sessions, acls, nodes }, nowMs);
}
