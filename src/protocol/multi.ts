// multi (14) and multiRead (22): a header before each op, a terminator after the last.
// Request:  { MultiHeader{type, done=false, err=-1}, op record }*  MultiHeader{-1, true, -1}
// Response: { MultiHeader{type, done=false, err}, result body }*   MultiHeader{-1, true, -1}
// A failed op's result has type -1 (error) and an ErrorResponse body; after a failed atomic multi
// every op reports an error result (0 before the failing op, -2 after it).

import { DecodeError } from './errors.js';
import { JuteReader, JuteWriter, type JuteType } from './jute.js';
import {
  CheckVersionRequest,
  Create2Response,
  CreateRequest,
  CreateResponse,
  CreateTTLRequest,
  DeleteRequest,
  ErrorResponse,
  GetChildrenRequest,
  GetChildrenResponse,
  GetDataRequest,
  GetDataResponse,
  MultiHeader,
  SetDataRequest,
  SetDataResponse,
} from './records.js';

/** One op of a multi (create, delete, setData, check) or of a multiRead (getData, getChildren). */
export type MultiOp =
  | { type: 1 | 15 | 19; request: CreateRequest }
  | { type: 21; request: CreateTTLRequest }
  | { type: 2; request: DeleteRequest }
  | { type: 5; request: SetDataRequest }
  | { type: 13; request: CheckVersionRequest }
  | { type: 4; request: GetDataRequest }
  | { type: 8; request: GetChildrenRequest };

/** One result. create2, createTTL and createContainer all report type 15 (Create2Response). */
export type MultiResult =
  | { type: 1; response: CreateResponse }
  | { type: 15; response: Create2Response }
  | { type: 2 }
  | { type: 13 }
  | { type: 5; response: SetDataResponse }
  | { type: 4; response: GetDataResponse }
  | { type: 8; response: GetChildrenResponse }
  | { type: -1; err: number };

export interface MultiRequest {
  ops: MultiOp[];
}
export interface MultiResponse {
  results: MultiResult[];
}

const opRecords: ReadonlyMap<number, JuteType<any>> = new Map<number, JuteType<any>>([
  [1, CreateRequest],
  [15, CreateRequest],
  [19, CreateRequest],
  [21, CreateTTLRequest],
  [2, DeleteRequest],
  [5, SetDataRequest],
  [13, CheckVersionRequest],
  [4, GetDataRequest],
  [8, GetChildrenRequest],
]);

const resultRecords: ReadonlyMap<number, JuteType<any> | null> = new Map<number, JuteType<any> | null>([
  [1, CreateResponse],
  [15, Create2Response],
  [2, null],
  [13, null],
  [5, SetDataResponse],
  [4, GetDataResponse],
  [8, GetChildrenResponse],
]);

const TERMINATOR = { type: -1, done: true, err: -1 };
const HEADER_BYTES = 9;

function readHeaders<T>(r: JuteReader, readOne: (header: MultiHeader) => T): T[] {
  const items: T[] = [];
  for (;;) {
    const header = MultiHeader.read(r);
    if (header.done) return items;
    items.push(readOne(header));
  }
}

export const MultiRequest: JuteType<MultiRequest> = {
  name: 'MultiRequest',
  shape: { kind: 'custom', name: 'MultiRequest' },
  minBytes: HEADER_BYTES,
  read(r) {
    const ops = readHeaders(r, (header) => {
      const codec = opRecords.get(header.type);
      if (codec === undefined) throw new DecodeError(`invalid op type ${header.type} in multi`);
      return { type: header.type, request: codec.read(r) } as MultiOp;
    });
    return { ops };
  },
  write(w, value) {
    for (const op of value.ops) {
      MultiHeader.write(w, { type: op.type, done: false, err: -1 });
      opRecords.get(op.type)!.write(w, op.request);
    }
    MultiHeader.write(w, TERMINATOR);
  },
  size(value) {
    let bytes = HEADER_BYTES;
    for (const op of value.ops) bytes += HEADER_BYTES + opRecords.get(op.type)!.size(op.request);
    return bytes;
  },
  describe(value) {
    const parts = value.ops.map((op) => `${op.type}:${opRecords.get(op.type)!.describe(op.request)}`);
    return `MultiRequest[${parts.join(', ')}]`;
  },
};

export const MultiResponse: JuteType<MultiResponse> = {
  name: 'MultiResponse',
  shape: { kind: 'custom', name: 'MultiResponse' },
  minBytes: HEADER_BYTES,
  read(r) {
    const results = readHeaders(r, (header): MultiResult => {
      if (header.type === -1) return { type: -1, err: ErrorResponse.read(r).err };
      if (!resultRecords.has(header.type)) throw new DecodeError(`invalid result type ${header.type} in multi`);
      const codec = resultRecords.get(header.type);
      return (codec ? { type: header.type, response: codec.read(r) } : { type: header.type }) as MultiResult;
    });
    return { results };
  },
  write(w, value) {
    for (const result of value.results) {
      if (result.type === -1) {
        MultiHeader.write(w, { type: -1, done: false, err: result.err });
        ErrorResponse.write(w, { err: result.err });
        continue;
      }
      MultiHeader.write(w, { type: result.type, done: false, err: 0 });
      const codec = resultRecords.get(result.type);
      if (codec) codec.write(w, (result as { response: unknown }).response);
    }
    MultiHeader.write(w, TERMINATOR);
  },
  size(value) {
    let bytes = HEADER_BYTES;
    for (const result of value.results) {
      bytes += HEADER_BYTES;
      if (result.type === -1) bytes += 4;
      else {
        const codec = resultRecords.get(result.type);
        if (codec) bytes += codec.size((result as { response: unknown }).response);
      }
    }
    return bytes;
  },
  describe(value) {
    const parts = value.results.map((result) => {
      if (result.type === -1) return `error(${result.err})`;
      const codec = resultRecords.get(result.type);
      return codec ? codec.describe((result as { response: unknown }).response) : `ok(${result.type})`;
    });
    return `MultiResponse[${parts.join(', ')}]`;
  },
};

/** Encodes a multi value to bytes (without a frame length). */
export function encodeMulti<T>(type: JuteType<T>, value: T): Buffer {
  const bytes = Buffer.allocUnsafe(type.size(value));
  type.write(new JuteWriter(bytes), value);
  return bytes;
}
