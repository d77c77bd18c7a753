// The servers the client and framework integration suites run against: our bundled server (in
// process, starts in milliseconds) and Apache ZooKeeper 3.8 (a JVM). Each suite declares its specs
// once inside `describeEachServer`, which repeats them per server with the server's name in the
// title; the Apache side is skipped with a visible notice when it is not installed.
import { describe } from 'mocha';
import { startServer, type RunningServer } from '../../../../server/index.js';
import { apacheAvailable, startApache } from '../../../support/apache.js';

export type ServerKind = 'menagerie' | 'apache';

/** One running server, whichever kind. */
export interface ServerUnderTest {
  readonly kind: ServerKind;
  readonly port: number;
  readonly connectString: string;
  /** Ends a session on the server at once (our server only: Apache has no such hook). */
  readonly expireSession?: (sessionId: bigint) => Promise<void>;
  /** Cuts every client connection without ending sessions (our server only). */
  readonly dropConnections?: () => void;
  stop(): Promise<void>;
}

export interface ServerSettings {
  /** tickTime: session timeouts are clamped to [2, 20] ticks. */
  tickTimeMs?: number;
  /** How often empty containers are reaped (Apache's default is a minute). */
  containerCheckIntervalMs?: number;
}

export interface ServerFactory {
  readonly kind: ServerKind;
  /** False when this server cannot run here (Apache not installed). */
  available(): boolean;
  start(settings: ServerSettings): Promise<ServerUnderTest>;
}

export const OUR_SERVER: ServerFactory = {
  kind: 'menagerie',
  available: () => true,
  async start(settings) {
    const server: RunningServer = await startServer({
      tickTimeMs: settings.tickTimeMs ?? 2000,
      containerCheckIntervalMs: settings.containerCheckIntervalMs,
      fourLetterWordsEnabled: '*',
      extendedTypesEnabled: true,
      maxClientConnectionsPerIp: 0,
    });
    return {
      kind: 'menagerie',
      port: server.port,
      connectString: server.connectString,
      expireSession: (sessionId) => server.expireSession(sessionId),
      dropConnections: () => server.dropConnections(),
      stop: () => server.stop(),
    };
  },
};

export const APACHE_SERVER: ServerFactory = {
  kind: 'apache',
  available: apacheAvailable,
  async start(settings) {
    const systemProperties: Record<string, string> = {};
    if (settings.containerCheckIntervalMs !== undefined) {
      systemProperties['znode.container.checkIntervalMs'] = String(settings.containerCheckIntervalMs);
    }
    const server = await startApache({ config: { tickTime: settings.tickTimeMs ?? 2000 }, systemProperties });
    const { port, connectString } = server;
    return { kind: 'apache', port, connectString, stop: () => server.stop() };
  },
};

/** Every server the suites run against, ours first (fast failures first). */
export const SERVER_FACTORIES: readonly ServerFactory[] = [OUR_SERVER, APACHE_SERVER];

/**
 * Declares `title [kind]` for each server, with one server started before its specs and stopped
 * after them. `body` gets the running server through a getter (it exists once `before` ran).
 */
export function describeEachServer(
  title: string,
  settings: ServerSettings,
  body: (server: () => ServerUnderTest, kind: ServerKind) => void,
  factories: readonly ServerFactory[] = SERVER_FACTORIES,
): void {
  for (const factory of factories) {
    describe(`${title} [${factory.kind}]`, function () {
      let starting: Promise<ServerUnderTest> | undefined;
      let server: ServerUnderTest | undefined;
      before(async function () {
        if (!factory.available()) {
          console.log(`    (Apache ZooKeeper is not installed: skipping "${title}" against it)`);
          this.skip();
        }
        this.timeout(90_000); // a loaded machine can take long to start a JVM
        starting = factory.start(settings);
        server = await starting;
      });
      body(() => {
        if (server === undefined) throw new Error('server not started');
        return server;
      }, factory.kind);
      // Registered after the body's hooks so that clients close before their server stops.
      after(async function () {
        this.timeout(120_000); // waits for a start still under way
        const started = await starting?.catch(() => undefined);
        await started?.stop();
      });
    });
  }
}

/**
 * Marks a spec where our server is known to differ from Apache: skipped on ours with a visible
 * notice so the difference stays listed; RUN_KNOWN_DIVERGENCES=1 runs it on ours too.
 */
export function knownDivergence(context: Mocha.Context, kind: ServerKind, reason: string): void {
  if (kind !== 'menagerie' || process.env.RUN_KNOWN_DIVERGENCES === '1') return;
  console.log(`    (known divergence, skipped on menagerie: ${reason})`);
  context.skip();
}
