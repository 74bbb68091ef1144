// The public face of control/cluster/: what other folders use. Import from the folder, not its files.

export { ClusterMembership } from "./cluster-membership";
export type { Hello, PeerInfo } from "./cluster-wire";
export { PeerBook } from "./peer-book";
export { replicateLearnedPeers, syncPeers } from "./peer-sync";
export { RaftStreamServer } from "./raft-stream-server";
export { StreamRaftTransport } from "./raft-transport";
