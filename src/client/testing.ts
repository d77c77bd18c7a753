// Test helpers for code built on the client: expire a client's session on the server, the way
// ZooKeeper's own tests do (a second connection with the same id and password closes it), so
// expiry handling can be tested against any server, Apache's included.

import net from 'node:net';
import {
  FrameSplitter,
  OpCode,
  PROTOCOL_VERSION,
  TimeoutError,
  encodeFrame,
  part,
} from '../protocol/index.js';
import { ConnectRequest, ConnectResponse, RequestHeader } from '../protocol/records.js';
import type { ZooKeeperClient } from './client.js';

/** Attempts before giving up when the client keeps winning its session back (Apache only). */
const EXPIRE_ATTEMPTS_MAX = 5;

/**
 * Ends `client`'s session on the server: one connection resumes the session and closes it in the
 * same write (the server handles frames pipelined behind the handshake in order), so the client
 * cannot win the session back in between. The client then learns of it by itself: its connection
 * is closed and its next handshake is answered "expired". Resolves once the server confirmed the
 * close. Apache stops reading a connection until its handshake is done, so a client reconnecting
 * at that instant can take the session back and get the closing connection dropped before its
 * closeSession is read: that attempt is then repeated.
 */
export async function expireSession(
  client: ZooKeeperClient,
  options: { timeoutMs?: number } = {},
): Promise<void> {
  if (client.sessionId === 0n) throw new Error('the client has no session yet');
  const deadlineMs = Date.now() + (options.timeoutMs ?? 10_000);
  for (let attempt = 1; ; attempt++) {
    if (await closeSessionOnce(client, deadlineMs)) return;
    if (attempt >= EXPIRE_ATTEMPTS_MAX) {
      throw new Error(`the client took its session back ${attempt} times: it was not closed`);
    }
  }
}

/** One resume-and-close; true once the server answered the close or said the session is gone. */
async function closeSessionOnce(client: ZooKeeperClient, deadlineMs: number): Promise<boolean> {
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
  const timeoutMs = Math.max(deadlineMs - Date.now(), 1);
  return await new Promise<boolean>((resolve, reject) => {
    const splitter = new FrameSplitter();
    let handshaken = false;
    let closed = false;
    const socket = net.connect({ host: host.host, port: host.port }, () => socket.write(frames));
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new TimeoutError(`the server did not close the session within ${timeoutMs} ms`));
    }, timeoutMs);
    socket.on('data', (chunk: Buffer) => {
      try {
        for (const frame of splitter.push(chunk)) {
          if (!handshaken) {
            handshaken = true;
            // timeOut 0: the session is already gone, which is what was wanted.
            if (ConnectResponse.decode(frame).timeOut <= 0) closed = true;
          } else if (frame.length >= 4 && frame.readInt32BE(0) === CLOSE_XID) {
            closed = true;
          }
        }
      } catch {
        socket.destroy();
      }
    });
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(closed);
    });
  });
}

const CLOSE_XID = 1;
