// Messages between peers: election notifications, and ZAB packets carried on a learner's link.
// They are plain data; the runtime chooses the bytes on the wire (no Java interop is needed).

import type { Membership } from './membership.js';
import { describeZxid } from './zxid.js';

export type PeerState = 'LOOKING' | 'FOLLOWING' | 'LEADING' | 'OBSERVING';

/** A transaction as consensus sees it: its zxid and opaque bytes (the prepared txn record). */
export interface Txn {
  readonly zxid: bigint;
  readonly payload: Uint8Array;
}

/** Identifies a request of the shell's (a client write, a sync); opaque to consensus. */
export type RequestId = number;

/** A fast-leader-election notification: the sender's state and vote, and its election round. */
export interface Notification {
  readonly type: 'notification';
  readonly state: PeerState;
  /** Proposed leader's server id; -1 when an observer has no one to propose yet. */
  readonly leader: number;
  /** Proposed leader's last logged zxid. */
  readonly zxid: bigint;
  /** The sender's logical clock (election round). */
  readonly electionEpoch: bigint;
  /** Proposed leader's currentEpoch. */
  readonly peerEpoch: bigint;
  /** The sender's committed config: a peer that knows an older one takes it (a server added back). */
  readonly config?: Membership;
}

/**
 * A ZAB packet on a link. A link is one learner's connection to one leadership: the learner names it
 * (`link`) when it starts following, the leader names its term of leadership (`leaderSession`, empty
 * until the learner hears it), and `seq` numbers each direction from 0. A receiver drops duplicates and
 * treats a gap or a different session as a broken connection, so ZAB gets TCP's guarantees (FIFO, and
 * no conversation continued across a restart) even from a lossy network.
 */
export interface ZabPacket {
  readonly type: 'zab';
  readonly link: string;
  readonly leaderSession: string;
  readonly seq: number;
  readonly body: ZabBody;
}

export type ZabBody =
  | { readonly type: 'followerInfo'; readonly acceptedEpoch: bigint; readonly observer: boolean }
  | { readonly type: 'leaderInfo'; readonly epoch: bigint }
  /** currentEpoch is -1 when the learner had already accepted this epoch (it is then not a promise). */
  | { readonly type: 'ackEpoch'; readonly lastZxid: bigint; readonly currentEpoch: bigint }
  /**
   * Sent just before the sync base (DIFF, TRUNC or SNAP): the config in force at the base's zxid,
   * which the learner takes as its own from there (a joining server may have started with another).
   */
  | { readonly type: 'config'; readonly membership: Membership }
  /** Sync by difference: the learner's log up to zxid is part of the leader's history. */
  | { readonly type: 'diff'; readonly zxid: bigint }
  /** Sync by truncation: the learner drops its txns after zxid, then continues as DIFF from zxid. */
  | { readonly type: 'trunc'; readonly zxid: bigint }
  /** Sync by snapshot: the learner replaces its state with the leader's state as of zxid. */
  | { readonly type: 'snap'; readonly zxid: bigint; readonly snapshot: Uint8Array }
  | { readonly type: 'proposal'; readonly txn: Txn }
  | { readonly type: 'commit'; readonly zxid: bigint }
  | { readonly type: 'inform'; readonly txn: Txn }
  /** End of the sync stream; the learner's log is committed through committedZxid once UPTODATE comes. */
  | { readonly type: 'newLeader'; readonly zxid: bigint; readonly committedZxid: bigint }
  | { readonly type: 'ack'; readonly zxid: bigint }
  | { readonly type: 'upToDate' }
  | { readonly type: 'ping' }
  /** The learner's answer to a ping, with its clients' session touches (opaque) if any. */
  | { readonly type: 'pingReply'; readonly sessionTouches?: Uint8Array }
  /** A client write forwarded from a learner to the leader, opaque to consensus. */
  | { readonly type: 'request'; readonly requestId: RequestId; readonly request: Uint8Array }
  | { readonly type: 'syncRequest'; readonly requestId: RequestId }
  /** The leader's answer to a sync: it is released once the learner has applied through zxid. */
  | { readonly type: 'syncReply'; readonly requestId: RequestId; readonly zxid: bigint };

export type PeerMessage = Notification | ZabPacket;

/** One-line form of a message for logs, transcripts and failure reports. */
export function describeMessage(message: PeerMessage): string {
  if (message.type === 'notification') {
    const m = message;
    return `vote ${m.state} leader=${m.leader} zxid=${describeZxid(m.zxid)} round=${m.electionEpoch} ` +
      `peerEpoch=${m.peerEpoch}`;
  }
  return `zab ${message.link}#${message.seq} ${describeBody(message.body)}`;
}

function describeBody(body: ZabBody): string {
  switch (body.type) {
    case 'proposal':
    case 'inform':
      return `${body.type} ${describeZxid(body.txn.zxid)}`;
    case 'newLeader':
      return `newLeader ${describeZxid(body.zxid)} committed through ${describeZxid(body.committedZxid)}`;
    case 'diff':
    case 'trunc':
    case 'snap':
    case 'commit':
    case 'ack':
      return `${body.type} ${describeZxid(body.zxid)}`;
    case 'config':
      return `config v=${describeZxid(body.membership.version)} voters=${body.membership.voters} ` +
        `observers=${body.membership.observers}`;
    case 'followerInfo':
      return `followerInfo acceptedEpoch=${body.acceptedEpoch}${body.observer ? ' observer' : ''}`;
    case 'leaderInfo':
      return `leaderInfo epoch=${body.epoch}`;
    case 'ackEpoch':
      return `ackEpoch last=${describeZxid(body.lastZxid)} currentEpoch=${body.currentEpoch}`;
    case 'request':
    case 'syncRequest':
      return `${body.type} ${body.requestId}`;
    case 'syncReply':
      return `syncReply ${body.requestId} through ${describeZxid(body.zxid)}`;
    default:
      return body.type;
  }
}
