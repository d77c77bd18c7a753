// The durable store in the shape of the standalone server's seams: `recover(core)` opens the store
// into the server's fresh core before the port is bound, `persister` appends through it, and
// `close()` (after the server stopped) flushes the log and stops the timers.
//
//   const durable = new DurableSeams(dataDirOptions(config, { logger }));
//   const { recover, persister } = durable;
//   const server = await startServerWithConfig(config, { recover, persister });
//   ...; await server.stop(); await durable.close();

import { ClosedError } from '../../src/protocol/errors.js';
import type { TxnPersister } from '../core/api.js';
import type { ServerCore } from '../core/server-core.js';
import { DurableStore, type DurableStoreOptions, type RecoveryReport } from './durable-store.js';

export class DurableSeams implements AsyncDisposable {
  private opened: DurableStore | undefined;
  private closed = false;

  constructor(readonly options: DurableStoreOptions) {}

  /** Opens the store into `core` (recovering the data dir); call once, before serving. */
  readonly recover = async (core: ServerCore): Promise<void> => {
    if (this.closed) throw new ClosedError('the durable store is closed');
    if (this.opened !== undefined) throw new TypeError('the durable store is already open');
    this.opened = await DurableStore.open(this.options, core);
  };

  readonly persister: TxnPersister = {
    persist: (txn) =>
      this.opened === undefined
        ? Promise.reject(new ClosedError('the durable store is not open'))
        : this.opened.persister.persist(txn),
  };

  /** The open store (undefined before `recover` and if it failed). */
  get store(): DurableStore | undefined {
    return this.opened;
  }

  get recovery(): RecoveryReport | undefined {
    return this.opened?.recovery;
  }

  /** Flushes and closes the store; idempotent. */
  async close(): Promise<void> {
    this.closed = true;
    await this.opened?.close();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}
