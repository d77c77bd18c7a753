// Snapshot files: writing one in the background from a live tree (fuzzy, as Apache's), and reading
// the newest valid one back, falling back to older ones when a checksum or seal fails.
//
// Writing goes to `tmp.snapshot.<zxid>` (a name Apache's loader ignores), is synced, then renamed,
// so a crash never leaves a half snapshot under a real name. Nodes are pulled from the source a
// chunk at a time with an await between chunks, so transactions keep being applied meanwhile.

import { createReadStream } from 'node:fs';
import { mkdir, readdir, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { createGunzip } from 'node:zlib';
import { DecodeError } from '../../src/protocol/errors.js';
import {
  nodeFileSystem,
  silentLogger,
  syncDirectory,
  writeFully,
  type PersistenceFile,
  type PersistenceFileSystem,
  type PersistenceLogger,
} from './file-system.js';
import {
  SNAPSHOT_PREFIX,
  snapshotCompression,
  snapshotFileName,
  sortByZxid,
  zxidFromFileName,
} from './names.js';
import { EMPTY_ZXID_DIGEST, SnapshotDecoder, SnapshotEncoder } from './snapshot-format.js';
import {
  CorruptSnapshotError,
  PersistenceError,
  UnsupportedFormatError,
  type AclEntry,
  type RecoveryTarget,
  type SessionEntry,
  type SnapshotSource,
  type ZxidDigest,
} from './types.js';

/** Bytes gathered before each write of a snapshot; also how often the walk yields to the event loop. */
export const SNAPSHOT_CHUNK_BYTES = 1024 * 1024;
/** Apache tries this many of the newest snapshots before giving up. */
export const SNAPSHOTS_TRIED_MAX = 100;

export interface SnapshotWriteOptions {
  /** The directory holding snapshot.* files (`<dataDir>/version-2`); created if missing. */
  readonly directory: string;
  readonly fileSystem?: PersistenceFileSystem;
  readonly chunkBytes?: number;
  /** Skips the fsync before the rename (tests, forceSync=no). */
  readonly sync?: boolean;
}

export interface SnapshotWritten {
  readonly zxid: bigint;
  readonly file: string;
  readonly bytes: number;
  readonly nodes: number;
  /** ACL references first seen during the walk, which made the writer rewrite the file once. */
  readonly lateAclRefs: number;
}

/** A file being written through a buffer of `chunkBytes`. */
class ChunkedWriter {
  private chunks: Buffer[] = [];
  private buffered = 0;
  position = 0;

  constructor(
    private readonly file: PersistenceFile,
    private readonly chunkBytes: number,
  ) {}

  /** Adds bytes; resolves after a write when a chunk filled up (the event loop turns meanwhile). */
  async add(bytes: Buffer): Promise<void> {
    this.chunks.push(bytes);
    this.buffered += bytes.length;
    if (this.buffered >= this.chunkBytes) await this.flush();
  }

  async flush(): Promise<void> {
    if (this.buffered === 0) return;
    const data = Buffer.concat(this.chunks);
    this.chunks = [];
    this.buffered = 0;
    await writeFully(this.file, data, this.position);
    this.position += data.length;
  }
}

/** Writes a snapshot of `source`; resolves with the file's name once it is durable under that name. */
export async function writeSnapshot(
  source: SnapshotSource,
  options: SnapshotWriteOptions,
): Promise<SnapshotWritten> {
  // The zxid, sessions and ACL cache are taken in the caller's turn, before any await: the zxid must
  // not be newer than anything the snapshot captures, or replay would skip a txn.
  const zxid = source.zxid;
  const sessions = [...source.sessions()];
  const aclEntries = [...source.aclEntries()];
  const fileSystem = options.fileSystem ?? nodeFileSystem;
  const chunkBytes = options.chunkBytes ?? SNAPSHOT_CHUNK_BYTES;
  const name = snapshotFileName(zxid);
  await mkdir(options.directory, { recursive: true });
  const known = new Set(aclEntries.map((entry) => entry.ref));
  const late = new Set<bigint>();
  const temporary = path.join(options.directory, `tmp.${name}`);
  let nodes = 0;
  let nodeSection = { start: 0, end: 0 };
  let bytes = 0;
  const file = await fileSystem.open(temporary, 'w');
  try {
    const encoder = new SnapshotEncoder();
    const writer = new ChunkedWriter(file, chunkBytes);
    await writer.add(encoder.header());
    await writer.add(encoder.sessions(sessions));
    await writer.add(encoder.aclEntries(aclEntries));
    nodeSection.start = encoder.bytes;
    const walk = source.nodes();
    for (let step = walk.next(); !step.done; step = walk.next()) {
      const node = step.value;
      if (node.aclRef !== -1n && !known.has(node.aclRef)) late.add(node.aclRef);
      await writer.add(encoder.node(node));
      nodes++;
    }
    nodeSection.end = encoder.bytes;
    await writer.add(encoder.endOfNodes());
    await writer.add(encoder.seal());
    await writer.add(encoder.digest(source.digest?.() ?? EMPTY_ZXID_DIGEST));
    await writer.add(encoder.seal());
    await writer.flush();
    bytes = encoder.bytes;
    if (options.sync !== false) await file.sync();
  } catch (error) {
    await file.close().catch(() => {});
    await rm(temporary, { force: true });
    throw error;
  }
  await file.close();
  if (late.size > 0) {
    const extra: AclEntry[] = [];
    for (const ref of late) {
      const acl = source.aclFor(ref);
      if (acl !== undefined) extra.push({ ref, acl });
    }
    bytes = await rewriteWithAcls(
      temporary,
      sessions,
      [...aclEntries, ...extra],
      nodeSection,
      source,
      options,
    );
  }
  await rename(temporary, path.join(options.directory, name));
  if (options.sync !== false) await syncDirectory(fileSystem, options.directory);
  return { zxid, file: name, bytes, nodes, lateAclRefs: late.size };
}

/**
 * The ACL section precedes the nodes, so a node that got a new ACL during the walk would point at an
 * entry the snapshot lacks. Rewrites the file with the complete ACL section and the same nodes.
 */
async function rewriteWithAcls(
  temporary: string,
  sessions: readonly SessionEntry[],
  aclEntries: readonly AclEntry[],
  nodeSection: { start: number; end: number },
  source: SnapshotSource,
  options: SnapshotWriteOptions,
): Promise<number> {
  const fileSystem = options.fileSystem ?? nodeFileSystem;
  const chunkBytes = options.chunkBytes ?? SNAPSHOT_CHUNK_BYTES;
  const rewritten = `${temporary}.acl`;
  const input = await fileSystem.open(temporary, 'r');
  const output = await fileSystem.open(rewritten, 'w');
  try {
    const encoder = new SnapshotEncoder();
    const writer = new ChunkedWriter(output, chunkBytes);
    await writer.add(encoder.header());
    await writer.add(encoder.sessions(sessions));
    await writer.add(encoder.aclEntries(aclEntries));
    for (let at = nodeSection.start; at < nodeSection.end; ) {
      const chunk = Buffer.allocUnsafe(Math.min(chunkBytes, nodeSection.end - at));
      const { bytesRead } = await input.read(chunk, 0, chunk.length, at);
      if (bytesRead <= 0) throw new PersistenceError('snapshot shrank while being rewritten', temporary);
      await writer.add(encoder.passThrough(chunk.subarray(0, bytesRead)));
      at += bytesRead;
    }
    await writer.add(encoder.endOfNodes());
    await writer.add(encoder.seal());
    await writer.add(encoder.digest(source.digest?.() ?? EMPTY_ZXID_DIGEST));
    await writer.add(encoder.seal());
    await writer.flush();
    if (options.sync !== false) await output.sync();
    await output.close();
    await input.close();
    await rename(rewritten, temporary);
    return encoder.bytes;
  } catch (error) {
    await output.close().catch(() => {});
    await input.close().catch(() => {});
    await rm(rewritten, { force: true });
    throw error;
  }
}

/** What reading a snapshot found besides the tree. */
export interface SnapshotRead {
  readonly zxid: bigint;
  readonly file: string;
  readonly digest: ZxidDigest | undefined;
  readonly lastProcessedZxid: bigint | undefined;
  readonly bytes: number;
}

async function* plainChunks(
  fileSystem: PersistenceFileSystem,
  file: string,
  chunkBytes: number,
): AsyncGenerator<Buffer> {
  const handle = await fileSystem.open(file, 'r');
  try {
    for (let position = 0; ; ) {
      const chunk = Buffer.allocUnsafe(chunkBytes);
      const { bytesRead } = await handle.read(chunk, 0, chunkBytes, position);
      if (bytesRead === 0) return;
      position += bytesRead;
      yield chunk.subarray(0, bytesRead);
    }
  } finally {
    await handle.close();
  }
}

/** The decompressed bytes of a snapshot file, in chunks. */
export function snapshotChunks(
  file: string,
  fileSystem: PersistenceFileSystem = nodeFileSystem,
  chunkBytes = SNAPSHOT_CHUNK_BYTES,
): AsyncIterable<Buffer> {
  const compression = snapshotCompression(path.basename(file));
  if (compression === 'snappy') {
    throw new UnsupportedFormatError('snappy-compressed snapshots are not supported; use gz or none', file);
  }
  if (compression === 'gz') return createReadStream(file).pipe(createGunzip());
  return plainChunks(fileSystem, file, chunkBytes);
}

/**
 * Reads one snapshot into `target`, verifying its seals. Throws CorruptSnapshotError when the file is
 * damaged (the target then holds a partial tree and must be discarded), UnsupportedFormatError when
 * it is not a version-2 snapshot.
 */
export async function readSnapshot(
  file: string,
  target: Pick<RecoveryTarget, 'addSession' | 'addAcl' | 'addNode'>,
  fileSystem: PersistenceFileSystem = nodeFileSystem,
): Promise<SnapshotRead> {
  const zxid = zxidFromFileName(path.basename(file), SNAPSHOT_PREFIX);
  if (zxid === undefined) throw new UnsupportedFormatError('not named snapshot.<hex zxid>', file);
  const decoder = new SnapshotDecoder(file);
  let sawRoot = false;
  const drain = (): SnapshotRead | undefined => {
    for (;;) {
      const step = decoder.next();
      switch (step.kind) {
        case 'more':
          return undefined;
        case 'session':
          target.addSession(step.session);
          break;
        case 'acl':
          target.addAcl(step.entry);
          break;
        case 'node':
          if (!sawRoot && step.node.path !== '')
            throw new CorruptSnapshotError('first node is not the root', file);
          sawRoot = true;
          target.addNode(step.node);
          break;
        case 'done':
          if (!sawRoot) throw new CorruptSnapshotError('no root node', file);
          return {
            zxid,
            file,
            digest: step.digest,
            lastProcessedZxid: step.lastProcessedZxid,
            bytes: step.bytes,
          };
      }
    }
  };
  try {
    for await (const chunk of snapshotChunks(file, fileSystem)) {
      decoder.push(chunk);
      drain();
    }
    decoder.end();
    const result = drain();
    if (result === undefined) throw new CorruptSnapshotError('incomplete snapshot', file);
    return result;
  } catch (error) {
    if (error instanceof PersistenceError) throw error;
    if (error instanceof DecodeError) throw new CorruptSnapshotError(error.message, file, { cause: error });
    throw new CorruptSnapshotError(`cannot read: ${String(error)}`, file, { cause: error });
  }
}

/** Snapshot file names in `directory`, newest first. */
export async function listSnapshots(directory: string): Promise<string[]> {
  const names = await readdir(directory).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return [] as string[];
    throw error;
  });
  return sortByZxid(names, SNAPSHOT_PREFIX, true);
}

export interface LoadedSnapshot<T> extends SnapshotRead {
  readonly target: T;
  /** Newer snapshots that failed to verify and were skipped. */
  readonly skipped: ReadonlyArray<{ file: string; error: Error }>;
}

/**
 * Loads the newest snapshot that verifies into a fresh target from `newTarget()`, falling back to older
 * ones (up to 100) when one is damaged. Returns undefined when there is no snapshot at all; throws when
 * there are snapshots but none verifies, or one is of a format we do not know.
 */
export async function loadNewestSnapshot<T extends RecoveryTarget>(
  directory: string,
  newTarget: () => T,
  options: { fileSystem?: PersistenceFileSystem; logger?: PersistenceLogger } = {},
): Promise<LoadedSnapshot<T> | undefined> {
  const logger = options.logger ?? silentLogger;
  const names = (await listSnapshots(directory)).slice(0, SNAPSHOTS_TRIED_MAX);
  if (names.length === 0) return undefined;
  const skipped: Array<{ file: string; error: Error }> = [];
  for (const name of names) {
    const file = path.join(directory, name);
    const target = newTarget();
    try {
      logger.info(`reading snapshot ${file}`);
      const read = await readSnapshot(file, target, options.fileSystem);
      return { ...read, target, skipped };
    } catch (error) {
      if (!(error instanceof CorruptSnapshotError)) throw error;
      logger.warn(`skipping damaged snapshot: ${error.message}`);
      skipped.push({ file, error });
    }
  }
  throw new CorruptSnapshotError(
    `none of the ${names.length} snapshots verifies: ${skipped.map((s) => s.error.message).join('; ')}`,
    directory,
  );
}
