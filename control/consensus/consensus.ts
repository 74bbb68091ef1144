import type { ApplyResult } from "../fsm/apply";
import type { Command } from "../fsm/commands";

/** Raft role and indexes as the status API shows them. */
export interface ConsensusStatus {
  state: "leader" | "follower" | "candidate" | "learner" | "shutdown";
  term: number;
  leader: string;
  commitIndex: number;
  appliedIndex: number;
  lastLogIndex: number;
}

/** Called on this node after each entry is applied (in log order). */
export type AppliedListener = (index: number, cmd: Command, result: ApplyResult) => void;

/**
 * The seam between the control node and its replication: RaftConsensus on every node (a single
 * node is a one-voter group), the one-node test double in the virtual-time harness. `propose`
 * resolves once the command is durable on a quorum and applied locally.
 */
export interface Consensus {
  start(): Promise<void>;
  stop(): Promise<void>;
  propose(cmd: Command): Promise<ApplyResult>;
  /** Resolves once this node has applied everything committed before the call (linearizable reads). */
  readBarrier(): Promise<void>;
  isLeader(): boolean;
  status(): ConsensusStatus;
  onApplied(listener: AppliedListener): () => void;
  /** Called when this node gains (true) or loses (false) leadership. */
  onLeadership(listener: (leader: boolean) => void): () => void;
}
