// zxid arithmetic: a zxid is (epoch << 32) | counter, both unsigned 32-bit halves, carried as bigint.

export const ZXID_COUNTER_MASK = 0xffff_ffffn;

/** The zxid of `counter` in `epoch`; counter 0 is the epoch's NEWLEADER point, the first txn is counter 1. */
export function makeZxid(epoch: bigint, counter: bigint): bigint {
  return (epoch << 32n) | (counter & ZXID_COUNTER_MASK);
}

export function epochOf(zxid: bigint): bigint {
  return zxid >> 32n;
}

export function counterOf(zxid: bigint): bigint {
  return zxid & ZXID_COUNTER_MASK;
}

/** Compact form for logs and failures: `epoch.counter` in hex, as ZooKeeper's logs show zxids. */
export function describeZxid(zxid: bigint): string {
  if (zxid < 0n) return String(zxid);
  return `${epochOf(zxid).toString(16)}.${counterOf(zxid).toString(16)}`;
}
