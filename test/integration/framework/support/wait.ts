// Waiting for framework states or server-side facts without blind sleeps.
import type { ConnectionStateChange, ConnectionStateName, Framework } from '../../../../src/index.js';

/** Collects every state change of `framework` from now on. */
export function recordStates(framework: Framework): { changes: ConnectionStateChange[]; stop(): void } {
  const changes: ConnectionStateChange[] = [];
  const stop = framework.onConnectionStateChange((change) => changes.push(change));
  return { changes, stop };
}

/** Resolves with the next change to `state`. */
export async function nextState(
  framework: Framework,
  state: ConnectionStateName,
  timeoutMs = 15_000,
): Promise<ConnectionStateChange> {
  const signal = AbortSignal.timeout(timeoutMs);
  for await (const change of framework.connectionStates({ signal })) {
    if (change.state === state) return change;
  }
  throw new Error(`framework never reached ${state} (now ${framework.connectionState})`);
}

/** Polls `check` until it is true (for server-side facts no event reports). */
export async function eventually(check: () => Promise<boolean> | boolean, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) throw new Error('condition not reached in time');
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}
