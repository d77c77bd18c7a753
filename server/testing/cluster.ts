// TestingCluster: a replicated ensemble of the bundled server in this process, for tests of code that
// must survive a member or the leader going away (Curator's TestingCluster). Members talk real TCP to
// each other on free loopback ports, clients reach them on loopback client ports that stay the same
// across a restart, and their data lives in memory or in temporary directories.
//
//   await using cluster = await TestingCluster.start({ size: 3 });
//   const zk = createFramework({ connectString: cluster.connectString });
//   await cluster.kill(await cluster.leader());   // the others elect a new leader; sessions live on

import type { Logger } from 'pino';
import { InvalidArgumentError } from '../../src/protocol/errors.js';
import type { ServerOptions } from '../config/index.js';
import { startEnsemble, type RunningEnsemble, type RunningMember } from '../ensemble/server.js';
import type { ServerModeView } from '../net/four-letter-words.js';

/** Options of {@link TestingCluster.start}. */
export interface TestingClusterOptions {
  /** Voting members; default 3. */
  readonly size?: number;
  /** Observers (they serve clients, never vote); default none. */
  readonly observers?: number;
  /** Keep each member's data in a temporary directory (removed on stop) rather than in memory. */
  readonly disk?: boolean;
  /** tickTime; default 100 ms, so a dead leader is noticed and replaced within about a second. */
  readonly tickTimeMs?: number;
  /**
   * Other server options every member gets. Sessions may last up to 60 s by default (the usual
   * 20 ticks would cap them at 2 s with the short tick).
   */
  readonly serverOptions?: ServerOptions;
  /** How long `start()` waits for a leader; default 30 s. */
  readonly startTimeoutMs?: number;
  /** Where the members log (each line carries `myId`); default: nowhere. */
  readonly logger?: Logger;
}

/** One member of a {@link TestingCluster}; the same object before a kill and after its restart. */
export interface TestingClusterMember {
  /** Its server id (myid), 1..size for voters, then the observers. */
  readonly id: number;
  readonly role: 'participant' | 'observer';
  /** Its client port on 127.0.0.1; kept across restarts. */
  readonly port: number;
  /** `127.0.0.1:port`: connect to this member alone. */
  readonly connectString: string;
  /** False between `kill` and `restart`. */
  readonly running: boolean;
  /** 'leader', 'follower', 'observer', 'read-only' or 'not serving' (also when killed). */
  readonly mode: ServerModeView;
}

type MemberRef = TestingClusterMember | number;

/** A running ensemble for tests. Stop it with `stop()` or `await using`; stopping twice is harmless. */
export class TestingCluster implements AsyncDisposable {
  /** Every member, in id order, running or not. */
  readonly members: readonly TestingClusterMember[];
  private readonly lastPorts = new Map<number, number>();

  private constructor(
    private readonly ensemble: RunningEnsemble,
    roles: ReadonlyMap<number, 'participant' | 'observer'>,
  ) {
    // The last port each member bound (a restart binds it again unless another process took it).
    const portOf = (id: number) => {
      const running = ensemble.members.get(id);
      if (running !== undefined) this.lastPorts.set(id, running.port);
      return this.lastPorts.get(id)!;
    };
    for (const [id, running] of ensemble.members) this.lastPorts.set(id, running.port);
    this.members = [...roles].map(([id, role]) => {
      return {
        id,
        role,
        get connectString() {
          return `127.0.0.1:${portOf(id)}`;
        },
        get port() {
          return portOf(id);
        },
        get running() {
          return ensemble.members.has(id);
        },
        get mode(): ServerModeView {
          return ensemble.members.get(id)?.mode ?? 'not serving';
        },
      };
    });
  }

  /** Starts the members and resolves once a leader serves and every member serves clients. */
  static async start(options: TestingClusterOptions = {}): Promise<TestingCluster> {
    const size = options.size ?? 3;
    const observers = options.observers ?? 0;
    const ensemble = await startEnsemble({
      size,
      observers,
      tickTimeMs: options.tickTimeMs ?? 100,
      serverOptions: { maxSessionTimeoutMs: 60_000, ...options.serverOptions },
      transport: 'tcp',
      storage: options.disk === true ? 'disk' : 'memory',
      logger: options.logger,
    });
    try {
      await ensemble.settled({ signal: AbortSignal.timeout(options.startTimeoutMs ?? 30_000) });
    } catch (error) {
      await ensemble.stop();
      throw error;
    }
    const roles = new Map<number, 'participant' | 'observer'>();
    for (let id = 1; id <= size + observers; id++) roles.set(id, id <= size ? 'participant' : 'observer');
    return new TestingCluster(ensemble, roles);
  }

  /** Every member's 127.0.0.1:port, killed ones too (a client skips those until they are back). */
  get connectString(): string {
    return this.members.map((m) => m.connectString).join(',');
  }

  /** The member with this id. */
  member(id: number): TestingClusterMember {
    const found = this.members.find((m) => m.id === id);
    if (found === undefined) throw new InvalidArgumentError(`the cluster has no member ${id}`);
    return found;
  }

  /**
   * The leader, once one serves and every running member serves too (right away when settled;
   * after a kill, once the others have elected a new one). Rejects after `timeoutMs` (default 30 s).
   */
  async leader(options: { signal?: AbortSignal; timeoutMs?: number } = {}): Promise<TestingClusterMember> {
    const timeout = AbortSignal.timeout(options.timeoutMs ?? 30_000);
    const signal = options.signal === undefined ? timeout : AbortSignal.any([options.signal, timeout]);
    const leader = await this.ensemble.settled({ signal });
    return this.member(leader.myId);
  }

  /**
   * Stops a member at once, as a crash would: its client connections and peer links close and the
   * others carry on (electing a new leader if it led). Its data is kept for `restart`.
   */
  async kill(member: MemberRef): Promise<void> {
    await this.ensemble.stopMember(this.running(member).myId);
  }

  /** Starts a killed member again from its data, on its old port; resolves once it serves clients. */
  async restart(member: MemberRef, options: { signal?: AbortSignal } = {}): Promise<TestingClusterMember> {
    const id = typeof member === 'number' ? member : member.id;
    const running = await this.ensemble.restartMember(this.member(id).id);
    this.lastPorts.set(id, running.port);
    await running.serving(options);
    return this.member(id);
  }

  /** Ends a session as if it had expired, through the leader: its ephemerals go on every member. */
  async expireSession(sessionId: bigint): Promise<void> {
    await this.leader();
    await this.ensemble.expireSession(sessionId);
  }

  /** Cuts every client connection on every member; sessions survive and clients reconnect. */
  dropConnections(): void {
    for (const running of this.ensemble.members.values()) running.dropConnections();
  }

  /** Stops one member (as `kill`), or with no argument the whole cluster and removes its data. */
  async stop(member?: MemberRef): Promise<void> {
    if (member !== undefined) return await this.kill(member);
    await this.ensemble.stop();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }

  private running(member: MemberRef): RunningMember {
    const id = typeof member === 'number' ? member : member.id;
    this.member(id);
    const running = this.ensemble.members.get(id);
    if (running === undefined) throw new InvalidArgumentError(`member ${id} is not running`);
    return running;
  }
}
