// Our record declarations against Apache's: test/golden/jute-3.8.json holds the layout every record
// class of Apache ZooKeeper 3.8's zookeeper-jute.jar writes (extracted from its bytecode by
// test/golden/jute-layouts.ts). Each must be declared here, with the same fields in the same order.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'mocha';
import { records as R, type JuteType } from '../../../src/protocol/index.js';

interface JuteField {
  name: string;
  type: string;
}

const layoutsFile = path.join(path.dirname(fileURLToPath(import.meta.url)), '../../golden/jute-3.8.json');
const apache = JSON.parse(readFileSync(layoutsFile, 'utf8')) as Record<string, JuteField[]>;

/** Our declaration's type in the golden file's notation. */
function typeName(type: JuteType<unknown>): string {
  const shape = type.shape;
  switch (shape.kind) {
    case 'int':
    case 'long':
    case 'buffer':
    case 'ustring':
      return shape.kind;
    case 'bool':
      return 'boolean';
    case 'vector':
      return `vector<${typeName(shape.element)}>`;
    case 'record':
      return shape.record.name;
    case 'optional':
      return `optional<${typeName(shape.inner)}>`;
    case 'custom':
      return shape.name;
  }
}

const ours = new Map(R.allRecords.map((codec) => [codec.name, codec]));

describe('records match Apache 3.8’s jute', () => {
  it('reads a non-trivial layout file', () => {
    assert.ok(Object.keys(apache).length >= 70);
    assert.deepEqual(apache.ReplyHeader, [
      { name: 'xid', type: 'int' },
      { name: 'zxid', type: 'long' },
      { name: 'err', type: 'int' },
    ]);
  });

  for (const [name, fields] of Object.entries(apache)) {
    it(name, () => {
      const codec = ours.get(name);
      assert.ok(codec, `${name} is not declared in records.ts`);
      const declared = codec.fields.map(([field, type]) => ({ name: field, type: typeName(type) }));
      // Apache 3.8 writes ConnectRequest/ConnectResponse.readOnly by hand, after the jute record.
      const jute = declared.filter((f) => !(f.name === 'readOnly' && f.type === 'optional<boolean>'));
      assert.deepEqual(jute, fields);
    });
  }

  it('declares only Apache’s records, besides Empty', () => {
    const extra = [...ours.keys()].filter((name) => !(name in apache));
    assert.deepEqual(extra, ['Empty']);
  });
});
