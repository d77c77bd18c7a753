// The few file operations persistence needs, behind an interface so tests can inject faults
// (disk full, I/O errors) and count syncs. The default is node:fs/promises, whose calls run on
// libuv's thread pool, so a slow fsync never blocks the event loop; a small write into the page cache
// may be made synchronously instead (`writeNow`), which saves a thread-pool round trip per batch.

import { writeSync } from 'node:fs';
import { open as openFile, type FileHandle } from 'node:fs/promises';

/** The subset of node:fs/promises' FileHandle that the log and snapshot writers use. */
export interface PersistenceFile {
  write(buffer: Buffer, offset: number, length: number, position: number): Promise<{ bytesWritten: number }>;
  read(buffer: Buffer, offset: number, length: number, position: number): Promise<{ bytesRead: number }>;
  /** fdatasync: the data and the size, not the other metadata (FileChannel.force(false)). */
  datasync(): Promise<void>;
  sync(): Promise<void>;
  truncate(length: number): Promise<void>;
  stat(): Promise<{ size: number }>;
  close(): Promise<void>;
  /**
   * A synchronous write into the page cache (pwrite, no sync), returning the bytes written. Optional:
   * files without it (test doubles) are written with `write`.
   */
  writeNow?(buffer: Buffer, offset: number, length: number, position: number): number;
}

export interface PersistenceFileSystem {
  /** Opens a file with node's flags ('r', 'r+', 'wx', ...). */
  open(path: string, flags: string): Promise<PersistenceFile>;
}

/** A node:fs/promises FileHandle as a PersistenceFile, with the synchronous `writeNow`. */
class NodeFile implements PersistenceFile {
  constructor(private readonly handle: FileHandle) {}

  write(buffer: Buffer, offset: number, length: number, position: number) {
    return this.handle.write(buffer, offset, length, position);
  }

  read(buffer: Buffer, offset: number, length: number, position: number) {
    return this.handle.read(buffer, offset, length, position);
  }

  writeNow(buffer: Buffer, offset: number, length: number, position: number): number {
    return writeSync(this.handle.fd, buffer, offset, length, position);
  }

  datasync(): Promise<void> {
    return this.handle.datasync();
  }

  sync(): Promise<void> {
    return this.handle.sync();
  }

  truncate(length: number): Promise<void> {
    return this.handle.truncate(length);
  }

  stat(): Promise<{ size: number }> {
    return this.handle.stat();
  }

  close(): Promise<void> {
    return this.handle.close();
  }
}

/** The real file system. */
export const nodeFileSystem: PersistenceFileSystem = {
  async open(path, flags) {
    return new NodeFile(await openFile(path, flags));
  },
};

/**
 * Most bytes written synchronously (`writeNow`) in one call: a copy into the page cache of this much
 * takes microseconds, less than handing the write to the thread pool; larger writes go there.
 */
export const WRITE_NOW_BYTES_MAX = 256 * 1024;

/**
 * Writes all of `buffer` at `position`, looping over short writes. With `now`, a write of at most
 * WRITE_NOW_BYTES_MAX goes synchronously into the page cache when the file can (`writeNow`): for the
 * txn log, whose next step, the sync on the thread pool, is what makes it durable. (Not for
 * snapshots: a loop of synchronous writes would hold the event loop for the whole file.)
 */
export async function writeFully(
  file: PersistenceFile,
  buffer: Buffer,
  position: number,
  options: { now?: boolean } = {},
): Promise<void> {
  let written = 0;
  const small = options.now === true && buffer.length <= WRITE_NOW_BYTES_MAX;
  const now = small ? file.writeNow?.bind(file) : undefined;
  while (written < buffer.length) {
    const length = buffer.length - written;
    const { bytesWritten } =
      now !== undefined
        ? { bytesWritten: now(buffer, written, length, position + written) }
        : await file.write(buffer, written, length, position + written);
    if (bytesWritten <= 0) throw new Error(`short write: ${written} of ${buffer.length} bytes`);
    written += bytesWritten;
  }
}

/** Makes a directory entry (a created, renamed or deleted file) durable. */
export async function syncDirectory(fileSystem: PersistenceFileSystem, directory: string): Promise<void> {
  const handle = await fileSystem.open(directory, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** What persistence logs: a pino logger fits, and so does a test's recorder. */
export interface PersistenceLogger {
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

export const silentLogger: PersistenceLogger = { info() {}, warn() {}, error() {} };
