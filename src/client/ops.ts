// The typed op builder for multi and multiRead, and the mapping of their wire results to typed
// results. `op.create(...)` and friends check their arguments when built, so a bad op fails
// before anything is sent.

import {
  KeeperError,
  OpCode,
  type ACL,
  type MultiOp,
  type MultiResult,
  type Stat,
} from '../protocol/index.js';
import type { Chroot } from './connect-string.js';
import {
  Acls,
  checkAcl,
  checkPath,
  checkVersion,
  planCreate,
  toBuffer,
  type CreateModeOptions,
  type Data,
} from './validate.js';

export interface CreateOperation {
  readonly op: 'create';
  readonly path: string;
  readonly request: MultiOp;
}
export interface DeleteOperation {
  readonly op: 'delete';
  readonly path: string;
  readonly request: MultiOp;
}
export interface SetDataOperation {
  readonly op: 'setData';
  readonly path: string;
  readonly request: MultiOp;
}
export interface CheckOperation {
  readonly op: 'check';
  readonly path: string;
  readonly request: MultiOp;
}
export interface GetDataOperation {
  readonly op: 'getData';
  readonly path: string;
  readonly request: MultiOp;
}
export interface GetChildrenOperation {
  readonly op: 'getChildren';
  readonly path: string;
  readonly request: MultiOp;
}

/** An op of an atomic multi. */
export type MultiOperation = CreateOperation | DeleteOperation | SetDataOperation | CheckOperation;
/** An op of a multiRead. */
export type ReadOperation = GetDataOperation | GetChildrenOperation;

export interface CreateOpResult {
  readonly op: 'create';
  readonly path: string;
  /** The new node's stat: container and TTL creates report it, plain creates do not. */
  readonly stat: Stat | undefined;
}
export interface DeleteOpResult {
  readonly op: 'delete';
}
export interface SetDataOpResult {
  readonly op: 'setData';
  readonly stat: Stat;
}
export interface CheckOpResult {
  readonly op: 'check';
}
export interface GetDataOpResult {
  readonly op: 'getData';
  /** null for a node with null data (not the same as empty data in ZooKeeper). */
  readonly data: Buffer | null;
  readonly stat: Stat;
}
export interface GetChildrenOpResult {
  readonly op: 'getChildren';
  readonly children: string[];
}
/** A multiRead op that failed on its own (multiRead is not atomic). */
export interface ErrorOpResult {
  readonly op: 'error';
  readonly error: KeeperError;
}

export type MultiOpResult = CreateOpResult | DeleteOpResult | SetDataOpResult | CheckOpResult;
export type ReadOpResult = GetDataOpResult | GetChildrenOpResult | ErrorOpResult;

/** The result type of one op, so `multi([op.create(..), op.check(..)])` is typed per position. */
export type ResultOf<O> = O extends CreateOperation
  ? CreateOpResult
  : O extends DeleteOperation
    ? DeleteOpResult
    : O extends SetDataOperation
      ? SetDataOpResult
      : O extends CheckOperation
        ? CheckOpResult
        : O extends GetDataOperation
          ? GetDataOpResult | ErrorOpResult
          : O extends GetChildrenOperation
            ? GetChildrenOpResult | ErrorOpResult
            : never;

export type ResultsOf<T extends readonly unknown[]> = { -readonly [K in keyof T]: ResultOf<T[K]> };

export interface CreateOpOptions extends CreateModeOptions {
  acl?: readonly ACL[];
}

/** Builds the ops of a multi or a multiRead; paths are client paths (inside the chroot). */
export const op = {
  create(path: string, data?: Data | null, options: CreateOpOptions = {}): CreateOperation {
    const plan = planCreate(options);
    checkPath(path, { sequential: plan.sequential });
    const acl = checkAcl(options.acl ?? Acls.OPEN_ACL_UNSAFE);
    const body = { path, data: toBuffer(data), acl, flags: plan.flags };
    // Inside a multi, a plain create goes as opcode 1, as Java's Op.create sends it: Apache 3.8
    // answers create2 there with a stat-less CreateResponse anyway. Containers and TTL nodes keep
    // their own opcodes and come back with a stat.
    const type = plan.opCode === OpCode.create2 ? OpCode.create : (plan.opCode as 19);
    const request: MultiOp =
      plan.ttl === undefined ? { type, request: body } : { type: 21, request: { ...body, ttl: plan.ttl } };
    return { op: 'create', path, request };
  },
  delete(path: string, options: { version?: number } = {}): DeleteOperation {
    checkPath(path);
    const version = checkVersion(options.version ?? -1);
    return { op: 'delete', path, request: { type: 2, request: { path, version } } };
  },
  setData(path: string, data: Data | null, options: { version?: number } = {}): SetDataOperation {
    checkPath(path);
    const version = checkVersion(options.version ?? -1);
    return { op: 'setData', path, request: { type: 5, request: { path, data: toBuffer(data), version } } };
  },
  check(path: string, version: number): CheckOperation {
    checkPath(path);
    checkVersion(version);
    return { op: 'check', path, request: { type: 13, request: { path, version } } };
  },
  getData(path: string): GetDataOperation {
    checkPath(path);
    return { op: 'getData', path, request: { type: 4, request: { path, watch: false } } };
  },
  getChildren(path: string): GetChildrenOperation {
    checkPath(path);
    return { op: 'getChildren', path, request: { type: 8, request: { path, watch: false } } };
  },
};

/** The wire op with its path moved under the chroot. */
export function toServerOp(operation: MultiOperation | ReadOperation, chroot: Chroot): MultiOp {
  const request = operation.request;
  return {
    type: request.type,
    request: { ...request.request, path: chroot.toServer(operation.path) },
  } as MultiOp;
}

/** Maps one successful wire result to its typed result. */
export function toOpResult(result: MultiResult, chroot: Chroot): MultiOpResult | ReadOpResult {
  switch (result.type) {
    case OpCode.create:
      return { op: 'create', path: chroot.toClient(result.response.path), stat: undefined };
    case OpCode.create2:
      return { op: 'create', path: chroot.toClient(result.response.path), stat: result.response.stat };
    case OpCode.delete:
      return { op: 'delete' };
    case OpCode.setData:
      return { op: 'setData', stat: result.response.stat };
    case OpCode.check:
      return { op: 'check' };
    case OpCode.getData:
      return { op: 'getData', data: result.response.data, stat: result.response.stat };
    case OpCode.getChildren:
      return { op: 'getChildren', children: result.response.children };
    default:
      return { op: 'error', error: KeeperError.from(result.err) };
  }
}
