// menagerie/server: the bundled ZooKeeper-compatible server.

export {
  startServer,
  startServerWithConfig,
  type RunningServer,
  type StartServerOptions,
} from './standalone.js';
export {
  ConfigError,
  configFromOptions,
  loadZooCfg,
  parseZooCfg,
  type ServerConfig,
  type ServerOptions,
} from './config/index.js';
export type { TxnPersister, Txn } from './core/api.js';
