// The public face of runner/ for the composition root (control/main.ts), which runs a local runner.

export { RunnerAgent } from "./agent";
export { createExecutors, type SpawnFn } from "./executors";
export {
  bindUdp,
  cryptoSeededRandom,
  Gossip,
  type GossipOptions,
  generateGossipKey,
  Keyring,
  type MemberView,
  PoolMember,
  toDkronMember,
} from "./gossip";
