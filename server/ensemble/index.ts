// The replicated server: ensemble members over TCP and disk, and whole ensembles in process.

export {
  startEnsemble,
  startEnsembleMember,
  startMemberFromConfig,
  quorumConfigOf,
  ensembleConfigText,
  type RunningEnsemble,
  type RunningMember,
  type StartEnsembleOptions,
  type StartMemberOptions,
  type QuorumTuning,
} from './server.js';
export { EnsembleMember, type EnsembleMemberOptions, type MemberHost } from './member.js';
export { MemoryDisk, MemoryNetwork, MemoryStorage, type MemoryNetworkOptions } from './memory.js';
export type { PeerAddress, PeerStorage, PeerTransport } from './seams.js';
