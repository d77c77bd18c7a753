// Counters the four-letter words print: server-wide (srvr, stat, mntr) and per connection (cons).
// Latencies are whole milliseconds, as Apache reports them.

/** min/avg/max of request latencies; avg rounded to 4 decimals as Apache prints it. */
export class LatencyStats {
  count = 0;
  totalMs = 0;
  minMs = 0;
  maxMs = 0;

  record(latencyMs: number): void {
    const ms = Math.max(0, Math.round(latencyMs));
    this.minMs = this.count === 0 ? ms : Math.min(this.minMs, ms);
    this.maxMs = Math.max(this.maxMs, ms);
    this.count++;
    this.totalMs += ms;
  }

  get avgMs(): number {
    return this.count === 0 ? 0 : Math.round((this.totalMs / this.count) * 10_000) / 10_000;
  }

  reset(): void {
    this.count = 0;
    this.totalMs = 0;
    this.minMs = 0;
    this.maxMs = 0;
  }
}

/** Server-wide counters. */
export class ServerStats {
  readonly latency = new LatencyStats();
  packetsReceived = 0;
  packetsSent = 0;
  authFailed = 0;
  connectionsRejected = 0;
  /** Sessions this server expired (Apache's stale_sessions_expired; the leader's in an ensemble). */
  sessionsExpired = 0;
  /** Log fsyncs slower than fsync.warningthresholdms (Apache's fsync_threshold_exceed_count). */
  fsyncThresholdExceeded = 0;
  readonly startedAtMs = Date.now();
  /** Told of every answered request (the Prometheus latency summaries listen here). */
  onRequestLatency: ((latencyMs: number, opcode: number) => void) | undefined;

  reset(): void {
    this.latency.reset();
    this.packetsReceived = 0;
    this.packetsSent = 0;
    this.fsyncThresholdExceeded = 0;
  }
}

/** A double as Java prints it: always with a fractional part ("2.0", "2.6"). */
export function javaDouble(value: number): string {
  return Number.isInteger(value) ? `${value}.0` : String(value);
}

/** A 64-bit id as ZooKeeper logs it: 0x and lowercase hex (negative ids as two's complement). */
export function hexId(value: bigint): string {
  return `0x${BigInt.asUintN(64, value).toString(16)}`;
}
