// Captures the golden transcripts in test/golden/*.json: real clients talk to a real Apache
// ZooKeeper 3.8 (Debian `zookeeper`, standalone, extendedTypesEnabled) through the recording proxy,
// and every frame of both directions is written out as hex, labelled by opcode.
//
// Run by hand, from the repository root, when the set of captured operations changes:
//
//     npx tsx test/golden/capture.ts
//
// Needs Java 17, /usr/share/java/zookeeper.jar and the npm `zookeeper` package (the C client).
// Sessions, zxids and times differ on every run, so review the diff and commit all files together.
// Clients: the official C client (npm `zookeeper`), zkCli.sh, Apache's Java client (JavaClientOps.java),
// and a raw socket built with our codec for what no client sends (a connect without readOnly, an
// unknown opcode, check outside a multi, deleteContainer, sasl); the replies are still Apache's own.
import { fork, spawn, type ChildProcess } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  encodeFrame,
  FrameSplitter,
  part,
  readReplyHeader,
  records as R,
  type JuteType,
} from '../../src/protocol/index.js';
import { startApache, ZKCLI } from '../support/apache.js';
import { startRecordingProxy, type RecordedFrame, type RecordingProxy } from '../support/recording-proxy.js';
import { decodeGoldenFrame, labelFrames, type GoldenFile } from './transcript.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const SERVER = 'Apache ZooKeeper 3.8.0 (Debian zookeeper), standalone, extendedTypesEnabled=true';
const JAVA_CLASSPATH = ['zookeeper', 'zookeeper-jute', 'slf4j-api', 'slf4j-nop']
  .map((jar) => `/usr/share/java/${jar}.jar`)
  .join(':');

/** Client processes still running; a failed capture stops them before it stops Apache. */
const clients = new Set<ChildProcess>();

function track(child: ChildProcess): ChildProcess {
  clients.add(child);
  child.once('exit', () => clients.delete(child));
  return child;
}

function log(message: string): void {
  console.log(`[capture] ${message}`);
}

/** Runs a scenario through a fresh proxy and writes its transcript. */
async function capture(
  name: string,
  description: string,
  client: string,
  target: { host: string; port: number },
  scenario: (proxy: RecordingProxy) => Promise<void>,
): Promise<void> {
  await using proxy = await startRecordingProxy(target);
  log(`${name}: running`);
  // A stuck scenario shows what crossed the wire so far and fails, so `await using` still stops
  // Apache (process.exit would orphan it).
  let watchdog: NodeJS.Timeout | undefined;
  const stuck = new Promise<never>((_, reject) => {
    watchdog = setTimeout(() => {
      for (const f of labelFrames(proxy.frames())) {
        log(`  ${f.connection} ${f.direction} ${f.op} ${f.xid} ${f.err}`);
      }
      reject(new Error(`${name}: no progress within 60 s`));
    }, 60_000);
  });
  await Promise.race([scenario(proxy), stuck]).finally(() => clearTimeout(watchdog));
  // Let the last frames (a close's reply) cross the proxy before reading them.
  await new Promise((resolve) => setTimeout(resolve, 300));
  const frames = labelFrames(proxy.frames()).map((frame) => {
    const bytes = Buffer.from(frame.hex, 'hex');
    return { ...frame, summary: decodeGoldenFrame(frame, bytes).summary, hex: frame.hex };
  });
  const file: GoldenFile = { description, server: SERVER, client, frames };
  const out = path.join(here, `${name}.json`);
  await writeFile(out, JSON.stringify(file, null, 1) + '\n');
  const ops = [...new Set(frames.map((f) => f.op))].join(', ');
  log(`${name}: ${frames.length} frames (${ops}) → ${path.relative(process.cwd(), out)}`);
}

// ----- the C client (npm `zookeeper`) -----
// The C client is single-threaded and blocks the event loop in close(), so it runs in a child
// process and asks this process (which owns the proxy) to drop the connection or wait for frames.

type Ask = 'drop' | 'setWatches' | 'ping' | 'closed';
type NativeZk = any;

/** Whether a reply answers a closeSession request of its connection. */
function isCloseReply(proxy: RecordingProxy, reply: { connection: number; bytes: Buffer }): boolean {
  const xid = reply.bytes.readInt32BE(4);
  return proxy
    .frames()
    .some(
      (f) =>
        f.connection === reply.connection &&
        f.direction === 'request' &&
        f.bytes.length >= 12 &&
        f.bytes.readInt32BE(4) === xid &&
        f.bytes.readInt32BE(8) === -11,
    );
}

async function cClient(proxy: RecordingProxy): Promise<void> {
  const child = fork(fileURLToPath(import.meta.url), ['c-client', proxy.connectString], {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  track(child);
  const isReply = (f: RecordedFrame, xid: number) =>
    f.direction === 'reply' && f.bytes.readInt32BE(4) === xid;
  child.on('message', (ask: Ask) => {
    const answered = (async () => {
      if (ask === 'drop') proxy.dropConnections();
      if (ask === 'setWatches') await proxy.waitFor((f) => isReply(f, -8));
      if (ask === 'ping') await proxy.waitFor((f) => isReply(f, -2));
      if (ask === 'closed') await proxy.waitFor((f) => f.direction === 'reply' && isCloseReply(proxy, f));
    })();
    void answered.then(() => child.send(ask));
  });
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  if (code !== 0) throw new Error(`the C client scenario exited with ${code}`);
}

/** The C client's side: runs in the child process started by cClient. */
async function cClientChild(connectString: string): Promise<void> {
  const ask = (what: Ask) =>
    new Promise<void>((resolve) => {
      const onMessage = (answer: unknown) => {
        if (answer !== what) return;
        process.off('message', onMessage);
        resolve();
      };
      process.on('message', onMessage);
      process.send!(what);
    });
  const require = createRequire(import.meta.url);
  const ZooKeeper = require('zookeeper');
  const C = ZooKeeper.constants;
  const zk: NativeZk = new ZooKeeper({
    connect: connectString,
    timeout: 4000,
    debug_level: C.ZOO_LOG_LEVEL_ERROR,
    host_order_deterministic: true,
  });
  const connected = new Promise((resolve) => zk.once('connect', resolve));
  zk.init({});
  await connected;
  const fails = async (promise: Promise<unknown>) => {
    await promise.then(
      () => {
        throw new Error('expected the server to refuse');
      },
      () => undefined,
    );
  };
  // Each watch callback runs after its notification arrived; waiting for them orders the capture.
  let notifications = 0;
  let onNotification = () => {};
  const watcher = () => {
    notifications++;
    onNotification();
  };
  const notified = (total: number) =>
    new Promise<void>((resolve) => {
      onNotification = () => notifications >= total && resolve();
      onNotification();
    });

  await zk.create('/c', Buffer.from('c client'), C.ZOO_PERSISTENT);
  await zk.create('/c/ephemeral', Buffer.from('e'), C.ZOO_EPHEMERAL);
  await zk.create('/c/pseq-', null, C.ZOO_PERSISTENT_SEQUENTIAL);
  await zk.create('/c/eseq-', Buffer.alloc(0), C.ZOO_EPHEMERAL_SEQUENTIAL);
  await zk.create('/c/container', Buffer.from('c'), C.ZOO_CONTAINER);
  await zk.create('/c/ttl', Buffer.from('t'), C.ZOO_PERSISTENT_WITH_TTL, 60000);
  await zk.create('/c/ttlseq-', Buffer.from('t'), C.ZOO_PERSISTENT_SEQUENTIAL_WITH_TTL, 60000);
  await fails(zk.create('/c', null, C.ZOO_PERSISTENT));
  await fails(zk.create('/c/ephemeral/child', null, C.ZOO_PERSISTENT));

  await zk.exists('/c', false);
  await zk.w_exists('/c/later', watcher).catch(() => undefined);
  await zk.w_get('/c', watcher);
  await zk.w_get_children('/c', watcher);
  await zk.get_children2('/c', false);
  await fails(zk.get('/c/missing', false));
  await zk.set('/c', Buffer.from('changed'), -1);
  await fails(zk.set('/c', Buffer.from('x'), 42));
  await zk.create('/c/later', null, C.ZOO_PERSISTENT);
  await notified(3);

  await zk.get_acl('/c/ttl');
  await new Promise<void>((resolve) => zk.add_auth('digest', 'alice:secret', () => resolve()));
  await zk.set_acl('/c/ttl', -1, [{ perm: C.ZOO_PERM_ALL, scheme: 'auth', auth: '' }]);
  await zk.get_acl('/c/ttl');
  await zk.set_acl('/c/later', -1, [C.ZOO_READ_ACL_UNSAFE]);
  await fails(zk.set('/c/later', null, -1));
  await zk.sync('/c');
  await zk.getconfig(false);
  await fails(zk.reconfig(null, '2', null, -1));
  await fails(zk.delete_('/c/later', 5));
  await zk.delete_('/c/pseq-0000000001', -1);

  // Watches outstanding when the connection drops are re-registered with setWatches.
  await zk.w_get('/c/later', watcher);
  await zk.w_exists('/c/nothing', watcher).catch(() => undefined);
  await zk.w_get_children('/c', watcher);
  await ask('drop');
  await ask('setWatches');
  await zk.create('/c/nothing', null, C.ZOO_EPHEMERAL);
  await notified(5);
  // An idle client pings at a third of the session timeout.
  await ask('ping');
  zk.close();
  await ask('closed');
}

// ----- Java: zkCli.sh and JavaClientOps.java -----

const ZKCLI_SCRIPT = [
  'create /cli cli',
  'create -e /cli/e',
  'create -s /cli/s-',
  'create -e -s /cli/es-',
  'create -c /cli/c',
  'create -t 60000 /cli/t',
  'create -s -t 60000 /cli/ts-',
  'addauth digest alice:secret',
  'create /cli/acl x auth::cdrwa',
  'getAcl /cli/acl',
  'setAcl /cli/acl world:anyone:r',
  'whoami',
  'getEphemerals /cli',
  'getAllChildrenNumber /cli',
  'addWatch /cli',
  'addWatch -m PERSISTENT_RECURSIVE /cli',
  'set /cli changed',
  'stat -w /cli',
  'ls -s -w /cli',
  'get -s -w /cli',
  'removewatches /cli',
  'sync /cli',
  'config',
  'delete /cli/s-0000000001',
  'quit',
];

/** Runs a client process; `input` is its whole stdin, or answers to what it printed so far. */
async function run(
  command: string,
  args: string[],
  input: string | ((stdout: string) => string | undefined),
): Promise<string> {
  const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'pipe'] });
  track(child);
  let stdout = '';
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  child.stdout.on('data', (d: Buffer) => {
    stdout += d.toString();
    if (typeof input === 'function') {
      const answer = input(stdout);
      if (answer !== undefined) child.stdin.write(answer);
    }
  });
  if (typeof input === 'string') child.stdin.end(input);
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  if (code !== 0) throw new Error(`${command} exited with ${code}:\n${stdout}\n${stderr}`);
  return stdout;
}

async function zkCli(proxy: RecordingProxy): Promise<void> {
  const output = await run(ZKCLI, ['-server', proxy.connectString], ZKCLI_SCRIPT.join('\n') + '\n');
  log(`zkcli: printed ${output.split('\n').length} lines`);
}

async function javaClient(proxy: RecordingProxy): Promise<void> {
  let dropped = false;
  const program = path.join(here, 'JavaClientOps.java');
  await run('/usr/bin/java', ['-cp', JAVA_CLASSPATH, program, proxy.connectString], (out) => {
    if (dropped || !out.includes('DROP')) return undefined;
    dropped = true;
    proxy.dropConnections();
    return 'go\n';
  });
}

// ----- a raw socket speaking our codec, for what no client sends -----

class RawConnection {
  private socket: net.Socket;
  private splitter = new FrameSplitter();
  private frames: Buffer[] = [];
  private wake: (() => void) | undefined;
  closed = false;

  constructor(port: number) {
    this.socket = net.connect(port, '127.0.0.1');
    this.socket.on('data', (chunk) => {
      this.frames.push(...this.splitter.push(chunk));
      this.wake?.();
    });
    this.socket.on('error', () => undefined);
    this.socket.on('close', () => {
      this.closed = true;
      this.wake?.();
    });
  }

  send(frame: Buffer): void {
    this.socket.write(frame);
  }

  /** The next frame, or undefined once the server has closed the connection. */
  async next(): Promise<Buffer | undefined> {
    while (this.frames.length === 0 && !this.closed) {
      await new Promise<void>((resolve) => (this.wake = resolve));
    }
    return this.frames.shift();
  }

  close(): void {
    this.socket.destroy();
  }
}

function connectRequest(readOnly: boolean | undefined): Buffer {
  const request = {
    protocolVersion: 0,
    lastZxidSeen: 0n,
    timeOut: 4000,
    sessionId: 0n,
    passwd: Buffer.alloc(16),
  };
  return encodeFrame(part(R.ConnectRequest, readOnly === undefined ? request : { ...request, readOnly }));
}

async function raw(proxy: RecordingProxy): Promise<void> {
  // A connect without the readOnly byte: Apache answers without it too. Then close the session.
  const old = new RawConnection(proxy.port);
  old.send(connectRequest(undefined));
  await old.next();
  old.send(encodeFrame(part(R.RequestHeader, { xid: -2, type: 11 })));
  old.send(encodeFrame(part(R.RequestHeader, { xid: 2, type: -11 })));
  await old.next();
  await old.next();
  old.close();

  // Opcodes a client does not send: unknown (99), check outside a multi (13), deleteContainer (20,
  // whose body is the raw UTF-8 path, not a jute record), and sasl (102) to a server without SASL.
  const rawPath = { name: 'rawPath', shape: { kind: 'custom', name: 'rawPath' }, minBytes: 0,
    read: () => '', write: (w, v) => void (w.offset += w.buffer.write(v, w.offset, 'utf8')),
    size: (v) => Buffer.byteLength(v), describe: (v) => v } satisfies JuteType<string>;
  for (const [type, body] of [
    [99, null],
    [13, part(R.CheckVersionRequest, { path: '/', version: 0 })],
    [20, part(rawPath, '/c')],
    [102, part(R.GetSASLRequest, { token: Buffer.from('not a sasl token') })],
  ] as const) {
    const connection = new RawConnection(proxy.port);
    connection.send(connectRequest(false));
    await connection.next();
    const header = part(R.RequestHeader, { xid: 1, type });
    connection.send(body ? encodeFrame(header, body) : encodeFrame(header));
    const reply = await connection.next();
    if (reply) log(`raw: opcode ${type} answered err ${readReplyHeader(reply).header.err}`);
    else log(`raw: opcode ${type}: connection closed without a reply`);
    connection.close();
  }
}

async function main(): Promise<void> {
  await using apache = await startApache();
  await using _clients = {
    [Symbol.asyncDispose]: async () => clients.forEach((child) => child.kill('SIGKILL')),
  };
  const target = { host: apache.host, port: apache.port };
  await capture(
    'c-client',
    'The official C client (npm zookeeper 7.3, C client 3.8.2): connect with readOnly, create in every ' +
      'mode, reads with watches, notifications, ACLs, auth, sync, getconfig, reconfig refused, delete, ' +
      'setWatches after a dropped connection, ping, close.',
    'C client 3.8.2 via npm zookeeper 7.3.0',
    target,
    cClient,
  );
  await capture(
    'zkcli',
    `zkCli.sh reading commands from stdin: ${ZKCLI_SCRIPT.join('; ')}.`,
    'zkCli.sh (Java client 3.8.0)',
    target,
    zkCli,
  );
  await capture(
    'java-client',
    'Apache Java client 3.8.0 (JavaClientOps.java): readOnly connect, create2, multi (succeeding and ' +
      'failing), multiRead, checkWatches, removeWatches, addWatch, getEphemerals, getAllChildrenNumber, ' +
      'whoAmI, setWatches2 after a dropped connection.',
    'Java client 3.8.0',
    target,
    javaClient,
  );
  await capture(
    'raw',
    'Frames built with our codec on a raw socket (connect without readOnly, opcodes no client sends) ' +
      'and the replies Apache gives them.',
    'menagerie codec on a raw socket',
    target,
    raw,
  );
}

if (process.argv[2] === 'c-client') {
  await cClientChild(process.argv[3]!);
  process.exit(0);
}
else await main();
