// Server configuration: zoo.cfg parsing (Apache's format and keys), the myid file, in-process options.

export { parseProperties, type PropertyEntry } from './properties.js';
export {
  ConfigError,
  FOUR_LETTER_WORDS,
  defaultConfig,
  parseServerLine,
  parseZooCfg,
  validateConfig,
  type ParsedConfig,
  type QuorumServerConfig,
  type ServerConfig,
} from './zoo-cfg.js';
export { loadZooCfg, readMyId } from './load.js';
export { configFromOptions, type ServerOptions } from './options.js';
