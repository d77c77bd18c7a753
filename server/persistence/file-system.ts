// The few file operations persistence needs, behind an interface so tests can inject faults
// (disk full, I/O errors) and count syncs. The default is node:fs/promises, whose calls run on
// libuv's thread pool, so a slow fsync never blocks the event loop.

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
}

export interface PersistenceFileSystem {
  /** Opens a file with node's flags ('r', 'r+', 'wx', ...). */
  open(path: string, flags: string): Promise<PersistenceFile>;
}

/** The real file system. */
export const nodeFileSystem: PersistenceFileSystem = {
  async open(path, flags) {
    const handle: FileHandle = await openFile(path, flags);
    return handle as unknown as PersistenceFile;
  },
};

/** Writes all of `buffer` at `position`, looping over short writes. */
export async function writeFully(file: PersistenceFile, buffer: Buffer, position: number): Promise<void> {
  let written = 0;
  while (written < buffer.length) {
    const { bytesWritten } = await file.write(buffer, written, buffer.length - written, position + written);
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
