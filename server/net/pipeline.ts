// The write pipeline: prepare (done by the caller, in arrival order) → persist → apply → reply.
// Persistence is asynchronous and may finish out of order; apply() must still see txns in zxid order,
// so txns wait in one FIFO and are applied from its head once persisted. The persist step is the seam
// where the transaction log (and later the quorum) plugs in.

import type { Reply, Txn, TxnPersister } from '../core/api.js';

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
