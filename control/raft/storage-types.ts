import type { Entry, HardState, LogPosition, Snapshot } from "./messages";

/** Everything a node needs to restart: what a LogStore holds durably. */
export interface StoredState {
  hardState: HardState;
  /** The latest snapshot, or null before the first one (its data may be read on demand while the store is open). */
  snapshot: Snapshot | null;
  /** The log holds the entries after this position (the compacted prefix ends here). */
  logStart: LogPosition;
  /** Contiguous entries from logStart.index + 1. */
  entries: Entry[];
}

/**
 * One Ready's writes, applied atomically and in this order: save `snapshot`; if `discardLog`, drop
 * every entry; if `compact`, drop entries up to it and remember it as the log start; write `entries`
 * (dropping any stored entry at or after the first one's index); save `hardState`.
 */
export interface PersistBatch {
  hardState?: HardState;
  snapshot?: Snapshot;
  discardLog: boolean;
  /** False when losing this batch in a power cut is harmless (commit index only): no fsync needed. */
  sync?: boolean;
  compact?: LogPosition;
  entries: Entry[];
}

/** The state of an empty store: a node that has never run. */
export function emptyStoredState(): StoredState {
  return {
    hardState: { term: 0, vote: null, commit: 0 },
    snapshot: null,
    logStart: { index: 0, term: 0 },
    entries: [],
  };
}

/**
 * Snapshot data the state machine already wrote to a file (off the event loop): the store records the
 * file instead of the bytes, and the data is read (base64, as InstallSnapshot carries it) only when a
 * lagging follower needs it.
 */
export interface SnapshotFile {
  /** The file's name in the store's snapshot directory. */
  file: string;
  /** Reads the file's content as the snapshot's data string. */
  read: () => string;
}

const FILE = Symbol("snapshot file");

/** A snapshot backed by a file: `data` is read on first use and kept. */
export function fileSnapshot(meta: Snapshot["meta"], src: SnapshotFile): Snapshot {
  const snap = lazySnapshot(meta, src.read);
  Object.defineProperty(snap, FILE, { value: src.file, enumerable: false });
  return snap;
}

/** A snapshot whose data is read on first use (and kept): a blob nobody asks for is never loaded. */
export function lazySnapshot(meta: Snapshot["meta"], read: () => string): Snapshot {
  let data: string | undefined;
  return {
    meta,
    get data() {
      data ??= read();
      return data;
    },
  };
}

/** The file a snapshot made by `fileSnapshot` lives in; undefined for one that holds its data. */
export function snapshotFileOf(s: Snapshot): string | undefined {
  return (s as { [FILE]?: string })[FILE];
}
