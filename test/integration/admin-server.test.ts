// The HTTP AdminServer and the Prometheus endpoint of our server: after known operations, each admin
// command and /metrics report what was done, under Apache 3.8's key and metric names.

import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'mocha';
import { ConfigError, parseZooCfg } from '../../server/config/index.js';
import { PROMETHEUS_PROVIDER_CLASS } from '../../server/metrics/index.js';
import { startServer, type RunningServer } from '../../server/standalone.js';
import { create, exists, ok } from '../conformance/ops.js';
import { fourLetterWord, freePort } from '../support/ports.js';
import { RawClient } from '../support/raw-client.js';
import { startServerProcess } from '../support/servers.js';

const EPHEMERAL = 1;

/**
 * Top-level keys of Apache 3.8.0's answers (JettyAdminServer, standalone, captured from a running
 * server with jetty on its classpath; the Debian test fixture starts Apache without it, so the
 * comparison is against this record rather than live).
 */
const APACHE_KEYS: Record<string, string[]> = {
  ruok: ['command', 'error'],
  srvr: ['version', 'read_only', 'server_stats', 'client_response', 'node_count', 'command', 'error'],
  stat: [
    'version', 'read_only', 'server_stats', 'client_response', 'node_count', 'connections',
    'secure_connections', 'command', 'error',
  ],
  conf: [
    'client_port', 'data_dir', 'data_log_dir', 'tick_time', 'max_client_cnxns', 'min_session_timeout',
    'max_session_timeout', 'server_id', 'client_port_listen_backlog', 'command', 'error',
  ],
  cons: ['connections', 'secure_connections', 'command', 'error'],
  wchs: ['num_connections', 'num_paths', 'num_total_watches', 'command', 'error'],
  dump: ['expiry_time_to_session_ids', 'session_id_to_ephemeral_paths', 'command', 'error'],
  is_read_only: ['read_only', 'command', 'error'],
  dirs: ['datadir_size', 'logdir_size', 'command', 'error'],
};
const APACHE_SERVER_STATS_KEYS = [
  'packets_sent', 'packets_received', 'fsync_threshold_exceed_count', 'client_response_stats',
  'provider_null', 'data_dir_size', 'log_dir_size', 'server_state', 'last_processed_zxid',
  'outstanding_requests', 'avg_latency', 'max_latency', 'min_latency', 'num_alive_client_connections',
  'uptime', 'auth_failed_count', 'non_mtlsremote_conn_count', 'non_mtlslocal_conn_count',
];
const APACHE_CONNECTION_KEYS = [
  'remote_socket_address', 'interest_ops', 'outstanding_requests', 'packets_received', 'packets_sent',
  'session_id', 'last_operation', 'established', 'session_timeout', 'last_cxid', 'last_zxid',
  'last_response_time', 'last_latency', 'min_latency', 'avg_latency', 'max_latency',
];
/** Some of Apache's mntr (monitor) keys; every one of ours must be among Apache's. */
const APACHE_MONITOR_KEYS = new Set([
  'version', 'server_state', 'ephemerals_count', 'num_alive_connections', 'avg_latency',
  'outstanding_requests', 'znode_count', 'global_sessions', 'non_mtls_remote_conn_count',
  'last_client_response_size', 'packets_sent', 'packets_received', 'max_client_response_size',
  'connection_drop_probability', 'watch_count', 'auth_failed_count', 'min_latency',
  'max_file_descriptor_count', 'approximate_data_size', 'open_file_descriptor_count', 'local_sessions',
  'uptime', 'max_latency', 'connection_rejected', 'proposal_count', 'commit_count',
  'digest_mismatches_count', 'stale_sessions_expired',
]);

async function command(server: RunningServer, name: string): Promise<{ json: any; text: string }> {
  const response = await fetch(`http://127.0.0.1:${server.adminPort}/commands/${name}`);
  assert.equal(response.status, 200);
  assert.match(response.headers.get('content-type') ?? '', /application\/json/);
  const text = await response.text();
  return { json: JSON.parse(text), text };
}

function metricValue(scrape: string, name: string): number {
  const line = scrape.split('\n').find((l) => l.startsWith(`${name} `));
  assert.ok(line !== undefined, `metric ${name} in the scrape`);
  return Number(line.split(' ')[1]);
}

describe('admin server and Prometheus metrics (menagerie)', function () {
  it('read their zoo.cfg keys with Apache defaults (admin server on, metrics off)', () => {
    const defaults = parseZooCfg('dataDir=/tmp/x\n').config;
    assert.deepEqual(
      [defaults.adminServerEnabled, defaults.adminServerAddress, defaults.adminServerPort],
      [true, '0.0.0.0', 8080],
    );
    assert.equal(defaults.adminCommandUrl, '/commands');
    assert.equal(defaults.metricsProviderClassName, undefined);
    assert.equal(defaults.metricsHttpPort, 7000);
    const text = [
      'dataDir=/tmp/x', 'admin.enableServer=false', 'admin.serverPort=9090', 'admin.commandURL=/admin',
      `metricsProvider.className=${PROMETHEUS_PROVIDER_CLASS}`, 'metricsProvider.httpPort=7001',
    ].join('\n');
    const { config, warnings } = parseZooCfg(text);
    assert.deepEqual(warnings, []);
    assert.deepEqual(
      [config.adminServerEnabled, config.adminServerPort, config.adminCommandUrl, config.metricsHttpPort],
      [false, 9090, '/admin', 7001],
    );
    assert.equal(config.metricsProviderClassName, PROMETHEUS_PROVIDER_CLASS);
    assert.throws(() => parseZooCfg('dataDir=/tmp/x\nadmin.serverPort=70000\n'), ConfigError);
    assert.throws(() => parseZooCfg('dataDir=/tmp/x\nadmin.commandURL=commands\n'), ConfigError);
  });

  it('stay off in process unless asked for', async () => {
    await using server = await startServer();
    assert.equal(server.adminPort, undefined);
    assert.equal(server.metricsPort, undefined);
  });

  it('count log fsyncs slower than fsync.warningthresholdms in server_stats', async () => {
    const dataDir = await mkdtemp(path.join(tmpdir(), 'menagerie-fsync-threshold-'));
    try {
      const admin = { adminServerEnabled: true, adminServerAddress: '127.0.0.1', adminServerPort: 0 };
      const options = { dataDir, ...admin };
      {
        // Threshold 0: every sync that takes any time at all is over it.
        await using server = await startServer({ ...options, fsyncWarningThresholdMs: 0 });
        await using client = await RawClient.connect(server.port);
        for (let i = 0; i < 5; i++) ok(await create(client, `/slow-${i}`));
        const stats = (await command(server, 'server_stats')).json.server_stats;
        assert.ok(stats.fsync_threshold_exceed_count >= 1, JSON.stringify(stats));
      }
      await using server = await startServer(options); // the default: 1000 ms
      await using client = await RawClient.connect(server.port);
      ok(await create(client, '/fast'));
      const stats = (await command(server, 'server_stats')).json.server_stats;
      assert.equal(stats.fsync_threshold_exceed_count, 0);
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });

  it('report the operations done, under Apache names', async () => {
    await using server = await startServer({
      adminServerEnabled: true,
      adminServerAddress: '127.0.0.1',
      adminServerPort: 0,
      metricsProviderClassName: PROMETHEUS_PROVIDER_CLASS,
      metricsHttpHost: '127.0.0.1',
      metricsHttpPort: 0,
      fourLetterWordsEnabled: '*',
    });
    await using client = await RawClient.connect(server.port);
    ok(await create(client, '/app'));
    ok(await create(client, '/app/e', Buffer.from('x'), EPHEMERAL));
    ok(await exists(client, '/app/e', true));

    const listing = await (await fetch(`http://127.0.0.1:${server.adminPort}/commands`)).text();
    for (const name of ['ruok', 'server_stats', 'stats', 'monitor', 'dump', 'environment']) {
      assert.ok(listing.includes(`/commands/${name}"`), `${name} is listed`);
    }
    for (const [name, keys] of Object.entries(APACHE_KEYS)) {
      const { json } = await command(server, name);
      assert.deepEqual(Object.keys(json).sort(), [...keys].sort(), `keys of ${name}`);
      assert.equal(json.error, null, `${name} succeeded`);
    }

    const srvr = (await command(server, 'server_stats')).json;
    assert.equal(srvr.command, 'server_stats');
    assert.deepEqual(Object.keys(srvr.server_stats).sort(), [...APACHE_SERVER_STATS_KEYS].sort());
    assert.equal(srvr.server_stats.num_alive_client_connections, 1);
    assert.equal(srvr.node_count, 7, 'Apache counts 5 on a fresh server, then /app and /app/e');

    const cons = await command(server, 'connections');
    assert.equal(cons.json.connections.length, 1);
    assert.deepEqual(Object.keys(cons.json.connections[0]).sort(), [...APACHE_CONNECTION_KEYS].sort());
    assert.equal(cons.json.connections[0].last_operation, 'EXIS');
    // Session ids are JSON numbers beyond 2^53, as Jackson writes longs: check the text, not the double.
    assert.ok(cons.text.includes(`"session_id": ${client.sessionId}`), cons.text);

    const dump = await command(server, 'dump');
    assert.ok(dump.text.includes(`"${client.sessionId}": [\n      "/app/e"\n    ]`), dump.text);
    const expiring = Object.values(dump.json.expiry_time_to_session_ids as Record<string, unknown[]>);
    assert.equal(expiring.flat().length, 1);

    const wchs = (await command(server, 'wchs')).json;
    assert.deepEqual([wchs.num_connections, wchs.num_paths, wchs.num_total_watches], [1, 1, 1]);
    const wchc = await command(server, 'wchc');
    assert.deepEqual(wchc.json.session_id_to_watched_paths, { [String(client.sessionId)]: ['/app/e'] });
    const wchp = (await command(server, 'watches_by_path')).json.path_to_session_ids;
    assert.deepEqual(Object.keys(wchp), ['/app/e']);
    assert.equal((await command(server, 'conf')).json.client_port, server.port);
    assert.equal((await command(server, 'isro')).json.read_only, false);
    assert.equal((await command(server, 'envi')).json.command, 'environment');

    const mntr = (await command(server, 'mntr')).json;
    for (const key of Object.keys(mntr)) {
      if (key !== 'command' && key !== 'error') assert.ok(APACHE_MONITOR_KEYS.has(key), `Apache has ${key}`);
    }
    const mntrText = await fourLetterWord(server.port, 'mntr');
    assert.match(mntrText, new RegExp(`zk_znode_count\\t${mntr.znode_count}\\n`), 'same count as the 4lw');
    assert.equal(mntr.ephemerals_count, 1);

    const badEncoding = await fetch(`http://127.0.0.1:${server.adminPort}/commands/%E0%A4%A`);
    assert.equal(badEncoding.status, 400, 'malformed percent-encoding is refused, the server lives on');
    await badEncoding.arrayBuffer();
    const unknown = (await command(server, 'nope')).json;
    assert.deepEqual(unknown, { command: 'nope', error: 'Unknown command: nope' });

    const scrape = await (await fetch(`http://127.0.0.1:${server.metricsPort}/metrics`)).text();
    assert.equal(metricValue(scrape, 'znode_count'), 7);
    assert.equal(metricValue(scrape, 'ephemerals_count'), 1);
    assert.equal(metricValue(scrape, 'watch_count'), 1);
    assert.equal(metricValue(scrape, 'num_alive_connections'), 1);
    assert.equal(metricValue(scrape, 'global_sessions'), 1);
    assert.equal(metricValue(scrape, 'updatelatency_count'), 2, 'two creates');
    assert.equal(metricValue(scrape, 'readlatency_count'), 1, 'one exists');
    assert.match(scrape, /^readlatency\{quantile="0.5"\} /m);
    const notFound = await fetch(`http://127.0.0.1:${server.metricsPort}/other`);
    assert.equal(notFound.status, 404);
    await notFound.arrayBuffer();
  });

  it('follow zoo.cfg in zk-server start-foreground', async function () {
    this.timeout(30_000);
    const [adminPort, metricsPort] = [await freePort(), await freePort()];
    const server = await startServerProcess({
      'admin.enableServer': true,
      'admin.serverAddress': '127.0.0.1',
      'admin.serverPort': adminPort,
      'admin.commandURL': '/ops',
      'metricsProvider.className': PROMETHEUS_PROVIDER_CLASS,
      'metricsProvider.httpHost': '127.0.0.1',
      'metricsProvider.httpPort': metricsPort,
    });
    try {
      const ruok = await (await fetch(`http://127.0.0.1:${adminPort}/ops/ruok`)).json();
      assert.deepEqual(ruok, { command: 'ruok', error: null });
      const conf = (await (await fetch(`http://127.0.0.1:${adminPort}/ops/conf`)).json()) as any;
      assert.equal(conf.client_port, server.port);
      const fresh = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
      assert.equal(metricValue(fresh, 'znode_count'), 5, 'a fresh server, counted as Apache does');
      const syncsBefore = metricValue(fresh, 'fsynctime_count');
      {
        await using client = await RawClient.connect(server.port);
        ok(await create(client, '/synced'));
      }
      const scrape = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
      assert.ok(metricValue(scrape, 'fsynctime_count') > syncsBefore, 'the create was fsynced and timed');
      assert.equal(metricValue(scrape, 'znode_count'), 6);
    } finally {
      assert.equal(await server.stop(), 0);
    }
  });
});
