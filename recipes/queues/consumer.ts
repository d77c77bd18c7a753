// What a queue consumer takes next, as Curator's DistributedQueue consumer decides it: items in the
// queue's order; a delay queue waits until its first item is due and skips items not due yet; in the
// lock-safe mode (Curator's `lockPath`), items another consumer has locked (an EPHEMERAL
// `<lockPath>/<itemName>`) are skipped, so an item is processed once even if a consumer dies mid-way:
// its lock node goes with its session and the item is taken again.
import { InvalidArgumentError, joinPath } from '../../src/index.js';
import { delayRemainingMs, QUEUE_ITEM_PREFIX, sortQueueItems, type QueueKind } from './formats.js';

export type QueueTake =
  /** Due items, in order; take them one at a time (lock-safe: create the lock node, NodeExists: skip). */
  | { kind: 'take'; items: string[] }
  /** Nothing due before `untilMs` (delay queue): wait until then or until the children change. */
  | { kind: 'wait'; untilMs: number }
  /** No items: wait for the children to change. */
  | { kind: 'empty' };

export function nextQueueItems(
  kind: QueueKind,
  children: readonly string[],
  nowMs: number,
  lockedItems: ReadonlySet<string> = new Set(),
): QueueTake {
  const items = sortQueueItems(kind, children).filter((item) => !lockedItems.has(item));
  if (items.length === 0) return { kind: 'empty' };
  if (kind === 'delay') {
    const firstDelayMs = delayRemainingMs(items[0]!, nowMs);
    if (firstDelayMs > 0) return { kind: 'wait', untilMs: nowMs + firstDelayMs };
    return { kind: 'take', items: items.filter((item) => delayRemainingMs(item, nowMs) <= 0) };
  }
  return { kind: 'take', items };
}

/** The lock-safe mode's lock node for an item: `<lockPath>/<itemName>`, as Curator names it. */
export function itemLockPath(lockPath: string, itemName: string): string {
  if (!itemName.startsWith(QUEUE_ITEM_PREFIX)) throw new InvalidArgumentError(`not a queue item: ${itemName}`);
  return joinPath(lockPath, itemName);
}
