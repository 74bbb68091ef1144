import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import { fileURLToPath } from "node:url";
import Database from "better-sqlite3";
import { drizzle } from "drizzle-orm/better-sqlite3";
import { migrate } from "drizzle-orm/better-sqlite3/migrator";
import { backfillJobIndex } from "./job-index";
import { preserveLegacyCommandLog } from "./legacy-command-log";
import * as schema from "./schema";
import type { StateDb } from "./state-db";

export type { StateDb } from "./state-db";

const MIGRATIONS = fileURLToPath(new URL("../../migrations/state", import.meta.url));

/** How the state database syncs its commits. */
export interface StateDbOptions {
  /**
   * FULL (default): every commit is fsynced; for a database that is its own durable record (tests).
   * NORMAL: WAL commits survive a process crash but may roll back on power loss; for a Raft node,
   * whose state is a replay of raft.db (FULL): `last_applied` rolls back with the rows, and the entries
   * after it are applied again from the log, as etcd's backend does with its consistent index.
   */
  synchronous?: "FULL" | "NORMAL";
}

/**
 * Opens (creating if needed) the state database with WAL and the asked synchronous mode, asserts both
 * took effect (better-sqlite3's WAL default is NORMAL, which can lose a committed transaction on power
 * loss), keeps an old data dir's command log for adoption (it must survive the migration that drops
 * it), and applies the drizzle-kit migrations. Use ":memory:" in tests.
 */
export function openStateDb(file: string, opts: StateDbOptions = {}): StateDb {
  const want = opts.synchronous ?? "FULL";
  if (file !== ":memory:") mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  const sqlite = new Database(file);
  sqlite.pragma("journal_mode = WAL");
  sqlite.pragma(`synchronous = ${want}`);
  sqlite.pragma("foreign_keys = ON");
  sqlite.pragma("busy_timeout = 5000");
  const mode = String(sqlite.pragma("journal_mode", { simple: true })).toLowerCase();
  const sync = Number(sqlite.pragma("synchronous", { simple: true }));
  const wantCode = want === "FULL" ? 2 : 1;
  if ((file !== ":memory:" && mode !== "wal") || sync !== wantCode) {
    sqlite.close();
    throw new Error(
      `state db ${file}: expected journal_mode=wal and synchronous=${want}(${wantCode}), got ${mode}/${sync}`,
    );
  }
  const db = drizzle(sqlite, { schema });
  preserveLegacyCommandLog(sqlite);
  migrate(db, { migrationsFolder: MIGRATIONS });
  const state: StateDb = { sqlite, db, close: () => sqlite.close() };
  backfillJobIndex(state);
  return state;
}
