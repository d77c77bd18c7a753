// Four-letter words against both servers: each answered in Apache's shape then closed, the whitelist
// message for the others, and srvr always allowed. Values differ between servers; shapes must not.
import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'mocha';
import { startServer } from '../../server/index.js';
import { fourLetterWord } from '../support/ports.js';
import { RawClient } from '../support/raw-client.js';
import { describeBothServers } from '../support/servers.js';
import { create, getData, ok } from './ops.js';

/** Sends raw bytes (a word and its argument) and returns everything the server sends before closing. */
async function sendBytes(port: number, bytes: Buffer): Promise<string> {
  return await new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const socket = net.connect(port, '127.0.0.1', () => socket.write(bytes));
    socket.setTimeout(5_000, () => socket.destroy(new Error('no answer within 5 s')));
    socket.on('data', (chunk) => chunks.push(chunk));
    socket.once('error', reject);
    socket.once('close', (hadError) => {
      if (!hadError) resolve(Buffer.concat(chunks).toString('latin1'));
    });
  });
}

function stmk(mask: bigint, trailing = Buffer.alloc(0)): Buffer {
  const argument = Buffer.alloc(8);
  argument.writeBigInt64BE(mask);
  return Buffer.concat([Buffer.from('stmk'), argument, trailing]);
}

describeBothServers('four-letter words', {}, (target) => {
  it('ruok, isro', async () => {
    assert.equal(await target().fourLetterWord('ruok'), 'imok');
    assert.equal(await target().fourLetterWord('isro'), 'rw');
  });

  it('srvr and stat', async () => {
    await using client = await target().connect();
    ok(await create(client, target().path()));
    const srvr = await target().fourLetterWord('srvr');
    const srvrShape = [
      /Zookeeper version: 3\.8\.\d+-.*, built on .*/,
      /Latency min\/avg\/max: \d+\/\d+\.\d+\/\d+/,
      /Received: \d+/,
      /Sent: \d+/,
      /Connections: \d+/,
      /Outstanding: \d+/,
      /Zxid: 0x[0-9a-f]+/,
      /Mode: standalone/,
      /Node count: \d+/,
    ];
    assert.match(srvr, new RegExp(`^${srvrShape.map((line) => line.source).join('\\n')}\\n$`));
    const stat = await target().fourLetterWord('stat');
    const clientLine = / \/127\.0\.0\.1:\d+\[[01]\]\(queued=\d+,recved=\d+,sent=\d+\)\n/.source;
    const head = 'Zookeeper version: 3\\.8\\.\\d+-.*\\nClients:\\n';
    assert.match(stat, new RegExp(`^${head}(${clientLine})+\\nLatency min`));
    assert.match(stat, /\nMode: standalone\nNode count: \d+\n$/);
  });

  it('cons lists sessions with their numbers', async () => {
    await using client = await target().connect();
    ok(await create(client, target().path()));
    const cons = await target().fourLetterWord('cons');
    assert.match(
      cons,
      new RegExp(
        ' /127\\.0\\.0\\.1:\\d+\\[1\\]\\(queued=0,recved=\\d+,sent=\\d+,sid=0x[0-9a-f]+,lop=\\w+,' +
          'est=\\d+,to=\\d+,lcxid=0x[0-9a-f]+,lzxid=0x[0-9a-f]+,lresp=\\d+,llat=\\d+,' +
          'minlat=\\d+,avglat=\\d+,maxlat=\\d+\\)\\n',
      ),
    );
    assert.ok(cons.endsWith(')\n\n'));
    assert.ok(cons.includes(`sid=0x${client.sessionId.toString(16)},`));
  });

  it('cons shows a session that only connected with its createSession as the last op', async () => {
    await using client = await target().connect();
    const cons = await target().fourLetterWord('cons');
    const line = cons.split('\n').find((l) => l.includes(`sid=0x${client.sessionId.toString(16)},`));
    assert.ok(line, cons);
    assert.match(line, /,lop=SESS,/);
    assert.match(line, /,lcxid=0x0,lzxid=0x[0-9a-f]+,/);
    assert.doesNotMatch(line, /lzxid=0xffffffffffffffff/);
  });

  it('conf, envi, dirs', async () => {
    const conf = await target().fourLetterWord('conf');
    const keys = ['clientPort', 'secureClientPort', 'dataDir', 'dataLogDir', 'tickTime', 'maxClientCnxns',
      'minSessionTimeout', 'maxSessionTimeout', 'clientPortListenBacklog', 'serverId'];
    for (const key of keys) {
      assert.match(conf, new RegExp(`^${key}=`, 'm'), key);
    }
    assert.match(conf, /^tickTime=2000$/m);
    assert.match(conf, /^minSessionTimeout=4000$/m);
    assert.match(conf, /^maxSessionTimeout=40000$/m);
    const envi = await target().fourLetterWord('envi');
    assert.match(envi, /^Environment:\nzookeeper\.version=3\.8\.\d+-[^\n]*\nhost\.name=/);
    assert.match(envi, /^os\.name=/m);
    assert.match(await target().fourLetterWord('dirs'), /^datadir_size: \d+\nlogdir_size: \d+\n$/);
  });

  it('mntr', async () => {
    const mntr = await target().fourLetterWord('mntr');
    for (const line of mntr.trimEnd().split('\n')) assert.match(line, /^zk_[\w.-]+\t\S.*$/);
    const keys = ['zk_version', 'zk_server_state', 'zk_znode_count', 'zk_watch_count', 'zk_ephemerals_count',
      'zk_num_alive_connections', 'zk_avg_latency', 'zk_outstanding_requests', 'zk_packets_sent',
      'zk_packets_received', 'zk_approximate_data_size', 'zk_global_sessions'];
    for (const key of keys) {
      assert.match(mntr, new RegExp(`^${key}\\t`, 'm'), key);
    }
    assert.match(mntr, /^zk_server_state\tstandalone$/m);
  });

  it('wchs, wchc, wchp', async () => {
    await using client = await target().connect();
    const root = target().path();
    ok(await create(client, root));
    ok(await getData(client, root, true));
    const wchs = await target().fourLetterWord('wchs');
    assert.match(wchs, /^\d+ connections watching \d+ paths\nTotal watches:\d+\n$/);
    const wchc = await target().fourLetterWord('wchc');
    assert.ok(wchc.includes(`0x${client.sessionId.toString(16)}\n\t${root}\n`), wchc);
    assert.ok(wchc.endsWith('\n\n'));
    const wchp = await target().fourLetterWord('wchp');
    assert.ok(wchp.includes(`${root}\n\t0x${client.sessionId.toString(16)}\n`), wchp);
  });

  it('dump lists sessions with ephemerals', async () => {
    await using client = await target().connect();
    const root = target().path();
    ok(await create(client, root, null, 1));
    const dump = await target().fourLetterWord('dump');
    const sets = /^SessionTracker dump:\nSession Sets \(\d+\)\/\(\d+\):\n/;
    assert.match(dump, new RegExp(`${sets.source}\\d+ expire at \\w{3} \\w{3} \\d\\d \\d\\d:\\d\\d:\\d\\d `));
    const listed = dump.includes(`\t0x${client.sessionId.toString(16)}\n`);
    assert.ok(listed, 'the session is listed in its expiry set');
    assert.ok(dump.includes(`ephemeral nodes dump:\nSessions with Ephemerals (`));
    assert.ok(dump.includes(`0x${client.sessionId.toString(16)}:\n\t${root}\n`), dump);
    assert.match(dump, /Connections dump:\n/);
  });

  it('conf prints the port actually bound', async () => {
    const conf = await target().fourLetterWord('conf');
    assert.match(conf, new RegExp(`^clientPort=${target().port}$`, 'm'));
  });

  it('stmk sets the mask from its 8-byte argument and answers it; gtmk reads it back', async () => {
    assert.equal(await sendBytes(target().port, stmk(0x1234n)), '4660');
    assert.equal(await target().fourLetterWord('gtmk'), '4660');
    assert.equal(await sendBytes(target().port, stmk(-1n, Buffer.from('zzzz'))), '-1');
    assert.equal(await target().fourLetterWord('gtmk'), '-1');
    // Without a whole 8-byte mask Apache fails reading it: no answer, the mask unchanged.
    assert.equal(await sendBytes(target().port, Buffer.from('stmk')), '');
    assert.equal(await sendBytes(target().port, Buffer.from('stmkabc')), '');
    assert.equal(await target().fourLetterWord('gtmk'), '-1');
    assert.equal(await sendBytes(target().port, stmk(306n)), '306');
  });

  it('crst and srst', async () => {
    assert.equal(await target().fourLetterWord('crst'), 'Connection stats reset.\n');
    assert.equal(await target().fourLetterWord('srst'), 'Server stats reset.\n');
  });
});

const ONLY_RUOK = { '4lw.commands.whitelist': 'ruok' };

describeBothServers('four-letter word whitelist', { config: ONLY_RUOK }, (target) => {
  it('runs whitelisted words and srvr, refuses the others with Apache text', async () => {
    assert.equal(await target().fourLetterWord('ruok'), 'imok');
    assert.match(await target().fourLetterWord('srvr'), /^Zookeeper version: /);
    for (const word of ['stat', 'wchp']) {
      const answer = await target().fourLetterWord(word);
      assert.equal(answer, `${word} is not executed because it is not in the whitelist.\n`);
    }
  });
});

/** Bytes of every file under `dir` (recursive), what Apache's dirs reports per directory. */
async function directoryBytes(dir: string): Promise<number> {
  let total = 0;
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const child = path.join(dir, entry.name);
    total += entry.isDirectory() ? await directoryBytes(child) : (await stat(child)).size;
  }
  return total;
}

describe('four-letter words on a durable server: dirs and conf sizes (and the admin dirs)', function () {
  let root: string;
  before(async () => (root = await mkdtemp(path.join(tmpdir(), 'menagerie-4lw-dirs-'))));
  after(async () => await rm(root, { recursive: true, force: true }));

  it('report the bytes under dataDir/version-2 and dataLogDir/version-2, as Apache', async () => {
    const dataDir = path.join(root, 'data');
    const dataLogDir = path.join(root, 'log');
    const words = ['dirs', 'conf'];
    const admin = { adminServerEnabled: true, adminServerAddress: '127.0.0.1', adminServerPort: 0 };
    await using server = await startServer({ dataDir, dataLogDir, fourLetterWordsEnabled: words, ...admin });
    // The first log file appears with the first transaction (preallocated: it counts in full).
    await using client = await RawClient.connect(server.port);
    ok(await create(client, '/dirs'));
    const dataBytes = await directoryBytes(path.join(dataDir, 'version-2'));
    const logBytes = await directoryBytes(path.join(dataLogDir, 'version-2'));
    assert.ok(logBytes > 0, 'the log has been written');
    const dirs = await fourLetterWord(server.port, 'dirs');
    assert.equal(dirs, `datadir_size: ${dataBytes}\nlogdir_size: ${logBytes}\n`);
    const conf = await fourLetterWord(server.port, 'conf');
    assert.match(conf, new RegExp(`^clientPort=${server.port}$`, 'm'));
    const dataLine = `^dataDir=${path.join(dataDir, 'version-2')}\ndataDirSize=${dataBytes}$`;
    assert.match(conf, new RegExp(dataLine, 'm'));
    const logLine = `^dataLogDir=${path.join(dataLogDir, 'version-2')}\ndataLogSize=${logBytes}$`;
    assert.match(conf, new RegExp(logLine, 'm'));
    // The AdminServer's dirs command reads the same sizes.
    const response = await fetch(`http://127.0.0.1:${server.adminPort}/commands/dirs`);
    const body = (await response.json()) as { datadir_size: number; logdir_size: number };
    assert.deepEqual([body.datadir_size, body.logdir_size], [dataBytes, logBytes]);
  });
});
