import { cpSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import Database from "better-sqlite3";
import { drizzle } from "drizzle-orm/better-sqlite3";
import { migrate } from "drizzle-orm/better-sqlite3/migrator";
import { afterEach, describe, expect, it } from "vitest";
import { type Logger, silentLogger } from "../../shared/logger";
import { putJob } from "../../test/helpers/builders";
import { FakeClock } from "../../test/helpers/fake-clock";
import { openOneVoter } from "../../test/helpers/one-voter";
import { tempDir } from "../../test/helpers/tmp";
import { lastApplied } from "../fsm/apply";
import { openStateDb } from "../store/db";
import { getStoredJob } from "../store/job-queries";
import { preserveLegacyCommandLog } from "../store/legacy-command-log";
import { SqliteLogStore } from "../store/raft-log-store";
import * as schema from "../store/schema";
import { adoptCommandLog } from "./adopt-command-log";

const dirs: { cleanup: () => void }[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) d.cleanup();
});

function dir(): string {
  const d = tempDir("dkron-adopt-");
  dirs.push(d);
  return d.path;
}

/** The state migrations a release that kept the one-node command log had (0000..0002). */
const OLD_RELEASE_MIGRATIONS = 3;

/**
 * A data dir written the old way, in `path`: state.db migrated only as far as an old release did,
 * jobs a and b logged and applied at indexes 1 and 2, and job c logged (so acknowledged) at index 3
 * but not applied. Returns the old handle, open, for a test to act on before closing it.
 */
function oldDataDir(path: string): Database.Database {
  const migrations = join(path, "old-migrations");
  cpSync(fileURLToPath(new URL("../../migrations/state", import.meta.url)), migrations, { recursive: true });
  const journalFile = join(migrations, "meta", "_journal.json");
  const journal = JSON.parse(readFileSync(journalFile, "utf8")) as { entries: unknown[] };
  journal.entries = journal.entries.slice(0, OLD_RELEASE_MIGRATIONS);
  writeFileSync(journalFile, JSON.stringify(journal));

  const sqlite = new Database(join(path, "state.db"));
  sqlite.pragma("journal_mode = WAL");
  sqlite.pragma("synchronous = FULL");
  const db = drizzle(sqlite, { schema });
  migrate(db, { migrationsFolder: migrations });
  const log = sqlite.prepare("INSERT INTO command_log (idx, term, command) VALUES (?, 1, ?)");
  // What the old release's apply wrote, by hand: today's apply needs today's schema.
  const job = sqlite.prepare(
    "INSERT INTO jobs (name, spec, anchor, cursor, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)",
  );
  const applied = sqlite.prepare(
    "INSERT INTO meta (key, value) VALUES ('last_applied', ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
  );
  for (const [index, name] of [
    [1, "a"],
    [2, "b"],
    [3, "c"],
  ] as const) {
    const cmd = putJob({ name });
    log.run(index, JSON.stringify(cmd));
    if (index < 3) {
      job.run(name, JSON.stringify(cmd.job), cmd.at, cmd.at, cmd.at, cmd.at);
      applied.run(index);
    }
  }
  return sqlite;
}

/** The tables of state.db's schema. */
function tables(path: string): string[] {
  const s = new Database(join(path, "state.db"), { readonly: true });
  try {
    return (s.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as { name: string }[])
      .map((r) => r.name)
      .sort();
  } finally {
    s.close();
  }
}

/** A logger that counts its info lines. */
function countingLogger(): Logger & { infos: string[] } {
  const infos: string[] = [];
  const l: Logger & { infos: string[] } = {
    ...silentLogger,
    infos,
    info: (m) => infos.push(m),
    child: () => l,
  };
  return l;
}

/** Opens `path` as a node does (real openStateDb, then adoption, then Raft) and checks jobs a, b, c. */
async function adoptAndContinue(path: string): Promise<void> {
  const tail = 3;
  const logger = countingLogger();
  const n = await openOneVoter(path, new FakeClock(), ({ state: st, log }) => {
    expect(adoptCommandLog(st, log, "n1", logger)).toBe(tail);
    // A second start finds raft.db seeded and leaves it alone (no second snapshot, nothing discarded).
    const seeded = log.load();
    expect(adoptCommandLog(st, log, "n1", logger)).toBe(tail);
    expect(log.load()).toEqual(seeded);
  });
  expect(logger.infos).toEqual(["moved the one-node command log onto raft.db"]);
  const { raft, state } = n;
  expect(raft.conf().voters).toEqual(["n1"]);
  for (const name of ["a", "b", "c"]) expect(getStoredJob(state, name)?.spec.name).toBe(name);
  expect((await raft.propose(putJob({ name: "d" }))).ok).toBe(true);
  expect(lastApplied(state)).toBeGreaterThan(tail);
  await n.close();
  // Neither the old log nor its copy outlives the adoption.
  expect(tables(path)).not.toContain("command_log");
  expect(tables(path)).not.toContain("legacy_command_log");
}

describe("adopting a one-node command log onto raft.db", () => {
  it("keeps every logged write, applies the unapplied tail, and the one-voter group continues after it", async () => {
    const path = dir();
    oldDataDir(path).close();
    await adoptAndContinue(path);
  });

  it("adopts everything after a crash between the copy of the log and the adoption", async () => {
    const path = dir();
    oldDataDir(path).close();
    // The new build opens the old state.db (copy, then the migration that drops command_log) and
    // dies before adopting.
    openStateDb(join(path, "state.db"), { synchronous: "NORMAL" }).close();
    expect(tables(path)).toContain("legacy_command_log");
    expect(tables(path)).not.toContain("command_log");
    await adoptAndContinue(path);
  });

  it("adopts everything after a crash between the copy of the log and the migration that drops it", async () => {
    const path = dir();
    const old = oldDataDir(path);
    preserveLegacyCommandLog(old);
    old.close();
    expect(tables(path)).toEqual(expect.arrayContaining(["command_log", "legacy_command_log"]));
    // The next open copies again over the first copy.
    await adoptAndContinue(path);
  });

  it("does nothing for a new data dir", () => {
    const path = dir();
    const state = openStateDb(join(path, "state.db"), { synchronous: "NORMAL" });
    const log = SqliteLogStore.open(join(path, "raft.db"));
    expect(adoptCommandLog(state, log, "n1", silentLogger)).toBe(0);
    expect(log.load().snapshot).toBeNull();
    expect(tables(path)).not.toContain("legacy_command_log");
    log.close();
    state.close();
  });
});
