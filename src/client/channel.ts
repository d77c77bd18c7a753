// A bounded queue read by async iteration: connection states and persistent-watch events are
// pushed in by the client (and the framework's state changes and guaranteed-delete outcomes) and
// pulled out by `for await`. When a slow reader lets the queue reach
// its limit the channel ends with an error instead of growing without bound.

import { MenagerieError } from '../protocol/index.js';

/** A reader fell too far behind: the channel ended rather than buffer without limit. */
export class ChannelOverflowError extends MenagerieError {}

export class Channel<T> implements AsyncIterable<T> {
  private readonly items: T[] = [];
  private readonly readers: Array<{
    resolve(result: IteratorResult<T>): void;
    reject(error: unknown): void;
  }> = [];
  private ended = false;
  private endError: unknown = undefined;

  /**
   * @param onReturn called when the reader leaves its loop (iterator `return`)
   * @param onEnd called once when the channel ends for any reason: `end()`, overflow or `return`
   */
  constructor(
    readonly itemsMax: number,
    private readonly onReturn?: () => void,
    private readonly onEnd?: () => void,
  ) {}

  get done(): boolean {
    return this.ended;
  }

  push(item: T): void {
    if (this.ended) return;
    const reader = this.readers.shift();
    if (reader) {
      reader.resolve({ value: item, done: false });
      return;
    }
    if (this.items.length >= this.itemsMax) {
      this.end(new ChannelOverflowError(`more than ${this.itemsMax} items waited for a reader`));
      return;
    }
    this.items.push(item);
  }

  /** Ends the channel: queued items are still read, then iteration stops (or throws `error`). */
  end(error?: unknown): void {
    if (this.ended) return;
    this.ended = true;
    this.endError = error;
    this.onEnd?.();
    for (const reader of this.readers.splice(0)) {
      if (error === undefined) reader.resolve({ value: undefined, done: true });
      else reader.reject(error);
    }
  }

  next(): Promise<IteratorResult<T>> {
    if (this.items.length > 0) return Promise.resolve({ value: this.items.shift()!, done: false });
    if (this.ended) {
      if (this.endError === undefined) return Promise.resolve({ value: undefined, done: true });
      const error = this.endError;
      this.endError = undefined; // thrown once; later calls just report done
      return Promise.reject(error);
    }
    return new Promise((resolve, reject) => this.readers.push({ resolve, reject }));
  }

  [Symbol.asyncIterator](): AsyncIterator<T> {
    return {
      next: () => this.next(),
      return: async () => {
        this.items.length = 0;
        this.end();
        this.onReturn?.();
        return { value: undefined, done: true };
      },
    };
  }
}
