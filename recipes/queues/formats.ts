// Curator's queue layout, so Java producers and Node consumers (and back) share one queue. Items are
// PERSISTENT_SEQUENTIAL children of the queue path, named by kind:
//   plain     queue-<seq>                       e.g. queue-0000000000
//   priority  queue-<0|1><8 hex digits><seq>    e.g. queue-1000000050000000000 (priority 5; 0-prefix if < 0)
//   delay     queue-|<hex epoch ms>|<seq>       e.g. queue-|18BCFE56800|0000000000
//   id        queue-|<id with / and | as _>|<seq>
// and the data is Curator's multi-item envelope: int32 0x00010001, then per item 0x01 + int32 length +
// bytes, then 0x02. Pure: no clock (the delay queue takes `nowMs`).
import { DecodeError, InvalidArgumentError } from '../../src/index.js';

export const QUEUE_ITEM_PREFIX = 'queue-';
const SEPARATOR = '|';
const ENVELOPE_VERSION = 0x00010001;
const ITEM_OPCODE = 0x01;
const END_OPCODE = 0x02;

export type QueueKind = 'plain' | 'priority' | 'delay' | 'id';

export type QueuePlacement =
  | { kind: 'plain' }
  /** Lower numbers come out first; a 32-bit signed integer. */
  | { kind: 'priority'; priority: number }
  /** The item is not handed out before this time (ms since the epoch). */
  | { kind: 'delay'; delayUntilEpochMs: number }
  /** An id by which the item can be found and removed before it is consumed. */
  | { kind: 'id'; itemId: string };

/** The name to create as PERSISTENT_SEQUENTIAL under the queue path (the server appends the sequence). */
export function queueItemName(placement: QueuePlacement): string {
  switch (placement.kind) {
    case 'plain':
      return QUEUE_ITEM_PREFIX;
    case 'priority':
      return QUEUE_ITEM_PREFIX + priorityKey(placement.priority);
    case 'delay': {
      const epochMs = placement.delayUntilEpochMs;
      if (!Number.isSafeInteger(epochMs) || epochMs < 0) {
        throw new InvalidArgumentError(`delayUntilEpochMs must be a non-negative integer, got ${epochMs}`);
      }
      return `${QUEUE_ITEM_PREFIX}${SEPARATOR}${hex(epochMs, 8)}${SEPARATOR}`;
    }
    case 'id':
      if (typeof placement.itemId !== 'string' || placement.itemId.length === 0) {
        throw new InvalidArgumentError('an item id must be a non-empty string');
      }
      return `${QUEUE_ITEM_PREFIX}${SEPARATOR}${cleanItemId(placement.itemId)}${SEPARATOR}`;
  }
}

/** Curator's priority text: '1' for >= 0, '0' for < 0, then the 32-bit two's complement in 8 hex digits. */
export function priorityKey(priority: number): string {
  if (!Number.isInteger(priority) || priority < -0x80000000 || priority > 0x7fffffff) {
    throw new InvalidArgumentError(`a priority is a 32-bit signed integer, got ${priority}`);
  }
  return (priority >= 0 ? '1' : '0') + hex(priority >>> 0, 8);
}

/** Java's %0<width>X: upper-case hex, zero-padded. */
function hex(value: number, width: number): string {
  return value.toString(16).toUpperCase().padStart(width, '0');
}

/** Ids may not carry the separator or a '/': Curator replaces both with '_'. */
export function cleanItemId(itemId: string): string {
  return itemId.replaceAll('/', '_').replaceAll(SEPARATOR, '_');
}

/** The priority in a priority item's name, or undefined when the name is not one. */
export function parsePriority(nodeName: string): number | undefined {
  const match = /^queue-([01])([0-9A-F]{8})/.exec(nodeName);
  if (match === null) return undefined;
  const value = Number.parseInt(match[2]!, 16) | 0;
  return (match[1] === '1') === value >= 0 ? value : undefined;
}

/**
 * The delay-until time of a delay item, read as Curator reads it: the hex between the last two '|';
 * 0 (due at once) when there is none, so both sides order the same odd names the same way.
 */
export function parseDelayUntil(nodeName: string): number {
  const last = nodeName.lastIndexOf(SEPARATOR);
  const first = last > 0 ? nodeName.lastIndexOf(SEPARATOR, last - 1) : -1;
  if (first > 0 && last > first + 1) {
    const text = nodeName.slice(first + 1, last);
    if (/^[+-]?[0-9a-fA-F]+$/.test(text)) {
      const value = Number.parseInt(text, 16);
      if (Number.isSafeInteger(value)) return value;
    }
  }
  return 0;
}

/** The id of an id-queue item and the name without it (Curator's sort key), as Curator's parseId. */
export function parseIdItem(nodeName: string): { id: string; cleaned: string } {
  const first = nodeName.indexOf(SEPARATOR);
  const second = first < 0 ? -1 : nodeName.indexOf(SEPARATOR, first + 1);
  if (first < 0 || second < 0) return { id: nodeName, cleaned: nodeName };
  const cleaned = nodeName.slice(0, first) + nodeName.slice(second + 1);
  return { id: nodeName.slice(first + 1, second), cleaned };
}

const byCodeUnits = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** Items in the order Curator's consumer takes them (ties, which Curator leaves to chance, by name). */
export function sortQueueItems(kind: QueueKind, nodeNames: readonly string[]): string[] {
  const items = nodeNames.filter((name) => name.startsWith(QUEUE_ITEM_PREFIX));
  switch (kind) {
    case 'plain':
    case 'priority':
      return items.sort(byCodeUnits);
    case 'delay':
      return items.sort((a, b) => parseDelayUntil(a) - parseDelayUntil(b) || byCodeUnits(a, b));
    case 'id':
      return items.sort(
        (a, b) => byCodeUnits(parseIdItem(a).cleaned, parseIdItem(b).cleaned) || byCodeUnits(a, b),
      );
  }
}

/** How long until a delay item is due (<= 0: due now). */
export function delayRemainingMs(nodeName: string, nowMs: number): number {
  return parseDelayUntil(nodeName) - nowMs;
}

/** Curator's ItemSerializer envelope around one or more serialized items. */
export function encodeQueueItems(items: readonly Uint8Array[]): Uint8Array {
  const size = 4 + items.reduce((sum, item) => sum + 5 + item.length, 0) + 1;
  const bytes = new Uint8Array(size);
  const view = new DataView(bytes.buffer);
  view.setInt32(0, ENVELOPE_VERSION);
  let offset = 4;
  for (const item of items) {
    view.setUint8(offset, ITEM_OPCODE);
    view.setInt32(offset + 1, item.length);
    bytes.set(item, offset + 5);
    offset += 5 + item.length;
  }
  view.setUint8(offset, END_OPCODE);
  return bytes;
}

export function decodeQueueItems(bytes: Uint8Array): Uint8Array[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
  if (bytes.length < 5) {
    throw new DecodeError(`a queue item envelope needs at least 5 bytes, got ${bytes.length}`);
  }
  const version = view.getInt32(0);
  if (version !== ENVELOPE_VERSION) {
    throw new DecodeError(`queue item envelope version ${version.toString(16)}, expected 10001`);
  }
  const items: Uint8Array[] = [];
  let offset = 4;
  for (;;) {
    if (offset >= bytes.length) throw new DecodeError('queue item envelope ends without its end mark');
    const opcode = view.getUint8(offset);
    if (opcode === END_OPCODE) return items;
    if (opcode !== ITEM_OPCODE) {
      throw new DecodeError(`queue item envelope: unknown opcode ${opcode} at ${offset}`);
    }
    if (offset + 5 > bytes.length) {
      throw new DecodeError(`queue item envelope: truncated length at ${offset}`);
    }
    const length = view.getInt32(offset + 1);
    const start = offset + 5;
    if (length < 0 || start + length > bytes.length) {
      throw new DecodeError(`queue item envelope: item of ${length} bytes at ${offset} runs past the end`);
    }
    items.push(bytes.slice(start, start + length));
    offset = start + length;
  }
}
