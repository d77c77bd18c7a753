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

// The replicated server. A member started from a zoo.cfg with server.N lines (what
// `zk-server start-foreground` runs), and whole ensembles in this process for tests and demos.
export {
  startEnsemble,
  startMemberFromConfig,
  type QuorumTuning,
  type RunningEnsemble,
  type RunningMember,
  type StartEnsembleOptions,
  type StartMemberFromConfigOptions,
} from './ensemble/server.js';
export { MemoryNetwork, type MemoryNetworkOptions } from './ensemble/memory.js';
export type { ServerModeView as ServerMode } from './net/four-letter-words.js';
export type { PeerStatus, PeerState } from './quorum/index.js';
