// Extracts the wire layout of every record in Apache ZooKeeper 3.8's zookeeper-jute.jar (the field
// names and types its generated serialize() methods write, in order) into test/golden/jute-3.8.json,
// which test/unit/protocol/records.test.ts compares with our declarations.
//
// Run by hand from the repository root (needs a JDK's javap and /usr/share/java/zookeeper-jute.jar):
//
//     npx tsx test/golden/jute-layouts.ts
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const JAR = '/usr/share/java/zookeeper-jute.jar';
const here = path.dirname(fileURLToPath(import.meta.url));

export interface JuteField {
  name: string;
  /** int, long, boolean, buffer, ustring, vector<T>, or a record's simple class name. */
  type: string;
}

const primitive: Record<string, string> = {
  writeInt: 'int',
  writeLong: 'long',
  writeBool: 'boolean',
  writeBuffer: 'buffer',
  writeString: 'ustring',
};

/** Reads one class's serialize() bytecode listing and returns the fields it writes, in order. */
function parseSerialize(listing: string[]): JuteField[] {
  const fields: JuteField[] = [];
  let lastName = '';
  let lastRecordType = '';
  let vector: { name: string; element?: string } | undefined;
  for (const line of listing) {
    const name = /\/\/ String (\S+)$/.exec(line);
    if (name) lastName = name[1]!;
    const type = /(?:class |Field \w+:L)org\/apache\/zookeeper\/(?:[\w/]+\/)?(\w+);?$/.exec(line);
    if (type) lastRecordType = type[1]!;
    const call = /OutputArchive\.(\w+):/.exec(line);
    if (!call) continue;
    const method = call[1]!;
    if (method === 'startVector') vector = { name: lastName };
    else if (method === 'endVector') {
      fields.push({ name: vector!.name, type: `vector<${vector!.element}>` });
      vector = undefined;
    } else if (method === 'writeRecord' || primitive[method]) {
      const fieldType = method === 'writeRecord' ? lastRecordType : primitive[method]!;
      if (vector) vector.element = fieldType;
      else fields.push({ name: lastName, type: fieldType });
    }
  }
  return fields;
}

function main(): void {
  const classes = execFileSync('unzip', ['-Z1', JAR], { encoding: 'utf8' })
    .split('\n')
    .filter((entry) => /^org\/apache\/zookeeper\/.*\.class$/.test(entry) && !entry.includes('$'))
    .map((entry) => entry.replace(/\.class$/, '').replaceAll('/', '.'))
    .filter((name) => !name.startsWith('org.apache.zookeeper.jute'));
  const listing = execFileSync('javap', ['-c', '-p', '-cp', JAR, ...classes], {
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  const layouts: Record<string, JuteField[]> = {};
  let current = '';
  let body: string[] | undefined;
  for (const line of listing.split('\n')) {
    const header = /^(?:public )?class (\S+) /.exec(line);
    if (header) current = header[1]!;
    if (/public void serialize\(org\.apache\.jute\.OutputArchive/.test(line)) body = [];
    else if (body && line.trim() === '') {
      layouts[current.split('.').pop()!] = parseSerialize(body);
      body = undefined;
    } else body?.push(line);
  }
  const sorted = Object.fromEntries(Object.entries(layouts).sort(([a], [b]) => a.localeCompare(b)));
  const out = path.join(here, 'jute-3.8.json');
  writeFileSync(out, JSON.stringify(sorted, null, 1) + '\n');
  console.log(`${Object.keys(sorted).length} records → ${path.relative(process.cwd(), out)}`);
}

main();
