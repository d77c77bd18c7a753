// Request preparation, as Apache 3.8's PrepRequestProcessor: each write is checked in Apache's order
// (first failing check wins) against the tree as it will be once every outstanding txn is applied
// (change records), and becomes a txn with the next zxid. A failed write becomes an error txn.

import {
  CONTAINER_EPHEMERAL_OWNER,
  ErrorCode,
  OpCode,
  Perms,
  TTL_MAX_MS,
  createModeTraits,
  pathProblem,
  records as R,
  sequenceSuffix,
  txnRecordFor,
  type RecordCodec,
  type ACL,
  type MultiOp,
  type MultiRequest,
} from '../../src/protocol/index.js';
import { checkAcl, fixupAcl } from '../auth/acl.js';
import type { SessionTracker } from '../sessions/session-tracker.js';
import {
  isSpecialPath,
  newStat,
  ttlOwner,
  type DataTree,
  type MutableStat,
} from '../tree/data-tree.js';
import { StatsTrack, limitPath, statPath } from '../tree/quota.js';
import type { RequestContext, Txn } from './api.js';

/** A write's outcome: ZooKeeper error `code` (thrown inside preparation, caught per request). */
export class PrepError extends Error {
  constructor(
    readonly code: number,
    readonly path?: string,
  ) {
    super(`prepare failed with ${code}${path === undefined ? '' : ` for ${path}`}`);
  }
}

/** What the tree will hold for a path once outstanding txns are applied (Apache's ChangeRecord). */
interface ChangeRecord {
  readonly zxid: bigint;
  readonly path: string;
  /** null: the node will be gone. */
  stat: MutableStat | null;
  childCount: number;
  acl: readonly ACL[] | null;
  data: Buffer | null;
}

export interface PrepareOptions {
  readonly extendedTypesEnabled: boolean;
  readonly skipACL: boolean;
  readonly enforceQuota: boolean;
  readonly reconfigEnabled: boolean;
  readonly onWarning: (message: string) => void;
  /**
   * localSessionsEnabled: a session the (global) tracker does not know may still write, though not
   * create ephemerals, when this says so (Apache's LeaderSessionTracker: local here or another's).
   */
  readonly acceptsLocalSession?: (sessionId: bigint) => boolean;
}

/** Apache names the parent of "/a" "" (the root's alias); we use "/". */
function parentOf(path: string): string {
  const slash = path.lastIndexOf('/');
  return slash <= 0 ? '/' : path.slice(0, slash);
}

function txnOf(codec: { encode(value: never): Buffer }, value: unknown): Buffer {
  return codec.encode(value as never);
}

export class RequestPreparer {
  /** Change records in zxid order; entries before `outstandingHead` are applied (compacted lazily). */
  private outstanding: ChangeRecord[] = [];
  private outstandingHead = 0;
  private readonly outstandingByPath = new Map<string, ChangeRecord>();
  /** The highest zxid handed out. */
  highestZxid = 0n;

  constructor(
    private readonly tree: DataTree,
    private readonly sessions: SessionTracker,
    private readonly options: PrepareOptions,
  ) {}

  nextZxid(): bigint {
    return ++this.highestZxid;
  }

  /** Drops change records of txns up to `zxid` once they are applied (FinalRequestProcessor). */
  applied(zxid: bigint): void {
    while (this.outstandingHead < this.outstanding.length) {
      const record = this.outstanding[this.outstandingHead]!;
      if (record.zxid > zxid) break;
      this.outstandingHead++;
      if (this.outstandingByPath.get(record.path) === record) this.outstandingByPath.delete(record.path);
    }
    // Shifting one by one would make a long pipeline quadratic; drop the applied prefix in bulk.
    if (this.outstandingHead === this.outstanding.length) {
      this.outstanding = [];
      this.outstandingHead = 0;
    } else if (this.outstandingHead > 1024 && this.outstandingHead * 2 > this.outstanding.length) {
      this.outstanding = this.outstanding.slice(this.outstandingHead);
      this.outstandingHead = 0;
    }
  }

  private recordFor(path: string): ChangeRecord {
    const pending = this.outstandingByPath.get(path);
    if (pending !== undefined) {
      if (pending.stat === null) throw new PrepError(ErrorCode.NO_NODE, path);
      return pending;
    }
    const node = this.tree.getNode(path);
    if (node === undefined) throw new PrepError(ErrorCode.NO_NODE, path);
    return {
      zxid: -1n,
      path,
      stat: node.stat,
      childCount: node.children.size,
      acl: this.tree.aclOf(node),
      data: node.data,
    };
  }

  private exists(path: string): boolean {
    const pending = this.outstandingByPath.get(path);
    if (pending !== undefined) return pending.stat !== null;
    return this.tree.getNode(path) !== undefined;
  }

  private add(record: ChangeRecord): void {
    this.outstanding.push(record);
    this.outstandingByPath.set(record.path, record);
  }

  private duplicate(record: ChangeRecord, zxid: bigint): ChangeRecord {
    return { ...record, zxid, stat: record.stat === null ? null : { ...record.stat } };
  }

  private checkAcl(acl: readonly ACL[] | null, perm: number, ctx: RequestContext, path: string): void {
    if (this.options.skipACL) return;
    if (!checkAcl(acl, perm, ctx.authIds)) throw new PrepError(ErrorCode.NO_AUTH, path);
  }

  /** Apache's checkSession: unknown → UnknownSession (SessionExpired for ephemerals); closing → expired. */
  private checkSession(sessionId: bigint, forEphemeral = false): void {
    const session = this.sessions.get(sessionId);
    if (session === undefined) {
      if (!forEphemeral && this.options.acceptsLocalSession?.(sessionId) === true) return;
      throw new PrepError(forEphemeral ? ErrorCode.SESSION_EXPIRED : ErrorCode.UNKNOWN_SESSION);
    }
    if (session.closing) throw new PrepError(ErrorCode.SESSION_EXPIRED);
  }

  private validatePath(path: string): void {
    if (pathProblem(path) !== undefined) throw new PrepError(ErrorCode.BAD_ARGUMENTS, path);
  }

  /** getParentPathAndValidate: a slash, no NUL, not one of the reserved nodes. */
  private parentForDelete(path: string): string {
    if (path.lastIndexOf('/') < 0 || path.includes('\0') || isSpecialPath(path)) {
      throw new PrepError(ErrorCode.BAD_ARGUMENTS, path);
    }
    return parentOf(path);
  }

  private checkVersion(current: number, expected: number, path: string): number {
    if (expected !== -1 && expected !== current) throw new PrepError(ErrorCode.BAD_VERSION, path);
    return (current + 1) | 0;
  }

  /** Quota check against the applied tree, as ZooKeeperServer.checkQuota (only with enforceQuota). */
  private checkQuota(path: string, previous: Buffer | null, data: Buffer | null, isCreate: boolean): void {
    if (!this.options.enforceQuota) return;
    const prefix = this.tree.maxQuotaPrefix(path);
    if (prefix === undefined) return;
    const limitNode = this.tree.getNode(limitPath(prefix));
    const statNode = this.tree.getNode(statPath(prefix));
    if (limitNode === undefined || statNode === undefined) return;
    const limits = StatsTrack.fromBytes(limitNode.data);
    const usage = StatsTrack.fromBytes(statNode.data);
    const countDelta = isCreate ? 1n : 0n;
    const bytesDelta = BigInt((data?.length ?? 0) - (isCreate ? 0 : (previous?.length ?? 0)));
    const checks: Array<[next: bigint, soft: bigint, hard: bigint, what: string]> = [];
    if (countDelta !== 0n) {
      const next = usage.get('count') + countDelta;
      checks.push([next, limits.get('count'), limits.get('countHardLimit'), 'count']);
    }
    if (bytesDelta !== 0n) {
      const next = usage.get('bytes') + bytesDelta;
      checks.push([next, limits.get('bytes'), limits.get('byteHardLimit'), 'bytes']);
    }
    for (const [next, soft, hard, what] of checks) {
      if (soft <= -1n && hard <= -1n) continue;
      const limit = hard > -1n ? hard : soft;
      if (next <= limit) continue;
      const kind = hard > -1n ? 'hard' : 'soft';
      this.options.onWarning(`Quota exceeded: ${prefix} [current ${what}=${next}, ${kind} limit=${limit}]`);
      if (hard > -1n) throw new PrepError(ErrorCode.QUOTA_EXCEEDED, prefix);
    }
  }

  /**
   * Prepares one write. Returns the txn type and record; throws PrepError with the first failing
   * check's code. Change records are added under `zxid`.
   */
  prepareOp(
    ctx: RequestContext,
    type: number,
    request: any,
    zxid: bigint,
    timeMs: bigint,
  ): { type: number; record: unknown } {
    switch (type) {
      case OpCode.create:
      case OpCode.create2:
      case OpCode.createContainer:
      case OpCode.createTTL:
        return { type, record: this.prepareCreate(ctx, type, request, zxid, timeMs) };
      case OpCode.delete:
        this.checkSession(ctx.sessionId);
        return { type, record: this.prepareDelete(ctx, request.path, request.version, zxid) };
      case OpCode.deleteContainer:
        return { type, record: this.prepareDeleteContainer(request.path, zxid) };
      case OpCode.setData:
        return { type, record: this.prepareSetData(ctx, request, zxid, timeMs) };
      case OpCode.setACL:
        return { type, record: this.prepareSetAcl(ctx, request, zxid) };
      case OpCode.check: {
        this.checkSession(ctx.sessionId);
        this.validatePath(request.path);
        const record = this.recordFor(request.path);
        this.checkAcl(record.acl, Perms.READ, ctx, request.path);
        const version = this.checkVersion(record.stat!.version, request.version, request.path);
        return { type, record: { path: request.path, version } };
      }
      case OpCode.reconfig:
        if (!this.options.reconfigEnabled) throw new PrepError(ErrorCode.RECONFIG_DISABLED);
        this.checkSession(ctx.sessionId);
        // Standalone: reconfiguration is not supported, as Apache's standalone server answers.
        throw new PrepError(ErrorCode.UNIMPLEMENTED);
      default:
        throw new PrepError(ErrorCode.UNIMPLEMENTED);
    }
  }

  private prepareCreate(
    ctx: RequestContext,
    type: number,
    request: any,
    zxid: bigint,
    timeMs: bigint,
  ): unknown {
    const ttl: bigint = type === OpCode.createTTL ? BigInt(request.ttl) : -1n;
    const mode = createModeTraits(request.flags);
    if (mode === undefined) throw new PrepError(ErrorCode.BAD_ARGUMENTS, request.path);
    if (mode.ttl && !this.options.extendedTypesEnabled) throw new PrepError(ErrorCode.UNIMPLEMENTED);
    const ttlValid = mode.ttl ? ttl > 0n && ttl <= TTL_MAX_MS : ttl < 0n;
    if (!ttlValid) throw new PrepError(ErrorCode.BAD_ARGUMENTS, request.path);
    // Apache 3.8 accepts createTTL with a non-TTL mode and ttl -1, then dies applying it; refuse it.
    if (type === OpCode.createTTL && !mode.ttl) throw new PrepError(ErrorCode.BAD_ARGUMENTS, request.path);
    this.checkSession(ctx.sessionId, mode.ephemeral);
    let path: string = request.path;
    if (path.lastIndexOf('/') < 0 || path.includes('\0')) throw new PrepError(ErrorCode.BAD_ARGUMENTS, path);
    const parentPath = parentOf(path);
    const acl = fixupAcl(request.acl, ctx.authIds);
    if (typeof acl === 'number') throw new PrepError(acl, path);
    const parent = this.recordFor(parentPath);
    this.checkAcl(parent.acl, Perms.CREATE, ctx, path);
    const parentCVersion = parent.stat!.cversion;
    if (mode.sequential) path += sequenceSuffix(parentCVersion);
    this.validatePath(path);
    if (this.exists(path)) throw new PrepError(ErrorCode.NODE_EXISTS, path);
    if (this.tree.kindOf(parent.stat!.ephemeralOwner) === 'ephemeral') {
      throw new PrepError(ErrorCode.NO_CHILDREN_FOR_EPHEMERALS, path);
    }
    const newCVersion = (parentCVersion + 1) | 0;
    const data: Buffer | null = request.data ?? null;
    this.checkQuota(path, null, data, true);
    const owner = mode.container
      ? CONTAINER_EPHEMERAL_OWNER
      : mode.ttl
        ? ttlOwner(ttl)
        : mode.ephemeral
          ? ctx.sessionId
          : 0n;
    const parentRecord = this.duplicate(parent, zxid);
    parentRecord.childCount++;
    parentRecord.stat!.cversion = newCVersion;
    parentRecord.stat!.pzxid = zxid;
    this.add(parentRecord);
    this.add({ zxid, path, stat: newStat(zxid, timeMs, owner), childCount: 0, acl, data });
    if (type === OpCode.createContainer) return { path, data, acl, parentCVersion: newCVersion };
    if (type === OpCode.createTTL) return { path, data, acl, parentCVersion: newCVersion, ttl };
    return { path, data, acl, ephemeral: mode.ephemeral, parentCVersion: newCVersion };
  }

  private prepareDelete(ctx: RequestContext, path: string, version: number, zxid: bigint): unknown {
    const parentPath = this.parentForDelete(path);
    const parent = this.recordFor(parentPath);
    this.checkAcl(parent.acl, Perms.DELETE, ctx, path);
    const node = this.recordFor(path);
    this.checkVersion(node.stat!.version, version, path);
    if (node.childCount > 0) throw new PrepError(ErrorCode.NOT_EMPTY, path);
    this.removeRecords(parent, path, zxid);
    return { path };
  }

  private prepareDeleteContainer(path: string, zxid: bigint): unknown {
    const parentPath = this.parentForDelete(path);
    const node = this.recordFor(path);
    if (node.childCount > 0) throw new PrepError(ErrorCode.NOT_EMPTY, path);
    if (this.tree.kindOf(node.stat!.ephemeralOwner) === 'ephemeral') {
      throw new PrepError(ErrorCode.BAD_VERSION, path);
    }
    this.removeRecords(this.recordFor(parentPath), path, zxid);
    return { path };
  }

  private removeRecords(parent: ChangeRecord, path: string, zxid: bigint): void {
    const parentRecord = this.duplicate(parent, zxid);
    parentRecord.childCount--;
    parentRecord.stat!.pzxid = zxid;
    this.add(parentRecord);
    this.add({ zxid, path, stat: null, childCount: -1, acl: null, data: null });
  }

  private prepareSetData(ctx: RequestContext, request: any, zxid: bigint, timeMs: bigint): unknown {
    this.checkSession(ctx.sessionId);
    const path: string = request.path;
    this.validatePath(path);
    const node = this.recordFor(path);
    this.checkAcl(node.acl, Perms.WRITE, ctx, path);
    const data: Buffer | null = request.data ?? null;
    this.checkQuota(path, node.data, data, false);
    const version = this.checkVersion(node.stat!.version, request.version, path);
    const record = this.duplicate(node, zxid);
    record.stat!.version = version;
    record.stat!.mtime = timeMs;
    record.stat!.mzxid = zxid;
    record.data = data;
    this.add(record);
    return { path, data, version };
  }

  private prepareSetAcl(ctx: RequestContext, request: any, zxid: bigint): unknown {
    this.checkSession(ctx.sessionId);
    const path: string = request.path;
    this.validatePath(path);
    const acl = fixupAcl(request.acl, ctx.authIds);
    if (typeof acl === 'number') throw new PrepError(acl, path);
    const node = this.recordFor(path);
    this.checkAcl(node.acl, Perms.ADMIN, ctx, path);
    const version = this.checkVersion(node.stat!.aversion, request.version, path);
    const record = this.duplicate(node, zxid);
    record.stat!.aversion = version;
    record.acl = acl;
    this.add(record);
    return { path, acl, version };
  }

  /** A whole write: one zxid; failures become error txns (multi: a MultiTxn of error txns). */
  prepare(ctx: RequestContext, opcode: number, request: unknown, timeMs: bigint): Txn {
    const zxid = this.nextZxid();
    const header = (type: number) => ({ clientId: ctx.sessionId, cxid: ctx.cxid, zxid, time: timeMs, type });
    if (opcode === OpCode.multi) {
      if (!Array.isArray((request as MultiRequest | undefined)?.ops)) {
        return { header: header(OpCode.error), record: { err: ErrorCode.MARSHALLING_ERROR } };
      }
      // A read op inside a multi fails the whole request with MarshallingError (zxid still used).
      const ops = (request as MultiRequest).ops.map(normalizeMultiOp);
      if (ops.some((op) => op === undefined)) {
        return { header: header(OpCode.error), record: { err: ErrorCode.MARSHALLING_ERROR } };
      }
      const record = this.prepareMulti(ctx, { ops: ops as MultiOp[] }, zxid, timeMs);
      return { header: header(OpCode.multi), record };
    }
    if (opcode === OpCode.closeSession) {
      return { header: header(OpCode.closeSession), record: this.prepareCloseSession(ctx.sessionId, zxid) };
    }
    try {
      if (opcode !== OpCode.reconfig && !hasPath(request)) throw new PrepError(ErrorCode.MARSHALLING_ERROR);
      const { type, record } = this.prepareOp(ctx, opcode, request, zxid, timeMs);
      return { header: header(type), record };
    } catch (error) {
      if (!(error instanceof PrepError)) throw error;
      return { header: header(OpCode.error), record: { err: error.code } };
    }
  }

  private prepareMulti(ctx: RequestContext, multi: MultiRequest, zxid: bigint, timeMs: bigint): unknown {
    const saved = this.pendingFor(multi.ops);
    const txns: Array<{ type: number; data: Buffer }> = [];
    let failed = false;
    for (const op of multi.ops) {
      if (failed) {
        txns.push({ type: OpCode.error, data: R.ErrorTxn.encode({ err: ErrorCode.RUNTIME_INCONSISTENCY }) });
        continue;
      }
      try {
        const { type, record } = this.prepareOp(ctx, op.type, op.request, zxid, timeMs);
        txns.push({ type, data: txnOf(txnCodecFor(type), record) });
      } catch (error) {
        if (!(error instanceof PrepError)) throw error;
        failed = true;
        txns.push({ type: OpCode.error, data: R.ErrorTxn.encode({ err: error.code }) });
        this.rollback(zxid, saved);
      }
    }
    return { txns };
  }

  /** The change records a multi's ops (and their parents) had before it, to restore on failure. */
  private pendingFor(ops: readonly MultiOp[]): Map<string, ChangeRecord> {
    const saved = new Map<string, ChangeRecord>();
    for (const op of ops) {
      const path = op.request.path;
      const record = this.outstandingByPath.get(path);
      if (record !== undefined) saved.set(path, record);
      if (path.lastIndexOf('/') < 0 || path.includes('\0')) continue;
      const parent = this.outstandingByPath.get(parentOf(path));
      if (parent !== undefined) saved.set(parent.path, parent);
    }
    return saved;
  }

  private rollback(zxid: bigint, saved: Map<string, ChangeRecord>): void {
    while (
      this.outstanding.length > this.outstandingHead &&
      this.outstanding[this.outstanding.length - 1]!.zxid === zxid
    ) {
      const record = this.outstanding.pop()!;
      this.outstandingByPath.delete(record.path);
    }
    if (this.outstanding.length === this.outstandingHead) return;
    const firstZxid = this.outstanding[this.outstandingHead]!.zxid;
    for (const record of saved.values()) {
      if (record.zxid >= firstZxid) this.outstandingByPath.set(record.path, record);
    }
  }

  /** closeSession: the session's ephemerals, as they will be once outstanding txns apply. */
  prepareCloseSession(sessionId: bigint, zxid: bigint): { paths2Delete: string[] } {
    const paths = new Set(this.tree.ephemerals.get(sessionId) ?? []);
    for (const record of this.outstanding.slice(this.outstandingHead)) {
      if (record.stat === null) paths.delete(record.path);
      else if (record.stat.ephemeralOwner === sessionId) paths.add(record.path);
    }
    for (const path of paths) this.add({ zxid, path, stat: null, childCount: 0, acl: null, data: null });
    this.sessions.setClosing(sessionId);
    return { paths2Delete: [...paths] };
  }

  /**
   * Takes back the txn prepared last (zxid `zxid`), which will never be applied: its change records go
   * and the zxid is handed out again. Only the newest prepared txn can be withdrawn.
   */
  withdraw(zxid: bigint): void {
    if (zxid !== this.highestZxid) throw new Error(`only the newest txn can be withdrawn, not ${zxid}`);
    while (
      this.outstanding.length > this.outstandingHead &&
      this.outstanding[this.outstanding.length - 1]!.zxid === zxid
    ) {
      this.outstanding.pop();
    }
    this.outstandingByPath.clear();
    for (let i = this.outstandingHead; i < this.outstanding.length; i++) {
      const record = this.outstanding[i]!;
      this.outstandingByPath.set(record.path, record);
    }
    this.highestZxid = zxid - 1n;
  }

  /** Forgets every change record (after loading a snapshot). */
  reset(highestZxid: bigint): void {
    this.outstanding = [];
    this.outstandingHead = 0;
    this.outstandingByPath.clear();
    this.highestZxid = highestZxid;
  }
}

/**
 * A multi op as Apache's MultiOperationRecord rebuilds it: a create's type comes from its flags
 * (container flag → createContainer, else create, so create2 reports as create; a createTTL with a
 * non-TTL mode becomes a plain create). Undefined for what Apache fails with MarshallingError: read
 * ops, and a TTL mode sent in a plain CreateRequest.
 */
function normalizeMultiOp(op: MultiOp): MultiOp | undefined {
  if (!isMultiWriteOp(op.type) || !hasPath(op.request)) return undefined;
  if (op.type !== OpCode.create && op.type !== OpCode.create2 && op.type !== OpCode.createContainer) {
    if (op.type !== OpCode.createTTL) return op;
  }
  const request = op.request as { flags: number };
  const mode = createModeTraits(request.flags) ?? createModeTraits(0)!;
  if (mode.ttl) return op.type === OpCode.createTTL ? op : undefined;
  return { type: mode.container ? OpCode.createContainer : OpCode.create, request } as MultiOp;
}

/** A decoded request always has a string path; anything else is the shell's decoding gone wrong. */
function hasPath(request: unknown): boolean {
  if (typeof request !== 'object' || request === null) return false;
  return typeof (request as { path?: unknown }).path === 'string';
}

function isMultiWriteOp(type: number): boolean {
  return [OpCode.create, OpCode.create2, OpCode.createContainer, OpCode.createTTL, OpCode.delete,
    OpCode.setData, OpCode.check].includes(type as never);
}

/** The txn record of each write type (the header type is the request opcode, as in Apache). */
export function txnCodecFor(type: number): { encode(value: never): Buffer; decode(bytes: Buffer): any } {
  const codec = txnRecordFor(type);
  if (codec === undefined) throw new Error(`no txn record for type ${type}`);
  return codec as RecordCodec<any>;
}
