// Shared by the examples: connect to the ZooKeeper given on the command line (or ZK_CONNECT), or, when
// none is given, start the bundled server in this process so the example runs with nothing installed.
import { createFramework, exponentialBackoff, type Framework } from '../src/index.js';
import { startServer, type RunningServer } from '../server/index.js';

export interface Ensemble extends AsyncDisposable {
  readonly connectString: string;
  /** A new session (one framework per simulated process); closed with the ensemble. */
  connect(): Promise<Framework>;
}

/** The connect string from argv[2] or ZK_CONNECT, else an embedded server on a free loopback port. */
export async function ensemble(): Promise<Ensemble> {
  const given = process.argv[2] ?? process.env.ZK_CONNECT;
  const server: RunningServer | undefined = given === undefined ? await startServer() : undefined;
  const connectString = given ?? server!.connectString;
  console.log(server ? `embedded server on ${connectString}` : `using ZooKeeper at ${connectString}`);
  const sessions: Framework[] = [];
  return {
    connectString,
    async connect() {
      const zk = createFramework({
        connectString,
        sessionTimeoutMs: 10_000,
        retry: exponentialBackoff({ baseSleepMs: 100, maxRetries: 5 }),
      });
      sessions.push(zk);
      await zk.blockUntilConnected();
      return zk;
    },
    async [Symbol.asyncDispose]() {
      await Promise.all(sessions.map((zk) => zk.close()));
      await server?.stop();
    },
  };
}
