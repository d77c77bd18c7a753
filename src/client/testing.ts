// Test helpers for code built on the client: expire a client's session on the server, the way
// ZooKeeper's own tests do (a second connection with the same id and password closes it), so
// expiry handling can be tested against any server, Apache's included.

import net from 'node:net';
import { OpCode, PROTOCOL_VERSION, TimeoutError, encodeFrame, part } from '../protocol/index.js';
import { ConnectRequest, RequestHeader } from '../protocol/records.js';
import type { ZooKeeperClient } from './client.js';

/**
 * Ends `client`'s session on the server: one connection resumes the session and closes it in the
 * same write (the server handles frames pipelined behind the handshake in order), so the client
 * cannot win the session back in between. The client then learns of it by itself: its connection
 * is closed and its next handshake is answered "expired". Resolves once the server hung up.
 */
export async function expireSession(
  client: ZooKeeperClient,
  options: { timeoutMs?: number } = {},
): Promise<void> {
  if (client.sessionId === 0n) throw new Error('the client has no session yet');
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
    encodeFrame(part(RequestHeader, { xid: 1, type: OpCode.closeSession })),
  ]);
  const timeoutMs = options.timeoutMs ?? 10_000;
  await new Promise<void>((resolve, reject) => {
    const socket = net.connect({ host: host.host, port: host.port }, () => socket.write(frames));
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new TimeoutError(`the server did not close the session within ${timeoutMs} ms`));
    }, timeoutMs);
    socket.on('data', () => undefined);
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearTimeout(timer);
      resolve();
    });
  });
}
