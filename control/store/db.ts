import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import { fileURLToPath } from "node:url";
import Database from "better-sqlite3";
import { type BetterSQLite3Database, drizzle } from "drizzle-orm/better-sqlite3";
import { migrate } from "drizzle-orm/better-sqlite3/migrator";
import * as schema from "./schema";

/** The state database: the raw handle (for transactions and pragmas) and the drizzle view. */
export interface StateDb {
  sqlite: Database.Database;
  db: BetterSQLite3Database<typeof schema>;
  close(): void;
}

const MIGRATIONS = fileURLToPath(new URL("../../migrations", import.meta.url));

/**
 * Opens (creating if needed) the state database with WAL and synchronous=FULL, asserts both took
 * effect (better-sqlite3's WAL default is NORMAL, which can lose a committed transaction on power
 * loss), and applies the drizzle-kit migrations. Use ":memory:" in tests.
 */
export function openStateDb(file: string): StateDb {
  if (file !== ":memory:") mkdirSync(dirname(file), { recursive: true });
  const sqlite = new Database(file);
  sqlite.pragma("journal_mode = WAL");
  sqlite.pragma("synchronous = FULL");
  sqlite.pragma("foreign_keys = ON");
  sqlite.pragma("busy_timeout = 5000");
  const mode = String(sqlite.pragma("journal_mode", { simple: true })).toLowerCase();
  const sync = Number(sqlite.pragma("synchronous", { simple: true }));
  if ((file !== ":memory:" && mode !== "wal") || sync !== 2) {
    sqlite.close();
    throw new Error(
      `state db ${file}: expected journal_mode=wal and synchronous=FULL(2), got ${mode}/${sync}`,
    );
  }
  const db = drizzle(sqlite, { schema });
  migrate(db, { migrationsFolder: MIGRATIONS });
  return { sqlite, db, close: () => sqlite.close() };
}
