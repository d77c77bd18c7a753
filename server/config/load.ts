// Reading a zoo.cfg from disk: the file itself and the `myid` file in dataDir, as Apache reads them
// (the first line of myid, a decimal long; a standalone server needs none).

import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { dynamicConfigFileOf, readDynamicConfig } from './dynamic-config.js';
import { ConfigError, parseZooCfg, type ParsedConfig, type ServerConfig } from './zoo-cfg.js';

/** Reads and parses `file`; relative dataDir/dataLogDir are resolved against the working directory. */
export async function loadZooCfg(file: string): Promise<ParsedConfig> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? String(error);
    throw new ConfigError('config file', file, `cannot be read (${code})`);
  }
  // The server lines of a dynamic config file count as if they were in zoo.cfg (Apache 3.5+).
  const dynamicFile = dynamicConfigFileOf(text, file);
  const dynamic = dynamicFile === undefined ? undefined : await readDynamicConfig(dynamicFile);
  const { config, warnings } = parseZooCfg(
    dynamic === undefined ? text : `${text}\n${dynamic.serverLines.join('\n')}\n`,
  );
  const resolved: ServerConfig = {
    ...config,
    configFile: path.resolve(file),
    ...(dynamic !== undefined && { dynamicConfigFile: dynamicFile, configVersion: dynamic.version }),
    dataDir: config.dataDir === undefined ? undefined : path.resolve(config.dataDir),
    dataLogDir: config.dataLogDir === undefined ? undefined : path.resolve(config.dataLogDir),
  };
  const serverId = resolved.dataDir === undefined ? undefined : await readMyId(resolved.dataDir);
  checkServerId(resolved, serverId);
  return { config: Object.freeze({ ...resolved, serverId }), warnings };
}

/** The id in dataDir/myid, or undefined when there is no such file. */
export async function readMyId(dataDir: string): Promise<bigint | undefined> {
  const file = path.join(dataDir, 'myid');
  const info = await stat(file).catch(() => undefined);
  if (info === undefined || !info.isFile()) return undefined;
  const firstLine = (await readFile(file, 'utf8')).split(/\r?\n/)[0];
  if (!/^[+-]?\d+$/.test(firstLine)) {
    throw new ConfigError('myid', firstLine, `serverid in ${file} is not a number`);
  }
  const id = BigInt(firstLine);
  if (id < -(2n ** 63n) || id >= 2n ** 63n) {
    throw new ConfigError('myid', firstLine, 'out of the 64-bit range');
  }
  return id;
}

function checkServerId(config: ServerConfig, serverId: bigint | undefined): void {
  if (!config.distributed) return;
  if (serverId === undefined) {
    throw new ConfigError('myid', '', `myid file is missing in ${config.dataDir} (needed for an ensemble)`);
  }
  if (!config.servers.some((s) => s.id === serverId)) {
    throw new ConfigError('myid', String(serverId), 'this id has no server.N line in the config');
  }
}
