// Transactions (ZooKeeper's multi) as plain data: `txn.create(...)`, `txn.delete(...)`,
// `txn.setData(...)`, `txn.check(...)` build ops with user paths; the framework moves them under
// its namespace when it sends them and strips the namespace from the typed results.

import {
  op,
  type CreateOpOptions,
  type Data,
  type MultiOperation,
  type MultiOpResult,
} from '../client/index.js';
import type { ACL, CreateModeFlag, CreateModeName, Stat } from '../protocol/index.js';
import type { Namespace } from './namespace.js';

export interface TransactionCreate {
  readonly op: 'create';
  readonly path: string;
  readonly data?: Data | null;
  readonly mode?: CreateModeName | CreateModeFlag;
  readonly acl?: readonly ACL[];
  readonly ttlMs?: number;
}
export interface TransactionDelete {
  readonly op: 'delete';
  readonly path: string;
  readonly version?: number;
}
export interface TransactionSetData {
  readonly op: 'setData';
  readonly path: string;
  readonly data: Data | null;
  readonly version?: number;
}
export interface TransactionCheck {
  readonly op: 'check';
  readonly path: string;
  readonly version: number;
}

export type TransactionOp = TransactionCreate | TransactionDelete | TransactionSetData | TransactionCheck;

export interface TransactionCreateResult {
  readonly op: 'create';
  /** The created path (with its sequence suffix), inside the namespace. */
  readonly path: string;
  readonly stat: Stat | undefined;
}
export interface TransactionDeleteResult {
  readonly op: 'delete';
  readonly path: string;
}
export interface TransactionSetDataResult {
  readonly op: 'setData';
  readonly path: string;
  readonly stat: Stat;
}
export interface TransactionCheckResult {
  readonly op: 'check';
  readonly path: string;
}

export type TransactionResultOf<O> = O extends TransactionCreate
  ? TransactionCreateResult
  : O extends TransactionDelete
    ? TransactionDeleteResult
    : O extends TransactionSetData
      ? TransactionSetDataResult
      : O extends TransactionCheck
        ? TransactionCheckResult
        : never;

/** Per-position result types: `transaction([txn.create(..), txn.check(..)])` is fully typed. */
export type TransactionResults<T extends readonly unknown[]> = {
  -readonly [K in keyof T]: TransactionResultOf<T[K]>;
};

/** Builds transaction ops. */
export const txn = {
  create(
    path: string,
    options: Omit<TransactionCreate, 'op' | 'path'> = {},
  ): TransactionCreate {
    return { op: 'create', path, ...options };
  },
  delete(path: string, options: { version?: number } = {}): TransactionDelete {
    return { op: 'delete', path, ...options };
  },
  setData(path: string, data: Data | null, options: { version?: number } = {}): TransactionSetData {
    return { op: 'setData', path, data, ...options };
  },
  check(path: string, version: number): TransactionCheck {
    return { op: 'check', path, version };
  },
};

/** The client op for one transaction op, with its path under the namespace (checked by the client). */
export function toClientOp(
  operation: TransactionOp,
  namespace: Namespace,
  defaultAcl: readonly ACL[],
): MultiOperation {
  const path = namespace.toServer(operation.path);
  switch (operation.op) {
    case 'create': {
      const options: CreateOpOptions = { acl: operation.acl ?? defaultAcl };
      if (operation.mode !== undefined) options.mode = operation.mode;
      if (operation.ttlMs !== undefined) options.ttlMs = operation.ttlMs;
      return op.create(path, operation.data ?? null, options);
    }
    case 'delete':
      return op.delete(path, { version: operation.version ?? -1 });
    case 'setData':
      return op.setData(path, operation.data, { version: operation.version ?? -1 });
    case 'check':
      return op.check(path, operation.version);
    default:
      throw new TypeError(`unknown transaction op ${JSON.stringify((operation as { op: unknown }).op)}`);
  }
}

/** The typed result of one op, with the namespace stripped. */
export function toTransactionResult(
  operation: TransactionOp,
  result: MultiOpResult,
  namespace: Namespace,
): TransactionResultOf<TransactionOp> {
  switch (result.op) {
    case 'create':
      return { op: 'create', path: namespace.toClient(result.path), stat: result.stat };
    case 'delete':
      return { op: 'delete', path: operation.path };
    case 'setData':
      return { op: 'setData', path: operation.path, stat: result.stat };
    case 'check':
      return { op: 'check', path: operation.path };
  }
}
