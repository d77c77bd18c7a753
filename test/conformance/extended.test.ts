// Settings that change answers, against both servers: TTL nodes refused without extendedTypesEnabled,
// and hard quotas enforced with enforceQuota (QuotaExceeded), set up the way zkCli's setquota does.
import assert from 'node:assert/strict';
import { it } from 'mocha';
import { OpCode } from '../../src/protocol/index.js';
import { describeBothServers } from '../support/servers.js';
import { OPEN_ACL, create, ok, setData } from './ops.js';

describeBothServers('without extendedTypesEnabled', { config: { extendedTypesEnabled: false } }, (target) => {
  it('answers createTTL and TTL create modes with Unimplemented', async () => {
    await using client = await target().connect();
    const root = target().path();
    const request = { path: root, data: null, acl: OPEN_ACL, flags: 5, ttl: 1000n };
    assert.equal((await client.request(OpCode.createTTL, request)).header.err, -6);
    ok(await create(client, root), 'a plain create still works');
  });
});

describeBothServers('with enforceQuota', { config: { enforceQuota: true } }, (target) => {
  it('refuses creates over a hard count limit with QuotaExceeded', async () => {
    await using client = await target().connect();
    const root = target().path();
    ok(await create(client, root));
    // What `setquota -N 3 <root>` writes: limits and current usage under /zookeeper/quota<root>.
    ok(await create(client, `/zookeeper/quota${root}`));
    const limits = Buffer.from('count=-1,bytes=-1,countHardLimit=3,byteHardLimit=-1');
    ok(await create(client, `/zookeeper/quota${root}/zookeeper_limits`, limits));
    ok(await create(client, `/zookeeper/quota${root}/zookeeper_stats`, Buffer.from('count=1,bytes=0')));
    ok(await create(client, `${root}/a`));
    ok(await create(client, `${root}/b`));
    assert.equal((await create(client, `${root}/c`)).header.err, -125);
  });

  it('refuses data over a hard byte limit with QuotaExceeded', async () => {
    await using client = await target().connect();
    const root = target().path();
    ok(await create(client, root));
    ok(await create(client, `/zookeeper/quota${root}`));
    const limits = Buffer.from('count=-1,bytes=-1,countHardLimit=-1,byteHardLimit=10');
    ok(await create(client, `/zookeeper/quota${root}/zookeeper_limits`, limits));
    ok(await create(client, `/zookeeper/quota${root}/zookeeper_stats`, Buffer.from('count=1,bytes=0')));
    ok(await setData(client, root, Buffer.alloc(8)));
    assert.equal((await setData(client, root, Buffer.alloc(20))).header.err, -125);
  });
});
