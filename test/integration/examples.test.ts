// Runs every program in examples/ against its embedded server (the demo on its 3-member ensemble and
// standalone), and loads every zoo.cfg sample in docs/, so what the docs point to can't rot.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'mocha';
import { loadZooCfg } from '../../server/index.js';

const root = fileURLToPath(new URL('../..', import.meta.url));

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `node --import tsx examples/<name>.ts` with no connect string (so it embeds its server). */
function runExample(name: string, args: readonly string[] = []): Promise<Run> {
  return new Promise((resolve) => {
    const env = { ...process.env };
    delete env.ZK_CONNECT;
    execFile(
      process.execPath,
      ['--import', 'tsx', `examples/${name}.ts`, ...args],
      { cwd: root, env, timeout: 30_000, killSignal: 'SIGKILL' },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === 'number' ? error.code : null;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

/** Each example, the line that proves it did its job, and any further check on its output. */
const examples: Array<{
  name: string;
  args?: readonly string[];
  expect: RegExp;
  check?: (stdout: string) => void;
}> = [
  { name: 'getting-started', expect: /^I hold \/locks\/first-lock; fencing token \d+\nreleased$/m },
  { name: 'lock-job', expect: /^all 3 jobs ran one at a time, 3 distinct fencing tokens$/m },
  {
    name: 'leader-cron',
    expect: /^leadership moved from (cron-[ab]) to (cron-[ab]), term (\d+) -> (\d+)$/m,
    check(stdout) {
      // The other participant took over, with a higher fencing token.
      const [, from, to, before, after] = /leadership moved from (\S+) to (\S+), term (\d+) -> (\d+)/.exec(stdout)!;
      assert.notEqual(from, to);
      assert.ok(BigInt(after!) > BigInt(before!), `${before} -> ${after}`);
    },
  },
  {
    name: 'service-registry',
    expect: /^client called 127\.0\.0\.1:\d+: hello from greeter$/m,
    check: (stdout) => assert.match(stdout, /^after unregister: 0 greeter instances$/m),
  },
  { name: 'barrier', expect: /^all 3 members entered and left together$/m },
  {
    name: 'demo',
    expect: /^All steps done in [\d.]+s\. The servers stop and the demo exits\.$/m,
    check(stdout) {
      // The 3-member ensemble, and its step 5: a new leader server, the latch keeps its term.
      assert.match(stdout, /3 bundled ZooKeeper-compatible servers: (server \d (leader|follower)(, )?){3}$/m);
      assert.match(stdout, /counter is 8 after 8 guarded increments: no lost update$/m);
      assert.match(stdout, /server \d elected leader in \d+ ms/);
      assert.match(stdout, /takes the ledger lock again \(fencing token 0x[0-9a-f]+, higher\)$/m);
      assert.match(stdout, /cron-a +still leads, same term/);
      assert.match(stdout, /rejoins as follower$/m);
    },
  },
  {
    name: 'demo',
    args: ['--standalone'],
    expect: /^All steps done in [\d.]+s\. The server stops and the demo exits\.$/m,
    check: (stdout) => assert.match(stdout, /counter is 8 after 8 guarded increments/),
  },
];

describe('examples/', function () {
  this.timeout(40_000);

  for (const { name, args = [], expect, check } of examples) {
    it(`${[`${name}.ts`, ...args].join(' ')} runs to completion, exits 0 and prints its result`, async () => {
      const run = await runExample(name, args);
      assert.equal(run.code, 0, `exit ${run.code}\n${run.stdout}\n${run.stderr}`);
      assert.match(run.stdout, expect);
      check?.(run.stdout);
    });
  }
});

describe('docs/ zoo.cfg samples', () => {
  for (const page of ['docs/getting-started.md', 'docs/operations.md']) {
    it(`every \`properties\` block of ${page} loads as a zoo.cfg without warnings`, async () => {
      const text = await readFile(path.join(root, page), 'utf8');
      const samples = [...text.matchAll(/^```properties\n([\s\S]*?)^```$/gm)].map((m) => m[1]!);
      assert.ok(samples.length > 0, `no zoo.cfg sample in ${page}`);
      const dir = await mkdtemp(path.join(tmpdir(), 'docs-zoo-cfg-'));
      try {
        for (const sample of samples) {
          const file = path.join(dir, 'zoo.cfg');
          await writeFile(file, sample);
          const { config, warnings } = await loadZooCfg(file);
          assert.deepEqual(warnings, []);
          assert.equal(config.clientPort, 2181);
        }
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    });
  }
});
