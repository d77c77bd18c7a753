// Goal: our codecs read Apache ZooKeeper 3.8.0's own log and snapshot bytes (fixtures written by the
// Debian package on this machine) and write them back byte for byte; Adler-32, names and the 3.8 tree
// digest agree with Apache.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { adler32, adler32Update } from '../../../server/persistence/adler32.js';
import { addToTreeDigest, nodeDigest } from '../../../server/persistence/digest.js';
import {
  logFileName,
  snapshotFileName,
  sortByZxid,
  zxidFromFileName,
} from '../../../server/persistence/names.js';
import { SnapshotDecoder, SnapshotEncoder } from '../../../server/persistence/snapshot-format.js';
import {
  encodeLogEntry,
  encodeLogFileHeader,
  TxnLogDecoder,
  type LogStep,
} from '../../../server/persistence/txn-format.js';
import type { AclEntry, SessionEntry, SnapshotNode, ZxidDigest } from '../../../server/persistence/types.js';

const fixtures = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures', 'apache-3.8.0');
const fixture = (name: string) => readFileSync(path.join(fixtures, name));

function decodeLog(bytes: Buffer, name = 'log') {
  const decoder = new TxnLogDecoder(name);
  decoder.push(bytes);
  decoder.end();
  const entries: Array<Extract<LogStep, { kind: 'entry' }>> = [];
  for (;;) {
    const step = decoder.next();
    if (step.kind === 'entry') entries.push(step);
    else return { entries, end: step };
  }
}

function decodeSnapshot(bytes: Buffer, name = 'snapshot.0', chunkBytes = bytes.length) {
  const decoder = new SnapshotDecoder(name);
  const sessions: SessionEntry[] = [];
  const acls: AclEntry[] = [];
  const nodes: SnapshotNode[] = [];
  let digest: ZxidDigest | undefined;
  let offset = 0;
  for (;;) {
    const step = decoder.next();
    if (step.kind === 'more') {
      if (offset >= bytes.length) decoder.end();
      else decoder.push(bytes.subarray(offset, (offset += chunkBytes)));
      continue;
    }
    if (step.kind === 'session') sessions.push(step.session);
    else if (step.kind === 'acl') acls.push(step.entry);
    else if (step.kind === 'node') nodes.push(step.node);
    else {
      digest = step.digest;
      return { sessions, acls, nodes, digest, bytes: step.bytes };
    }
  }
}

describe('persistence formats', () => {
  it('computes Adler-32 as zlib does, incrementally too', () => {
    assert.equal(adler32(Buffer.from('Wikipedia')), 0x11e60398);
    assert.equal(adler32(Buffer.alloc(0)), 1);
    const big = Buffer.alloc(100_000, 0xff);
    assert.equal(adler32Update(adler32(big, 0, 33_333), big, 33_333), adler32(big));
  });

  it('names files as Apache does and sorts them by zxid', () => {
    assert.equal(logFileName(0x100000001n), 'log.100000001');
    assert.equal(snapshotFileName(0n), 'snapshot.0');
    assert.equal(zxidFromFileName('snapshot.1a.gz', 'snapshot'), 0x1an);
    assert.equal(zxidFromFileName('tmp.snapshot.1a', 'snapshot'), undefined);
    assert.equal(zxidFromFileName('log.xyz', 'log'), undefined);
    assert.deepEqual(sortByZxid(['log.a', 'log.2', 'snapshot.1', 'log.10'], 'log'), [
      'log.2',
      'log.a',
      'log.10',
    ]);
  });

  it("reads Apache's log entries and re-encodes them byte for byte", () => {
    const bytes = fixture('log.1');
    const { entries, end } = decodeLog(bytes, 'log.1');
    assert.deepEqual(
      entries.map((e) => [e.txn.header.zxid, e.txn.header.type]),
      [
        [1n, -10],
        [2n, 1],
        [3n, 1],
      ],
    );
    assert.deepEqual(end, { kind: 'end', offset: 307 });
    assert.equal(entries[0].txn.digest?.version, 2, '3.8 writes a TxnDigest after each record by default');
    const rebuilt = Buffer.concat([encodeLogFileHeader(), ...entries.map((e) => encodeLogEntry(e.txn))]);
    assert.deepEqual(rebuilt, bytes.subarray(0, 307));
    const multi = decodeLog(fixture('log.7'), 'log.7').entries[0].txn;
    assert.equal(multi.header.type, 14);
    assert.deepEqual(encodeLogEntry(multi), fixture('log.7').subarray(16, 16 + 129));
  });

  it("reads Apache's snapshots (root path '', ACL cache, digest) and re-encodes them byte for byte", () => {
    for (const name of ['snapshot.0', 'snapshot.2', 'snapshot.5']) {
      const bytes = fixture(name);
      for (const chunkBytes of [bytes.length, 7, 1]) {
        const read = decodeSnapshot(bytes, name, chunkBytes);
        assert.equal(read.bytes, bytes.length);
        assert.equal(read.nodes[0].path, '');
        const encoder = new SnapshotEncoder();
        const rebuilt = Buffer.concat([
          encoder.header(),
          encoder.sessions(read.sessions),
          encoder.aclEntries(read.acls),
          ...read.nodes.map((node) => encoder.node(node)),
          encoder.endOfNodes(),
          encoder.seal(),
          encoder.digest(read.digest!),
          encoder.seal(),
        ]);
        assert.deepEqual(rebuilt, bytes, `${name} in chunks of ${chunkBytes}`);
      }
    }
    const snap5 = decodeSnapshot(fixture('snapshot.5'));
    assert.deepEqual(
      snap5.nodes.map((n) => n.path),
      ['', '/a', '/a/b', '/zookeeper', '/zookeeper/config', '/zookeeper/quota', '/e', '/s-0000000002'],
    );
    assert.equal(snap5.sessions[0].timeoutMs, 10_000);
    assert.equal(snap5.digest?.zxid, 6n);
  });

  it("reads 3.9's extra lastProcessedZxid section and a pre-digest snapshot", () => {
    const read = decodeSnapshot(fixture('snapshot.5'));
    const encoder = new SnapshotEncoder();
    const body = [
      encoder.header(),
      encoder.sessions(read.sessions),
      encoder.aclEntries(read.acls),
      ...read.nodes.map((node) => encoder.node(node)),
      encoder.endOfNodes(),
      encoder.seal(),
    ];
    assert.equal(decodeSnapshot(Buffer.concat(body)).digest, undefined, 'a 3.5-era snapshot ends after its seal');
    const lastZxid = Buffer.alloc(8);
    lastZxid.writeBigInt64BE(6n);
    const withZxid = Buffer.concat([
      ...body,
      encoder.digest(read.digest!),
      encoder.seal(),
      encoder.passThrough(lastZxid),
      encoder.seal(),
    ]);
    const decoder = new SnapshotDecoder('snapshot.5');
    decoder.push(withZxid);
    decoder.end();
    let step = decoder.next();
    while (step.kind !== 'done') step = decoder.next();
    assert.equal(step.lastProcessedZxid, 6n);
  });

  it('computes the tree digest Apache 3.8 wrote into its snapshot', () => {
    const snap = decodeSnapshot(fixture('snapshot.5'));
    let tree = 0n;
    for (const node of snap.nodes) tree = addToTreeDigest(tree, nodeDigest(node.path, node.data, node.stat));
    assert.equal(tree, snap.digest!.digest);
  });

  it('rejects a snapshot whose checksum does not match, and a wrong magic, naming the file', () => {
    const bytes = Buffer.from(fixture('snapshot.2'));
    bytes[0x100] ^= 0x01;
    assert.throws(() => decodeSnapshot(bytes, 'snapshot.2'), /snapshot\.2: checksum mismatch/);
    const log = Buffer.from(fixture('snapshot.2'));
    log.write('ZKLG', 0);
    assert.throws(() => decodeSnapshot(log, 'snapshot.2'), /snapshot\.2: not a snapshot: magic 0x5a4b4c47/);
    const version = Buffer.from(fixture('log.1'));
    version.writeInt32BE(3, 4);
    assert.throws(() => decodeLog(version, 'log.1'), /log\.1: unsupported transaction log version 3/);
  });
});
