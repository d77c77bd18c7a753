// Guaranteed deletes (Curator's FailedDeleteManager): a delete that could not finish in the
// foreground (connection trouble, retries used up, the caller aborted) is handed here and retried
// in the background until the node is gone or the session that wanted it gone has ended. Each
// outcome is published to listeners and settles the promise `add` returned.

import { ErrorCode } from '../protocol/index.js';
import { sleep } from './abort.js';
import { GuaranteedDeleteAbandonedError, hasCode, isRetryable } from './errors.js';

export interface GuaranteedDeleteOutcome {
  /** The path as the view that asked for the delete names it. */
  readonly path: string;
  /**
   * `deleted`: this delete removed it. `gone`: it was already gone (perhaps removed by an earlier
   * attempt whose reply was lost). `failed`: the server refused for good (BadVersion, NotEmpty,
   * NoAuth). `abandoned`: the session ended or the framework closed first.
   */
  readonly outcome: 'deleted' | 'gone' | 'failed' | 'abandoned';
  readonly error?: Error;
}

export interface GuaranteedDeleteHost {
  /** The session now; a delete is abandoned once the session that asked for it has ended. */
  sessionId(): bigint;
  waitForConnection(signal: AbortSignal): Promise<void>;
  deleteOnce(serverPath: string, version: number, signal: AbortSignal): Promise<void>;
  /** Waits between attempts; real time by default. */
  sleep?(ms: number, signal: AbortSignal): Promise<void>;
}

interface PendingDelete {
  readonly serverPath: string;
  readonly path: string;
  readonly version: number;
  readonly sessionId: bigint;
  readonly abort: AbortController;
  readonly done: Promise<GuaranteedDeleteOutcome>;
}

const RETRY_DELAY_MIN_MS = 50;
const RETRY_DELAY_MAX_MS = 2_000;
/** Background deletes at once; more are refused rather than queued without bound. */
export const GUARANTEED_DELETES_MAX = 10_000;

export class GuaranteedDeletes {
  private readonly pending = new Map<string, PendingDelete>();
  private readonly listeners = new Set<(outcome: GuaranteedDeleteOutcome) => void>();

  constructor(
    private readonly host: GuaranteedDeleteHost,
    private readonly onListenerError: (error: unknown) => void,
  ) {}

  /** Server paths whose delete is still being retried. */
  get paths(): string[] {
    return [...this.pending.keys()];
  }

  /** The outcome of the pending background delete of `serverPath`, or undefined if none is pending. */
  outcomeOf(serverPath: string): Promise<GuaranteedDeleteOutcome> | undefined {
    return this.pending.get(serverPath)?.done;
  }

  onOutcome(listener: (outcome: GuaranteedDeleteOutcome) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Starts (or joins) the background delete of `serverPath`; resolves with its outcome. */
  add(
    serverPath: string,
    path: string,
    version: number,
    sessionId: bigint,
  ): Promise<GuaranteedDeleteOutcome> {
    const existing = this.pending.get(serverPath);
    if (existing !== undefined) return existing.done;
    if (this.pending.size >= GUARANTEED_DELETES_MAX) {
      const message = `${GUARANTEED_DELETES_MAX} guaranteed deletes already pending`;
      const error = new GuaranteedDeleteAbandonedError(message);
      return Promise.resolve(this.publish({ path, outcome: 'abandoned', error }));
    }
    const abort = new AbortController();
    let resolveDone!: (outcome: GuaranteedDeleteOutcome) => void;
    const done = new Promise<GuaranteedDeleteOutcome>((resolve) => (resolveDone = resolve));
    const entry: PendingDelete = { serverPath, path, version, sessionId, abort, done };
    this.pending.set(serverPath, entry);
    void this.run(entry).then((outcome) => {
      this.pending.delete(serverPath);
      resolveDone(this.publish(outcome));
    });
    return done;
  }

  /** Resolves when no background delete is pending. */
  async settled(): Promise<void> {
    while (this.pending.size > 0) await Promise.all([...this.pending.values()].map((p) => p.done));
  }

  /** Gives up the deletes of a session that ended: its ephemerals go with it. */
  abandonSession(sessionId: bigint): void {
    for (const entry of this.pending.values()) {
      if (entry.sessionId !== sessionId) continue;
      entry.abort.abort(new GuaranteedDeleteAbandonedError('the session ended'));
    }
  }

  /** Gives up every pending delete (the framework is closing) and waits for them to stop. */
  async close(): Promise<void> {
    for (const entry of this.pending.values()) {
      entry.abort.abort(new GuaranteedDeleteAbandonedError('the framework closed'));
    }
    await this.settled();
  }

  private async run(entry: PendingDelete): Promise<GuaranteedDeleteOutcome> {
    const { signal } = entry.abort;
    const abandoned = (error = signal.reason as Error): GuaranteedDeleteOutcome => {
      return { path: entry.path, outcome: 'abandoned', error };
    };
    for (let retry = 0; ; retry++) {
      if (signal.aborted) return abandoned();
      try {
        await this.host.waitForConnection(signal);
        if (signal.aborted) return abandoned();
        // 0n: asked before any session existed, so any session will do.
        if (entry.sessionId !== 0n && this.host.sessionId() !== entry.sessionId) {
          return abandoned(new GuaranteedDeleteAbandonedError('the session ended'));
        }
        await this.host.deleteOnce(entry.serverPath, entry.version, signal);
        return { path: entry.path, outcome: 'deleted' };
      } catch (error) {
        if (signal.aborted) return abandoned();
        if (hasCode(error, ErrorCode.NO_NODE)) return { path: entry.path, outcome: 'gone' };
        if (!isRetryable(error)) return { path: entry.path, outcome: 'failed', error: error as Error };
      }
      const delayMs = Math.min(RETRY_DELAY_MIN_MS * 2 ** Math.min(retry, 10), RETRY_DELAY_MAX_MS);
      await (this.host.sleep ?? sleep)(delayMs, signal).catch(() => undefined);
    }
  }

  private publish(outcome: GuaranteedDeleteOutcome): GuaranteedDeleteOutcome {
    for (const listener of this.listeners) {
      try {
        listener(outcome);
      } catch (error) {
        this.onListenerError(error);
      }
    }
    return outcome;
  }
}
