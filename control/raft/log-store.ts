import { RaftInvariantError } from "./log";
import type { LogPosition } from "./messages";
import { emptyStoredState, type PersistBatch, type StoredState } from "./storage-types";

export type { PersistBatch, StoredState };
export { emptyStoredState };

/**
 * Durable storage for one node's Raft log, hard state and latest snapshot. Synchronous on purpose:
 * `save` returns only once the batch is durable, and the caller sends acknowledgements after it.
 * Every implementation passes the contract suite in log-store.contract.ts.
 */
export interface LogStore {
  /** Everything needed to restart the node. */
  load(): StoredState;
  /** Applies one Ready's writes atomically (see PersistBatch for the order); durable on return. */
  save(batch: PersistBatch): void;
  /** Releases the underlying resources; the store is unusable afterwards. */
  close(): void;
}

/**
 * Validates a batch against the stored log (start position and last index) and returns where the log
 * will start after it; a gap or an overwrite of the compacted prefix would silently corrupt the log.
 */
export function checkBatch(batch: PersistBatch, logStart: LogPosition, lastIndex: number): LogPosition {
  let start = logStart;
  let last = batch.discardLog ? logStart.index : lastIndex;
  if (batch.compact && (batch.discardLog || batch.compact.index > start.index)) {
    start = batch.compact;
    last = Math.max(last, start.index);
  }
  const first = batch.entries[0];
  if (first && (first.index <= start.index || first.index > last + 1)) {
    throw new RaftInvariantError(
      `batch entries start at ${first.index}, log holds (${start.index}, ${last}]`,
    );
  }
  batch.entries.forEach((e, i) => {
    if (e.index !== (first?.index ?? 0) + i) throw new RaftInvariantError("batch entries are not contiguous");
  });
  return start;
}

/** A LogStore in memory: the simulator's "disk" (it outlives a simulated crash) and a test double. */
export class MemoryLogStore implements LogStore {
  private state: StoredState = emptyStoredState();
  /** The hard state as of the last fsynced batch; `powerLoss` falls back to it. */
  private syncedHardState = this.state.hardState;
  /** Number of batches saved, for tests and benches. */
  saves = 0;

  load(): StoredState {
    return structuredClone(this.state);
  }

  save(batch: PersistBatch): void {
    const st = this.state;
    const logStart = checkBatch(batch, st.logStart, st.logStart.index + st.entries.length);
    // Entries are contiguous from logStart + 1, so positions are plain offsets.
    const drop = logStart.index - st.logStart.index;
    const entries = batch.discardLog ? [] : drop > 0 ? st.entries.slice(drop) : st.entries;
    const first = batch.entries[0];
    if (first) {
      entries.length = first.index - logStart.index - 1;
      for (const e of batch.entries) entries.push({ ...e });
    }
    this.state = {
      hardState: batch.hardState ? { ...batch.hardState } : st.hardState,
      snapshot: batch.snapshot ? structuredClone(batch.snapshot) : st.snapshot,
      logStart: { ...logStart },
      entries,
    };
    if (batch.sync !== false) this.syncedHardState = this.state.hardState;
    this.saves++;
  }

  /**
   * Simulates a power cut: what was written without fsync is gone. Only commit-index-only batches
   * are written that way, so that is all that can roll back (a later fsync covers earlier writes).
   */
  powerLoss(): void {
    this.state.hardState = { ...this.syncedHardState };
  }

  /** Whether the durable log holds (index, term), or has compacted it away (only applied entries are). */
  covers(index: number, term: number): boolean {
    const st = this.state;
    if (index <= st.logStart.index) return true;
    return st.entries[index - st.logStart.index - 1]?.term === term;
  }

  close(): void {}
}
