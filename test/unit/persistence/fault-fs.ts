// A file system for persistence tests: the real one, plus hooks that record writes and syncs and
// can make a write, sync or truncate fail (ENOSPC, EIO) as a full or failing disk would.

import {
  nodeFileSystem,
  type PersistenceFile,
  type PersistenceFileSystem,
} from '../../../server/persistence/file-system.js';

export type Fault = {
  op: 'write' | 'datasync' | 'truncate' | 'open';
  code: 'ENOSPC' | 'EIO';
  file?: RegExp;
} | null;

export class FaultFileSystem implements PersistenceFileSystem {
  datasyncs = 0;
  writes = 0;
  /** For each completed datasync: the highest byte written to that file before the sync started. */
  readonly syncedEnds: Array<{ path: string; end: number }> = [];
  fault: Fault = null;
  /** When set, a failing write first writes this many bytes of its buffer (a short, torn write). */
  partialWriteBytes = 0;
  private readonly written = new Map<string, number>();

  private fail(op: NonNullable<Fault>['op'], path: string): void {
    const fault = this.fault;
    if (fault === null || fault.op !== op || (fault.file && !fault.file.test(path))) return;
    const error = new Error(`${fault.code}: injected ${op} failure, ${path}`) as NodeJS.ErrnoException;
    error.code = fault.code;
    throw error;
  }

  async open(path: string, flags: string): Promise<PersistenceFile> {
    this.fail('open', path);
    const inner = await nodeFileSystem.open(path, flags);
    const fs = this;
    return {
      async write(buffer, offset, length, position) {
        fs.writes++;
        try {
          fs.fail('write', path);
        } catch (error) {
          if (fs.partialWriteBytes > 0)
            await inner.write(buffer, offset, Math.min(length, fs.partialWriteBytes), position);
          throw error;
        }
        const result = await inner.write(buffer, offset, length, position);
        fs.written.set(path, Math.max(fs.written.get(path) ?? 0, position + result.bytesWritten));
        return result;
      },
      read: (buffer, offset, length, position) => inner.read(buffer, offset, length, position),
      async datasync() {
        const end = fs.written.get(path) ?? 0;
        fs.fail('datasync', path);
        await inner.datasync();
        fs.datasyncs++;
        fs.syncedEnds.push({ path, end });
      },
      sync: () => inner.sync(),
      async truncate(length) {
        fs.fail('truncate', path);
        await inner.truncate(length);
      },
      stat: () => inner.stat(),
      close: () => inner.close(),
    };
  }
}
