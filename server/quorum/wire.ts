// The bytes of peer messages: election notifications, ZAB packets and the transport's handshake.
// Our own layout (no Java interop), built from the jute primitives: a protocol version byte, a kind
// byte, then the fields in declaration order. Decoding is strict: a wrong version, an unknown kind,
// a truncated or oversized field or trailing bytes is a DecodeError saying why, never a crash.
// Pure: bytes in, messages out.

import {
  DecodeError, InvalidArgumentError, JuteReader, JuteWriter, bool, longId, record,
  type JuteType, type RecordCodec,
} from '../../src/protocol/index.js';
import type { Membership } from './membership.js';
import type { Notification, PeerMessage, PeerState, ZabBody, ZabPacket } from './messages.js';

/** The version byte every encoded message and handshake starts with (2: configs in notifications). */
export const PEER_WIRE_VERSION = 2;

/** How large the variable-length fields of a message may be. */
export interface PeerWireLimits {
  /** A `snap` packet's serialized state. */
  readonly snapshotBytesMax: number;
  /** A txn payload, a forwarded request or a ping's session touches (a jute.maxbuffer-like bound). */
  readonly payloadBytesMax: number;
  /** A link or leader-session name. */
  readonly nameBytesMax: number;
}

export const peerWireDefaults: PeerWireLimits = {
  snapshotBytesMax: 512 * 1024 * 1024,
  // A txn wraps a client request of up to jute.maxbuffer (1 MiB) in its header, so allow twice that.
  payloadBytesMax: 2 * 1024 * 1024,
  nameBytesMax: 256,
};

/**
 * Bytes a message adds around its largest field and its two names: comfortably more than the 31 of
 * a snap packet (version, kind, two name lengths, seq, tag, zxid, snapshot length).
 */
export const PEER_MESSAGE_OVERHEAD_BYTES_MAX = 64;

/** The largest encoded message under `limits`: what a transport's frame limit must admit. */
export function peerMessageBytesMax(limits: PeerWireLimits = peerWireDefaults): number {
  const largestField = Math.max(limits.snapshotBytesMax, limits.payloadBytesMax);
  return largestField + 2 * limits.nameBytesMax + PEER_MESSAGE_OVERHEAD_BYTES_MAX;
}

// ---- field types ----------------------------------------------------------------------------

/**
 * A JavaScript number carried as a jute long; decoding refuses what is not a safe integer. Read and
 * written as two 32-bit halves, which spares a BigInt per field on the hot path (seq, request ids).
 */
const safeInteger: JuteType<number> = {
  name: 'safeInteger',
  shape: { kind: 'custom', name: 'safeInteger' },
  minBytes: 8,
  read(r) {
    if (r.remaining < 8) throw new DecodeError(`truncated long: needs 8 bytes, ${r.remaining} left`);
    const high = r.buffer.readInt32BE(r.offset);
    const low = r.buffer.readUInt32BE(r.offset + 4);
    // |value| < 2^53 exactly when the high half lies in [-2^21, 2^21), bar -2^53 itself.
    if (high < -0x20_0000 || high >= 0x20_0000 || (high === -0x20_0000 && low === 0)) {
      throw new DecodeError(`integer ${r.buffer.readBigInt64BE(r.offset)} is beyond JavaScript's safe range`);
    }
    r.offset += 8;
    return high * 2 ** 32 + low;
  },
  write(w, value) {
    if (!Number.isSafeInteger(value)) throw new InvalidArgumentError(`${value} is not a safe integer`);
    const high = Math.floor(value / 2 ** 32);
    w.int(high);
    w.offset = w.buffer.writeUInt32BE(value - high * 2 ** 32, w.offset);
  },
  size: () => 8,
  describe: (v) => String(v),
};

/**
 * Bytes with an upper bound, checked on both sides so a sender never sends what its peers refuse.
 * `absent` (length -1) only where the field is optional. `view` returns a view of the frame instead
 * of a copy: for a snapshot, whose frame holds nothing else.
 */
function boundedBytes(what: string, bytesMax: number, view: boolean): JuteType<Uint8Array> {
  const check = (length: number) => {
    if (length > bytesMax) {
      throw new DecodeError(`${what} of ${length} bytes exceeds the limit of ${bytesMax}`);
    }
  };
  return {
    name: what,
    shape: { kind: 'custom', name: what },
    minBytes: 4,
    read(r) {
      const length = r.int();
      if (length < 0) throw new DecodeError(`${what} has the invalid length ${length}`);
      check(length);
      if (length > r.remaining) {
        throw new DecodeError(`truncated ${what}: needs ${length} bytes, ${r.remaining} left`);
      }
      const bytes = r.buffer.subarray(r.offset, r.offset + length);
      r.offset += length;
      return view ? bytes : new Uint8Array(bytes);
    },
    write(w, value) {
      if (value.length > bytesMax) {
        throw new InvalidArgumentError(`${what} of ${value.length} bytes exceeds the limit of ${bytesMax}`);
      }
      w.buffer_(value);
    },
    size: (v) => 4 + v.length,
    describe: (v) => `<${v.length}B>`,
  };
}

/** Optional bytes: a length of -1 means absent. */
function optionalBytes(inner: JuteType<Uint8Array>): JuteType<Uint8Array | undefined> {
  return {
    name: `${inner.name}?`,
    shape: { kind: 'custom', name: `${inner.name}?` },
    minBytes: 4,
    read(r) {
      if (r.remaining >= 4 && r.buffer.readInt32BE(r.offset) === -1) {
        r.offset += 4;
        return undefined;
      }
      return inner.read(r);
    },
    write: (w, v) => (v === undefined ? w.int(-1) : inner.write(w, v)),
    size: (v) => (v === undefined ? 4 : inner.size(v)),
    describe: (v) => (v === undefined ? '-' : inner.describe(v)),
  };
}

/** A UTF-8 string with an upper bound in bytes; never null. */
function boundedString(what: string, bytesMax: number): JuteType<string> {
  const bytes = boundedBytes(what, bytesMax, true);
  const strict = new TextDecoder('utf-8', { fatal: true });
  return {
    name: what,
    shape: { kind: 'custom', name: what },
    minBytes: 4,
    read(r) {
      const view = bytes.read(r) as Buffer;
      const text = view.toString('utf8');
      // Node's decoder replaces invalid sequences with U+FFFD; only then is the strict one needed.
      if (!text.includes('\uFFFD')) return text;
      try {
        return strict.decode(view);
      } catch {
        throw new DecodeError(`${what} is not valid UTF-8`);
      }
    },
    write(w, value) {
      const length = Buffer.byteLength(value, 'utf8');
      if (length > bytesMax) {
        throw new InvalidArgumentError(`${what} of ${length} bytes exceeds the limit of ${bytesMax}`);
      }
      w.ustring(value);
    },
    size: (v) => 4 + Buffer.byteLength(v, 'utf8'),
    describe: (v) => JSON.stringify(v),
  };
}

/** A boolean as one byte, 0 or 1 only (jute reads any non-zero byte as true; we are stricter). */
const strictBool: JuteType<boolean> = {
  ...bool,
  read(r) {
    if (r.remaining < 1) throw new DecodeError('truncated boolean: needs 1 byte, 0 left');
    const value = r.buffer[r.offset++];
    if (value > 1) throw new DecodeError(`boolean byte ${value} is neither 0 nor 1`);
    return value === 1;
  },
};

/** One byte naming one of a fixed list of values. */
function enumByte<const T extends string>(what: string, values: readonly T[]): JuteType<T> {
  return {
    name: what,
    shape: { kind: 'custom', name: what },
    minBytes: 1,
    read(r) {
      if (r.remaining < 1) throw new DecodeError(`truncated ${what}: needs 1 byte, 0 left`);
      const index = r.buffer[r.offset++];
      const value = values[index];
      if (value === undefined) throw new DecodeError(`unknown ${what} ${index}`);
      return value;
    },
    write(w, value) {
      const index = values.indexOf(value);
      if (index < 0) throw new InvalidArgumentError(`unknown ${what} ${String(value)}`);
      w.buffer[w.offset++] = index;
    },
    size: () => 1,
    describe: (v) => v,
  };
}

interface MembershipFields {
  version: bigint;
  voters: string;
  observers: string;
  text?: Uint8Array;
}

/** A config on the wire: its version, ids as comma-separated lists, and the shell's text if any. */
function membershipRecord(limits: PeerWireLimits): RecordCodec<object> {
  return record('Config', {
    version: longId,
    voters: boundedString('voters', limits.payloadBytesMax),
    observers: boundedString('observers', limits.payloadBytesMax),
    text: optionalBytes(boundedBytes('config text', limits.payloadBytesMax, false)),
  });
}

function membershipFields(m: Membership): MembershipFields {
  return {
    version: m.version, voters: m.voters.join(','), observers: m.observers.join(','),
    text: m.text === undefined ? undefined : Buffer.from(m.text, 'utf8'),
  };
}

function membershipOfFields(value: MembershipFields): Membership {
  const { version } = value;
  const membership = { version, voters: serverIds(value.voters), observers: serverIds(value.observers) };
  if (value.text === undefined) return membership;
  return { ...membership, text: Buffer.from(value.text).toString('utf8') };
}

/** A comma-separated list of server ids (a config's voters or observers). */
function serverIds(list: string): number[] {
  if (list === '') return [];
  return list.split(',').map((part) => {
    const id = Number(part);
    if (!/^\d+$/.test(part) || !Number.isSafeInteger(id)) {
      throw new DecodeError(`bad server id ${JSON.stringify(part)}`);
    }
    return id;
  });
}

const peerStates: readonly PeerState[] = ['LOOKING', 'FOLLOWING', 'LEADING', 'OBSERVING'];

// ---- the codec ----------------------------------------------------------------------------------

/** Message kinds: the second byte of every frame. */
const KIND_NOTIFICATION = 1;
const KIND_ZAB = 2;
const KIND_HELLO = 3;
const KIND_HELLO_REPLY = 4;

type BodyType = ZabBody['type'];
type BodyOf<K extends BodyType> = Extract<ZabBody, { type: K }>;

/** How one ZAB body variant is laid out: its fields as a record, and the mapping to and from it. */
interface BodyLayout<K extends BodyType> {
  readonly tag: number;
  readonly fields: RecordCodec<object>;
  toFields(body: BodyOf<K>): object;
  fromFields(fields: any): BodyOf<K>;
}

/** The layouts of the ZAB bodies under one set of limits; tags are the wire numbers (never reuse one). */
function bodyLayouts(limits: PeerWireLimits): { [K in BodyType]: BodyLayout<K> } {
  const payload = boundedBytes('txn payload', limits.payloadBytesMax, false);
  const txn = record('Txn', { zxid: longId, payload });
  const zxidOnly = record('Zxid', { zxid: longId });
  const none = record('None', {});
  const plain = <K extends BodyType>(tag: number, type: K, fields: RecordCodec<object>): BodyLayout<K> => ({
    tag,
    fields,
    toFields: (body) => body,
    fromFields: (value) => ({ type, ...value }) as BodyOf<K>,
  });
  return {
    followerInfo: plain(1, 'followerInfo', record('FollowerInfo', {
      acceptedEpoch: longId,
      observer: strictBool,
    })),
    leaderInfo: plain(2, 'leaderInfo', record('LeaderInfo', { epoch: longId })),
    ackEpoch: plain(3, 'ackEpoch', record('AckEpoch', { lastZxid: longId, currentEpoch: longId })),
    diff: plain(4, 'diff', zxidOnly),
    trunc: plain(5, 'trunc', zxidOnly),
    snap: plain(6, 'snap', record('Snap', {
      zxid: longId,
      snapshot: boundedBytes('snapshot', limits.snapshotBytesMax, true),
    })),
    proposal: plain(7, 'proposal', record('Proposal', { txn })),
    commit: plain(8, 'commit', zxidOnly),
    inform: plain(9, 'inform', record('Inform', { txn })),
    newLeader: plain(10, 'newLeader', record('NewLeader', { zxid: longId, committedZxid: longId })),
    ack: plain(11, 'ack', zxidOnly),
    upToDate: plain(12, 'upToDate', none),
    ping: plain(13, 'ping', none),
    pingReply: {
      tag: 14,
      fields: record('PingReply', {
        sessionTouches: optionalBytes(boundedBytes('session touches', limits.payloadBytesMax, false)),
      }),
      toFields: (body) => ({ sessionTouches: body.sessionTouches }),
      fromFields: (value: { sessionTouches?: Uint8Array }) =>
        value.sessionTouches === undefined
          ? { type: 'pingReply' }
          : { type: 'pingReply', sessionTouches: value.sessionTouches },
    },
    request: plain(15, 'request', record('Request', {
      requestId: safeInteger,
      request: boundedBytes('forwarded request', limits.payloadBytesMax, false),
    })),
    syncRequest: plain(16, 'syncRequest', record('SyncRequest', { requestId: safeInteger })),
    syncReply: plain(17, 'syncReply', record('SyncReply', { requestId: safeInteger, zxid: longId })),
    config: {
      tag: 18,
      fields: membershipRecord(limits),
      toFields: ({ membership }) => membershipFields(membership),
      fromFields: (value: MembershipFields) => ({ type: 'config', membership: membershipOfFields(value) }),
    },
  };
}

/**
 * The transport's first frame on a connection: who is calling whom, and on which of the two ports.
 * The receiver checks every field against its own configuration, so a stranger, a peer of another
 * ensemble or one started with the wrong myid is refused with a reason both sides log.
 */
export interface PeerHello {
  /** Names the ensemble (a cluster check value both sides must agree on). */
  readonly cluster: string;
  readonly senderId: number;
  /** The id the sender believes it dialed. */
  readonly receiverId: number;
  readonly channel: 'election' | 'quorum';
  /** The sender's own ports as its configuration says: they must match the receiver's idea of them. */
  readonly senderQuorumPort: number;
  readonly senderElectionPort: number;
}

/** The receiver's answer to a hello: accepted, or refused with a reason. */
export interface PeerHelloReply {
  readonly accepted: boolean;
  readonly reason: string;
}

/** The largest hello or hello reply; the transport's frame limit before the handshake. */
export const PEER_HELLO_BYTES_MAX = 1024;

/** Encodes and decodes peer messages under one set of limits. */
export interface PeerWire {
  readonly limits: PeerWireLimits;
  /** Throws InvalidArgumentError for a message that breaks the limits (its peers would refuse it). */
  encode(message: PeerMessage): Buffer;
  /**
   * The same bytes as `encode`, in parts whose concatenation is the message: a snapshot comes as its
   * own part (the caller's bytes, not a copy), so a large one is written to a socket without copying.
   */
  encodeParts(message: PeerMessage): Buffer[];
  /** Throws DecodeError, with the reason, for anything but one whole valid message. */
  decode(bytes: Uint8Array): PeerMessage;
  encodeHello(hello: PeerHello): Buffer;
  decodeHello(bytes: Uint8Array): PeerHello;
  encodeHelloReply(reply: PeerHelloReply): Buffer;
  decodeHelloReply(bytes: Uint8Array): PeerHelloReply;
}

export function peerWire(limits: Partial<PeerWireLimits> = {}): PeerWire {
  const all: PeerWireLimits = { ...peerWireDefaults, ...limits };
  for (const [name, value] of Object.entries(all)) {
    if (!Number.isSafeInteger(value) || value < 0) {
      throw new InvalidArgumentError(`peer wire limit ${name} must be a non-negative integer, not ${value}`);
    }
  }
  const layouts = bodyLayouts(all);
  const layoutsByTag = new Map<number, BodyLayout<BodyType>>(
    Object.values(layouts).map((layout) => [layout.tag, layout as BodyLayout<BodyType>]),
  );
  const name = boundedString('name', all.nameBytesMax);
  const notification = record('Notification', {
    state: enumByte('peer state', peerStates),
    leader: safeInteger,
    zxid: longId,
    electionEpoch: longId,
    peerEpoch: longId,
  });
  const config = membershipRecord(all);
  const zabHeader = record('ZabHeader', { link: name, leaderSession: name, seq: safeInteger });
  const hello = record('PeerHello', {
    cluster: boundedString('cluster name', 256),
    senderId: safeInteger,
    receiverId: safeInteger,
    channel: enumByte('channel', ['election', 'quorum'] as const),
    senderQuorumPort: safeInteger,
    senderElectionPort: safeInteger,
  });
  const helloReply = record('PeerHelloReply', { accepted: strictBool, reason: boundedString('reason', 512) });

  const encode = (message: PeerMessage): Buffer => {
    if (message.type === 'notification') {
      // The sender's committed config follows when it has one to tell (Apache's notifications carry it).
      if (message.config === undefined) {
        return frame(KIND_NOTIFICATION, [[notification, message], [bool, false]]);
      }
      const fields = membershipFields(message.config);
      return frame(KIND_NOTIFICATION, [[notification, message], [bool, true], [config, fields]]);
    }
    const layout = layouts[message.body.type] as BodyLayout<BodyType> | undefined;
    if (layout === undefined) throw new InvalidArgumentError(`unknown ZAB body ${message.body.type}`);
    const body = layout.toFields(message.body);
    return frame(KIND_ZAB, [[zabHeader, message], [tagByte, layout.tag], [layout.fields, body]]);
  };

  const decode = (bytes: Uint8Array): PeerMessage =>
    strictly(bytes, 'peer message', (reader, kind) => {
      if (kind === KIND_NOTIFICATION) {
        const vote = { type: 'notification', ...notification.read(reader) } as const;
        if (!strictBool.read(reader)) return vote satisfies Notification;
        const sent = membershipOfFields(config.read(reader) as MembershipFields);
        return { ...vote, config: sent } satisfies Notification;
      }
      if (kind !== KIND_ZAB) throw new DecodeError(`unknown peer message kind ${kind}`);
      const header = zabHeader.read(reader);
      const tag = tagByte.read(reader);
      const layout = layoutsByTag.get(tag);
      if (layout === undefined) throw new DecodeError(`unknown ZAB body type ${tag}`);
      const body = layout.fromFields(layout.fields.read(reader));
      return { type: 'zab', ...header, body } satisfies ZabPacket;
    });

  const encodeParts = (message: PeerMessage): Buffer[] => {
    if (message.type !== 'zab' || message.body.type !== 'snap') return [encode(message)];
    const { snapshot } = message.body;
    if (snapshot.length > all.snapshotBytesMax) {
      const limit = all.snapshotBytesMax;
      throw new InvalidArgumentError(`snapshot of ${snapshot.length} bytes exceeds the limit of ${limit}`);
    }
    // The snapshot is the last field: encode the rest around an empty one, then set its length.
    const head = encode({ ...message, body: { ...message.body, snapshot: new Uint8Array(0) } });
    head.writeInt32BE(snapshot.length, head.length - 4);
    const tail = Buffer.from(snapshot.buffer, snapshot.byteOffset, snapshot.byteLength);
    return [head, tail];
  };

  return {
    limits: all,
    encode,
    encodeParts,
    decode,
    encodeHello: (value) => frame(KIND_HELLO, [[hello, value]]),
    decodeHello: (bytes) => strictly(bytes, 'peer hello', (reader, kind) => {
      if (kind !== KIND_HELLO) throw new DecodeError(`expected a peer hello, got kind ${kind}`);
      return hello.read(reader);
    }),
    encodeHelloReply: (value) => frame(KIND_HELLO_REPLY, [[helloReply, value]]),
    decodeHelloReply: (bytes) => strictly(bytes, 'peer hello reply', (reader, kind) => {
      if (kind !== KIND_HELLO_REPLY) throw new DecodeError(`expected a peer hello reply, got kind ${kind}`);
      return helloReply.read(reader);
    }),
  };
}

const tagByte: JuteType<number> = {
  name: 'tag',
  shape: { kind: 'custom', name: 'tag' },
  minBytes: 1,
  read(r) {
    if (r.remaining < 1) throw new DecodeError('truncated tag: needs 1 byte, 0 left');
    return r.buffer[r.offset++];
  },
  write(w, v) {
    w.buffer[w.offset++] = v;
  },
  size: () => 1,
  describe: (v) => String(v),
};

/** Version byte, kind byte, then each part. */
function frame(kind: number, parts: ReadonlyArray<readonly [JuteType<any>, unknown]>): Buffer {
  let size = 2;
  for (const [type, value] of parts) size += type.size(value);
  const bytes = Buffer.allocUnsafe(size);
  bytes[0] = PEER_WIRE_VERSION;
  bytes[1] = kind;
  const writer = new JuteWriter(bytes, 2);
  for (const [type, value] of parts) type.write(writer, value);
  return bytes;
}

/** Checks the version, reads the rest with `read`, and refuses trailing bytes. */
function strictly<T>(bytes: Uint8Array, what: string, read: (reader: JuteReader, kind: number) => T): T {
  const buffer = Buffer.isBuffer(bytes)
    ? bytes
    : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (buffer.length < 2) throw new DecodeError(`truncated ${what}: ${buffer.length} bytes`);
  if (buffer[0] !== PEER_WIRE_VERSION) {
    throw new DecodeError(
      `unsupported peer protocol version ${buffer[0]} (this server speaks ${PEER_WIRE_VERSION})`,
    );
  }
  const reader = new JuteReader(buffer, 2);
  let value: T;
  try {
    value = read(reader, buffer[1]);
  } catch (error) {
    if (error instanceof DecodeError) {
      throw new DecodeError(`bad ${what}: ${error.message}`, { cause: error });
    }
    // Whatever else went wrong, bytes from the network must not crash the process.
    throw new DecodeError(`bad ${what}: ${String(error)}`, { cause: error });
  }
  if (reader.remaining !== 0) throw new DecodeError(`bad ${what}: ${reader.remaining} trailing bytes`);
  return value;
}

const defaultWire = peerWire();

/** Encodes with the default limits; see `peerWire` for other limits. */
export function encodePeerMessage(message: PeerMessage): Buffer {
  return defaultWire.encode(message);
}

/** Decodes with the default limits; throws DecodeError with the reason for anything malformed. */
export function decodePeerMessage(bytes: Uint8Array): PeerMessage {
  return defaultWire.decode(bytes);
}
