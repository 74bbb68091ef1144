import { cpSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import Database from "better-sqlite3";
import { drizzle } from "drizzle-orm/better-sqlite3";
import { migrate } from "drizzle-orm/better-sqlite3/migrator";
import { afterEach, describe, expect, it } from "vitest";
import { tempDir } from "../../test/helpers/tmp";
import { apply, lastApplied } from "../fsm/apply";
import { validateJob } from "../jobs/validate-job";
import { openStateDb } from "./db";
import { listExecutions } from "./execution-queries";
import { getStoredJob, listStoredJobs } from "./job-queries";
import { restoreStateSnapshot, STATE_TABLES, takeStateSnapshot } from "./snapshot";

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});

describe("state snapshots", () => {
  it("copy every table of the state database (a table left out would be lost by a node that installs one)", () => {
    const dir = tempDir();
    cleanups.push(dir.cleanup);
    const s = openStateDb(join(dir.path, "t.db"));
    const tables = (
      s.sqlite
        .prepare(
          "select name from sqlite_master where type = 'table' and name not like 'sqlite_%' and name not like '__drizzle%'",
        )
        .all() as { name: string }[]
    ).map((r) => r.name);
    s.close();
    expect([...STATE_TABLES].sort()).toEqual(tables.filter((t) => t !== "legacy_command_log").sort());
  });

  it("restores jobs, executions, peers and last_applied into another database, replacing what was there", () => {
    const dir = tempDir();
    cleanups.push(dir.cleanup);
    const a = openStateDb(join(dir.path, "a.db"));
    const b = openStateDb(join(dir.path, "b.db"));
    const job = (name: string) =>
      validateJob({ name, schedule: "@every 1m", executor: "shell", executor_config: { command: "true" } });
    apply(a, 1, { type: "job.put", at: 1000, job: job("one") });
    apply(a, 2, { type: "job.put", at: 1000, job: job("two") });
    apply(a, 3, {
      type: "execution.start",
      at: 2000,
      job: "one",
      group: 1,
      trigger: "manual",
      attempt: 1,
      scheduledAt: 2000,
      retain: 100,
      executions: [{ id: "e1", node: "n" }],
    });
    apply(a, 4, { type: "peer.set", at: 3000, id: "n2", addr: "10.0.0.2:8080" });
    apply(b, 1, { type: "job.put", at: 1000, job: job("stale") });
    apply(b, 2, { type: "peer.set", at: 1000, id: "gone", addr: "10.0.0.9:8080" });

    restoreStateSnapshot(b, takeStateSnapshot(a));
    expect(listStoredJobs(b).map((j) => j.spec.name)).toEqual(["one", "two"]);
    expect(lastApplied(b)).toBe(4);
    // Control-node addresses are replicated state too: a follower restored from a snapshot must
    // still know how to reach its peers.
    expect(b.sqlite.prepare("select id, addr from peers").all()).toEqual([
      { id: "n2", addr: "10.0.0.2:8080" },
    ]);
    expect(b.sqlite.prepare("select id, state from executions").all()).toEqual([
      { id: "e1", state: "running" },
    ]);
    a.close();
    b.close();
  });
});

/**
 * A state database as a build before the lateness columns (migrations 0000-0003) left it, with one
 * job and four executions: a success and a failure reported by a runner, a lost run and a run that
 * found no target. Returns its file.
 */
function beforeLatenessDb(dir: string): string {
  const migrations = join(dir, "migrations");
  cpSync(fileURLToPath(new URL("../../migrations/state", import.meta.url)), migrations, { recursive: true });
  const journalFile = join(migrations, "meta", "_journal.json");
  const journal = JSON.parse(readFileSync(journalFile, "utf8")) as {
    entries: { idx: number; tag: string }[];
  };
  for (const e of journal.entries.filter((e) => e.idx > 3)) rmSync(join(migrations, `${e.tag}.sql`));
  journal.entries = journal.entries.filter((e) => e.idx <= 3);
  writeFileSync(journalFile, JSON.stringify(journal));
  const file = join(dir, "old.db");
  const sqlite = new Database(file);
  migrate(drizzle(sqlite), { migrationsFolder: migrations });
  const spec = JSON.stringify(
    validateJob({
      name: "old",
      schedule: "@every 1m",
      executor: "shell",
      executor_config: { command: "true" },
    }),
  );
  sqlite
    .prepare(
      "insert into jobs (name, spec, anchor, cursor, created_at, updated_at) values ('old', ?, 0, 0, 0, 0)",
    )
    .run(spec);
  const row = sqlite.prepare(
    `insert into executions (id, job_name, group_id, attempt, node_name, trigger, scheduled_at, started_at, finished_at, state)
     values (?, 'old', ?, 1, ?, 'schedule', ?, ?, ?, ?)`,
  );
  row.run("ok", 1, "r1", 60_000, 60_250, 61_000, "success");
  row.run("bad", 2, "r1", 120_000, 120_100, 121_000, "failed");
  row.run("lost", 3, "r1", 180_000, 180_005, 240_000, "lost");
  row.run("none", 4, "", 240_000, 240_003, 240_003, "failed");
  sqlite.prepare("insert into meta (key, value) values ('last_applied', 7)").run();
  sqlite.close();
  return file;
}

/** What the lateness columns hold for each execution of job `old`. */
function latenessColumns(s: ReturnType<typeof openStateDb>) {
  return listExecutions(s, "old", "scheduled_at", "ASC").map((e) => [
    e.id,
    e.started_at,
    e.dispatched_at,
    e.start_reported,
  ]);
}

const BACKFILLED = [
  // The runner's start replaced started_at with its result; the dispatch time is lost with it.
  ["ok", 60_250, 60_250, true],
  ["bad", 120_100, 120_100, true],
  // Never reported by a runner: started_at is still the dispatch time, and no lateness is known.
  ["lost", 180_005, 180_005, false],
  ["none", 240_003, 240_003, false],
];

describe("state from a build before the lateness columns", () => {
  it("a database opened by this build gets dispatched_at = started_at and knows which starts a runner reported", () => {
    const dir = tempDir();
    cleanups.push(dir.cleanup);
    const s = openStateDb(beforeLatenessDb(dir.path));
    cleanups.push(() => s.close());
    expect(latenessColumns(s)).toEqual(BACKFILLED);
    expect(getStoredJob(s, "old")).toMatchObject({ skippedCount: 0, lastSkipped: null });
  });

  it("a snapshot it took restores here with the same values, replacing what was there", () => {
    const dir = tempDir();
    cleanups.push(dir.cleanup);
    const old = new Database(beforeLatenessDb(dir.path));
    const data = old.serialize().toString("base64");
    old.close();
    const s = openStateDb(join(dir.path, "new.db"));
    cleanups.push(() => s.close());
    apply(s, 1, {
      type: "job.put",
      at: 0,
      job: validateJob({
        name: "stale",
        schedule: "@manually",
        executor: "shell",
        executor_config: { command: "true" },
      }),
    });
    restoreStateSnapshot(s, data);
    expect(listStoredJobs(s).map((j) => [j.spec.name, j.skippedCount, j.lastSkipped])).toEqual([
      ["old", 0, null],
    ]);
    expect(latenessColumns(s)).toEqual(BACKFILLED);
    expect(lastApplied(s)).toBe(7);
  });
});
