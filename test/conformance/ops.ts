// Small request builders for the conformance specs, so each spec reads as the operations it checks.

import { OpCode, records, type ACL } from '../../src/protocol/index.js';
import type { RawClient, Reply } from '../support/raw-client.js';

export const OPEN_ACL: ACL[] = [{ perms: 31, id: { scheme: 'world', id: 'anyone' } }];

export function create(
  client: RawClient,
  path: string,
  data: Buffer | null = Buffer.alloc(0),
  flags = 0,
  acl: ACL[] = OPEN_ACL,
): Promise<Reply<records.CreateResponse>> {
  return client.request(OpCode.create, { path, data, acl, flags });
}

export function create2(
  client: RawClient,
  path: string,
  data: Buffer | null = Buffer.alloc(0),
  flags = 0,
  acl: ACL[] = OPEN_ACL,
): Promise<Reply<records.Create2Response>> {
  return client.request(OpCode.create2, { path, data, acl, flags });
}

export function remove(client: RawClient, path: string, version = -1): Promise<Reply> {
  return client.request(OpCode.delete, { path, version });
}

export function getData(
  client: RawClient,
  path: string,
  watch = false,
): Promise<Reply<records.GetDataResponse>> {
  return client.request(OpCode.getData, { path, watch });
}

export function setData(
  client: RawClient,
  path: string,
  data: Buffer | null,
  version = -1,
): Promise<Reply<records.SetDataResponse>> {
  return client.request(OpCode.setData, { path, data, version });
}

export function exists(
  client: RawClient,
  path: string,
  watch = false,
): Promise<Reply<records.ExistsResponse>> {
  return client.request(OpCode.exists, { path, watch });
}

export function getChildren(
  client: RawClient,
  path: string,
  watch = false,
): Promise<Reply<records.GetChildrenResponse>> {
  return client.request(OpCode.getChildren, { path, watch });
}

export function getChildren2(
  client: RawClient,
  path: string,
  watch = false,
): Promise<Reply<records.GetChildren2Response>> {
  return client.request(OpCode.getChildren2, { path, watch });
}

/** Asserts success and returns the body, with the failing code in the message otherwise. */
export function ok<T>(reply: Reply<T>, what = 'request'): T {
  if (reply.header.err !== 0) throw new Error(`${what} failed with ${reply.header.err}`);
  return reply.body as T;
}
