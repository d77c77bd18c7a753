// The quorum's `currentEpoch` and `acceptedEpoch` files: one decimal number, no newline, in
// `<dataDir>/version-2` (Apache's snapDir). Written atomically as Apache's AtomicFileWritingIdiom
// does: a `.tmp` file, synced, then renamed over the old one.

import { readFile, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { nodeFileSystem, syncDirectory, writeFully, type PersistenceFileSystem } from './file-system.js';
import { PersistenceError } from './types.js';

export const CURRENT_EPOCH_FILE = 'currentEpoch';
export const ACCEPTED_EPOCH_FILE = 'acceptedEpoch';

/** Parses an epoch file's text; throws naming the file when it is not a decimal long. */
export function parseEpoch(text: string, file: string): bigint {
  const line = text.split(/\r?\n/, 1)[0].trim();
  if (!/^-?\d{1,19}$/.test(line))
    throw new PersistenceError(`found ${JSON.stringify(line)}, not an epoch number`, file);
  const value = BigInt(line);
  if (value !== BigInt.asIntN(64, value))
    throw new PersistenceError(`epoch ${line} does not fit a long`, file);
  return value;
}

/** Reads an epoch file in `directory`; undefined when it does not exist. */
export async function readEpochFile(directory: string, name: string): Promise<bigint | undefined> {
  const file = path.join(directory, name);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new PersistenceError(`cannot read: ${String(error)}`, file, { cause: error });
  }
  return parseEpoch(text, file);
}

/** Writes an epoch file atomically and durably. */
export async function writeEpochFile(
  directory: string,
  name: string,
  epoch: bigint,
  fileSystem: PersistenceFileSystem = nodeFileSystem,
): Promise<void> {
  const file = path.join(directory, name);
  const temporary = `${file}.tmp`;
  const handle = await fileSystem.open(temporary, 'w');
  try {
    await writeFully(handle, Buffer.from(epoch.toString(), 'utf8'), 0);
    await handle.sync();
  } catch (error) {
    await handle.close().catch(() => {});
    await rm(temporary, { force: true });
    throw error;
  }
  await handle.close();
  await rename(temporary, file);
  await syncDirectory(fileSystem, directory);
}
