// Every record a ZooKeeper 3.8/3.9 client or server exchanges, declared once, in jute field order
// (zookeeper.jute), plus the trailing optional `readOnly` of ConnectRequest/ConnectResponse that
// 3.8 serializes by hand. The TypeScript type of each record is derived from its declaration.

import {
  bool,
  buffer,
  empty,
  int,
  long,
  longId,
  nullableUstring,
  optional,
  record,
  ustring,
  vector,
  type RecordCodec,
} from './jute.js';

// ----- org.apache.zookeeper.data -----

export const Id = record('Id', { scheme: ustring, id: ustring });
export type Id = ReturnType<typeof Id.decode>;

export const ACL = record('ACL', { perms: int, id: Id });
export type ACL = ReturnType<typeof ACL.decode>;

export const Stat = record('Stat', {
  czxid: longId,
  mzxid: longId,
  ctime: long,
  mtime: long,
  version: int,
  cversion: int,
  aversion: int,
  ephemeralOwner: longId,
  dataLength: int,
  numChildren: int,
  pzxid: longId,
});
export type Stat = ReturnType<typeof Stat.decode>;

/** The stat as the server stores it: no dataLength or numChildren (computed), cversion as a counter. */
export const StatPersisted = record('StatPersisted', {
  czxid: longId,
  mzxid: longId,
  ctime: long,
  mtime: long,
  version: int,
  cversion: int,
  aversion: int,
  ephemeralOwner: longId,
  pzxid: longId,
});
export type StatPersisted = ReturnType<typeof StatPersisted.decode>;

export const ClientInfo = record('ClientInfo', { authScheme: ustring, user: ustring });
export type ClientInfo = ReturnType<typeof ClientInfo.decode>;

// ----- org.apache.zookeeper.proto: session and headers -----

/** The first frame of a connection. `readOnly` is absent from old clients' frames. */
export const ConnectRequest = record('ConnectRequest', {
  protocolVersion: int,
  lastZxidSeen: longId,
  timeOut: int,
  sessionId: longId,
  passwd: buffer,
  readOnly: optional(bool),
});
export type ConnectRequest = ReturnType<typeof ConnectRequest.decode>;

/** The server's answer; it carries `readOnly` only when the client's request did. */
export const ConnectResponse = record('ConnectResponse', {
  protocolVersion: int,
  timeOut: int,
  sessionId: longId,
  passwd: buffer,
  readOnly: optional(bool),
});
export type ConnectResponse = ReturnType<typeof ConnectResponse.decode>;

export const RequestHeader = record('RequestHeader', { xid: int, type: int });
export type RequestHeader = ReturnType<typeof RequestHeader.decode>;

export const ReplyHeader = record('ReplyHeader', { xid: int, zxid: longId, err: int });
export type ReplyHeader = ReturnType<typeof ReplyHeader.decode>;

export const MultiHeader = record('MultiHeader', { type: int, done: bool, err: int });
export type MultiHeader = ReturnType<typeof MultiHeader.decode>;

export const AuthPacket = record('AuthPacket', { type: int, scheme: ustring, auth: buffer });
export type AuthPacket = ReturnType<typeof AuthPacket.decode>;

export const WatcherEvent = record('WatcherEvent', { type: int, state: int, path: ustring });
export type WatcherEvent = ReturnType<typeof WatcherEvent.decode>;

export const ErrorResponse = record('ErrorResponse', { err: int });
export type ErrorResponse = ReturnType<typeof ErrorResponse.decode>;

export const SetWatches = record('SetWatches', {
  relativeZxid: longId,
  dataWatches: vector(ustring),
  existWatches: vector(ustring),
  childWatches: vector(ustring),
});
export type SetWatches = ReturnType<typeof SetWatches.decode>;

export const SetWatches2 = record('SetWatches2', {
  relativeZxid: longId,
  dataWatches: vector(ustring),
  existWatches: vector(ustring),
  childWatches: vector(ustring),
  persistentWatches: vector(ustring),
  persistentRecursiveWatches: vector(ustring),
});
export type SetWatches2 = ReturnType<typeof SetWatches2.decode>;

// ----- requests -----

export const CreateRequest = record('CreateRequest', {
  path: ustring,
  data: buffer,
  acl: vector(ACL),
  flags: int,
});
export type CreateRequest = ReturnType<typeof CreateRequest.decode>;

export const CreateTTLRequest = record('CreateTTLRequest', {
  path: ustring,
  data: buffer,
  acl: vector(ACL),
  flags: int,
  ttl: long,
});
export type CreateTTLRequest = ReturnType<typeof CreateTTLRequest.decode>;

export const DeleteRequest = record('DeleteRequest', { path: ustring, version: int });
export type DeleteRequest = ReturnType<typeof DeleteRequest.decode>;

export const ExistsRequest = record('ExistsRequest', { path: ustring, watch: bool });
export type ExistsRequest = ReturnType<typeof ExistsRequest.decode>;

export const GetDataRequest = record('GetDataRequest', { path: ustring, watch: bool });
export type GetDataRequest = ReturnType<typeof GetDataRequest.decode>;

export const SetDataRequest = record('SetDataRequest', { path: ustring, data: buffer, version: int });
export type SetDataRequest = ReturnType<typeof SetDataRequest.decode>;

export const GetACLRequest = record('GetACLRequest', { path: ustring });
export type GetACLRequest = ReturnType<typeof GetACLRequest.decode>;

export const SetACLRequest = record('SetACLRequest', { path: ustring, acl: vector(ACL), version: int });
export type SetACLRequest = ReturnType<typeof SetACLRequest.decode>;

export const GetChildrenRequest = record('GetChildrenRequest', { path: ustring, watch: bool });
export type GetChildrenRequest = ReturnType<typeof GetChildrenRequest.decode>;

export const GetChildren2Request = record('GetChildren2Request', { path: ustring, watch: bool });
export type GetChildren2Request = ReturnType<typeof GetChildren2Request.decode>;

export const SyncRequest = record('SyncRequest', { path: ustring });
export type SyncRequest = ReturnType<typeof SyncRequest.decode>;

export const CheckVersionRequest = record('CheckVersionRequest', { path: ustring, version: int });
export type CheckVersionRequest = ReturnType<typeof CheckVersionRequest.decode>;

/** Joining/leaving/newMembers are null when not given, as the Java client sends them. */
export const ReconfigRequest = record('ReconfigRequest', {
  joiningServers: nullableUstring,
  leavingServers: nullableUstring,
  newMembers: nullableUstring,
  curConfigId: longId,
});
export type ReconfigRequest = ReturnType<typeof ReconfigRequest.decode>;

export const CheckWatchesRequest = record('CheckWatchesRequest', { path: ustring, type: int });
export type CheckWatchesRequest = ReturnType<typeof CheckWatchesRequest.decode>;

export const RemoveWatchesRequest = record('RemoveWatchesRequest', { path: ustring, type: int });
export type RemoveWatchesRequest = ReturnType<typeof RemoveWatchesRequest.decode>;

export const GetEphemeralsRequest = record('GetEphemeralsRequest', { prefixPath: ustring });
export type GetEphemeralsRequest = ReturnType<typeof GetEphemeralsRequest.decode>;

export const GetAllChildrenNumberRequest = record('GetAllChildrenNumberRequest', { path: ustring });
export type GetAllChildrenNumberRequest = ReturnType<typeof GetAllChildrenNumberRequest.decode>;

export const AddWatchRequest = record('AddWatchRequest', { path: ustring, mode: int });
export type AddWatchRequest = ReturnType<typeof AddWatchRequest.decode>;

export const GetSASLRequest = record('GetSASLRequest', { token: buffer });
export type GetSASLRequest = ReturnType<typeof GetSASLRequest.decode>;

export const SetSASLResponse = record('SetSASLResponse', { token: buffer });
export type SetSASLResponse = ReturnType<typeof SetSASLResponse.decode>;

/** Declared by Apache's jute but sent by no 3.8 client (the SASL client sends GetSASLRequest). */
export const SetSASLRequest = record('SetSASLRequest', { token: buffer });
export type SetSASLRequest = ReturnType<typeof SetSASLRequest.decode>;

/** The max-children records have no opcode in 3.8; they remain in jute for old logs and tools. */
export const GetMaxChildrenRequest = record('GetMaxChildrenRequest', { path: ustring });
export type GetMaxChildrenRequest = ReturnType<typeof GetMaxChildrenRequest.decode>;

export const GetMaxChildrenResponse = record('GetMaxChildrenResponse', { max: int });
export type GetMaxChildrenResponse = ReturnType<typeof GetMaxChildrenResponse.decode>;

export const SetMaxChildrenRequest = record('SetMaxChildrenRequest', { path: ustring, max: int });
export type SetMaxChildrenRequest = ReturnType<typeof SetMaxChildrenRequest.decode>;

// ----- responses -----

export const CreateResponse = record('CreateResponse', { path: ustring });
export type CreateResponse = ReturnType<typeof CreateResponse.decode>;

export const Create2Response = record('Create2Response', { path: ustring, stat: Stat });
export type Create2Response = ReturnType<typeof Create2Response.decode>;

export const ExistsResponse = record('ExistsResponse', { stat: Stat });
export type ExistsResponse = ReturnType<typeof ExistsResponse.decode>;

export const GetDataResponse = record('GetDataResponse', { data: buffer, stat: Stat });
export type GetDataResponse = ReturnType<typeof GetDataResponse.decode>;

export const SetDataResponse = record('SetDataResponse', { stat: Stat });
export type SetDataResponse = ReturnType<typeof SetDataResponse.decode>;

export const GetACLResponse = record('GetACLResponse', { acl: vector(ACL), stat: Stat });
export type GetACLResponse = ReturnType<typeof GetACLResponse.decode>;

export const SetACLResponse = record('SetACLResponse', { stat: Stat });
export type SetACLResponse = ReturnType<typeof SetACLResponse.decode>;

export const GetChildrenResponse = record('GetChildrenResponse', { children: vector(ustring) });
export type GetChildrenResponse = ReturnType<typeof GetChildrenResponse.decode>;

export const GetChildren2Response = record('GetChildren2Response', { children: vector(ustring), stat: Stat });
export type GetChildren2Response = ReturnType<typeof GetChildren2Response.decode>;

export const SyncResponse = record('SyncResponse', { path: ustring });
export type SyncResponse = ReturnType<typeof SyncResponse.decode>;

export const GetEphemeralsResponse = record('GetEphemeralsResponse', { ephemerals: vector(ustring) });
export type GetEphemeralsResponse = ReturnType<typeof GetEphemeralsResponse.decode>;

export const GetAllChildrenNumberResponse = record('GetAllChildrenNumberResponse', { totalNumber: int });
export type GetAllChildrenNumberResponse = ReturnType<typeof GetAllChildrenNumberResponse.decode>;

export const WhoAmIResponse = record('WhoAmIResponse', { clientInfo: vector(ClientInfo) });
export type WhoAmIResponse = ReturnType<typeof WhoAmIResponse.decode>;

/** No body: ping, closeSession, whoAmI requests; delete, setWatches, removeWatches replies. */
export const Empty = empty;
export type Empty = ReturnType<typeof Empty.decode>;

// ----- org.apache.zookeeper.server.quorum and persistence -----

export const LearnerInfo = record('LearnerInfo', { serverid: long, protocolVersion: int, configVersion: longId });
export type LearnerInfo = ReturnType<typeof LearnerInfo.decode>;

export const QuorumPacket = record('QuorumPacket', {
  type: int,
  zxid: longId,
  data: buffer,
  authinfo: vector(Id),
});
export type QuorumPacket = ReturnType<typeof QuorumPacket.decode>;

/** Quorum SASL authentication between servers (quorum.auth.enableSasl). */
export const QuorumAuthPacket = record('QuorumAuthPacket', { magic: long, status: int, token: buffer });
export type QuorumAuthPacket = ReturnType<typeof QuorumAuthPacket.decode>;

export const FileHeader = record('FileHeader', { magic: int, version: int, dbid: long });
export type FileHeader = ReturnType<typeof FileHeader.decode>;

// ----- org.apache.zookeeper.txn: what persistence and replication carry -----

export const TxnDigest = record('TxnDigest', { version: int, treeDigest: long });
export type TxnDigest = ReturnType<typeof TxnDigest.decode>;

export const TxnHeader = record('TxnHeader', {
  clientId: longId,
  cxid: int,
  zxid: longId,
  time: long,
  type: int,
});
export type TxnHeader = ReturnType<typeof TxnHeader.decode>;

export const CreateTxnV0 = record('CreateTxnV0', {
  path: ustring,
  data: buffer,
  acl: vector(ACL),
  ephemeral: bool,
});
export type CreateTxnV0 = ReturnType<typeof CreateTxnV0.decode>;

export const CreateTxn = record('CreateTxn', {
  path: ustring,
  data: buffer,
  acl: vector(ACL),
  ephemeral: bool,
  parentCVersion: int,
});
export type CreateTxn = ReturnType<typeof CreateTxn.decode>;

export const CreateTTLTxn = record('CreateTTLTxn', {
  path: ustring,
  data: buffer,
  acl: vector(ACL),
  parentCVersion: int,
  ttl: long,
});
export type CreateTTLTxn = ReturnType<typeof CreateTTLTxn.decode>;

export const CreateContainerTxn = record('CreateContainerTxn', {
  path: ustring,
  data: buffer,
  acl: vector(ACL),
  parentCVersion: int,
});
export type CreateContainerTxn = ReturnType<typeof CreateContainerTxn.decode>;

export const DeleteTxn = record('DeleteTxn', { path: ustring });
export type DeleteTxn = ReturnType<typeof DeleteTxn.decode>;

export const SetDataTxn = record('SetDataTxn', { path: ustring, data: buffer, version: int });
export type SetDataTxn = ReturnType<typeof SetDataTxn.decode>;

export const CheckVersionTxn = record('CheckVersionTxn', { path: ustring, version: int });
export type CheckVersionTxn = ReturnType<typeof CheckVersionTxn.decode>;

export const SetACLTxn = record('SetACLTxn', { path: ustring, acl: vector(ACL), version: int });
export type SetACLTxn = ReturnType<typeof SetACLTxn.decode>;

export const SetMaxChildrenTxn = record('SetMaxChildrenTxn', { path: ustring, max: int });
export type SetMaxChildrenTxn = ReturnType<typeof SetMaxChildrenTxn.decode>;

export const CreateSessionTxn = record('CreateSessionTxn', { timeOut: int });
export type CreateSessionTxn = ReturnType<typeof CreateSessionTxn.decode>;

export const CloseSessionTxn = record('CloseSessionTxn', { paths2Delete: vector(ustring) });
export type CloseSessionTxn = ReturnType<typeof CloseSessionTxn.decode>;

export const ErrorTxn = record('ErrorTxn', { err: int });
export type ErrorTxn = ReturnType<typeof ErrorTxn.decode>;

/** One op of a MultiTxn: its txn type and the txn record's bytes. */
export const Txn = record('Txn', { type: int, data: buffer });
export type Txn = ReturnType<typeof Txn.decode>;

export const MultiTxn = record('MultiTxn', { txns: vector(Txn) });
export type MultiTxn = ReturnType<typeof MultiTxn.decode>;

/** Every declared record by name, for tests and tools that walk them all. */
export const allRecords: ReadonlyArray<RecordCodec<any>> = [
  Id, ACL, Stat, StatPersisted, ClientInfo, ConnectRequest, ConnectResponse, RequestHeader, ReplyHeader,
  MultiHeader, AuthPacket, WatcherEvent, ErrorResponse, SetWatches, SetWatches2, CreateRequest,
  CreateTTLRequest, DeleteRequest, ExistsRequest, GetDataRequest, SetDataRequest, GetACLRequest,
  SetACLRequest, GetChildrenRequest, GetChildren2Request, SyncRequest, CheckVersionRequest,
  ReconfigRequest, CheckWatchesRequest, RemoveWatchesRequest, GetEphemeralsRequest,
  GetAllChildrenNumberRequest, AddWatchRequest, GetSASLRequest, SetSASLResponse, SetSASLRequest,
  GetMaxChildrenRequest, GetMaxChildrenResponse, SetMaxChildrenRequest, CreateResponse,
  Create2Response, ExistsResponse, GetDataResponse, SetDataResponse, GetACLResponse, SetACLResponse,
  GetChildrenResponse, GetChildren2Response, SyncResponse, GetEphemeralsResponse,
  GetAllChildrenNumberResponse, WhoAmIResponse, Empty, LearnerInfo, QuorumPacket, QuorumAuthPacket,
  FileHeader, TxnDigest, TxnHeader, CreateTxnV0, CreateTxn, CreateTTLTxn, CreateContainerTxn, DeleteTxn,
  SetDataTxn, CheckVersionTxn, SetACLTxn, SetMaxChildrenTxn, CreateSessionTxn, CloseSessionTxn, ErrorTxn,
  Txn, MultiTxn,
];
