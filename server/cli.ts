// The `zk-server` command: `zk-server start-foreground path/to/zoo.cfg` runs the bundled server in the
// foreground from an Apache zoo.cfg, logging JSON lines (pino) to stdout, until SIGTERM or SIGINT stop
// it cleanly: standalone, or an ensemble member when the file has server.N lines (myid in dataDir).
// A bad config is reported on stderr and exits non-zero before any port is bound.

import { pathToFileURL } from 'node:url';
import { Command, CommanderError } from 'commander';
import { pino, type Logger } from 'pino';
import { ConfigError, loadZooCfg } from './config/index.js';
import { dumpLogLines, dumpSnapshotLines, purge } from './durable/index.js';
import { PersistenceError } from './persistence/types.js';
import { startMemberFromConfig } from './ensemble/server.js';
import { startServerWithConfig } from './standalone.js';

/** Exit codes: 0 stopped cleanly, 1 failed while running, 2 bad usage or config. */
const EXIT_OK = 0;
const EXIT_FAILED = 1;
const EXIT_CONFIG = 2;

export interface CliIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  /** Resolves when the process is asked to stop (SIGTERM or SIGINT by default). */
  stopSignal?: () => Promise<string>;
}

const processIo: CliIo = {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
};

/** Runs the command and resolves with the exit code. */
export async function main(args: string[], io: CliIo = processIo): Promise<number> {
  let exitCode = EXIT_OK;
  const program = new Command()
    .name('zk-server')
    .description('A ZooKeeper 3.8-compatible server (menagerie).')
    .exitOverride()
    .configureOutput({ writeOut: io.stdout, writeErr: io.stderr })
    .showHelpAfterError();
  program
    .command('start-foreground')
    .description('run the server in the foreground from an Apache zoo.cfg; SIGTERM or SIGINT stop it')
    .argument('<zoo.cfg>', 'path to the configuration file (Apache zoo.cfg format)')
    .action(async (configFile: string) => {
      exitCode = await startForeground(configFile, io);
    });
  program
    .command('purge')
    .description('keep the N newest snapshots and the logs they need, delete the rest (as zkCleanup.sh)')
    .argument('<dataDir>', 'the directory holding version-2/snapshot.*')
    .argument('[dataLogDir]', 'the directory holding version-2/log.* (default: dataDir)')
    .requiredOption('-n, --count <N>', 'snapshots to keep (at least 3)', (v) => Number.parseInt(v, 10))
    .action(async (dataDir: string, dataLogDir: string | undefined, options: { count: number }) => {
      exitCode = await printLines(io, async function* () {
        yield* await purge(dataDir, dataLogDir ?? dataDir, options.count);
      });
    });
  program
    .command('dump-log')
    .description('print a transaction log file (version-2/log.*) human-readably, as TxnLogToolkit')
    .argument('<file>', 'the log file')
    .action(async (file: string) => {
      exitCode = await printLines(io, () => dumpLogLines(file));
    });
  program
    .command('dump-snapshot')
    .description('print a snapshot file (version-2/snapshot.*) human-readably, as SnapshotFormatter')
    .argument('<file>', 'the snapshot file')
    .action(async (file: string) => {
      exitCode = await printLines(io, () => dumpSnapshotLines(file));
    });
  if (args.length === 0) {
    io.stdout(program.helpInformation());
    return EXIT_OK;
  }
  try {
    await program.parseAsync(args, { from: 'user' });
  } catch (error) {
    if (error instanceof CommanderError) {
      return error.exitCode === 0 ? EXIT_OK : EXIT_CONFIG;
    }
    throw error;
  }
  return exitCode;
}

/** An error from opening or creating files (the listener's errors are EADDRINUSE, EACCES on a port...). */
function isFileSystemError(error: unknown): boolean {
  const syscall = (error as NodeJS.ErrnoException | undefined)?.syscall;
  return syscall !== undefined && !['listen', 'bind', 'connect'].includes(syscall);
}

/** Prints the lines a tool yields; a persistence or argument error is one line on stderr, exit 1. */
async function printLines(io: CliIo, lines: () => AsyncIterable<string>): Promise<number> {
  try {
    for await (const line of lines()) io.stdout(`${line}\n`);
    return EXIT_OK;
  } catch (error) {
    if (error instanceof Error && !(error instanceof TypeError || error instanceof RangeError)) {
      io.stderr(`zk-server: ${error.message}\n`);
      return EXIT_FAILED;
    }
    throw error;
  }
}

async function startForeground(configFile: string, io: CliIo): Promise<number> {
  let loaded;
  try {
    loaded = await loadZooCfg(configFile);
  } catch (error) {
    if (error instanceof ConfigError) {
      io.stderr(`zk-server: invalid configuration ${configFile}: ${error.message}\n`);
      return EXIT_CONFIG;
    }
    throw error;
  }
  const { warnings } = loaded;
  let { config } = loaded;
  // server.N=host:port:port;clientPort gives the member's client port when clientPort= does not.
  const ownLine = config.servers.find((server) => server.id === config.serverId);
  if (config.clientPort === 0 && ownLine?.clientPort !== undefined) {
    config = { ...config, clientPort: ownLine.clientPort };
    if (config.clientPortAddress === undefined && ownLine.clientHost !== undefined) {
      config = { ...config, clientPortAddress: ownLine.clientHost };
    }
  }
  if (config.clientPort === 0) {
    io.stderr(`zk-server: invalid configuration ${configFile}: clientPort is not set\n`);
    return EXIT_CONFIG;
  }
  const log: Logger = pino({ base: { pid: process.pid }, level: process.env.ZK_SERVER_LOG_LEVEL ?? 'info' });
  for (const warning of warnings) log.warn({ configFile }, warning);
  let fatal: unknown;
  let wakeOnFatal: () => void = () => {};
  const failed = new Promise<string>((resolve) => (wakeOnFatal = () => resolve('fatal')));
  let server;
  try {
    const onFatal = (error: unknown) => {
      fatal = error;
      wakeOnFatal();
    };
    server = config.distributed
      ? await startMemberFromConfig(config, { logger: log, onFatal })
      : await startServerWithConfig(config, { logger: log, onFatal });
  } catch (error) {
    const what =
      error instanceof PersistenceError
        ? `cannot recover from ${config.dataDir}`
        : isFileSystemError(error)
          ? `cannot use the data directory ${config.dataDir}`
          : `cannot serve on port ${(error as { port?: number }).port ?? config.clientPort}`;
    io.stderr(`zk-server: ${what}: ${(error as Error).message}\n`);
    return EXIT_FAILED;
  }
  const reason = await Promise.race([(io.stopSignal ?? waitForSignal)(), failed]);
  log.info({ reason }, 'stopping');
  await server.stop();
  log.flush();
  return fatal === undefined ? EXIT_OK : EXIT_FAILED;
}

function waitForSignal(): Promise<string> {
  return new Promise((resolve) => {
    const onSignal = (signal: string) => {
      process.off('SIGTERM', onSignal);
      process.off('SIGINT', onSignal);
      resolve(signal);
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
  });
}

/** Entry point when run directly (tests run this file through tsx; bin/zk-server.js uses dist/). */
if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      process.stderr.write(`zk-server: ${error instanceof Error ? error.message : String(error)}\n`);
      process.exitCode = EXIT_FAILED;
    },
  );
}
