// The public face of control/raft: the deterministic core, its wire and storage shapes, the LogStore
// interface and an in-memory store (the SQLite one is control/store/raft-log-store.ts). Drivers (transport, state machine, timers) live outside and use only what is here.

/** The consensus core and its Ready/advance contract. */
export {
  type ConfChangeRequest,
  type PeerProgress,
  type ProposeResult,
  persistBatch,
  RaftNode,
  type RaftNodeOptions,
  type RaftStatus,
  type ReadState,
  type Ready,
  type Role,
  type SoftState,
} from "./core";
/** Thrown when an input reveals a broken Raft invariant; the node must stop. */
export { RaftInvariantError } from "./log";
/** Durable log storage: the interface and both implementations. */
export { checkBatch, type LogStore, MemoryLogStore, type PersistBatch, type StoredState } from "./log-store";
/** Wire and storage shapes (zod schemas and inferred types). */
export {
  type ConfChange,
  type ConfState,
  confStateSchema,
  type Entry,
  entrySchema,
  type HardState,
  type LogPosition,
  type Message,
  messageSchema,
  parseMessage,
  type Snapshot,
  snapshotSchema,
} from "./messages";
/** Tunables with defaults. */
export { type RaftTunables, type RaftTunablesInput, resolveTunables } from "./options";
/** The seeded randomness the core needs. */
export { forkRandom, type Random, seededRandom } from "./random";
/** An empty store's state, for a node that has never run. */
export {
  emptyStoredState,
  fileSnapshot,
  lazySnapshot,
  type SnapshotFile,
  snapshotFileOf,
} from "./storage-types";
