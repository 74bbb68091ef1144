import type { ConfState, Entry, HardState, LogPosition, Message, Snapshot } from "./messages";
import type { ProgressState } from "./progress";
import type { ReadState } from "./read-only";
import type { Role } from "./state";
import type { PersistBatch } from "./storage-types";

/** Role and leader, reported when either changes. */
export interface SoftState {
  role: Role;
  leader: string | null;
}

/**
 * What the driver must do, in order: send `messages` now; durably write `hardState`, `snapshot`
 * (with `discardLog`), `compact` and `entries` in one transaction (see `persistBatch`); if
 * `restoreSnapshot`, load the state machine from `snapshot`; apply `committedEntries` in order;
 * then send `messagesAfterPersist`; then call `advance(ready)`.
 */
export interface Ready {
  softState?: SoftState;
  hardState?: HardState;
  entries: Entry[];
  snapshot?: Snapshot;
  /** The snapshot came from the leader: replace the stored log and restore the state machine from it. */
  restoreSnapshot: boolean;
  /** The log now starts after this position; stored entries up to it may go. */
  compact?: LogPosition;
  committedEntries: Entry[];
  /** Confirmed ReadIndex reads; serve each once the state machine has applied its index. */
  readStates: ReadState[];
  /** Messages that do not depend on this Ready's writes (the leader's appends go out in parallel). */
  messages: Message[];
  /** Votes, acks and anything else that must not leave before this Ready's writes are durable. */
  messagesAfterPersist: Message[];
  /** The core would like a snapshot: call `compact(appliedIndex, data)` when convenient. */
  wantSnapshot: boolean;
  /**
   * Whether the writes must be fsynced before `messagesAfterPersist` go out (etcd's MustSync):
   * entries, a new term or vote, or a snapshot. A commit-index-only change need not be, since a lost
   * commit index is relearned from the leader (and never falls below the state machine's applied).
   */
  mustSync: boolean;
}

/** Replication progress of one follower, as the leader sees it. */
export interface PeerProgress {
  match: number;
  next: number;
  state: ProgressState;
}

/** What the node's status API shows. */
export interface RaftStatus {
  id: string;
  role: Role;
  term: number;
  leader: string | null;
  commitIndex: number;
  appliedIndex: number;
  lastIndex: number;
  snapshotIndex: number;
  conf: Pick<ConfState, "voters" | "learners">;
  /** Only on the leader. */
  progress?: Record<string, PeerProgress>;
}

/** Turns a Ready into the one atomic LogStore write it implies. */
export function persistBatch(rd: Ready): PersistBatch {
  const b: PersistBatch = { entries: rd.entries, discardLog: rd.restoreSnapshot, sync: rd.mustSync };
  if (rd.hardState) b.hardState = rd.hardState;
  if (rd.snapshot) b.snapshot = rd.snapshot;
  if (rd.compact) b.compact = rd.compact;
  return b;
}
