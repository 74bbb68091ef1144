// The public face of runner/ for the composition root (control/main.ts), which runs a local runner.

export { RunnerAgent } from "./agent";
export { createExecutors, type SpawnFn } from "./executors";
export {
  bindUdp,
  cryptoSeededRandom,
  followKeyring,
  Gossip,
  type GossipOptions,
  generateGossipKey,
  KEYRING_FILE,
  Keyring,
  keyFingerprint,
  type MemberView,
  PoolMember,
  readKeyringFile,
  startKeys,
  toDkronMember,
} from "./gossip";
