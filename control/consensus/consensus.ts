import type { ApplyResult, Command, FsmEvent, ResultOf } from "../fsm";

/** Raft role and indexes as the status API shows them. */
export interface ConsensusStatus {
  state: "leader" | "follower" | "candidate" | "learner" | "shutdown";
  term: number;
  leader: string;
  commitIndex: number;
  appliedIndex: number;
  lastLogIndex: number;
  /** The index the latest snapshot covers (0: none yet). */
  snapshotIndex: number;
  /** Log writes this node fsynced since it started, and the entries they carried (group commit: many a write). */
  logSyncs: number;
  logSyncedEntries: number;
}

/**
 * Who acts on an applied entry. `awaited`: a `propose` on this node is waiting for it and its caller
 * does the entry's side effects. `replicated`: nobody here waits (a follower's copy, an entry a
 * previous leader proposed, or a proposal of ours whose caller already gave up on a timeout or a
 * leadership change), so listeners that own side effects do them.
 */
export type EntryOrigin = "awaited" | "replicated";

/** One applied entry as listeners see it. */
export interface AppliedEntry {
  index: number;
  cmd: Command;
  result: ApplyResult;
  origin: EntryOrigin;
}

/** Called on this node after each entry is applied (see `Consensus` for when and what it may do). */
export type AppliedListener = (entry: AppliedEntry) => void;

/**
 * The seam between the control node and its replication: `RaftConsensus` on every node (a single
 * node is a one-voter group).
 *
 * Ordering guarantees, which `consensus.contract.ts` checks:
 * - `propose(cmd)` resolves with the result of applying `cmd` (typed by its command) once the entry
 *   is durable on a quorum and applied to this node's state; it rejects with NOT_LEADER before
 *   anything is written, or with TIMEOUT (outcome unknown) when it was written but not confirmed.
 * - Applied listeners run once per entry, in log order, synchronously after the transaction that
 *   applied it committed (so the state they read already holds it) and before the promise of the
 *   `propose` that wrote it resolves. Every listener sees every entry with its `origin`; the
 *   proposer's caller handles `awaited` entries, listeners handle the rest. ("Entry": one carrying a
 *   command. Raft's own empty and membership entries are not shown, nor the entries a snapshot
 *   installed from the leader covers.)
 * - A listener must not throw (an exception is logged and the next listener still runs) and must
 *   not block; it may call `propose` (the new entry goes after the current one) but must not await
 *   it inside the call.
 * - `propose` rejects with NOT_LEADER before anything is written (or UNAVAILABLE when the node is
 *   not running or the core refuses the proposal), and with TIMEOUT (outcome unknown) when the entry
 *   was written but its commit was not confirmed in time or leadership moved first.
 * - Leadership listeners run in order, on the turn after this node gained or lost leadership
 *   (`isLeader()` answers at once): so the callers of every `propose` resolved before the change
 *   (their continuations run in the same turn) act on their commits while the leader-only parts
 *   are still up, and on a loss every waiting `propose` has already been rejected (TIMEOUT,
 *   outcome unknown).
 */
export interface Consensus {
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Replicates and applies `cmd`; resolves with its typed result (see the ordering above). */
  propose<C extends Command>(cmd: C): Promise<ResultOf<C>>;
  /** Resolves once this node has applied everything committed before the call (linearizable reads). */
  readBarrier(): Promise<void>;
  isLeader(): boolean;
  status(): ConsensusStatus;
  onApplied(listener: AppliedListener): () => void;
  /** Called when this node gains (true) or loses (false) leadership. */
  onLeadership(listener: (leader: boolean) => void): () => void;
}

/** The events of an applied entry that succeeded (none for a rejected one). */
export function eventsOf(entry: AppliedEntry): FsmEvent[] {
  return entry.result.ok ? entry.result.events : [];
}
