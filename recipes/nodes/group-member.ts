// GroupMember: membership in a group (Curator's GroupMember, same layout): our EPHEMERAL node
// `<group>/<id>` holding our payload, kept by a PersistentNode, and a children cache of the group.
//
//   await using member = await joinGroup(zk, '/groups/workers', 'w1', 'host-a');
//   member.currentMembers();            // Map id → payload, ourselves included
//   member.onChange((event) => ...);    // created / changed / deleted of member nodes
//
// Guarantees. Our node is that of a PersistentNode (see persistent-node.ts): kept without churn across
// reconnects, re-created after a session loss or deletion, never taken from another live session with
// the same id (waited out). The membership view is a TreeCache of depth 1: possibly stale while
// SUSPENDED, caught up after RECONNECTED with events for what changed. We always count ourselves in
// (Curator's rule), even before our node shows up in the cache. The start timeout and the node's retry
// pauses run on `options.clock` (real time by default; a test kit passes its virtual clock).
import { joinPath, type Data, type Framework, type FrameworkClock } from '../../src/index.js';
import { TreeCache, type TreeCacheEvent } from '../cache/tree-cache.js';
import { currentMembers, groupMemberPath } from './formats.js';
import { PersistentNode } from './persistent-node.js';

export interface GroupMemberOptions {
  /** Where timeouts and retry pauses read the time and arm their timers. Default: real time. */
  clock?: FrameworkClock;
}

export class GroupMember implements AsyncDisposable {
  readonly #node: PersistentNode;
  readonly #cache: TreeCache;
  #payload: Buffer;
  #closed: Promise<void> | undefined;

  constructor(
    zk: Framework,
    readonly groupPath: string,
    readonly memberId: string,
    payload: Data | null = null,
    options: GroupMemberOptions = {},
  ) {
    this.#payload = toBuffer(payload);
    const path = groupMemberPath(groupPath, memberId);
    const nodeOptions = { mode: 'EPHEMERAL', data: payload, clock: options.clock } as const;
    this.#node = new PersistentNode(zk, path, nodeOptions);
    this.#cache = new TreeCache(zk, groupPath, { maxDepth: 1 });
  }

  async start(options: { signal?: AbortSignal; timeoutMs?: number } = {}): Promise<void> {
    await this.#node.start(options);
    await this.#cache.start(options);
  }

  /** Member id → payload, ourselves included. */
  currentMembers(): Map<string, Buffer> {
    const children = this.#cache.children(this.groupPath).map((name) => ({
      name,
      data: this.#cache.get(joinPath(this.groupPath, name))?.data ?? new Uint8Array(),
    }));
    const members = currentMembers(children, { id: this.memberId, payload: this.#payload });
    return new Map([...members].map(([id, data]) => [id, Buffer.from(data)]));
  }

  /** Changes of member nodes (the group node's own events are left out). */
  onChange(listener: (event: TreeCacheEvent) => void): () => void {
    return this.#cache.onEvent((event) => {
      if (event.type === 'initialized' || event.path !== this.groupPath) listener(event);
    });
  }

  async setPayload(payload: Data | null, options: { signal?: AbortSignal } = {}): Promise<void> {
    this.#payload = toBuffer(payload);
    await this.#node.setData(payload, options);
  }

  close(): Promise<void> {
    this.#closed ??= Promise.all([this.#cache.close(), this.#node.close()]).then(() => undefined);
    return this.#closed;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}

export async function joinGroup(
  zk: Framework,
  groupPath: string,
  memberId: string,
  payload: Data | null = null,
  options: GroupMemberOptions & { signal?: AbortSignal; timeoutMs?: number } = {},
): Promise<GroupMember> {
  const { signal, timeoutMs, ...memberOptions } = options;
  const member = new GroupMember(zk, groupPath, memberId, payload, memberOptions);
  try {
    await member.start({ signal, timeoutMs });
    return member;
  } catch (error) {
    await member.close();
    throw error;
  }
}

function toBuffer(data: Data | null): Buffer {
  if (data === null) return Buffer.alloc(0);
  return typeof data === 'string' ? Buffer.from(data, 'utf8') : Buffer.from(data);
}
