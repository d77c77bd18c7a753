// The dynamic config file of a reconfigurable ensemble, as Apache 3.5+ keeps it: zoo.cfg names it
// with `dynamicConfigFile=`, it holds the server.N lines (a `version=<hex zxid>` line is accepted), and
// its name ends in `.dynamic.<hex version>` (where Apache 3.8 keeps the version). loadZooCfg reads
// it in; after a reconfig the member writes `<zoo.cfg>.dynamic.<version>` and points zoo.cfg at it
// (keeping the first zoo.cfg as zoo.cfg.bak), so a restarted member comes back with the new membership.

import { copyFile, readFile, rename, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { ConfigError } from './zoo-cfg.js';

/** What a dynamic config file adds to zoo.cfg: its server lines and the config's version. */
export interface DynamicConfig {
  readonly serverLines: readonly string[];
  readonly version: bigint;
}

/** The dynamicConfigFile a zoo.cfg text names, if any (resolved against zoo.cfg's directory). */
export function dynamicConfigFileOf(zooCfgText: string, zooCfgFile: string): string | undefined {
  const match = /^\s*dynamicConfigFile\s*[=:]\s*(.+?)\s*$/m.exec(zooCfgText);
  if (match === null) return undefined;
  return path.resolve(path.dirname(zooCfgFile), match[1]!);
}

/**
 * Reads a dynamic config file: server lines, and the version of its version=<hex> line, else of its
 * name's `.dynamic.<hex>` suffix as Apache 3.8 writes it, else 0.
 */
export async function readDynamicConfig(file: string): Promise<DynamicConfig> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? String(error);
    throw new ConfigError('dynamicConfigFile', file, `cannot be read (${code})`);
  }
  const serverLines: string[] = [];
  const suffix = /\.dynamic\.([0-9a-fA-F]+)$/.exec(file);
  let version = suffix === null ? 0n : BigInt(`0x${suffix[1]}`);
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const versionMatch = /^version\s*=\s*([0-9a-fA-F]+)$/.exec(line);
    if (versionMatch !== null) version = BigInt(`0x${versionMatch[1]}`);
    else if (/^server\.\d+\s*=/.test(line)) serverLines.push(line);
    else throw new ConfigError('dynamicConfigFile', line, `${file} holds only server.N lines and version`);
  }
  return { serverLines, version };
}

/**
 * After a reconfig: writes `<zoo.cfg>.dynamic.<version>` with the new config's server lines (the
 * version is in the name only, as Apache 3.8 writes it), then zoo.cfg
 * without its server lines and pointing at that file (zoo.cfg.bak keeps the original once), each
 * through a temporary file and a rename.
 */
export async function recordDynamicConfig(zooCfgFile: string, configText: string, version: bigint):
  Promise<string> {
  const dynamicFile = `${zooCfgFile}.dynamic.${version.toString(16)}`;
  const serverLines = configText.split(/\r?\n/).filter((line) => /^server\.\d+\s*=/.test(line.trim()));
  await writeAtomically(dynamicFile, `${serverLines.join('\n')}\n`);
  const current = await readFile(zooCfgFile, 'utf8');
  const backup = `${zooCfgFile}.bak`;
  if ((await stat(backup).catch(() => undefined)) === undefined) await copyFile(zooCfgFile, backup);
  const kept = current.split(/\r?\n/).filter((line) => {
    const key = line.trim().split(/[=:]/)[0]!.trim();
    return !key.startsWith('server.') && key !== 'dynamicConfigFile' && line.trim() !== '';
  });
  await writeAtomically(zooCfgFile, `${[...kept, `dynamicConfigFile=${dynamicFile}`].join('\n')}\n`);
  return dynamicFile;
}

async function writeAtomically(file: string, text: string): Promise<void> {
  const temporary = path.join(path.dirname(file), `.${path.basename(file)}.tmp`);
  await writeFile(temporary, text);
  await rename(temporary, file);
}
