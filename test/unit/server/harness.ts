// Shared helpers for the server-core unit tests: a core with Apache's defaults, sessions as
// request contexts, one-call writes (prepare then apply) and a watcher that records its events.
import type { ACL, Id, WatcherEvent } from '../../../src/protocol/index.js';
import { OpCode, Perms } from '../../../src/protocol/index.js';
import type { Reply, RequestContext, Watcher } from '../../../server/core/api.js';
import { ServerCore, type ServerCoreOptions } from '../../../server/core/server-core.js';

export const OPEN_ACL: ACL[] = [{ perms: Perms.ALL, id: { scheme: 'world', id: 'anyone' } }];
export const T0 = 1_700_000_000_000;

export function makeCore(options: Partial<ServerCoreOptions> = {}): ServerCore {
  return new ServerCore({
    tickTimeMs: 2000,
    minSessionTimeoutMs: 4000,
    maxSessionTimeoutMs: 40000,
    startTimeMs: T0,
    ...options,
  });
}

export interface Client extends RequestContext {
  authIds: Id[];
  cxid: number;
}

/** Opens a session (createSession txn applied) and returns its request context. */
export function connect(core: ServerCore, nowMs = T0, address = '127.0.0.1'): Client {
  const session = core.createSession(30000, nowMs);
  core.apply(session.txn);
  return { sessionId: session.sessionId, cxid: 0, authIds: [{ scheme: 'ip', id: address }] };
}

/** prepare + apply in one step, as the standalone pipeline does. */
export function write(core: ServerCore, client: Client, opcode: number, request: unknown, nowMs = T0): Reply {
  client.cxid++;
  return core.apply(core.prepare(client, opcode, request, nowMs));
}

export interface CreateOptions {
  data?: Buffer | null;
  flags?: number;
  acl?: ACL[];
  opcode?: number;
  ttl?: bigint;
  nowMs?: number;
}

export function create(
  core: ServerCore,
  client: Client,
  path: string,
  options: CreateOptions = {},
): Reply {
  const opcode = options.opcode ?? (options.ttl !== undefined ? OpCode.createTTL : OpCode.create2);
  const request: Record<string, unknown> = {
    path,
    data: options.data === undefined ? Buffer.from('x') : options.data,
    acl: options.acl ?? OPEN_ACL,
    flags: options.flags ?? 0,
  };
  if (opcode === OpCode.createTTL) request.ttl = options.ttl ?? -1n;
  return write(core, client, opcode, request, options.nowMs);
}

export function read(
  core: ServerCore,
  client: Client,
  opcode: number,
  request: unknown,
  watcher?: Watcher,
): Reply {
  client.cxid++;
  return core.read(client, opcode, request, watcher);
}

export function statOf(core: ServerCore, client: Client, path: string): any {
  const reply = read(core, client, OpCode.exists, { path, watch: false });
  if (reply.err !== 0) throw new Error(`exists ${path} failed with ${reply.err}`);
  return (reply.response as any).stat;
}

/** A watcher that records every event it is given. */
export class RecordingWatcher implements Watcher {
  readonly events: Array<{ type: number; path: string; zxid: bigint }> = [];
  constructor(readonly authIds: Id[] = [{ scheme: 'ip', id: '127.0.0.1' }]) {}
  process(event: WatcherEvent, zxid: bigint): void {
    this.events.push({ type: event.type, path: event.path, zxid });
  }
  take(): Array<[number, string]> {
    const taken = this.events.splice(0).map((event) => [event.type, event.path] as [number, string]);
    return taken;
  }
}
