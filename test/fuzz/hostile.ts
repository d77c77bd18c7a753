// Valid-but-hostile sequences: each runs against a live server and then checks that a fresh client
// is still served. Sizes are parameters so the npm-test slice can run small versions.

import net from 'node:net';
import { OpCode, encodeFrame, part, records } from '../../src/protocol/index.js';
import { RequestHeader } from '../../src/protocol/records.js';
import { RawClient, RawConnection } from '../support/raw-client.js';
import { checkServes, newSocketCounts } from './socket-fuzz.js';
import { connectFrame } from './inputs.js';

const ACL = [{ perms: 31, id: { scheme: 'world', id: 'anyone' } }];

export interface HostileCase {
  readonly name: string;
  run(port: number): Promise<void>;
}

/** A create request body. */
function node(path: string, flags: number, data: Buffer | null = null) {
  return { path, data, acl: ACL, flags };
}

async function expectOk(reply: Promise<{ header: { err: number } }>, what: string): Promise<void> {
  const { header } = await reply;
  if (header.err !== 0) throw new Error(`${what}: err ${header.err}`);
}

/** `count` children under one parent, created pipelined, listed, then deleted. */
export async function manyChildren(port: number, count: number): Promise<void> {
  await using client = await RawClient.connect(port);
  const parent = `/hostile-children-${count}`;
  await expectOk(client.request(OpCode.create, node(parent, 0)), 'create parent');
  const pending: Promise<void>[] = [];
  for (let i = 0; i < count; i++) {
    pending.push(expectOk(client.request(OpCode.create, node(`${parent}/c${i}`, 1)), 'child'));
  }
  await Promise.all(pending);
  const listed = await client.request(OpCode.getChildren2, { path: parent, watch: true });
  if (listed.header.err !== 0 || listed.body.children.length !== count) {
    const got = listed.body?.children.length;
    throw new Error(`listing ${count} children: err ${listed.header.err}, got ${got}`);
  }
}

/** A node with 1 MB of data (over jute.maxbuffer: refused, connection closed) and one just under. */
export async function bigData(port: number): Promise<void> {
  {
    await using client = await RawClient.connect(port);
    const data = Buffer.alloc(1024 * 1024, 7);
    client.request(OpCode.create, { path: '/hostile-1mb', data, acl: ACL, flags: 1 }).catch(() => {});
    await client.connection.waitClosed();
  }
  await using client = await RawClient.connect(port);
  const data = Buffer.alloc(0xfffff - 200, 9);
  await expectOk(client.request(OpCode.create, node('/hostile-big', 1, data)), 'create big');
  const read = await client.request(OpCode.getData, { path: '/hostile-big', watch: false });
  if (!Buffer.from(read.body.data).equals(data)) throw new Error('big data read back differs');
}

/** `count` watches on one session (data, exist and child watches on distinct paths), then one fires. */
export async function manyWatches(port: number, count: number): Promise<void> {
  await using client = await RawClient.connect(port);
  const pending: Promise<unknown>[] = [];
  for (let i = 0; i < count; i++) {
    pending.push(client.request(OpCode.exists, { path: `/hostile-w/${i}`, watch: true }));
  }
  await Promise.all(pending);
  await using other = await RawClient.connect(port);
  await expectOk(other.request(OpCode.create, node('/hostile-w', 0)), 'parent');
  await expectOk(other.request(OpCode.create, node('/hostile-w/0', 1)), 'fire');
  await client.waitForNotifications(1);
  await expectOk(other.request(OpCode.delete, { path: '/hostile-w/0', version: -1 }), 'delete child');
  await expectOk(other.request(OpCode.delete, { path: '/hostile-w', version: -1 }), 'delete parent');
}

/** A path of `depth` components (over the frame limit when deep enough): an error reply or a close. */
export async function deepPath(port: number, depth: number): Promise<void> {
  await using client = await RawClient.connect(port);
  const path = '/d'.repeat(depth);
  const reply = client.request(OpCode.create, { path, data: null, acl: ACL, flags: 0 });
  await Promise.race([reply, client.connection.closed]);
}

/** Vectors and strings whose declared lengths are negative or huge, after a valid handshake. */
export async function hostileLengths(port: number): Promise<void> {
  for (const count of [-2, -1, 0x7fffffff, 0x10000000, 100_000]) {
    await using connection = await RawConnection.open(port);
    connection.write(connectFrame());
    await connection.nextFrame();
    const header = RequestHeader.encode({ xid: 1, type: OpCode.setWatches });
    const body = Buffer.alloc(8 + 4 * 3);
    body.writeInt32BE(count, 8);
    const frame = Buffer.concat([Buffer.alloc(4), header, body]);
    frame.writeInt32BE(frame.length - 4, 0);
    connection.write(frame);
    await Promise.race([connection.nextFrame(), connection.closed]);
  }
}

/** `count` connections at once from one IP, each with a session, all closed again. */
export async function connectionFlood(port: number, count: number): Promise<void> {
  const sockets = await Promise.all(
    Array.from({ length: count }, () => new Promise<net.Socket>((resolve) => {
      const socket = net.connect(port, '127.0.0.1', () => resolve(socket));
      socket.on('error', () => resolve(socket));
      socket.write(connectFrame());
    })),
  );
  for (const socket of sockets) socket.destroy();
}

/** A client that never reads while it asks for large replies; the server must not grow without bound. */
export async function neverReads(port: number, requests: number): Promise<void> {
  await using setup = await RawClient.connect(port);
  const data = Buffer.alloc(500_000, 1);
  await expectOk(setup.request(OpCode.create, { path: '/hostile-nr', data, acl: ACL, flags: 1 }), 'create');
  const socket = net.connect(port, '127.0.0.1');
  await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
  socket.on('error', () => {});
  socket.pause();
  socket.write(connectFrame());
  const read = encodeFrame(part(RequestHeader, { xid: 1, type: OpCode.getData }),
    part(records.GetDataRequest, { path: '/hostile-nr', watch: false }));
  for (let i = 0; i < requests; i++) socket.write(read);
  // The server stops reading this socket; others must still be served meanwhile.
  await checkServes(port, newSocketCounts(), 'never-reads');
  socket.destroy();
}

export const HOSTILE_CASES: readonly HostileCase[] = [
  { name: 'requests before connect, negative and huge vector lengths', run: hostileLengths },
  {
    name: 'deep paths (2,000 and 200,000 components)',
    run: async (p) => {
      await deepPath(p, 2000);
      await deepPath(p, 200_000);
    },
  },
  { name: '1 MB data', run: bigData },
  { name: '100,000 children under one node', run: (p) => manyChildren(p, 100_000) },
  { name: '10,000 watches on one session', run: (p) => manyWatches(p, 10_000) },
  { name: 'connection flood of 2,000', run: (p) => connectionFlood(p, 2000) },
  { name: 'a client that never reads 2,000 large replies', run: (p) => neverReads(p, 2000) },
];

export async function runHostileCase(hostile: HostileCase, port: number): Promise<void> {
  await hostile.run(port);
  await checkServes(port, newSocketCounts(), hostile.name.replace(/[^a-z0-9]/gi, '-'));
}
