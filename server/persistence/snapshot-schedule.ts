// When to snapshot, as Apache's SyncRequestProcessor decides: after more than snapCount/2 + r txns
// since the last roll, r uniform in [0, snapCount/2), or after more than snapSize/2 + s log bytes,
// so that servers of an ensemble do not all snapshot at once. Pure: randomness comes in as a function.

/** Apache's default snapCount. */
export const SNAP_COUNT_DEFAULT = 100_000;
/** Apache's default zookeeper.snapSizeLimitInKb: 4 GiB of log. */
export const SNAP_SIZE_BYTES_DEFAULT = 4 * 1024 * 1024 * 1024;

export interface SnapshotScheduleOptions {
  readonly snapCount?: number;
  /** 0 or less turns the size rule off. */
  readonly snapSizeBytes?: number;
  /** Uniform in [0, 1). */
  readonly random: () => number;
}

export class SnapshotSchedule {
  readonly snapCount: number;
  readonly snapSizeBytes: number;
  private randomCount = 0;
  private randomBytes = 0;

  constructor(private readonly options: SnapshotScheduleOptions) {
    // Apache clamps snapCount below at 2 so that snapCount / 2 is positive.
    this.snapCount = Math.max(2, Math.floor(options.snapCount ?? SNAP_COUNT_DEFAULT));
    this.snapSizeBytes = options.snapSizeBytes ?? SNAP_SIZE_BYTES_DEFAULT;
    this.reset();
  }

  /** Draws new random offsets; call after every roll. */
  reset(): void {
    const halfCount = Math.floor(this.snapCount / 2);
    this.randomCount = Math.floor(this.options.random() * halfCount);
    const halfBytes = Math.floor(this.snapSizeBytes / 2);
    this.randomBytes = halfBytes > 0 ? Math.floor(this.options.random() * halfBytes) : 0;
  }

  /** Whether a snapshot is due, given the txns and bytes logged since the last roll. */
  due(txnsSinceRoll: number, logBytes: number): boolean {
    return (
      txnsSinceRoll > Math.floor(this.snapCount / 2) + this.randomCount ||
      (this.snapSizeBytes > 0 && logBytes > Math.floor(this.snapSizeBytes / 2) + this.randomBytes)
    );
  }
}
