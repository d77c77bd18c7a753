// The start handshake between the nemesis and its worker processes: a worker says "ready" once it
// has loaded (tsx compiling it can take seconds on a busy machine), and starts when the nemesis sends
// the shared end time on its stdin, so every worker runs the whole fault phase however slowly it began.

/** In a worker: announces readiness and resolves with the end time (ms, the shared clock) sent back. */
export function awaitStart(): Promise<number> {
  process.stdout.write('ready\n');
  return new Promise((resolve, reject) => {
    let input = '';
    const onData = (chunk: Buffer) => {
      input += chunk.toString();
      const newline = input.indexOf('\n');
      if (newline < 0) return;
      process.stdin.off('data', onData);
      process.stdin.pause();
      const endAtMs = Number(input.slice(0, newline));
      if (Number.isFinite(endAtMs)) resolve(endAtMs);
      else reject(new Error(`bad start line ${JSON.stringify(input.slice(0, newline))}`));
    };
    process.stdin.on('data', onData);
    process.stdin.once('end', () => reject(new Error('stdin closed before the start line')));
  });
}
