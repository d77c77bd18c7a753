// The ZooKeeper wire protocol, shared by the client and the server: records, the codec, the
// opcode table, framing, errors, path rules and constants. No sockets, files or timers.

export * from './constants.js';
export * from './errors.js';
export * from './framing.js';
export * from './jute.js';
export * from './limits.js';
export * from './messages.js';
export * from './multi.js';
export * from './opcodes.js';
export * from './paths.js';
export * as records from './records.js';
export type {
  ACL,
  ClientInfo,
  ConnectRequest,
  ConnectResponse,
  Id,
  ReplyHeader,
  RequestHeader,
  Stat,
  StatPersisted,
  WatcherEvent,
} from './records.js';
