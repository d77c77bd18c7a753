// Test helpers for code built on the client: expire a client's session on the server, the way
// ZooKeeper's own tests do (a second connection with the same id and password closes it), so
// expiry handling can be tested against any server, Apache's included.

import net from 'node:net';
import { FrameSplitter, OpCode, PROTOCOL_VERSION, TimeoutError, encodeFrame, part } from '../protocol/index.js';
import { ConnectRequest, ConnectResponse, RequestHeader } from '../protocol/records.js';
import type { ZooKeeperClient } from './client.js';

/**
 * Ends `client`'s session on the server: one connection resumes the session and closes it in the
 * same write (the server handles frames pipelined behind the handshake in order). The client may
 * still win the session back in between (its reconnect takes the session over and the server
 * hangs up on us before our closeSession runs), so this checks for the closeSession reply, or for
 * a refused handshake (already expired), and tries again otherwise. The client then learns of it
 * by itself: its connection is closed and its next handshake is answered "expired".
 */
export async function expireSession(
  client: ZooKeeperClient,
  options: { timeoutMs?: number; attempts?: number } = {},
): Promise<void> {
  if (client.sessionId === 0n) throw new Error('the client has no session yet');
  const attempts = options.attempts ?? 5;
  for (let attempt = 1; ; attempt++) {
    if (await closeSessionOnce(client, options.timeoutMs ?? 10_000)) return;
    if (attempt >= attempts) {
      throw new TimeoutError(`the session was not closed on the server after ${attempts} attempts`);
    }
  }
}

const CLOSE_XID = 1;

/** One attempt: true once the server answered our closeSession, or refused the session as expired. */
async function closeSessionOnce(client: ZooKeeperClient, timeoutMs: number): Promise<boolean> {
  const state = client.state;
  const host =
    state.type === 'connected' || state.type === 'connectedReadOnly' ? state.host : client.hosts[0];
  const frames = Buffer.concat([
    encodeFrame(
      part(ConnectRequest, {
        protocolVersion: PROTOCOL_VERSION,
        lastZxidSeen: client.lastZxidSeen,
        timeOut: Math.max(client.negotiatedTimeoutMs, 1),
        sessionId: client.sessionId,
        passwd: client.sessionPassword,
        readOnly: false,
      }),
    ),
    encodeFrame(part(RequestHeader, { xid: CLOSE_XID, type: OpCode.closeSession })),
  ]);
  const received = await new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    const socket = net.connect({ host: host.host, port: host.port }, () => socket.write(frames));
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new TimeoutError(`the server did not close the session within ${timeoutMs} ms`));
    }, timeoutMs);
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(Buffer.concat(chunks));
    });
  });
  let replies: Buffer[];
  try {
    replies = new FrameSplitter().push(received);
  } catch {
    return false;
  }
  const [handshake, ...rest] = replies;
  if (handshake === undefined) return false;
  if (ConnectResponse.decode(handshake).timeOut <= 0) return true;
  return rest.some((frame) => frame.length >= 4 && frame.readInt32BE(0) === CLOSE_XID);
}
