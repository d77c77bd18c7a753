// Managed node layouts: PersistentTtlNode is a container with a TTL `touch` child set every ttl / 2,
// and GroupMember membership always includes ourselves, as Curator reports it.
import assert from 'node:assert/strict';
import { describe, it } from 'mocha';
import { currentMembers, groupMemberPath, ttlNodeLayout } from '../../../../recipes/nodes/formats.js';
import { CreateMode, InvalidArgumentError } from '../../../../src/index.js';

describe('managed node layouts', () => {
  it('lays out a TTL node as Curator\'s PersistentTtlNode does', () => {
    assert.deepEqual(ttlNodeLayout('/jobs/lease', 60_000), {
      nodePath: '/jobs/lease',
      nodeMode: CreateMode.CONTAINER,
      touchPath: '/jobs/lease/touch',
      touchMode: CreateMode.PERSISTENT_WITH_TTL,
      ttlMs: 60_000,
      touchEveryMs: 30_000,
    });
    assert.throws(() => ttlNodeLayout('/jobs/lease', 0), InvalidArgumentError);
    assert.throws(() => ttlNodeLayout('/jobs/lease', 2 ** 41), InvalidArgumentError);
    assert.throws(() => ttlNodeLayout('jobs', 1000), InvalidArgumentError);
  });

  it('names group members by id and always counts ourselves in', () => {
    assert.equal(groupMemberPath('/group', 'node-1'), '/group/node-1');
    assert.throws(() => groupMemberPath('/group', 'a/b'), InvalidArgumentError);
    const self = { id: 'me', payload: Buffer.from('mine') };
    const before = currentMembers([{ name: 'other', data: Buffer.from('x') }], self);
    assert.deepEqual([...before.keys()], ['other', 'me']);
    const listed = currentMembers([{ name: 'me', data: Buffer.from('listed') }], self);
    assert.equal(Buffer.from(listed.get('me')!).toString(), 'listed');
  });
});
