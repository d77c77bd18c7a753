// Quota nodes as Apache's Quotas and StatsTrack define them: limits and usage for a path P live in
// /zookeeper/quota/P/zookeeper_limits and .../zookeeper_stats, as text "count=N,bytes=M" with 3.7+'s
// hard limits appended after an extra "=" (";byteHardLimit=..;countHardLimit=..").

export const QUOTA_ROOT = '/zookeeper/quota';
export const LIMIT_NODE = 'zookeeper_limits';
export const STAT_NODE = 'zookeeper_stats';

export function limitPath(path: string): string {
  return `${QUOTA_ROOT}${path}/${LIMIT_NODE}`;
}

export function statPath(path: string): string {
  return `${QUOTA_ROOT}${path}/${STAT_NODE}`;
}

/** Parsed quota text: key → value, missing keys read as -1. */
export class StatsTrack {
  private readonly values = new Map<string, bigint>();

  constructor(text = '') {
    if (text.length === 0) return;
    for (const pair of text.split(/[,;]+/)) {
      if (pair.length === 0) continue;
      const [key, value] = pair.split('=');
      if (key === undefined || key.length === 0) continue;
      const number = value === undefined || value.length === 0 ? '-1' : value;
      if (/^[+-]?\d+$/.test(number)) this.values.set(key, BigInt(number));
    }
  }

  static fromBytes(data: Uint8Array | null): StatsTrack {
    return new StatsTrack(data === null ? '' : Buffer.from(data).toString('utf8'));
  }

  get(key: 'count' | 'bytes' | 'countHardLimit' | 'byteHardLimit'): bigint {
    return this.values.get(key) ?? -1n;
  }

  set(key: 'count' | 'bytes' | 'countHardLimit' | 'byteHardLimit', value: bigint): void {
    this.values.set(key, value);
  }

  /** Apache's text form: count and bytes first, other keys sorted after an extra "=". */
  toString(): string {
    let text = `count=${this.get('count')},bytes=${this.get('bytes')}`;
    const rest = [...this.values.keys()].filter((key) => key !== 'count' && key !== 'bytes').sort();
    if (rest.length > 0) text += '=' + rest.map((key) => `;${key}=${this.values.get(key)}`).join('');
    return text;
  }

  toBytes(): Buffer {
    return Buffer.from(this.toString(), 'utf8');
  }
}
