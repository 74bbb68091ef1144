import { randomBytes } from "node:crypto";
import { rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openStateDb, type StateDb } from "./db";

/**
 * State tables copied by a snapshot (not a legacy_command_log awaiting adoption: that is no state).
 * Every replicated table must be here, or a node that installs a snapshot loses its rows (a test
 * compares this list with the schema).
 */
export const STATE_TABLES = [
  "meta",
  "jobs",
  "job_metadata",
  "job_tags",
  "executions",
  "owed_dependent_runs",
  "peers",
  "tokens",
  "audit",
  "webhooks",
  "webhook_deliveries",
  "runner_join_tokens",
  "runners",
  "gossip_keyring",
] as const;

/**
 * A consistent copy of the state database (better-sqlite3's serialize takes it inside one read
 * transaction), base64-encoded so it travels in InstallSnapshot chunks as text.
 */
export function takeStateSnapshot(state: StateDb): string {
  return state.sqlite.serialize().toString("base64");
}

/**
 * Replaces the state tables with a snapshot's, in one transaction: a crash leaves either the old
 * state or the new one, and `last_applied` moves with the rows that produced it. A snapshot taken by
 * an older build is migrated first (its copy, in a temporary file), so its rows gain the columns
 * added since with the values the migrations give existing rows; columns are copied by name.
 */
export function restoreStateSnapshot(state: StateDb, data: string): void {
  const file = join(tmpdir(), `dkron-snap-${randomBytes(6).toString("hex")}.db`);
  writeFileSync(file, Buffer.from(data, "base64"));
  try {
    openStateDb(file, { synchronous: "NORMAL" }).close();
    state.sqlite.prepare("ATTACH DATABASE ? AS snap").run(file);
    try {
      const tables = state.sqlite.prepare("SELECT name FROM snap.sqlite_master WHERE type = 'table'").all();
      const inSnapshot = new Set((tables as { name: string }[]).map((r) => r.name));
      state.sqlite.transaction(() => {
        for (const t of STATE_TABLES) {
          state.sqlite.exec(`DELETE FROM main.${t}`);
          // A snapshot from a build before a table existed holds none of its rows.
          if (!inSnapshot.has(t)) continue;
          const cols = sharedColumns(state, t)
            .map((c) => `"${c}"`)
            .join(", ");
          state.sqlite.exec(`INSERT INTO main.${t} (${cols}) SELECT ${cols} FROM snap.${t}`);
        }
      })();
    } finally {
      state.sqlite.exec("DETACH DATABASE snap");
    }
  } finally {
    rmSync(file, { force: true });
    rmSync(`${file}-wal`, { force: true });
    rmSync(`${file}-shm`, { force: true });
  }
}

/** Columns of `table` in both this database and the attached snapshot (a newer build's may have more). */
function sharedColumns(state: StateDb, table: string): string[] {
  const names = (schema: string) =>
    (
      state.sqlite.prepare(`SELECT name FROM pragma_table_info(?, ?)`).all(table, schema) as {
        name: string;
      }[]
    ).map((r) => r.name);
  const inSnap = new Set(names("snap"));
  return names("main").filter((c) => inSnap.has(c));
}
