// The public face of runner/gossip: the pure membership core, its wire format and config, the keyring
// and the node:dgram shell.

export {
  type GossipConfig,
  type GossipConfigInput,
  GossipConfigSchema,
  pushPullIntervalMs,
  remainingSuspicionMs,
  resolveGossipConfig,
  retransmitLimit,
  suspicionConfirmations,
  suspicionMaxMs,
  suspicionMinMs,
} from "./config";
export { toDkronMember } from "./dkron-member";
export {
  cryptoSeededRandom,
  Gossip,
  type GossipCounters,
  type GossipDeps,
  type GossipOptions,
  type GossipState,
} from "./gossip";
export {
  ENCRYPTION_OVERHEAD,
  generateGossipKey,
  Keyring,
  keyFingerprint,
  parseGossipKey,
} from "./keyring";
export { followKeyring, KEYRING_FILE, readKeyringFile, startKeys, writeKeyringFile } from "./keyring-file";
export {
  hostPort,
  type MemberEvent,
  type MemberEventType,
  type MemberStatus,
  Membership,
  type MemberView,
  type Outgoing,
  type Step,
} from "./membership";
export {
  decodePacket,
  encodePacket,
  GOSSIP_PROTOCOL,
  type GossipMessage,
  GossipRole,
  META_MAX_BYTES,
  type MemberMeta,
  MemberMetaSchema,
  type Packet,
  packetBytes,
} from "./messages";
export { PoolMember, type PoolMemberOptions } from "./pool-member";
export { type Random, seededRandom } from "./random";
export { bindUdp, type DatagramTransport, localAddressToward } from "./udp-transport";
