// Goal: the opt-in menagerie.watchesPerSessionMax limit holds at and past its value: by default
// (0, as Apache) a session holds any number of watches; with a limit, a registration past it answers
// QuotaExceeded (-125) and sets nothing, re-registering a held watch and reads without a watch still
// work, a fired watch frees its slot, and setWatches restores only up to the limit.
import assert from 'node:assert/strict';
import { describe, it } from 'mocha';
import { AddWatchMode, ErrorCode, EventType, OpCode } from '../../../src/protocol/index.js';
import { ConfigError, parseZooCfg } from '../../../server/config/index.js';
import { RecordingWatcher, connect, create, makeCore, read, write } from '../server/harness.js';

const QUOTA = ErrorCode.QUOTA_EXCEEDED;

function setup(watchesPerSessionMax: number, nodes = 5) {
  const warnings: string[] = [];
  const core = makeCore({ watchesPerSessionMax, onWarning: (m) => warnings.push(m) });
  const client = connect(core);
  for (let i = 0; i < nodes; i++) create(core, client, `/n${i}`);
  return { core, client, watcher: new RecordingWatcher(), warnings };
}

describe('watches per session: menagerie.watchesPerSessionMax', () => {
  it('is unlimited by default, as Apache: 5,000 watches on one connection all register', () => {
    const { core, client, watcher } = setup(0, 0);
    for (let i = 0; i < 5_000; i++) {
      const reply = read(core, client, OpCode.exists, { path: `/missing/${i}`, watch: true }, watcher);
      assert.equal(reply.err, ErrorCode.NO_NODE);
    }
    assert.equal(core.metrics().watchCount, 5_000);
  });

  it('answers QuotaExceeded past the limit and sets nothing; held and unwatched reads still work', () => {
    const { core, client, watcher } = setup(3);
    for (const path of ['/n0', '/n1', '/n2']) {
      assert.equal(read(core, client, OpCode.getData, { path, watch: true }, watcher).err, 0);
    }
    assert.equal(read(core, client, OpCode.getData, { path: '/n3', watch: true }, watcher).err, QUOTA);
    assert.equal(read(core, client, OpCode.exists, { path: '/gone', watch: true }, watcher).err, QUOTA);
    assert.equal(read(core, client, OpCode.getChildren, { path: '/n0', watch: true }, watcher).err, QUOTA);
    const add = core.read(client, OpCode.addWatch, { path: '/n4', mode: AddWatchMode.PERSISTENT }, watcher);
    assert.equal(add.err, QUOTA);
    assert.equal(core.metrics().watchCount, 3);
    // Not a new watch: the same path again, and reads without a watch, are answered.
    assert.equal(read(core, client, OpCode.getData, { path: '/n1', watch: true }, watcher).err, 0);
    assert.equal(read(core, client, OpCode.getData, { path: '/n3', watch: false }, watcher).err, 0);
    // NoNode / NoAuth come first: the limit is checked only for a read that would set a watch.
    assert.equal(read(core, client, OpCode.getData, { path: '/none', watch: true }, watcher).err,
      ErrorCode.NO_NODE);
    // /n3 was refused: changing it fires nothing; /n0 fires, and its slot is free again.
    write(core, client, OpCode.setData, { path: '/n3', data: null, version: -1 });
    write(core, client, OpCode.setData, { path: '/n0', data: null, version: -1 });
    assert.deepEqual(watcher.take(), [[EventType.NODE_DATA_CHANGED, '/n0']]);
    assert.equal(read(core, client, OpCode.getData, { path: '/n3', watch: true }, watcher).err, 0);
  });

  it('counts per connection, and multiRead refuses only the op past the limit', () => {
    const { core, client, watcher } = setup(2);
    const other = new RecordingWatcher();
    for (const path of ['/n0', '/n1']) read(core, client, OpCode.getData, { path, watch: true }, watcher);
    assert.equal(read(core, client, OpCode.getData, { path: '/n2', watch: true }, other).err, 0);
    const ops = ['/n0', '/n2'].map((path) => ({ type: OpCode.getData, request: { path, watch: true } }));
    const reply = read(core, client, OpCode.multiRead, { ops }, watcher);
    assert.equal(reply.err, 0);
    const results = (reply.response as { results: { type: number; err?: number }[] }).results;
    assert.deepEqual(results.map((r) => r.err ?? 0), [0, QUOTA]);
  });

  it('a persistent watch takes two slots (data and child tables, as mntr counts it)', () => {
    const { core, client, watcher } = setup(3);
    const persistent = (path: string) =>
      core.read(client, OpCode.addWatch, { path, mode: AddWatchMode.PERSISTENT }, watcher).err;
    assert.equal(persistent('/n0'), 0);
    assert.equal(persistent('/n1'), QUOTA);
    assert.equal(read(core, client, OpCode.exists, { path: '/n1', watch: true }, watcher).err, 0);
    assert.equal(core.metrics().watchCount, 3);
  });

  it('setWatches on reconnect restores up to the limit and warns about the rest', () => {
    const { core, client, watcher, warnings } = setup(2);
    const lists = {
      relativeZxid: core.lastProcessedZxid,
      dataWatches: ['/n0', '/n1', '/n2'],
      existWatches: ['/x'],
      childWatches: [],
    };
    assert.equal(core.read(client, OpCode.setWatches, lists, watcher).err, 0);
    assert.equal(core.metrics().watchCount, 2);
    assert.equal(warnings.length, 1);
    assert.match(warnings[0]!, /2 watches of setWatches not restored: menagerie.watchesPerSessionMax=2/);
  });

  it('zoo.cfg: menagerie.watchesPerSessionMax defaults to 0 and refuses a negative or non-integer value', () => {
    const base = 'dataDir=/tmp/x\nclientPort=2181\n';
    assert.equal(parseZooCfg(base).config.watchesPerSessionMax, 0);
    const parsed = parseZooCfg(`${base}menagerie.watchesPerSessionMax=10000\n`);
    assert.equal(parsed.config.watchesPerSessionMax, 10_000);
    assert.deepEqual(parsed.warnings, []);
    for (const [value, reason] of [['-1', 'must be at least 0'], ['lots', 'not an integer']]) {
      assert.throws(
        () => parseZooCfg(`${base}menagerie.watchesPerSessionMax=${value}\n`),
        (error: unknown) =>
          error instanceof ConfigError && error.key === 'menagerie.watchesPerSessionMax' &&
          error.value === value && error.reason === reason,
      );
    }
  });
});
