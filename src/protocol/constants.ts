// Protocol constants: create modes, event types, keeper states, watcher types, permissions,
// and the ephemeralOwner encodings the server stores for containers and TTL nodes.

/** CreateMode flag values, as sent in CreateRequest.flags. */
export const CreateMode = {
  PERSISTENT: 0,
  EPHEMERAL: 1,
  PERSISTENT_SEQUENTIAL: 2,
  EPHEMERAL_SEQUENTIAL: 3,
  CONTAINER: 4,
  PERSISTENT_WITH_TTL: 5,
  PERSISTENT_SEQUENTIAL_WITH_TTL: 6,
} as const;

export type CreateModeName = keyof typeof CreateMode;
export type CreateModeFlag = (typeof CreateMode)[CreateModeName];

export interface CreateModeTraits {
  readonly flag: CreateModeFlag;
  readonly ephemeral: boolean;
  readonly sequential: boolean;
  readonly container: boolean;
  readonly ttl: boolean;
}

const traitsByFlag = new Map<number, CreateModeTraits>(
  (Object.values(CreateMode) as CreateModeFlag[]).map((flag) => [
    flag,
    {
      flag,
      ephemeral: flag === 1 || flag === 3,
      sequential: flag === 2 || flag === 3 || flag === 6,
      container: flag === 4,
      ttl: flag === 5 || flag === 6,
    },
  ]),
);

/** The traits of a create flag, or undefined for a flag ZooKeeper does not define (BadArguments). */
export function createModeTraits(flag: number): CreateModeTraits | undefined {
  return traitsByFlag.get(flag);
}

/** WatchedEvent types. None and the *WatchRemoved types are produced client-side only. */
export const EventType = {
  NONE: -1,
  NODE_CREATED: 1,
  NODE_DELETED: 2,
  NODE_DATA_CHANGED: 3,
  NODE_CHILDREN_CHANGED: 4,
  DATA_WATCH_REMOVED: 5,
  CHILD_WATCH_REMOVED: 6,
  PERSISTENT_WATCH_REMOVED: 7,
} as const;
export type EventTypeValue = (typeof EventType)[keyof typeof EventType];

/** Java's names for event types, as zkCli.sh prints them. */
export const eventTypeNames: Readonly<Record<number, string>> = {
  [-1]: 'None',
  1: 'NodeCreated',
  2: 'NodeDeleted',
  3: 'NodeDataChanged',
  4: 'NodeChildrenChanged',
  5: 'DataWatchRemoved',
  6: 'ChildWatchRemoved',
  7: 'PersistentWatchRemoved',
};

/** Keeper states carried in WatcherEvent.state (the server always sends SyncConnected). */
export const KeeperState = {
  UNKNOWN: -1,
  DISCONNECTED: 0,
  NO_SYNC_CONNECTED: 1,
  SYNC_CONNECTED: 3,
  AUTH_FAILED: 4,
  CONNECTED_READ_ONLY: 5,
  SASL_AUTHENTICATED: 6,
  EXPIRED: -112,
  CLOSED: 7,
} as const;

export const keeperStateNames: Readonly<Record<number, string>> = {
  [-1]: 'Unknown',
  0: 'Disconnected',
  1: 'NoSyncConnected',
  3: 'SyncConnected',
  4: 'AuthFailed',
  5: 'ConnectedReadOnly',
  6: 'SaslAuthenticated',
  [-112]: 'Expired',
  7: 'Closed',
};

/** The `type` of checkWatches / removeWatches. */
export const WatcherType = {
  CHILDREN: 1,
  DATA: 2,
  ANY: 3,
  PERSISTENT: 4,
  PERSISTENT_RECURSIVE: 5,
} as const;

/** The `mode` of addWatch. */
export const AddWatchMode = {
  PERSISTENT: 0,
  PERSISTENT_RECURSIVE: 1,
} as const;

/** ACL permission bits. */
export const Perms = {
  READ: 1,
  WRITE: 2,
  CREATE: 4,
  DELETE: 8,
  ADMIN: 16,
  ALL: 31,
} as const;

/** The stored ephemeralOwner of a container (Long.MIN_VALUE); clients are shown 0. */
export const CONTAINER_EPHEMERAL_OWNER = -0x8000000000000000n;
/** High byte that marks a TTL node's stored ephemeralOwner; the low 56 bits hold the TTL in ms. */
export const TTL_EPHEMERAL_OWNER_MARK = -0x100000000000000n; // 0xFF00000000000000 as a signed long
/** The largest TTL a node can have: 2^40 - 1 ms (about 34.8 years). */
export const TTL_MAX_MS = (1n << 40n) - 1n;

/** The reserved znodes every server has. */
export const ZOOKEEPER_PATH = '/zookeeper';
export const QUOTA_PATH = '/zookeeper/quota';
export const CONFIG_PATH = '/zookeeper/config';

/** The protocol version in ConnectRequest / ConnectResponse. */
export const PROTOCOL_VERSION = 0;
/** The session password is always 16 bytes on the wire (the C client reads exactly that many). */
export const SESSION_PASSWORD_BYTES = 16;
