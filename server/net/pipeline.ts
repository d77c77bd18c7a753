// The write pipeline: prepare (done by the caller, in arrival order) → persist → apply → reply.
// Persistence is asynchronous and may finish out of order; apply() must still see txns in zxid order,
// so txns wait in one FIFO and are applied from its head once persisted. The persist step is the seam
// where the transaction log (and later the quorum) plugs in.

import type { Reply, RequestContext, Txn, TxnPersister } from '../core/api.js';

/** The seam for a server without persistence: durable at once, but still asynchronous. */
export class InMemoryPersister implements TxnPersister {
  async persist(txn: Txn): Promise<void> {
    void txn;
  }
}

/** What the pipeline needs of the core: applying a txn in zxid order. */
export interface TxnApplier {
  apply(txn: Txn): Reply;
}

interface InFlight {
  readonly txn: Txn;
  persisted: boolean;
  readonly onApplied: (reply: Reply) => void;
}

export class WritePipeline {
  private readonly queue: InFlight[] = [];
  private failure: unknown;
  private idleWaiters: Array<() => void> = [];

  constructor(
    private readonly core: TxnApplier,
    private readonly persister: TxnPersister,
    /** Called once if persisting fails: the server can no longer acknowledge writes and must stop. */
    private readonly onFatal: (error: unknown) => void,
    /** Called if an onApplied callback throws (a bug in a shell); the pipeline carries on. */
    private readonly onCallbackError: (error: unknown) => void = () => {},
  ) {}

  /** Txns prepared but not yet applied. */
  get outstanding(): number {
    return this.queue.length;
  }

  /** True once persisting failed; every later submit is dropped. */
  get failed(): boolean {
    return this.failure !== undefined;
  }

  /** Persists `txn`, then applies it after every earlier txn, then calls onApplied with the reply. */
  submit(txn: Txn, onApplied: (reply: Reply) => void): void {
    if (this.failure !== undefined) return;
    const entry: InFlight = { txn, persisted: false, onApplied };
    this.queue.push(entry);
    this.persister.persist(txn).then(
      () => {
        entry.persisted = true;
        this.drain();
      },
      (error: unknown) => this.fail(error),
    );
  }

  /** Resolves when nothing is in flight (or persisting failed). */
  async idle(): Promise<void> {
    if (this.queue.length === 0 || this.failure !== undefined) return;
    await new Promise<void>((resolve) => this.idleWaiters.push(resolve));
  }

  private drain(): void {
    while (this.failure === undefined && this.queue.length > 0 && this.queue[0].persisted) {
      const entry = this.queue.shift()!;
      const reply = this.core.apply(entry.txn);
      try {
        entry.onApplied(reply);
      } catch (error) {
        this.onCallbackError(error);
      }
    }
    if (this.queue.length === 0) this.wakeIdle();
  }

  private fail(error: unknown): void {
    if (this.failure !== undefined) return;
    this.failure = error ?? new Error('persist failed');
    this.queue.length = 0;
    this.wakeIdle();
    this.onFatal(error);
  }

  private wakeIdle(): void {
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const wake of waiters) wake();
  }
}

/** A client write as the connection decoded it; `frame` is the whole request (for forwarding). */
export interface ClientWrite {
  readonly ctx: RequestContext;
  readonly opcode: number;
  readonly request: unknown;
  readonly frame: Buffer;
}

/** A session the gateway started. */
export interface StartedSession {
  readonly sessionId: bigint;
  readonly timeoutMs: number;
}

/**
 * What `srvr`/`stat` report as Mode; undefined while an ensemble member is not serving. 'read-only':
 * a member cut off from its quorum (readonlymode.enabled) serves reads to clients that allow it.
 */
export type ServerMode = 'standalone' | 'leader' | 'follower' | 'observer' | 'read-only';

/**
 * How a server's connections reach the replicated state: a standalone server's write pipeline, or an
 * ensemble member (writes and sessions through the leader). Every callback runs at most once; a
 * refusal means "not here, not now": the connection closes so the client tries again (elsewhere).
 */
export interface RequestGateway {
  /** Mode while serving clients; undefined while not (clients are turned away, 4lw still answered). */
  readonly mode: ServerMode | undefined;
  /** Runs session expiry and the container manager (standalone; in an ensemble the leader only). */
  readonly leads: boolean;
  /** True once this server can no longer accept writes (persisting failed). */
  readonly failed: boolean;
  /**
   * `onReply` runs synchronously right after the write's txn is applied, before any later txn is
   * applied (or at once, for a write answered without a txn): a connection runs the reads queued
   * behind it from there, so they see this write and not the next (ClientConnection's Slot.kind).
   */
  write(write: ClientWrite, onReply: (reply: Reply) => void, onRefused: (reason: string) => void): void;
  createSession(
    requestedTimeoutMs: number,
    onCreated: (session: StartedSession) => void,
    onRefused: (reason: string) => void,
  ): void;
  /** The negotiated timeout, or undefined for a wrong password or a session that is gone. */
  resumeSession(
    sessionId: bigint,
    passwd: Uint8Array,
    requestedTimeoutMs: number,
    onResumed: (timeoutMs: number | undefined) => void,
    onRefused: (reason: string) => void,
  ): void;
  /** Extra mntr entries (an ensemble member's quorum_size; a leader's learners, synced_followers...). */
  monitorEntries?(): Array<[string, number]>;
  /** An ensemble member's leader id (-1 while looking); absent standalone. */
  readonly leader?: number;
  /** A client sync: replies once this server has what the leader had committed when it asked. */
  sync(
    ctx: RequestContext,
    path: string,
    onReply: (reply: Reply) => void,
    onRefused: (reason: string) => void,
  ): void;
  /** Any packet from a session's client keeps the session alive. */
  touchSession(sessionId: bigint, nowMs: number): void;
  /** The server's own writes (expiry, containers): prepared with the time and replicated; leads only. */
  submitInternal(prepare: (nowMs: number) => Txn, onApplied?: (reply: Reply) => void): void;
  /** Resolves when no write is in flight (bounded by the caller). */
  idle(): Promise<void>;
}

/** What the standalone gateway needs of the core. */
export interface StandaloneCore extends TxnApplier {
  prepare(ctx: RequestContext, opcode: number, request: unknown, nowMs: number): Txn;
  createSession(
    requestedTimeoutMs: number,
    nowMs: number,
  ): { txn: Txn; sessionId: bigint; timeoutMs: number };
  reopenSession(sessionId: bigint, passwd: Uint8Array, requestedTimeoutMs: number, nowMs: number):
    number | undefined;
  touchSession(sessionId: bigint, nowMs: number): boolean;
}

/** The standalone server: everything goes through the local write pipeline. */
export class PipelineGateway implements RequestGateway {
  readonly mode = 'standalone';
  readonly leads = true;

  constructor(
    private readonly core: StandaloneCore,
    private readonly pipeline: WritePipeline,
  ) {}

  get failed(): boolean {
    return this.pipeline.failed;
  }

  write(write: ClientWrite, onReply: (reply: Reply) => void): void {
    const { ctx, opcode, request } = write;
    this.pipeline.submit(this.core.prepare(ctx, opcode, request, Date.now()), onReply);
  }

  createSession(requestedTimeoutMs: number, onCreated: (session: StartedSession) => void): void {
    const session = this.core.createSession(requestedTimeoutMs, Date.now());
    this.pipeline.submit(session.txn, () => onCreated(session));
  }

  resumeSession(
    sessionId: bigint,
    passwd: Uint8Array,
    requestedTimeoutMs: number,
    onResumed: (timeoutMs: number | undefined) => void,
  ): void {
    onResumed(this.core.reopenSession(sessionId, passwd, requestedTimeoutMs, Date.now()));
  }

  sync(_ctx: RequestContext, path: string, onReply: (reply: Reply) => void): void {
    onReply({ err: 0, response: { path } }); // one server: it already has everything
  }

  touchSession(sessionId: bigint, nowMs: number): void {
    this.core.touchSession(sessionId, nowMs);
  }

  submitInternal(prepare: (nowMs: number) => Txn, onApplied: (reply: Reply) => void = () => {}): void {
    if (this.pipeline.failed) return;
    this.pipeline.submit(prepare(Date.now()), onApplied);
  }

  idle(): Promise<void> {
    return this.pipeline.idle();
  }
}
