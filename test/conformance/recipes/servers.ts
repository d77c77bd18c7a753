// The servers every recipe contract runs against: a list of factories, so adding our own server is
// one line here once `startServer` exists in server/index.ts. Each gives a connect string, its port
// (for a controlled proxy in front of it) and stop().
import { apacheAvailable, startApache } from '../../support/apache.js';

export interface ServerUnderTest {
  readonly port: number;
  readonly connectString: string;
  stop(): Promise<void>;
}

export interface ServerFactory {
  readonly name: string;
  available(): boolean;
  /** tickTime 200 ms: session timeouts down to 400 ms, for expiry tests that run in seconds. */
  start(): Promise<ServerUnderTest>;
}

export const serverFactories: ServerFactory[] = [
  {
    name: 'Apache ZooKeeper 3.8',
    available: apacheAvailable,
    start: () => startApache({ config: { tickTime: 200 } }),
  },
  // { name: 'menagerie server', available: () => true, start: () => startServer({ tickTimeMs: 200 }) },
];
