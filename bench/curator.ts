// Curator 5.4 for the bench: the same Java harness and line protocol as the interop tests
// (test/interop/java/CuratorHarness.java, driven by test/support/curator.ts), but started with the JVM's
// default JIT and heap instead of the tests' quick-start flags (C1 only), so Curator is measured at
// its best.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rename, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { CuratorHarness, curatorAvailable } from '../test/support/curator.js';
import { trackChild } from './children.js';

export { curatorAvailable, type CuratorHarness };

/** The same jars as test/support/curator.ts (that list is not exported). */
const JARS = [
  'curator-recipes',
  'curator-x-discovery',
  'curator-framework',
  'curator-client',
  'zookeeper',
  'zookeeper-jute',
  'guava',
  'slf4j-api',
  'slf4j-simple',
  'jackson-databind',
  'jackson-core',
  'jackson-annotations',
].map((name) => `/usr/share/java/${name}.jar`);
const SOURCE = fileURLToPath(new URL('../test/interop/java/CuratorHarness.java', import.meta.url));
const JAVAC_TIMEOUT_MS = 120_000;

/** Compiles the harness once per source version into a temp dir named by its hash. */
async function compiledHarnessDir(): Promise<string> {
  const hash = createHash('sha256').update(readFileSync(SOURCE)).digest('hex').slice(0, 16);
  const classesDir = path.join(tmpdir(), `menagerie-bench-curator-${hash}`);
  if (existsSync(path.join(classesDir, 'CuratorHarness.class'))) return classesDir;
  const scratchDir = await mkdtemp(path.join(tmpdir(), 'menagerie-bench-javac-'));
  const args = ['-nowarn', '-d', scratchDir, '-cp', JARS.join(':'), SOURCE];
  const { code, output } = await new Promise<{ code: number | null; output: string }>((resolve, reject) => {
    const stdio: ['ignore', 'pipe', 'pipe'] = ['ignore', 'pipe', 'pipe'];
    const child = spawn('/usr/bin/javac', args, { stdio, timeout: JAVAC_TIMEOUT_MS });
    let text = '';
    child.stdout.on('data', (d: Buffer) => (text += d.toString()));
    child.stderr.on('data', (d: Buffer) => (text += d.toString()));
    child.once('error', reject);
    child.once('close', (exitCode) => resolve({ code: exitCode, output: text }));
  });
  if (code !== 0) {
    await rm(scratchDir, { recursive: true, force: true });
    throw new Error(`javac failed on ${SOURCE}:\n${output}`);
  }
  await rename(scratchDir, classesDir).catch(() => rm(scratchDir, { recursive: true, force: true }));
  return classesDir;
}

/** A Curator JVM whose 'default' client is connected to `connectString`; close() ends it. */
export async function startBenchCurator(connectString: string): Promise<CuratorHarness> {
  const classesDir = await compiledHarnessDir();
  const child = spawn(
    '/usr/bin/java',
    [
      '-Dorg.slf4j.simpleLogger.defaultLogLevel=warn',
      '-cp',
      [classesDir, ...JARS].join(':'),
      'CuratorHarness',
    ],
    { stdio: ['pipe', 'pipe', 'pipe'] },
  );
  trackChild(child);
  const harness = new CuratorHarness(child);
  try {
    await harness.ready();
    harness.sessionId = await harness.connect(connectString);
    return harness;
  } catch (error) {
    await harness.kill();
    throw error;
  }
}
