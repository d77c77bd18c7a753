// Root hooks for every mocha run: an unhandled rejection fails the test it happened in, and
// handles (sockets, servers, timers, child processes) still open after the last test fail the run,
// so tests must stop what they start instead of relying on `--exit`.

const unhandled: unknown[] = [];
process.on('unhandledRejection', (reason) => {
  unhandled.push(reason);
});

/** Resources that belong to the runner itself, not to a test. */
const runnerResources = new Set(['TTYWrap', 'PipeWrap', 'FSReqCallback', 'FSReqPromise', 'FileHandle']);

function leakedResources(): string[] {
  return process.getActiveResourcesInfo().filter((r) => !runnerResources.has(r));
}

export const mochaHooks = {
  afterEach(this: Mocha.Context) {
    if (unhandled.length > 0) {
      const reasons = unhandled.splice(0);
      throw new Error(`unhandled rejection during "${this.currentTest?.fullTitle()}": ${String(reasons[0])}`, {
        cause: reasons[0],
      });
    }
  },
  async afterAll(this: Mocha.Context) {
    this.timeout(10_000);
    // Mocha's own timer for this hook is one 'Timeout'; closing sockets get a moment to finish.
    const baseline = leakedResources().filter((r) => r === 'Timeout').length;
    for (let attempt = 0; attempt < 60; attempt++) {
      const leaked = leakedResources();
      const timers = leaked.filter((r) => r === 'Timeout').length;
      if (leaked.length - timers === 0 && timers <= baseline) return;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    throw new Error(`handles left open after the last test: ${leakedResources().join(', ')}`);
  },
};
