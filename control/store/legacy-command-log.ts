import type Database from "better-sqlite3";

/**
 * Where an old data dir's command log waits to be adopted. Raw SQL, outside the drizzle schema: the
 * bridge from the one-node command log of single nodes before they ran as one-voter Raft groups.
 */
export const LEGACY_COMMAND_LOG = "legacy_command_log";

/**
 * Runs before the state migrations, whose 0003 drops `command_log`: copies its rows, if any, into
 * `legacy_command_log` for control/consensus/adopt-command-log.ts to move onto raft.db. The copy
 * commits (one fsynced transaction) before the migration's DROP can run; a crash between the two leaves
 * `command_log` in place and the next open copies again, over the same rows (an index holds one
 * entry, so the copy only ever grows).
 */
export function preserveLegacyCommandLog(sqlite: Database.Database): void {
  if (!tableExists(sqlite, "command_log")) return;
  const { n } = sqlite.prepare("SELECT count(*) AS n FROM command_log").get() as { n: number };
  if (n === 0) return;
  // Fsynced even on a NORMAL connection: the copy is the only record of the unapplied tail.
  const was = Number(sqlite.pragma("synchronous", { simple: true }));
  sqlite.pragma("synchronous = FULL");
  try {
    sqlite.transaction(() => {
      sqlite.exec(
        `CREATE TABLE IF NOT EXISTS ${LEGACY_COMMAND_LOG} (idx integer PRIMARY KEY NOT NULL, term integer NOT NULL, command text NOT NULL)`,
      );
      sqlite.exec(
        `INSERT OR REPLACE INTO ${LEGACY_COMMAND_LOG} (idx, term, command) SELECT idx, term, command FROM command_log`,
      );
    })();
  } finally {
    sqlite.pragma(`synchronous = ${was}`);
  }
}

/** One row of the legacy command log. */
export interface LegacyCommandLogRow {
  index: number;
  term: number;
  command: string;
}

/** The legacy command log's rows above `after`, in index order (none when there is no such table). */
export function readLegacyCommandLog(sqlite: Database.Database, after: number): LegacyCommandLogRow[] {
  if (!tableExists(sqlite, LEGACY_COMMAND_LOG)) return [];
  return sqlite
    .prepare(`SELECT idx AS "index", term, command FROM ${LEGACY_COMMAND_LOG} WHERE idx > ? ORDER BY idx`)
    .all(after) as LegacyCommandLogRow[];
}

/** Drops the legacy command log once raft.db holds what it carried. */
export function dropLegacyCommandLog(sqlite: Database.Database): void {
  sqlite.exec(`DROP TABLE IF EXISTS ${LEGACY_COMMAND_LOG}`);
}

function tableExists(sqlite: Database.Database, name: string): boolean {
  return (
    sqlite.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?").get(name) !== undefined
  );
}
