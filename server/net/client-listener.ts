// The client listener: accepts TCP connections on the client port, enforces maxClientCnxns per IP,
// owns the connection ↔ session map (a resumed session closes its old connection), and runs the two
// timers of a standalone server: session expiry (closeSession for every expired session) and the
// container manager (deleteContainer for empty containers and expired TTL nodes). An ensemble member
// that is electing holds new ConnectRequests briefly and answers them once it serves again.

import net from 'node:net';
import type { Logger } from 'pino';
import { InvalidArgumentError, OpCode } from '../../src/protocol/index.js';
import type { ServerConfig } from '../config/index.js';
import type { RequestContext } from '../core/api.js';
import type { CoreMetrics, ServerCore } from '../core/server-core.js';
import { ClientConnection, normalizeAddress, type ConnectionHost } from './connection.js';
import { FOUR_LETTER_WORDS } from '../config/index.js';
import { answerFourLetterWord, type FourLetterWordSource, type ServerModeView } from './four-letter-words.js';
import {
  DEFAULT_CONNECTION_LIMITS,
  STOP_DRAIN_TIMEOUT_MS,
  connectionLimitsFor,
  type ConnectionLimits,
} from './limits.js';
import type { RequestGateway } from './pipeline.js';
import { ServerStats } from './stats.js';

/** The internal requests of the server itself (container manager) run as session 0. */
const SERVER_CONTEXT: RequestContext = { sessionId: 0n, cxid: 0, authIds: [] };

/**
 * The longest a ConnectRequest waits for an electing member to serve: min(2 × tickTime, this). An
 * election takes tens of ms; refused, the client sleeps up to a second before trying the next host.
 */
const CONNECT_HOLD_MAX_MS = 1000;
/** ConnectRequests held at once; beyond this they are refused at once, as before. */
const HELD_CONNECTS_MAX = 1000;

interface HeldConnect {
  readonly retry: () => void;
  readonly refuse: () => void;
  readonly timer: NodeJS.Timeout;
}

export class ClientListener implements ConnectionHost, FourLetterWordSource {
  readonly stats = new ServerStats();
  private readonly server: net.Server;
  private readonly connectionSet = new Set<ClientConnection>();
  private readonly connectionsPerIp = new Map<string, number>();
  private readonly sessionOwners = new Map<bigint, ClientConnection>();
  private readonly heldConnects = new Map<ClientConnection, HeldConnect>();
  private expiryTimer: NodeJS.Timeout | undefined;
  private expiryAtMs = Infinity;
  private containerTimer: NodeJS.Timeout | undefined;
  private stopping: Promise<void> | undefined;
  private outstandingTotal = 0;
  throttled = false;

  constructor(
    readonly core: ServerCore,
    readonly gateway: RequestGateway,
    readonly config: ServerConfig,
    readonly log: Logger,
    readonly limits: ConnectionLimits = DEFAULT_CONNECTION_LIMITS,
  ) {
    this.limits = connectionLimitsFor(limits, config.frameBytesMax);
    this.server = net.createServer({ noDelay: true }, (socket) => this.accept(socket));
    this.server.on('error', (error) => this.log.error({ err: error }, 'client listener error'));
  }

  /** Binds the client port; resolves with the address actually bound (port 0 → a free port). */
  async listen(): Promise<net.AddressInfo> {
    const { clientPort, clientPortAddress, clientPortListenBacklog } = this.config;
    await new Promise<void>((resolve, reject) => {
      const onError = (error: Error) => reject(error);
      this.server.once('error', onError);
      const options: net.ListenOptions = { port: clientPort, host: clientPortAddress };
      if (clientPortListenBacklog > 0) options.backlog = clientPortListenBacklog;
      this.server.listen(options, () => {
        this.server.off('error', onError);
        resolve();
      });
    });
    this.startContainerManager();
    return this.server.address() as net.AddressInfo;
  }

  private accept(socket: net.Socket): void {
    if (this.stopping !== undefined) {
      socket.destroy();
      return;
    }
    const ip = normalizeAddress(socket.remoteAddress ?? '');
    const held = this.connectionsPerIp.get(ip) ?? 0;
    const max = this.config.maxClientConnectionsPerIp;
    if (max > 0 && held >= max) {
      this.stats.connectionsRejected++;
      this.log.warn({ ip, max }, `Too many connections from /${ip} - max is ${max}`);
      socket.on('error', () => {});
      socket.destroy();
      return;
    }
    this.connectionsPerIp.set(ip, held + 1);
    const connection = new ClientConnection(socket, this);
    this.connectionSet.add(connection);
  }

  // ----- ConnectionHost -----

  claimSession(sessionId: bigint, connection: ClientConnection): void {
    const previous = this.sessionOwners.get(sessionId);
    this.sessionOwners.set(sessionId, connection);
    if (previous !== undefined && previous !== connection) {
      previous.close('session resumed on another connection');
    }
  }

  releaseSession(sessionId: bigint, connection: ClientConnection): void {
    if (this.sessionOwners.get(sessionId) === connection) this.sessionOwners.delete(sessionId);
  }

  closed(connection: ClientConnection): void {
    this.unhold(connection);
    if (!this.connectionSet.delete(connection)) return;
    const ip = connection.remoteAddress;
    const held = (this.connectionsPerIp.get(ip) ?? 1) - 1;
    if (held <= 0) this.connectionsPerIp.delete(ip);
    else this.connectionsPerIp.set(ip, held);
  }

  /** Holds only while the gateway may serve again (not stopping, not failed); never standalone. */
  holdConnect(connection: ClientConnection, retry: () => void, refuse: () => void): boolean {
    if (this.stopping !== undefined || this.gateway.failed) return false;
    if (this.heldConnects.size >= HELD_CONNECTS_MAX || this.heldConnects.has(connection)) return false;
    const holdMs = Math.min(2 * this.config.tickTimeMs, CONNECT_HOLD_MAX_MS);
    const timer = setTimeout(() => {
      if (this.unhold(connection)) refuse();
    }, holdMs);
    this.heldConnects.set(connection, { retry, refuse, timer });
    return true;
  }

  /** MemberHost: the member serves clients again; every held ConnectRequest is answered now. */
  startedServing(): void {
    for (const [connection, held] of [...this.heldConnects]) {
      if (this.unhold(connection)) held.retry();
    }
  }

  private unhold(connection: ClientConnection): boolean {
    const held = this.heldConnects.get(connection);
    if (held === undefined) return false;
    clearTimeout(held.timer);
    this.heldConnects.delete(connection);
    return true;
  }

  /** Apache's globalOutstandingLimit: past it every connection stops reading; below half it resumes. */
  outstandingChanged(delta: number): void {
    this.outstandingTotal += delta;
    const limit = this.config.globalOutstandingLimit;
    if (!this.throttled && this.outstandingTotal >= limit) {
      this.throttled = true;
      this.log.warn({ outstanding: this.outstandingTotal, limit }, 'throttling: too many requests in flight');
    } else if (this.throttled && this.outstandingTotal < limit / 2) {
      this.throttled = false;
      for (const connection of this.connectionSet) connection.updateReading();
    }
  }

  isFourLetterWord(word: string): boolean {
    return (FOUR_LETTER_WORDS as readonly string[]).includes(word);
  }

  fourLetterWord(word: string, connection: ClientConnection, extra: Buffer): string {
    return answerFourLetterWord(word, this, connection, extra);
  }

  /** Re-arms the expiry timer when the earliest session expiry moved earlier (where this server leads). */
  sessionsChanged(): void {
    if (!this.gateway.leads) return;
    const next = this.core.nextSessionExpiryMs();
    if (next === undefined || next >= this.expiryAtMs || this.stopping !== undefined) return;
    if (this.expiryTimer !== undefined) clearTimeout(this.expiryTimer);
    this.expiryAtMs = next;
    const expire = () => this.guarded('session expiry', () => this.expireSessions());
    this.expiryTimer = setTimeout(expire, Math.max(0, next - Date.now()));
  }

  private expireSessions(): void {
    this.expiryTimer = undefined;
    this.expiryAtMs = Infinity;
    if (this.stopping !== undefined || !this.gateway.leads) return;
    const nowMs = Date.now();
    try {
      for (const sessionId of this.core.expiredSessions(nowMs)) {
        this.log.info({ sessionId: sessionId.toString(16) }, 'session expired');
        this.stats.sessionsExpired++;
        this.gateway.submitInternal(
          (preparedMs) => this.core.prepareCloseSession(sessionId, preparedMs),
          () => this.sessionClosed(sessionId, 'session expired'),
        );
      }
    } finally {
      this.sessionsChanged();
    }
  }

  /** Closes a session as if it had expired (tests and the testing kit use this). */
  expireSession(sessionId: bigint): Promise<void> {
    if (!this.gateway.leads) {
      return Promise.reject(new InvalidArgumentError('only the leader of an ensemble expires sessions'));
    }
    return new Promise((resolve) => {
      this.gateway.submitInternal(
        (nowMs) => this.core.prepareCloseSession(sessionId, nowMs),
        () => {
          this.sessionClosed(sessionId, 'session expired on request');
          resolve();
        },
      );
    });
  }

  /** A session's close was applied: its connection here, if any, is closed. */
  sessionClosed(sessionId: bigint, reason: string): void {
    this.sessionOwners.get(sessionId)?.close(reason);
  }

  /** Drops every client connection without ending sessions (what a network blip does). */
  dropConnections(): void {
    for (const connection of this.connectionSet) connection.destroy('dropped on request');
  }

  private startContainerManager(): void {
    const intervalMs = this.config.containerCheckIntervalMs;
    // Apache spreads at most maxPerMinute deletions over each minute; per check that is this many.
    const perMinute = this.config.containerMaxPerMinute;
    const limit = Math.max(1, Math.floor((perMinute * Math.min(intervalMs, 60_000)) / 60_000));
    const check = () => this.guarded('container manager', () => this.deleteContainers(limit));
    this.containerTimer = setInterval(check, intervalMs);
    this.containerTimer.unref();
  }

  private deleteContainers(limit: number): void {
    if (this.stopping !== undefined || this.gateway.failed || !this.gateway.leads) return;
    for (const path of this.core.containersToDelete(Date.now(), limit)) {
      this.gateway.submitInternal((nowMs) =>
        this.core.prepare(SERVER_CONTEXT, OpCode.deleteContainer, { path }, nowMs),
      );
    }
  }

  /** A timer's failure must not take the server down: it is logged, and the next run tries again. */
  private guarded(what: string, action: () => void): void {
    try {
      action();
    } catch (error) {
      this.log.error({ err: error }, `${what} failed`);
    }
  }

  // ----- FourLetterWordSource -----

  get mode(): ServerModeView {
    return this.gateway.mode ?? 'not serving';
  }

  connections(): Iterable<ClientConnection> {
    return this.connectionSet;
  }

  quorumMonitorEntries(): Array<[string, number]> {
    return this.gateway.monitorEntries?.() ?? [];
  }

  quorumLeader(): number | undefined {
    return this.gateway.leader;
  }

  metrics(): CoreMetrics {
    return this.core.metrics();
  }

  outstandingRequests(): number {
    return this.outstandingTotal;
  }

  boundClientPort(): number {
    const address = this.server.address();
    return typeof address === 'object' && address !== null ? address.port : this.config.clientPort;
  }

  watchesBySession(): Map<bigint, string[]> {
    const out = new Map<bigint, string[]>();
    for (const [watcher, paths] of this.core.watchesByWatcher()) {
      const id = watcher instanceof ClientConnection ? watcher.sessionId : 0n;
      out.set(id, [...(out.get(id) ?? []), ...paths]);
    }
    return out;
  }

  watchesByPath(): Map<string, bigint[]> {
    const out = new Map<string, bigint[]>();
    for (const [path, watchers] of this.core.watchesByPath()) {
      out.set(path, watchers.map((w) => (w instanceof ClientConnection ? w.sessionId : 0n)));
    }
    return out;
  }

  ephemeralsBySession(): Map<bigint, string[]> {
    return this.core.ephemeralsBySession();
  }

  sessionExpiryBuckets(): Array<{ expiryMs: number; sessionIds: bigint[] }> {
    return this.core.sessionExpiryBuckets();
  }

  localSessionExpiryBuckets(): Array<{ expiryMs: number; sessionIds: bigint[] }> {
    return this.core.localSessionExpiryBuckets();
  }

  sessionTimeouts(): Array<{ sessionId: bigint; timeoutMs: number }> {
    return this.core.sessions();
  }

  get connectionCount(): number {
    return this.connectionSet.size;
  }

  // ----- stop -----

  /**
   * Stops accepting, lets in-flight writes finish (bounded), then closes every connection. Sessions are
   * not closed: clients reconnect to the next server (or to this one, restarted, once it persists).
   */
  stop(): Promise<void> {
    this.stopping ??= this.stopOnce();
    return this.stopping;
  }

  private async stopOnce(): Promise<void> {
    if (this.expiryTimer !== undefined) clearTimeout(this.expiryTimer);
    if (this.containerTimer !== undefined) clearInterval(this.containerTimer);
    for (const [connection, held] of [...this.heldConnects]) {
      if (this.unhold(connection)) held.refuse();
    }
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<void>((resolve) => (timer = setTimeout(resolve, STOP_DRAIN_TIMEOUT_MS)));
    await Promise.race([this.gateway.idle(), timeout]);
    clearTimeout(timer);
    for (const connection of this.connectionSet) connection.destroy('server stopping');
    await closed;
  }
}
