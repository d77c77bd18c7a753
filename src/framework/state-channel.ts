// A bounded queue read by async iteration, for connection-state changes and guaranteed-delete
// outcomes. A reader that falls more than `itemsMax` behind ends the channel with an error rather
// than let it grow without bound.

import { ChannelOverflowError } from '../client/index.js';

export class StateChannel<T> implements AsyncIterable<T> {
  private readonly items: T[] = [];
  private readonly readers: Array<{
    resolve(result: IteratorResult<T>): void;
    reject(error: unknown): void;
  }> = [];
  private ended = false;
  private endError: unknown;

  constructor(
    readonly itemsMax: number,
    private readonly onEnd: () => void,
  ) {}

  push(item: T): void {
    if (this.ended) return;
    const reader = this.readers.shift();
    if (reader !== undefined) {
      reader.resolve({ value: item, done: false });
      return;
    }
    if (this.items.length >= this.itemsMax) {
      this.end(new ChannelOverflowError(`more than ${this.itemsMax} items waited for a reader`));
      return;
    }
    this.items.push(item);
  }

  end(error?: unknown): void {
    if (this.ended) return;
    this.ended = true;
    this.endError = error;
    this.onEnd();
    for (const reader of this.readers.splice(0)) {
      if (error === undefined) reader.resolve({ value: undefined, done: true });
      else reader.reject(error);
    }
  }

  private next(): Promise<IteratorResult<T>> {
    if (this.items.length > 0) return Promise.resolve({ value: this.items.shift()!, done: false });
    if (this.ended) {
      const error = this.endError;
      this.endError = undefined;
      return error === undefined ? Promise.resolve({ value: undefined, done: true }) : Promise.reject(error);
    }
    return new Promise((resolve, reject) => this.readers.push({ resolve, reject }));
  }

  [Symbol.asyncIterator](): AsyncIterator<T> {
    return {
      next: () => this.next(),
      return: async () => {
        this.items.length = 0;
        this.end();
        return { value: undefined, done: true };
      },
    };
  }
}
