// One table of operations: each opcode with its request record, its response record and its
// traits. Client and server both read it, and the framework's single retry loop acts on the traits.

import type { JuteType } from './jute.js';
import { MultiRequest, MultiResponse } from './multi.js';
import * as R from './records.js';

export const OpCode = {
  notification: 0,
  create: 1,
  delete: 2,
  exists: 3,
  getData: 4,
  setData: 5,
  getACL: 6,
  setACL: 7,
  getChildren: 8,
  sync: 9,
  ping: 11,
  getChildren2: 12,
  check: 13,
  multi: 14,
  create2: 15,
  reconfig: 16,
  checkWatches: 17,
  removeWatches: 18,
  createContainer: 19,
  deleteContainer: 20,
  createTTL: 21,
  multiRead: 22,
  auth: 100,
  setWatches: 101,
  sasl: 102,
  getEphemerals: 103,
  getAllChildrenNumber: 104,
  setWatches2: 105,
  addWatch: 106,
  whoAmI: 107,
  createSession: -10,
  closeSession: -11,
  error: -1,
} as const;

export type OpName = keyof typeof OpCode;
export type OpCodeValue = (typeof OpCode)[OpName];

/** Xids with a fixed meaning. */
export const Xid = {
  NOTIFICATION: -1,
  PING: -2,
  AUTH: -4,
  SET_WATCHES: -8,
} as const;

export interface OpTraits {
  /** Reads the tree and changes nothing. */
  readonly read: boolean;
  /** Changes the tree; goes through the leader and the transaction log. */
  readonly write: boolean;
  /**
   * Repeating it after an unknown outcome cannot change the result of the first attempt, so a
   * retry loop may resend it blindly. Writes are never marked idempotent: their retry must first
   * find out whether the first attempt happened.
   */
  readonly idempotent: boolean;
  /** Concerns the session or connection rather than a znode (ping, auth, setWatches, close). */
  readonly session: boolean;
  /** Ordered through the leader in an ensemble (writes, sync, session create and close). */
  readonly quorum: boolean;
  /** Only valid inside a multi (check), or only issued by the server itself (deleteContainer). */
  readonly internal: boolean;
}

export interface OpSpec {
  readonly name: OpName;
  readonly code: number;
  /** The request body's record; null when the request has no body decoded by this table. */
  readonly request: JuteType<any> | null;
  /** The reply body's record when err == 0; null when the reply is a header only. */
  readonly response: JuteType<any> | null;
  /** The transaction record this op becomes in the log, for writes. */
  readonly txn: JuteType<any> | null;
  readonly traits: OpTraits;
}

type TraitName = 'read' | 'write' | 'idempotent' | 'session' | 'quorum' | 'internal';

function op(
  name: OpName,
  request: JuteType<any> | null,
  response: JuteType<any> | null,
  txn: JuteType<any> | null,
  traits: TraitName[],
): OpSpec {
  const has = (t: TraitName) => traits.includes(t);
  return {
    name,
    code: OpCode[name],
    request,
    response,
    txn,
    traits: {
      read: has('read'),
      write: has('write'),
      idempotent: has('idempotent'),
      session: has('session'),
      quorum: has('quorum') || has('write'),
      internal: has('internal'),
    },
  };
}

const specs: OpSpec[] = [
  op('notification', null, R.WatcherEvent, null, ['internal']),
  op('create', R.CreateRequest, R.CreateResponse, R.CreateTxn, ['write']),
  op('delete', R.DeleteRequest, null, R.DeleteTxn, ['write']),
  op('exists', R.ExistsRequest, R.ExistsResponse, null, ['read', 'idempotent']),
  op('getData', R.GetDataRequest, R.GetDataResponse, null, ['read', 'idempotent']),
  op('setData', R.SetDataRequest, R.SetDataResponse, R.SetDataTxn, ['write']),
  op('getACL', R.GetACLRequest, R.GetACLResponse, null, ['read', 'idempotent']),
  op('setACL', R.SetACLRequest, R.SetACLResponse, R.SetACLTxn, ['write']),
  op('getChildren', R.GetChildrenRequest, R.GetChildrenResponse, null, ['read', 'idempotent']),
  op('sync', R.SyncRequest, R.SyncResponse, null, ['idempotent', 'quorum']),
  op('ping', R.Empty, null, null, ['session', 'idempotent']),
  op('getChildren2', R.GetChildren2Request, R.GetChildren2Response, null, ['read', 'idempotent']),
  op('check', R.CheckVersionRequest, null, R.CheckVersionTxn, ['internal']),
  op('multi', MultiRequest, MultiResponse, R.MultiTxn, ['write']),
  op('create2', R.CreateRequest, R.Create2Response, R.CreateTxn, ['write']),
  op('reconfig', R.ReconfigRequest, R.GetDataResponse, R.SetDataTxn, ['write']),
  op('checkWatches', R.CheckWatchesRequest, null, null, ['session', 'idempotent']),
  op('removeWatches', R.RemoveWatchesRequest, null, null, ['session']),
  op('createContainer', R.CreateRequest, R.Create2Response, R.CreateContainerTxn, ['write']),
  op('deleteContainer', null, null, R.DeleteTxn, ['write', 'internal']),
  op('createTTL', R.CreateTTLRequest, R.Create2Response, R.CreateTTLTxn, ['write']),
  op('multiRead', MultiRequest, MultiResponse, null, ['read', 'idempotent']),
  op('auth', R.AuthPacket, null, null, ['session']),
  op('setWatches', R.SetWatches, null, null, ['session', 'idempotent']),
  op('sasl', R.GetSASLRequest, R.SetSASLResponse, null, ['session']),
  op('getEphemerals', R.GetEphemeralsRequest, R.GetEphemeralsResponse, null, ['read', 'idempotent']),
  op('getAllChildrenNumber', R.GetAllChildrenNumberRequest, R.GetAllChildrenNumberResponse, null, [
    'read',
    'idempotent',
  ]),
  op('setWatches2', R.SetWatches2, null, null, ['session', 'idempotent']),
  op('addWatch', R.AddWatchRequest, R.ErrorResponse, null, ['session', 'idempotent']),
  op('whoAmI', R.Empty, R.WhoAmIResponse, null, ['session', 'idempotent']),
  op('createSession', null, null, R.CreateSessionTxn, ['session', 'quorum', 'internal']),
  op('closeSession', R.Empty, null, R.CloseSessionTxn, ['session', 'quorum']),
  op('error', null, null, R.ErrorTxn, ['internal']),
];

const byCode = new Map<number, OpSpec>(specs.map((spec) => [spec.code, spec]));

/** The operation table, keyed by name. */
export const operations = Object.fromEntries(specs.map((spec) => [spec.name, spec])) as Record<OpName, OpSpec>;

/** The operation with this opcode, or undefined for an opcode ZooKeeper does not define. */
export function operationFor(code: number): OpSpec | undefined {
  return byCode.get(code);
}

/**
 * Opcodes a client may send as a request after connecting. Others (notification, check outside a
 * multi, deleteContainer, createSession, error, 10) are answered with UNIMPLEMENTED and a close.
 */
export function isClientRequest(code: number): boolean {
  const spec = byCode.get(code);
  return spec !== undefined && spec.request !== null && !spec.traits.internal;
}

/**
 * The txn record a txn header's `type` carries in the log and in replication (the opcode table's
 * `txn` column: create2 logs a CreateTxn, reconfig a SetDataTxn, ...), or undefined for a type that
 * has none.
 */
export function txnRecordFor(type: number): JuteType<any> | undefined {
  return byCode.get(type)?.txn ?? undefined;
}

/** The name of an opcode for logs ("create2", or "op(42)" for an unknown one). */
export function opName(code: number): string {
  return byCode.get(code)?.name ?? `op(${code})`;
}
