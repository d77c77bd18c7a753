// The consensus core: fast leader election and ZAB as a pure state machine, for the runtime to drive.

export { QuorumPeer, type PeerStatus, type ReconfigProblem } from './peer.js';
export {
  isJointQuorum, isQuorumOf, isVoterOf, isMemberOf, jointVoters, sameMembers, MembershipLog,
  type Membership, type MembershipChange, type MembershipView,
} from './membership.js';
export type { PeerInput, PeerOutput, TimerName, DurableState } from './io.js';
export { emptyDurableState } from './io.js';
export type { PeerMessage, Notification, ZabPacket, ZabBody, PeerState, Txn, RequestId } from './messages.js';
export { describeMessage } from './messages.js';
export {
  quorumConfig, quorumDefaults, isQuorum, staticMembership, type QuorumConfig, type QuorumConfigInput,
} from './config.js';
export { makeZxid, epochOf, counterOf, describeZxid } from './zxid.js';
export { planSync, type SyncPlan } from './leader.js';
export { voteBeats, type Vote } from './election.js';
export {
  peerWire, peerWireDefaults, encodePeerMessage, decodePeerMessage, peerMessageBytesMax,
  PEER_WIRE_VERSION, PEER_HELLO_BYTES_MAX,
  type PeerWire, type PeerWireLimits, type PeerHello, type PeerHelloReply,
} from './wire.js';
