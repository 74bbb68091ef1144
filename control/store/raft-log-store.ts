import { mkdirSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import Database from "better-sqlite3";
import { asc, eq, gt, gte, lte, sql } from "drizzle-orm";
import { type BetterSQLite3Database, drizzle } from "drizzle-orm/better-sqlite3";
import { migrate } from "drizzle-orm/better-sqlite3/migrator";
import {
  checkBatch,
  confStateSchema,
  emptyStoredState,
  fileSnapshot,
  type LogPosition,
  type LogStore,
  lazySnapshot,
  type PersistBatch,
  RaftInvariantError,
  type StoredState,
  snapshotFileOf,
} from "../raft";
import { raftEntries, raftHardState, raftSnapshot } from "./raft-log-schema";

const MIGRATIONS = fileURLToPath(new URL("../../migrations/raft-log", import.meta.url));
/** Its own journal table, so the log store can share a file with the state store's migrations. */
const MIGRATIONS_TABLE = "__raft_log_migrations";
const SYNCHRONOUS_FULL = 2;
const schema = { raftEntries, raftHardState, raftSnapshot };
/** The snapshot directory's name, beside raft.db. */
export const SNAPSHOT_DIR = "snapshots";
const EMPTY = Buffer.alloc(0);

/** The name of the snapshot file of the state at `index`. */
export function snapshotFileName(index: number): string {
  return `state-${index}.db`;
}

/** The index a snapshot file name holds, or undefined for another name (a temporary file). */
function snapshotFileIndex(name: string): number | undefined {
  const m = /^state-(\d+)\.db$/.exec(name);
  return m ? Number(m[1]) : undefined;
}

/**
 * The durable LogStore: better-sqlite3 in WAL mode with synchronous=FULL, so a commit fsyncs the WAL
 * (better-sqlite3 defaults WAL databases to NORMAL, under which a committed transaction can roll back
 * on power loss — and a vote or ack sent after it would be a lie). One transaction per Ready batch
 * amortises the fsync over everything in it. Queries are drizzle prepared statements.
 */
export class SqliteLogStore implements LogStore {
  private readonly db: BetterSQLite3Database<typeof schema>;
  private logStart: LogPosition = { index: 0, term: 0 };
  private last = 0;
  private readonly q;
  private readonly tx: (batch: PersistBatch) => void;

  private constructor(
    private readonly sqlite: Database.Database,
    /** Where snapshots this node takes itself live as files (null for ":memory:"). */
    readonly snapshotDir: string | null,
  ) {
    this.db = drizzle(sqlite, { schema });
    const ph = (name: string) => sql.placeholder(name);
    this.q = {
      insertEntry: this.db
        .insert(raftEntries)
        .values({ idx: ph("idx"), term: ph("term"), type: ph("type"), data: ph("data") })
        .prepare(),
      deleteFrom: this.db
        .delete(raftEntries)
        .where(gte(raftEntries.idx, ph("idx")))
        .prepare(),
      deleteUpTo: this.db
        .delete(raftEntries)
        .where(lte(raftEntries.idx, ph("idx")))
        .prepare(),
      deleteAll: this.db.delete(raftEntries).prepare(),
      saveHardState: this.db
        .update(raftHardState)
        .set({ term: sql`${ph("term")}`, vote: sql`${ph("vote")}`, commit: sql`${ph("commit")}` })
        .where(eq(raftHardState.id, 1))
        .prepare(),
      saveLogStart: this.db
        .update(raftHardState)
        .set({ logStartIndex: sql`${ph("index")}`, logStartTerm: sql`${ph("term")}` })
        .where(eq(raftHardState.id, 1))
        .prepare(),
      saveSnapshot: this.db
        .insert(raftSnapshot)
        .values({
          id: 1,
          idx: ph("idx"),
          term: ph("term"),
          conf: ph("conf"),
          data: ph("data"),
          file: ph("file"),
        })
        .onConflictDoUpdate({
          target: raftSnapshot.id,
          set: {
            idx: sql`excluded.idx`,
            term: sql`excluded.term`,
            conf: sql`excluded.conf`,
            data: sql`excluded.data`,
            file: sql`excluded.file`,
          },
        })
        .prepare(),
    };
    this.tx = sqlite.transaction((batch: PersistBatch) => this.write(batch));
  }

  /**
   * Opens (creating if needed) the log database, asserts WAL and synchronous=FULL by reading the
   * pragmas back, and applies the drizzle-kit migrations. ":memory:" works for tests (no WAL there).
   */
  static open(file: string): SqliteLogStore {
    if (file !== ":memory:") mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
    const sqlite = new Database(file);
    try {
      sqlite.pragma("journal_mode = WAL");
      sqlite.pragma("synchronous = FULL");
      const mode = String(sqlite.pragma("journal_mode", { simple: true })).toLowerCase();
      const sync = Number(sqlite.pragma("synchronous", { simple: true }));
      if ((file !== ":memory:" && mode !== "wal") || sync !== SYNCHRONOUS_FULL) {
        throw new Error(
          `raft log ${file}: need journal_mode=wal and synchronous=FULL(2), got ${mode}/${sync}`,
        );
      }
      migrate(drizzle(sqlite), { migrationsFolder: MIGRATIONS, migrationsTable: MIGRATIONS_TABLE });
      sqlite
        .prepare(
          "INSERT OR IGNORE INTO raft_hard_state (id, term, vote, commit_index, log_start_index, log_start_term) VALUES (1, 0, NULL, 0, 0, 0)",
        )
        .run();
      const store = new SqliteLogStore(
        sqlite,
        file === ":memory:" ? null : join(dirname(file), SNAPSHOT_DIR),
      );
      store.refreshBounds();
      store.pruneSnapshotFiles(true);
      return store;
    } catch (err) {
      sqlite.close();
      throw err;
    }
  }

  /** The pragma value the store runs with (2 = FULL); exposed so tests can assert it. */
  synchronousLevel(): number {
    return Number(this.sqlite.pragma("synchronous", { simple: true }));
  }

  private refreshBounds(): void {
    const hs = this.db.select().from(raftHardState).where(eq(raftHardState.id, 1)).get();
    this.logStart = { index: hs?.logStartIndex ?? 0, term: hs?.logStartTerm ?? 0 };
    const row = this.db
      .select({ max: sql<number | null>`max(${raftEntries.idx})` })
      .from(raftEntries)
      .get();
    this.last = row?.max ?? this.logStart.index;
  }

  load(): StoredState {
    const st = emptyStoredState();
    const hs = this.db.select().from(raftHardState).where(eq(raftHardState.id, 1)).get();
    if (hs) {
      st.hardState = { term: hs.term, vote: hs.vote, commit: hs.commit };
      st.logStart = { index: hs.logStartIndex, term: hs.logStartTerm };
    }
    const snap = this.db
      .select({
        idx: raftSnapshot.idx,
        term: raftSnapshot.term,
        conf: raftSnapshot.conf,
        file: raftSnapshot.file,
      })
      .from(raftSnapshot)
      .where(eq(raftSnapshot.id, 1))
      .get();
    if (snap) {
      // The data (the whole state database, ~130 MB at 100,000 jobs) is read only when a lagging
      // follower needs it: a restarted node that never sends a snapshot never holds it in memory.
      const meta = { index: snap.idx, term: snap.term, conf: confStateSchema.parse(JSON.parse(snap.conf)) };
      const file = snap.file;
      st.snapshot = file
        ? fileSnapshot(meta, { file, read: () => this.readSnapshotFile(file) })
        : lazySnapshot(meta, () => this.snapshotData(snap.idx));
    }
    st.entries = this.db
      .select()
      .from(raftEntries)
      .where(gt(raftEntries.idx, st.logStart.index))
      .orderBy(asc(raftEntries.idx))
      .all()
      .map((r) => ({ index: r.idx, term: r.term, type: r.type, data: r.data }));
    st.entries.forEach((e, i) => {
      if (e.index !== st.logStart.index + 1 + i) throw new RaftInvariantError("stored log has a gap");
    });
    return st;
  }

  /** The stored snapshot's data; it must still be the snapshot at `index` (a newer one replaces it). */
  private snapshotData(index: number): string {
    const row = this.db
      .select({ idx: raftSnapshot.idx, data: raftSnapshot.data })
      .from(raftSnapshot)
      .where(eq(raftSnapshot.id, 1))
      .get();
    if (row?.idx !== index) throw new RaftInvariantError(`snapshot ${index} was replaced before it was read`);
    return row.data.toString("utf8");
  }

  /** A snapshot file's content as snapshot data (base64, as the state machine's snapshots are). */
  readSnapshotFile(file: string): string {
    if (!this.snapshotDir) throw new RaftInvariantError("an in-memory log store has no snapshot files");
    return readFileSync(join(this.snapshotDir, file)).toString("base64");
  }

  /** Deletes a snapshot file that was written but not recorded (never the stored snapshot's). */
  discardSnapshotFile(file: string): void {
    if (!this.snapshotDir) return;
    const stored = this.db
      .select({ file: raftSnapshot.file })
      .from(raftSnapshot)
      .where(eq(raftSnapshot.id, 1))
      .get();
    if (stored?.file !== file) rmSync(join(this.snapshotDir, file), { force: true });
  }

  /**
   * Removes snapshot files nothing will read: at open, every one but the stored snapshot's (older
   * ones, and what a crash left half-written or unrecorded); after a snapshot is saved, those of an
   * index at or below it. A newer one may be a snapshot still being taken (a follower that installs
   * its leader's snapshot while its own is written), so it stays.
   */
  private pruneSnapshotFiles(atOpen: boolean): void {
    const dir = this.snapshotDir;
    if (!dir) return;
    const row = this.db
      .select({ idx: raftSnapshot.idx, file: raftSnapshot.file })
      .from(raftSnapshot)
      .where(eq(raftSnapshot.id, 1))
      .get();
    let names: string[];
    try {
      names = readdirSync(dir);
    } catch {
      return;
    }
    for (const n of names) {
      if (n === row?.file) continue;
      const index = snapshotFileIndex(n);
      if (atOpen || (index !== undefined && index <= (row?.idx ?? 0))) rmSync(join(dir, n), { force: true });
    }
  }

  save(batch: PersistBatch): void {
    // better-sqlite3's transaction() commits (and, with synchronous=FULL, fsyncs) before returning,
    // or rolls back and rethrows; either way the in-memory bounds stay in step with the file.
    // A batch that needs no fsync (only the commit index moved) commits under NORMAL: still atomic,
    // and made durable by the next FULL commit, since the WAL is synced up to that point.
    const lazy = batch.sync === false;
    if (lazy) this.sqlite.pragma("synchronous = NORMAL");
    try {
      this.tx(batch);
      if (batch.snapshot) this.pruneSnapshotFiles(false);
    } catch (err) {
      this.refreshBounds();
      throw err;
    } finally {
      if (lazy) this.sqlite.pragma("synchronous = FULL");
    }
  }

  private write(batch: PersistBatch): void {
    const start = checkBatch(batch, this.logStart, this.last);
    const q = this.q;
    if (batch.snapshot) {
      const { meta } = batch.snapshot;
      // A snapshot this node wrote to a file is recorded by name; reading its data here would undo
      // the point of writing it off the event loop.
      const file = snapshotFileOf(batch.snapshot);
      q.saveSnapshot.run({
        idx: meta.index,
        term: meta.term,
        conf: JSON.stringify(meta.conf),
        data: file ? EMPTY : Buffer.from(batch.snapshot.data),
        file: file ?? null,
      });
    }
    if (batch.discardLog) {
      q.deleteAll.run();
      this.last = start.index;
    }
    if (start.index !== this.logStart.index || start.term !== this.logStart.term) {
      q.deleteUpTo.run({ idx: start.index });
      q.saveLogStart.run({ index: start.index, term: start.term });
      this.logStart = { ...start };
      this.last = Math.max(this.last, start.index);
    }
    const first = batch.entries[0];
    if (first) {
      if (first.index <= this.last) q.deleteFrom.run({ idx: first.index });
      for (const e of batch.entries)
        q.insertEntry.run({ idx: e.index, term: e.term, type: e.type, data: e.data });
      this.last = first.index + batch.entries.length - 1;
    }
    if (batch.hardState) {
      const { term, vote, commit } = batch.hardState;
      q.saveHardState.run({ term, vote, commit });
    }
  }

  close(): void {
    this.sqlite.close();
  }
}
