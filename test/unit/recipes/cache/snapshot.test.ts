// Cache bookkeeping on plain snapshots: a read becomes created / changed / deleted (a node recreated
// while away is a delete and a create; a late, older read changes nothing), and, by property, replaying
// the diff between two snapshots onto the first gives the second, deletions deepest first.
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { describe, it } from 'mocha';
import {
  applyNodeRead,
  diffSnapshots,
  type CachedNode,
  type CacheEvent,
  type CacheSnapshot,
} from '../../../../recipes/cache/snapshot.js';

const node = (czxid: bigint, mzxid: bigint, text = ''): CachedNode => ({
  data: Buffer.from(text),
  czxid,
  mzxid,
  version: Number(mzxid - czxid),
});

function replay(snapshot: CacheSnapshot, events: readonly CacheEvent[]): Map<string, CachedNode> {
  const next = new Map(snapshot);
  for (const event of events) {
    if (event.type === 'deleted') next.delete(event.path);
    else next.set(event.path, event.node);
  }
  return next;
}

describe('cache snapshot', () => {
  const empty: CacheSnapshot = new Map();

  it('turns reads into created, changed and deleted', () => {
    const created = applyNodeRead(empty, '/a', node(5n, 5n));
    assert.deepEqual(created.events.map((e) => e.type), ['created']);
    const changed = applyNodeRead(created.snapshot, '/a', node(5n, 9n, 'x'));
    assert.deepEqual(changed.events.map((e) => e.type), ['changed']);
    const deleted = applyNodeRead(changed.snapshot, '/a', undefined);
    assert.deepEqual(deleted.events.map((e) => e.type), ['deleted']);
    assert.equal(deleted.snapshot.size, 0);
  });

  it('sees a node recreated while away, and ignores stale or repeated reads', () => {
    const start: CacheSnapshot = new Map([['/a', node(5n, 5n)]]);
    const recreated = applyNodeRead(start, '/a', node(12n, 12n));
    assert.deepEqual(recreated.events.map((e) => e.type), ['deleted', 'created']);
    assert.deepEqual(applyNodeRead(start, '/a', node(5n, 5n)), { snapshot: start, events: [] });
    const newer: CacheSnapshot = new Map([['/a', node(5n, 9n)]]);
    assert.deepEqual(applyNodeRead(newer, '/a', node(5n, 7n)).events, []);
    assert.deepEqual(applyNodeRead(empty, '/gone', undefined).events, []);
  });

  it('orders a diff: deletions deepest first, then creations parents first', () => {
    const before: CacheSnapshot = new Map([
      ['/a', node(1n, 1n)],
      ['/a/b', node(2n, 2n)],
      ['/c', node(3n, 3n)],
    ]);
    const after: CacheSnapshot = new Map([
      ['/c', node(3n, 8n)],
      ['/d', node(9n, 9n)],
      ['/d/e', node(10n, 10n)],
    ]);
    assert.deepEqual(diffSnapshots(before, after).map((e) => `${e.type} ${e.path}`), [
      'deleted /a/b',
      'deleted /a',
      'changed /c',
      'created /d',
      'created /d/e',
    ]);
  });

  it('replaying the diff onto the old snapshot gives the new one (property)', () => {
    const paths = fc.constantFrom('/r', '/r/a', '/r/b', '/r/a/x', '/r/a/y');
    const zxids = fc.record({ czxid: fc.bigInt(1n, 4n), mzxid: fc.bigInt(4n, 8n) });
    const cached = zxids.map((n) => node(n.czxid, n.mzxid));
    const snapshot = fc.dictionary(paths, cached).map((entries) => new Map(Object.entries(entries)));
    fc.assert(
      fc.property(snapshot, snapshot, (before, after) => {
        const events = diffSnapshots(before, after);
        assert.deepEqual(replay(before, events), after);
        const deleted = events.filter((e) => e.type === 'deleted').map((e) => e.path.split('/').length);
        assert.deepEqual(deleted, [...deleted].sort((x, y) => y - x));
      }),
    );
  });
});
