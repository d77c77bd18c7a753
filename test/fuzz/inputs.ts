// Fuzz inputs: valid request frames built with src/protocol, and mutations of them (lengths, opcodes,
// vector counts, bytes). A seeded PRNG drives everything so any failing case can be replayed by seed.

import { MultiRequest, OpCode, encodeFrame, part, records, type MultiOp } from '../../src/protocol/index.js';
import { ConnectRequest, RequestHeader } from '../../src/protocol/records.js';

/** A small, fast, seedable PRNG (mulberry32); the fuzzer's only randomness. */
export class Prng {
  private state: number;
  constructor(readonly seed: number) {
    this.state = seed >>> 0;
  }
  next(): number {
    let t = (this.state = (this.state + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  int(maxExclusive: number): number {
    return Math.floor(this.next() * maxExclusive);
  }
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)];
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  bytes(n: number): Buffer {
    const out = Buffer.allocUnsafe(n);
    for (let i = 0; i < n; i++) out[i] = this.int(256);
    return out;
  }
}

/** Values that break length and count checks: negative, zero, boundaries, huge. */
export const INTERESTING_INT32 = [
  -1, 0, 1, 2, 0x7f, 0x80, 0xff, 0x7fff, 0xffff, 0xfffff, 0x100000, 0x7ffffffe, 0x7fffffff, -0x80000000,
  -2, 1 << 24, 1 << 30,
];

const OPEN_ACL = [{ perms: 31, id: { scheme: 'world', id: 'anyone' } }];
const NAMES = ['a', 'b', 'c', 'zookeeper', 'x y', 'é', '', '.', '..'];

export function randomPath(rng: Prng): string {
  if (rng.chance(0.05)) return rng.pick(['/', '', '//', '/zookeeper/quota', '/f/', 'f', '/f/\u0000']);
  const depth = rng.chance(0.02) ? 200 + rng.int(2000) : 1 + rng.int(3);
  const parts = ['f'];
  for (let i = 1; i < depth; i++) parts.push(rng.pick(NAMES.slice(0, 3)));
  if (rng.chance(0.1)) parts.push(rng.pick(NAMES));
  return '/' + parts.join('/');
}

function randomData(rng: Prng): Buffer | null {
  if (rng.chance(0.1)) return null;
  return rng.bytes(rng.chance(0.05) ? rng.int(4096) : rng.int(16));
}

function randomMultiOps(rng: Prng): MultiOp[] {
  const ops: MultiOp[] = [];
  const count = rng.int(5);
  for (let i = 0; i < count; i++) {
    const path = randomPath(rng);
    const kind = rng.int(4);
    const data = randomData(rng);
    const flags = rng.int(4);
    if (kind === 0) ops.push({ type: OpCode.create, request: { path, data, acl: OPEN_ACL, flags } });
    else if (kind === 1) ops.push({ type: OpCode.delete, request: { path, version: -1 } });
    else if (kind === 2) ops.push({ type: OpCode.setData, request: { path, data, version: -1 } });
    else ops.push({ type: OpCode.check, request: { path, version: rng.int(3) - 1 } });
  }
  return ops;
}

/** A valid request frame (length prefix, header, body) for a random operation. */
export function validRequestFrame(rng: Prng, xid: number): Buffer {
  const header = (type: number) => part(RequestHeader, { xid, type });
  const path = randomPath(rng);
  const watch = rng.chance(0.3);
  if (rng.chance(0.25)) return rarerRequestFrame(rng, xid, path);
  switch (rng.int(14)) {
    case 0:
    case 1: {
      const flags = rng.pick([0, 1, 2, 3, 1, 1]);
      const body = { path, data: randomData(rng), acl: OPEN_ACL, flags };
      return encodeFrame(header(OpCode.create), part(records.CreateRequest, body));
    }
    case 2:
      return encodeFrame(header(OpCode.getData), part(records.GetDataRequest, { path, watch }));
    case 3:
      return encodeFrame(header(OpCode.exists), part(records.ExistsRequest, { path, watch }));
    case 4:
      return encodeFrame(header(OpCode.getChildren2), part(records.GetChildren2Request, { path, watch }));
    case 5:
      return encodeFrame(header(OpCode.delete), part(records.DeleteRequest, { path, version: -1 }));
    case 6:
      return encodeFrame(header(OpCode.setData),
        part(records.SetDataRequest, { path, data: randomData(rng), version: -1 }));
    case 7:
      return encodeFrame(header(rng.chance(0.5) ? OpCode.multi : OpCode.multiRead),
        { type: MultiRequest, value: { ops: randomMultiOps(rng) } });
    case 8: {
      const paths = Array.from({ length: rng.int(4) }, () => randomPath(rng));
      const body = { relativeZxid: 0n, dataWatches: paths, existWatches: paths, childWatches: paths };
      return encodeFrame(header(OpCode.setWatches), part(records.SetWatches, body));
    }
    case 9:
      return encodeFrame(header(OpCode.addWatch),
        part(records.AddWatchRequest, { path, mode: rng.int(3) - 1 }));
    case 10:
      return encodeFrame(header(OpCode.setACL),
        part(records.SetACLRequest, { path, acl: OPEN_ACL, version: -1 }));
    case 11:
      return encodeFrame(header(OpCode.getAllChildrenNumber),
        part(records.GetAllChildrenNumberRequest, { path }));
    case 12:
      return encodeFrame(header(OpCode.removeWatches),
        part(records.RemoveWatchesRequest, { path, type: rng.int(4) }));
    default:
      return encodeFrame(header(OpCode.sync), part(records.SyncRequest, { path }));
  }
}

/** The less common operations: auth, sasl, TTL and container creates, reconfig, session queries. */
function rarerRequestFrame(rng: Prng, xid: number, path: string): Buffer {
  const header = (type: number) => part(RequestHeader, { xid, type });
  const create = { path, data: null, acl: OPEN_ACL, flags: rng.pick([0, 1, 4, 5, 6]) };
  switch (rng.int(9)) {
    case 0: {
      const scheme = rng.pick(['digest', 'ip', 'world', 'sasl', 'nope', '']);
      const auth = rng.chance(0.5) ? Buffer.from('user:password') : rng.bytes(rng.int(40));
      return encodeFrame(part(RequestHeader, { xid: -4, type: OpCode.auth }),
        part(records.AuthPacket, { type: 0, scheme, auth }));
    }
    case 1:
      return encodeFrame(header(OpCode.sasl),
        part(records.GetSASLRequest, { token: rng.bytes(rng.int(32)) }));
    case 2:
      return encodeFrame(header(OpCode.createTTL),
        part(records.CreateTTLRequest, { ...create, ttl: BigInt(rng.pick([-1, 0, 1, 1000, 2 ** 40])) }));
    case 3:
      return encodeFrame(header(OpCode.createContainer), part(records.CreateRequest, create));
    case 4: {
      const members = rng.chance(0.5) ? null : 'server.9=localhost:1:2;3';
      const body = { joiningServers: members, leavingServers: null, newMembers: null, curConfigId: -1n };
      return encodeFrame(header(OpCode.reconfig), part(records.ReconfigRequest, body));
    }
    case 5:
      return encodeFrame(header(OpCode.checkWatches),
        part(records.CheckWatchesRequest, { path, type: rng.int(4) }));
    case 6:
      return encodeFrame(header(OpCode.getEphemerals),
        part(records.GetEphemeralsRequest, { prefixPath: path }));
    case 7: {
      const paths = [path, '/f', '/'];
      const body = {
        relativeZxid: BigInt(rng.int(1000)),
        dataWatches: paths,
        existWatches: [],
        childWatches: paths,
        persistentWatches: rng.chance(0.5) ? paths : [],
        persistentRecursiveWatches: rng.chance(0.5) ? paths : [],
      };
      return encodeFrame(header(OpCode.setWatches2), part(records.SetWatches2, body));
    }
    default:
      return encodeFrame(header(OpCode.whoAmI));
  }
}

export function connectFrame(overrides: Partial<records.ConnectRequest> = {}): Buffer {
  const request: records.ConnectRequest = {
    protocolVersion: 0,
    lastZxidSeen: 0n,
    timeOut: 30_000,
    sessionId: 0n,
    passwd: Buffer.alloc(16),
    ...overrides,
  };
  return encodeFrame(part(ConnectRequest, request));
}

/**
 * Mutates a frame (with its length prefix). `keepPrefix` re-writes the prefix to the new body length
 * so the frame stays framed (body mutations); otherwise the prefix itself may be mutated.
 */
export function mutateFrame(rng: Prng, frame: Buffer, keepPrefix: boolean): Buffer {
  let body: Buffer = Buffer.from(frame.subarray(4));
  const rounds = 1 + rng.int(3);
  for (let r = 0; r < rounds; r++) body = mutateBody(rng, body);
  const out = Buffer.allocUnsafe(4 + body.length);
  body.copy(out, 4);
  out.writeInt32BE(body.length, 0);
  if (!keepPrefix && rng.chance(0.5)) out.writeInt32BE(rng.pick(INTERESTING_INT32), 0);
  return out;
}

function mutateBody(rng: Prng, body: Buffer): Buffer {
  const at = body.length === 0 ? 0 : rng.int(body.length);
  switch (rng.int(7)) {
    case 0: // an int32 somewhere (a length, a count, the opcode) becomes a hostile value
      if (body.length >= at + 4) body.writeInt32BE(rng.pick(INTERESTING_INT32), at & ~3);
      return body;
    case 1: // the opcode
      if (body.length < 8) return body;
      body.writeInt32BE(rng.chance(0.5) ? rng.int(120) - 12 : rng.pick(INTERESTING_INT32), 4);
      return body;
    case 2: // flip bits
      if (body.length > 0) body[at] ^= 1 << rng.int(8);
      return body;
    case 3: // truncate
      return body.subarray(0, at);
    case 4: // append garbage
      return Buffer.concat([body, rng.bytes(1 + rng.int(16))]);
    case 5: // random byte
      if (body.length > 0) body[at] = rng.int(256);
      return body;
    default: // duplicate a slice (repeats vector elements)
      return Buffer.concat([body.subarray(0, at), body.subarray(at / 2), body.subarray(at)]);
  }
}
