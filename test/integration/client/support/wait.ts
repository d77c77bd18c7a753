// Waiting for a client's state or a condition without sleeping blindly.
import type { ConnectionState, ZooKeeperClient } from '../../../../src/index.js';

/** Resolves with the first state of `type` the client reaches (now or later). */
export async function waitForState(
  client: ZooKeeperClient,
  type: ConnectionState['type'],
  timeoutMs = 15_000,
): Promise<ConnectionState> {
  const signal = AbortSignal.timeout(timeoutMs);
  for await (const state of client.states({ signal })) {
    if (state.type === type) return state;
  }
  throw new Error(`client never reached state ${type} (now ${client.state.type})`);
}

/** Polls `check` until it returns true (for server-side facts no event tells us about). */
export async function eventually(check: () => Promise<boolean> | boolean, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) throw new Error('condition not reached in time');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
