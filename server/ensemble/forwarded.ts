// What a member hands the leader through consensus: a client's write (or a new session) as a small
// jute record, and the session touches a learner reports on its ping replies. Opaque to the quorum
// core; only members read them.

import { OpCode, decodeRequest, records } from '../../src/protocol/index.js';
import { buffer, int, long, record, vector } from '../../src/protocol/jute.js';

/**
 * A write forwarded to the leader. `frame` is the client's whole request frame (header and body),
 * decoded again by the leader; a createSession carries no frame, only the session id the member
 * allocated and the timeout it negotiated.
 */
export const ForwardedRequest = record('ForwardedRequest', {
  sessionId: long,
  cxid: int,
  type: int,
  authIds: vector(records.Id),
  timeoutMs: int,
  frame: buffer,
});
export type ForwardedRequest = ReturnType<typeof ForwardedRequest.decode>;

/**
 * Not a ZooKeeper opcode: "the session's client is now connected to the forwarding member". The
 * leader records the owner; a later write of that session from another member is SessionMoved, as
 * Apache's revalidation makes it.
 */
export const SESSION_OWNER_TYPE = -1000;

/** Sessions whose clients were heard from since the last ping reply. */
export const SessionTouches = record('SessionTouches', { sessionIds: vector(long) });

export function encodeSessionTouches(sessionIds: Iterable<bigint>): Uint8Array {
  return SessionTouches.encode({ sessionIds: [...sessionIds] });
}

export function decodeSessionTouches(payload: Uint8Array): bigint[] {
  const bytes = Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength);
  return SessionTouches.decode(bytes).sessionIds;
}

export function decodeForwarded(bytes: Uint8Array): ForwardedRequest {
  return ForwardedRequest.decode(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
}

/**
 * The request record of a forwarded write, as the connection decoded it at its origin: undefined
 * when the frame does not decode (prepare then answers MarshallingError, as it would have there).
 */
export function forwardedBody(request: ForwardedRequest): unknown {
  if (request.type === OpCode.closeSession) return {};
  const frame = request.frame ?? Buffer.alloc(0);
  // deleteContainer has no request record: Apache takes the whole request buffer as the path.
  if (request.type === OpCode.deleteContainer) return { path: frame.toString('utf8') };
  try {
    return decodeRequest(frame).body;
  } catch {
    return undefined;
  }
}
