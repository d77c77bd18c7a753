// The client's public surface: the client, its options and results, the op builder for multi,
// watch and connection-state types, and the client-side error helpers.

export {
  PersistentWatch,
  ZooKeeperClient,
  type AddWatchOptions,
  type ChildrenResult,
  type CreateOptions,
  type CreateResult,
  type DataResult,
  type ReconfigOptions,
  type SignalOptions,
  type StateListener,
  type VersionOptions,
  type WatchOption,
  type WatchOptions,
  type ZooKeeperClientOptions,
} from './client.js';
export { ChannelOverflowError } from './channel.js';
export { realClock, type Clock } from './clock.js';
export { tcpTransport, type Transport, type TransportSocket } from './transport.js';
export { Chroot, parseConnectString, type HostAddress, type ParsedConnectString } from './connect-string.js';
export {
  ClientClosedError,
  ProtocolViolationError,
  ReplyTooLargeError,
  connectionLoss,
  isIndeterminate,
} from './errors.js';
export {
  op,
  type CheckOpResult,
  type CheckOperation,
  type CreateOpOptions,
  type CreateOpResult,
  type CreateOperation,
  type DeleteOpResult,
  type DeleteOperation,
  type ErrorOpResult,
  type GetChildrenOpResult,
  type GetChildrenOperation,
  type GetDataOpResult,
  type GetDataOperation,
  type MultiOpResult,
  type MultiOperation,
  type ReadOpResult,
  type ReadOperation,
  type ResultOf,
  type ResultsOf,
  type SetDataOpResult,
  type SetDataOperation,
} from './ops.js';
export type { ConnectionState, ConnectionStateType } from './session.js';
export { Acls, digestId, type CreateModeOptions, type Data } from './validate.js';
export type { WatchedEvent, WatchedEventType, WatcherTypeName } from './watches.js';
export { expireSession } from './testing.js';
