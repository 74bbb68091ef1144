// What control nodes tell each other (and the raft CLI) about the cluster over HTTP, the
// /_raft/* routes of control/http/cluster-routes.ts.

/** What GET /_raft/hello tells a node that is discovering its peers. */
export interface Hello {
  id: string;
  addr: string;
  bootstrapExpect: number;
  /** True once this node runs Raft (bootstrapped or joined). */
  started: boolean;
  leader: string;
  peers: Record<string, string>;
}

/** One peer in `dkron raft list-peers`. */
export interface PeerInfo {
  id: string;
  addr: string;
  suffrage: "voter" | "learner";
  leader: boolean;
  match?: number;
}
