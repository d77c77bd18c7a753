// menagerie/testing: the test kit shipped to users. `TestingServer` is an embedded standalone server on
// a free loopback port, with the helpers tests need: expire a session, drop every connection.
// `InProcessServer` is the same server core reached over in-memory sockets on a `VirtualClock`, for
// tests that must expire sessions and time out waits deterministically, without sleeping.
// `TestingCluster` is a replicated ensemble in this process (kill, restart, find the leader).
// `ClientFaults` cuts or partitions one client (a transport wrapper), on any server.
// `VirtualClockKit` / `RealClockKit` run one spec body on virtual time (in process, exact times) and on
// real time against a real server (times become bounds).
//
//   await using server = await TestingServer.start();
//   const client = connect(server.connectString);

import { startServer, type RunningServer, type StartServerOptions } from '../standalone.js';

export class TestingServer implements AsyncDisposable {
  private constructor(private readonly server: RunningServer) {}

  /** Starts a server on a free port (options as startServer; tickTime defaults to 500 ms for fast tests). */
  static async start(options: StartServerOptions = {}): Promise<TestingServer> {
    return new TestingServer(await startServer({ tickTimeMs: 500, ...options }));
  }

  get port(): number {
    return this.server.port;
  }

  get connectString(): string {
    return this.server.connectString;
  }

  /** Ends the session now, as expiry would: its ephemerals are deleted and its connection closed. */
  async expireSession(sessionId: bigint): Promise<void> {
    await this.server.expireSession(sessionId);
  }

  /** Cuts every client connection; sessions survive, so clients reconnect and resume. */
  dropConnections(): void {
    this.server.dropConnections();
  }

  async stop(): Promise<void> {
    await this.server.stop();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }
}

export { startServer, type RunningServer, type StartServerOptions } from '../standalone.js';
export {
  TestingCluster,
  type TestingClusterMember,
  type TestingClusterOptions,
} from './cluster.js';
export { ClientFaults } from './client-faults.js';
export { InProcessServer, type InProcessServerOptions } from './in-process.js';
export { VirtualClock } from './virtual-clock.js';
export {
  ClockKit,
  RealClockKit,
  VirtualClockKit,
  type KitConnectOptions,
  type RealClockKitOptions,
  type Tracked,
  type VirtualClockKitOptions,
} from './clock-kit.js';
export { expireSession } from '../../src/client/testing.js';
