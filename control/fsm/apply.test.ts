import { describe, expect, it } from "vitest";
import {
  dumpTables,
  finishExecution,
  jobRow,
  MINUTE,
  putJob,
  startExecution,
  T0,
} from "../../test/helpers/builders";
import { applyAll, stateDbsPerTest } from "../../test/helpers/state-db";
import type { StateDb } from "../store/db";
import { listExecutions } from "../store/execution-queries";
import { getStoredJob } from "../store/job-queries";
import { owedRuns } from "../store/owed-run-queries";
import { restoreStateSnapshot, takeStateSnapshot } from "../store/snapshot";
import { type ApplyResult, apply, lastApplied } from "./apply";
import type { Command, ExecutionStartCommand } from "./commands";

const { db, close } = stateDbsPerTest("dkron-apply-");

const ids = (s: StateDb, job: string) => listExecutions(s, job, "started_at", "ASC").map((e) => e.id);
/** The replicated tables the job and execution commands write. */
const TABLES = ["meta", "jobs", "executions", "owed_dependent_runs"];
const state = (s: StateDb) => {
  const { meta: _meta, ...rest } = dumpTables(s, TABLES);
  return rest;
};
/** `[child, mark]` of every dependent run still owed. */
const owed = (s: StateDb) => owedRuns(s).map((r) => [r.jobName, r.mark]);

describe("apply: one transaction with last_applied", () => {
  it("writes last_applied with every command and skips an index at or below it (replay is a no-op)", () => {
    const s = db();
    expect(lastApplied(s)).toBe(0);
    expect(apply(s, 1, putJob()).ok).toBe(true);
    expect(apply(s, 2, { type: "job.toggle", at: T0, name: "job" }).ok).toBe(true);
    expect(lastApplied(s)).toBe(2);
    expect(getStoredJob(s, "job")?.spec.disabled).toBe(true);

    // Replaying index 2 must not toggle the job back; an older index with another command neither.
    const before = dumpTables(s);
    expect(apply(s, 2, { type: "job.toggle", at: T0, name: "job" })).toEqual({
      ok: true,
      value: { skipped: true },
      events: [],
    });
    expect(apply(s, 1, { type: "job.delete", at: T0, name: "job" })).toMatchObject({
      value: { skipped: true },
    });
    expect(dumpTables(s)).toEqual(before);
    expect(lastApplied(s)).toBe(2);
  });

  it("counts a replayed execution.finish once", () => {
    const s = db();
    apply(s, 1, putJob());
    apply(s, 2, startExecution());
    apply(s, 3, finishExecution("1-1-r1"));
    apply(s, 3, finishExecution("1-1-r1"));
    expect(getStoredJob(s, "job")).toMatchObject({ successCount: 1, errorCount: 0, status: "success" });
  });

  it("sets disabled when the toggle names a value, so two bulk disables both end disabled", () => {
    const s = db();
    applyAll(s, [putJob()]);
    const disable = { type: "job.toggle", at: T0, name: "job", disabled: true } as const;
    expect(applyAll(s, [disable, disable]).map((r) => r.ok)).toEqual([true, true]);
    expect(getStoredJob(s, "job")?.spec.disabled).toBe(true);
    applyAll(s, [
      { ...disable, disabled: false },
      { ...disable, disabled: false },
    ]);
    expect(getStoredJob(s, "job")?.spec.disabled).toBe(false);
    // Without a value it still flips (Dkron's toggle).
    applyAll(s, [{ type: "job.toggle", at: T0, name: "job" }]);
    expect(getStoredJob(s, "job")?.spec.disabled).toBe(true);
  });

  it("keeps last_applied across a reopen of the database file", () => {
    const s = db("reopen.db");
    applyAll(s, [putJob(), { type: "job.toggle", at: T0, name: "job" }]);
    close(s);
    const again = db("reopen.db");
    expect(lastApplied(again)).toBe(2);
    expect(apply(again, 2, { type: "job.toggle", at: T0, name: "job" })).toMatchObject({
      value: { skipped: true },
    });
    expect(getStoredJob(again, "job")?.spec.disabled).toBe(true);
  });
});

/** A history touching every command type, including rejected commands, retries and pruning. */
function script(): Command[] {
  const at = (m: number) => T0 + m * MINUTE;
  const cmds: Command[] = [
    putJob({ name: "backup", retries: 1 }, at(0)),
    putJob({ name: "backup-db", concurrency: "forbid" }, at(0)),
    putJob({ name: "report", parent_job: "backup", schedule: "" }, at(0)),
    putJob({ name: "orphan", parent_job: "missing" }, at(0)), // rejected
    startExecution({
      job: "backup",
      group: 10,
      trigger: "schedule",
      scheduledAt: at(1),
      at: at(1),
      retain: 3,
      executions: [
        { id: "10-1-a", node: "a" },
        { id: "10-1-b", node: "b" },
      ],
    }),
    startExecution({
      job: "backup",
      group: 11,
      trigger: "schedule",
      scheduledAt: at(1),
      at: at(1),
      executions: [{ id: "11-1-a", node: "a" }],
    }), // rejected: same slot
    finishExecution("10-1-a", { at: at(2), finishedAt: at(2) }),
    finishExecution("10-1-b", { at: at(2), finishedAt: at(2), success: false }),
    startExecution({
      job: "backup",
      group: 10,
      trigger: "retry",
      attempt: 2,
      scheduledAt: at(1),
      at: at(3),
      retain: 3,
      executions: [{ id: "10-2-b", node: "b" }],
    }),
    finishExecution("10-2-b", { at: at(4), finishedAt: at(4) }),
    // Entry 10 completed backup's group: report is owed a run marked 10.
    startExecution({
      job: "report",
      group: 12,
      trigger: "dependent",
      scheduledAt: at(4),
      at: at(4),
      executions: [{ id: "12-1-a", node: "a" }],
      owed: 10,
    }),
    startExecution({
      job: "report",
      group: 17,
      trigger: "dependent",
      scheduledAt: at(4),
      at: at(4),
      executions: [{ id: "17-1-a", node: "a" }],
      owed: 10,
    }), // rejected: that owed run already started
    finishExecution("12-1-a", { at: at(5), finishedAt: at(5), output: "héllo ✓\n" }),
    putJob({ name: "once", schedule: "@manually", ephemeral: true }, at(5)),
    startExecution({ job: "once", group: 18, at: at(5), executions: [{ id: "18-1-a", node: "a" }] }),
    finishExecution("18-1-a", { at: at(6), finishedAt: at(6) }), // deletes "once"
    startExecution({
      job: "backup-db",
      group: 13,
      scheduledAt: at(5),
      at: at(5),
      executions: [{ id: "13-1-a", node: "a" }],
    }),
    startExecution({
      job: "backup-db",
      group: 14,
      scheduledAt: at(5),
      at: at(5),
      executions: [{ id: "14-1-a", node: "a" }],
    }), // rejected: forbid
    { type: "job.delete", at: at(6), name: "backup" }, // rejected: has a child
    { type: "job.toggle", at: at(6), name: "backup-db" },
    { type: "job.toggle", at: at(7), name: "backup-db" },
    startExecution({
      job: "backup",
      group: 15,
      trigger: "schedule",
      scheduledAt: at(8),
      at: at(8),
      retain: 3,
      executions: [{ id: "15-1-a", node: "a" }],
    }),
    startExecution({
      job: "backup",
      group: 16,
      trigger: "schedule",
      scheduledAt: at(9),
      at: at(9),
      retain: 3,
      executions: [{ id: "16-1-", node: "", state: "failed", output: "no targets" }],
    }),
    { type: "executions.clear", at: at(10), job: "report" },
    { type: "job.delete", at: at(10), name: "report" },
    { type: "job.delete", at: at(11), name: "backup" },
    { type: "noop", at: at(12) },
    putJob({ name: "backup", schedule: "@every 5m" }, at(13)),
  ];
  return cmds;
}

describe("apply: determinism", () => {
  it("two databases fed the same commands end with equal tables, rejections included", () => {
    const a = db("a.db");
    const b = db("b.db");
    const ra = applyAll(a, script());
    const rb = applyAll(b, script());
    expect(ra).toEqual(rb);
    expect(ra.filter((r) => !r.ok).length).toBe(5);
    expect(dumpTables(a, TABLES)).toEqual(dumpTables(b, TABLES));
    expect(dumpTables(a).jobs).toHaveLength(2);
    expect(ra.flatMap((r) => (r.ok ? r.events.map((e) => e.kind) : []))).toEqual(
      expect.arrayContaining(["dependent.owed", "job.deleted"]),
    );
    // Same operations in the same order: the database images are byte-for-byte equal too.
    expect(Buffer.compare(a.sqlite.serialize(), b.sqlite.serialize())).toBe(0);
  });

  it("a replica that restarts midway and replays entries it already applied ends equal too", () => {
    const a = db("a.db");
    applyAll(a, script());

    const cmds = script();
    let b = db("b.db");
    for (const [i, c] of cmds.slice(0, 12).entries()) apply(b, i + 1, c);
    close(b);
    b = db("b.db");
    // Replay from the start, as a restarted node would from an older snapshot of its log.
    for (const [i, c] of cmds.entries()) apply(b, i + 1, c);
    expect(dumpTables(b, TABLES)).toEqual(dumpTables(a, TABLES));
  });

  it("commands that went through JSON (the log's encoding) apply exactly as the originals", () => {
    const a = db("a.db");
    const b = db("b.db");
    applyAll(a, script());
    applyAll(
      b,
      script().map((c) => JSON.parse(JSON.stringify(c)) as Command),
    );
    expect(dumpTables(b, TABLES)).toEqual(dumpTables(a, TABLES));
  });
});

describe("apply: a rejected command changes nothing but last_applied", () => {
  /** parent ← child; solo (forbid) with a running execution; off (disabled); a slot of parent started. */
  function seeded(): StateDb {
    const s = db();
    applyAll(s, [
      putJob({ name: "parent" }),
      putJob({ name: "child", parent_job: "parent", schedule: "" }),
      putJob({ name: "solo", concurrency: "forbid" }),
      putJob({ name: "off", disabled: true }),
      startExecution({ job: "solo", group: 1, executions: [{ id: "1-1-r1", node: "r1" }] }),
      startExecution({
        job: "parent",
        group: 2,
        trigger: "schedule",
        scheduledAt: T0 + 2 * MINUTE,
        executions: [{ id: "2-1-r1", node: "r1" }],
      }),
    ]);
    return s;
  }

  const cases: [string, Command, string][] = [
    ["job.put with an unknown parent", putJob({ name: "x", parent_job: "nope" }), "NOT_FOUND"],
    ["job.put with itself as parent", putJob({ name: "x", parent_job: "x" }), "VALIDATION"],
    ["job.put making a cycle", putJob({ name: "parent", parent_job: "child" }), "VALIDATION"],
    ["job.delete of an unknown job", { type: "job.delete", at: T0, name: "nope" }, "NOT_FOUND"],
    ["job.delete of a parent with children", { type: "job.delete", at: T0, name: "parent" }, "CONFLICT"],
    ["job.toggle of an unknown job", { type: "job.toggle", at: T0, name: "nope" }, "NOT_FOUND"],
    ["execution.start of an unknown job", startExecution({ job: "nope" }), "NOT_FOUND"],
    [
      "execution.start of a slot that already started",
      startExecution({
        job: "parent",
        group: 3,
        trigger: "schedule",
        scheduledAt: T0 + 2 * MINUTE,
        executions: [{ id: "3-1-r1", node: "r1" }],
      }),
      "CONFLICT",
    ],
    [
      "execution.start of a slot before the last started one",
      startExecution({
        job: "parent",
        group: 3,
        trigger: "catchup",
        scheduledAt: T0 + MINUTE,
        executions: [{ id: "3-1-r1", node: "r1" }],
      }),
      "CONFLICT",
    ],
    [
      "execution.start of a slot of a disabled job",
      startExecution({
        job: "off",
        group: 3,
        trigger: "schedule",
        scheduledAt: T0 + MINUTE,
        executions: [{ id: "3-1-r1", node: "r1" }],
      }),
      "CONFLICT",
    ],
    [
      "a manual execution.start of a forbid job that is running",
      startExecution({ job: "solo", group: 3, executions: [{ id: "3-1-r1", node: "r1" }] }),
      "CONFLICT",
    ],
    [
      "a dependent execution.start for a run not owed (already started)",
      startExecution({
        job: "child",
        group: 3,
        trigger: "dependent",
        owed: 2,
        executions: [{ id: "3-1-r1", node: "r1" }],
      }),
      "CONFLICT",
    ],
    ["execution.finish of an unknown execution", finishExecution("nope"), "NOT_FOUND"],
    ["executions.clear of an unknown job", { type: "executions.clear", at: T0, job: "nope" }, "NOT_FOUND"],
  ];

  it.each(cases)("%s", (_name, cmd, code) => {
    const s = seeded();
    const before = state(s);
    const index = lastApplied(s) + 7;
    const res = apply(s, index, cmd);
    expect(res.ok).toBe(false);
    if (!res.ok) expect(res.error.code).toBe(code);
    expect(state(s)).toEqual(before);
    expect(lastApplied(s)).toBe(index);
  });
});

describe("apply: parent_job", () => {
  it("rejects cycles at any depth and a job that is its own parent", () => {
    const s = db();
    applyAll(s, [
      putJob({ name: "a" }),
      putJob({ name: "b", parent_job: "a" }),
      putJob({ name: "c", parent_job: "b" }),
    ]);
    const cycle = apply(s, 10, putJob({ name: "a", parent_job: "c" }));
    expect(cycle).toMatchObject({
      ok: false,
      error: { code: "VALIDATION", details: { field: "parent_job" } },
    });
    if (!cycle.ok) expect(cycle.error.message).toMatch(/cycle/);
    expect(apply(s, 11, putJob({ name: "b", parent_job: "b" }))).toMatchObject({
      ok: false,
      error: { code: "VALIDATION" },
    });
    // A deeper chain that is not a cycle is fine; moving a child to another parent too.
    expect(apply(s, 12, putJob({ name: "d", parent_job: "c" })).ok).toBe(true);
    expect(apply(s, 13, putJob({ name: "c", parent_job: "a" })).ok).toBe(true);
    expect(getStoredJob(s, "a")?.dependents).toEqual(["b", "c"]);
    expect(getStoredJob(s, "b")?.dependents).toEqual([]);
  });

  it("rejects deleting a parent that has children; deleting the children first allows it", () => {
    const s = db();
    applyAll(s, [
      putJob({ name: "p" }),
      putJob({ name: "k1", parent_job: "p" }),
      putJob({ name: "k2", parent_job: "p" }),
    ]);
    const res = apply(s, 10, { type: "job.delete", at: T0, name: "p" });
    expect(res).toMatchObject({ ok: false, error: { code: "CONFLICT" } });
    if (!res.ok) expect(res.error.message).toContain("k1, k2");
    applyAll(s, [{ type: "job.delete", at: T0, name: "k1" }, putJob({ name: "k2" })]);
    expect(apply(s, 20, { type: "job.delete", at: T0, name: "p" }).ok).toBe(true);
    expect(getStoredJob(s, "p")).toBeUndefined();
  });
});

describe("apply: execution history", () => {
  /** Starts and finishes one manual run of `job` at minute `m`. */
  const run = (job: string, m: number, retain = 100): Command[] => {
    const group = 1000 + m;
    const id = job === "job" || job === "a" ? `${group}-1-r1` : `${job}-${group}`;
    return [
      startExecution({
        job,
        group,
        at: T0 + m * MINUTE,
        scheduledAt: T0 + m * MINUTE,
        retain,
        executions: [{ id, node: "r1" }],
      }),
      finishExecution(id, { at: T0 + m * MINUTE + 1000, finishedAt: T0 + m * MINUTE + 1000 }),
    ];
  };

  it("is per exact job name: backup's delete and clear leave backup-db's and backup_db's executions", () => {
    const s = db();
    const names = ["backup", "backup-db", "backup_db", "backup2"];
    applyAll(
      s,
      names.map((name) => putJob({ name })),
    );
    for (const name of names) applyAll(s, [...run(name, 1), ...run(name, 2)]);
    const others = () => names.slice(1).map((n) => ids(s, n).length);

    expect(applyAll(s, [{ type: "executions.clear", at: T0, job: "backup" }])[0]?.ok).toBe(true);
    expect(ids(s, "backup")).toEqual([]);
    expect(others()).toEqual([2, 2, 2]);
    expect(getStoredJob(s, "backup")).toMatchObject({ successCount: 0, errorCount: 0 });
    expect(getStoredJob(s, "backup-db")).toMatchObject({ successCount: 2 });

    applyAll(s, run("backup", 3));
    expect(applyAll(s, [{ type: "job.delete", at: T0, name: "backup" }])[0]?.ok).toBe(true);
    expect(others()).toEqual([2, 2, 2]);
    expect(s.sqlite.prepare("select count(*) n from executions where job_name = 'backup'").get()).toEqual({
      n: 0,
    });
  });

  it("keeps the newest N executions of a job, removing the oldest first, without touching other jobs", () => {
    const s = db();
    applyAll(s, [putJob({ name: "a" }), putJob({ name: "a-b" })]);
    applyAll(s, run("a-b", 0, 3));
    for (let m = 1; m <= 6; m++) applyAll(s, run("a", m, 3));
    expect(ids(s, "a")).toEqual(["1004-1-r1", "1005-1-r1", "1006-1-r1"]);
    expect(ids(s, "a-b")).toEqual(["a-b-1000"]);
  });

  it("keeps 100 by default (the proposer's retention) and never prunes running executions", () => {
    const s = db();
    applyAll(s, [putJob()]);
    // One outer transaction (each apply is a savepoint in it): one fsync instead of 210.
    s.sqlite.transaction(() => {
      for (let m = 1; m <= 105; m++) applyAll(s, run("job", m));
    })();
    const kept = ids(s, "job");
    expect(kept.length).toBe(100);
    expect(kept[0]).toBe("1006-1-r1");
    expect(kept.at(-1)).toBe("1105-1-r1");

    // Three running executions with retention 2: all three stay, the finished ones go.
    for (let m = 200; m < 203; m++)
      applyAll(s, [
        startExecution({
          group: m,
          at: T0 + m * MINUTE,
          retain: 2,
          executions: [{ id: `r${m}`, node: "r1" }],
        }),
      ]);
    expect(ids(s, "job")).toEqual(["r200", "r201", "r202"]);
  });

  it("clearing executions keeps running ones (they still fence concurrency and hold leases)", () => {
    const s = db();
    applyAll(s, [
      putJob(),
      ...run("job", 1),
      startExecution({ group: 7, executions: [{ id: "7-1-r1", node: "r1" }] }),
    ]);
    applyAll(s, [{ type: "executions.clear", at: T0, job: "job" }]);
    expect(ids(s, "job")).toEqual(["7-1-r1"]);
  });
});

describe("apply: slots and the cursor", () => {
  const slot = (m: number, group = m, trigger: "schedule" | "catchup" = "schedule") =>
    startExecution({
      trigger,
      group,
      at: T0 + m * MINUTE,
      scheduledAt: T0 + m * MINUTE,
      executions: [{ id: `${group}-1-r1`, node: "r1" }],
    });

  it("starts each slot at most once; manual runs are not slots", () => {
    const s = db();
    applyAll(s, [putJob()]);
    expect(apply(s, 2, slot(1)).ok).toBe(true);
    expect(apply(s, 3, slot(1, 99)).ok).toBe(false);
    expect(apply(s, 4, slot(1, 98, "catchup")).ok).toBe(false);
    expect(
      apply(
        s,
        5,
        startExecution({
          group: 97,
          at: T0 + MINUTE,
          scheduledAt: T0 + MINUTE,
          executions: [{ id: "m", node: "r1" }],
        }),
      ).ok,
    ).toBe(true);
    expect(apply(s, 6, slot(2)).ok).toBe(true);
    expect(ids(s, "job")).toEqual(["1-1-r1", "m", "2-1-r1"]);
  });

  it("enabling a job (toggle or put) does not run the slots that passed while it was disabled", () => {
    const s = db();
    applyAll(s, [putJob(), slot(1), { type: "job.toggle", at: T0 + 90_000, name: "job" }]);
    expect(apply(s, 10, slot(2)).ok).toBe(false);
    apply(s, 11, { type: "job.toggle", at: T0 + 5 * MINUTE + 30_000, name: "job" });
    for (const m of [3, 4, 5]) expect(apply(s, 20 + m, slot(m)).ok).toBe(false);
    expect(apply(s, 30, slot(6)).ok).toBe(true);

    applyAll(s, [putJob({ disabled: true }, T0 + 7 * MINUTE)]);
    applyAll(s, [putJob({ disabled: false }, T0 + 10 * MINUTE)]);
    expect(apply(s, 40, slot(9)).ok).toBe(false);
    expect(apply(s, 41, slot(11)).ok).toBe(true);
  });

  it("a schedule change restarts the @every cadence from the change and fences the old slots", () => {
    const s = db();
    applyAll(s, [putJob({ schedule: "@every 10m" })]);
    expect(jobRow(s, "job")).toMatchObject({ anchor: T0, cursor: T0 });
    applyAll(s, [putJob({ schedule: "@every 5m" }, T0 + 3 * MINUTE)]);
    expect(jobRow(s, "job")).toMatchObject({ anchor: T0 + 3 * MINUTE, cursor: T0 + 3 * MINUTE });
    // Same schedule again: the cadence is kept.
    applyAll(s, [putJob({ schedule: "@every 5m", owner: "ops" }, T0 + 4 * MINUTE)]);
    expect(jobRow(s, "job")).toMatchObject({ anchor: T0 + 3 * MINUTE });
  });

  it("an update that changes neither schedule, enablement nor window keeps anchor and cursor", () => {
    const s = db();
    applyAll(s, [putJob(), slot(2)]);
    const before = jobRow(s, "job")!;
    applyAll(s, [putJob({ owner: "ops" }, T0 + 5 * MINUTE)]);
    expect(jobRow(s, "job")).toEqual({
      ...before,
      spec: JSON.stringify(putJob({ owner: "ops" }).job),
      // The owner's indexed copy follows the spec (the dashboard's owner filter).
      owner: "ops",
      updated_at: T0 + 5 * MINUTE,
    });
  });

  it("a child that becomes a top-level job starts its schedule then, not from when it was created", () => {
    const s = db();
    applyAll(s, [putJob({ name: "p" }), putJob({ name: "c", parent_job: "p", schedule: "@every 1m" })]);
    applyAll(s, [putJob({ name: "c", schedule: "@every 1m" }, T0 + 60 * MINUTE)]);
    // Without this, the 59 slots since creation would all be due at once.
    expect(jobRow(s, "c")).toMatchObject({ cursor: T0 + 60 * MINUTE, anchor: T0 + 60 * MINUTE });
  });

  it("forbid: a slot due while the job runs is skipped for good, not left to start late", () => {
    const s = db();
    applyAll(s, [putJob({ concurrency: "forbid" }), slot(1)]);
    const res = apply(s, 10, slot(2));
    expect(res).toMatchObject({ ok: true, events: [] });
    expect(ids(s, "job")).toEqual(["1-1-r1"]);
    applyAll(s, [finishExecution("1-1-r1", { finishedAt: T0 + 2 * MINUTE + 30_000 })]);
    // The skipped slot stays skipped once the run is over; the next one starts.
    expect(apply(s, 20, slot(2, 22)).ok).toBe(false);
    expect(apply(s, 21, slot(3)).ok).toBe(true);
  });

  it("forbid: skipped slots are counted on the job (with the latest slot), not recorded one by one", () => {
    const s = db();
    applyAll(s, [putJob({ concurrency: "forbid" }), slot(1)]);
    expect(getStoredJob(s, "job")).toMatchObject({ skippedCount: 0, lastSkipped: null });
    applyAll(s, [slot(2), slot(3), slot(4)]);
    expect(getStoredJob(s, "job")).toMatchObject({ skippedCount: 3, lastSkipped: T0 + 4 * MINUTE });
    expect(ids(s, "job")).toEqual(["1-1-r1"]);
    // A manual run refused by forbid is an error to its caller, not a skipped slot.
    const manual = startExecution({ group: 50, executions: [{ id: "m", node: "r1" }] });
    expect(apply(s, lastApplied(s) + 1, manual).ok).toBe(false);
    expect(getStoredJob(s, "job")?.skippedCount).toBe(3);

    // The counter is state: a snapshot carries it, and clearing the history resets it with the others.
    const copy = db("copy.db");
    restoreStateSnapshot(copy, takeStateSnapshot(s));
    expect(getStoredJob(copy, "job")).toMatchObject({ skippedCount: 3, lastSkipped: T0 + 4 * MINUTE });
    applyAll(copy, [{ type: "executions.clear", at: T0 + 5 * MINUTE, job: "job" }]);
    expect(getStoredJob(copy, "job")).toMatchObject({ skippedCount: 0, lastSkipped: null });
  });
});

describe("apply: when a run was dispatched and when it started on its runner", () => {
  const start = (over: Partial<ExecutionStartCommand> = {}) =>
    startExecution({
      trigger: "schedule",
      at: T0 + MINUTE + 5,
      scheduledAt: T0 + MINUTE,
      executions: [
        { id: "1-1-r1", node: "r1" },
        { id: "1-1-r2", node: "r2" },
      ],
      ...over,
    });
  const times = (s: StateDb) =>
    listExecutions(s, "job", "scheduled_at", "ASC").map((e) => [
      e.id,
      e.dispatched_at,
      e.started_at,
      e.start_reported,
    ]);

  it("a start records the dispatch time; started_at stands in for the runner's until it reports", () => {
    const s = db();
    applyAll(s, [putJob(), start()]);
    expect(times(s)).toEqual([
      ["1-1-r1", T0 + MINUTE + 5, T0 + MINUTE + 5, false],
      ["1-1-r2", T0 + MINUTE + 5, T0 + MINUTE + 5, false],
    ]);
  });

  it("records reported starts once, for running executions only; a finish carries the start too", () => {
    const s = db();
    applyAll(s, [putJob(), start()]);
    const started = (starts: { id: string; startedAt: number }[]) =>
      apply(s, lastApplied(s) + 1, { type: "executions.started", at: T0 + MINUTE + 500, starts });
    expect(
      started([
        { id: "1-1-r1", startedAt: T0 + MINUTE + 250 },
        { id: "gone", startedAt: T0 + MINUTE + 250 },
      ]),
    ).toEqual({ ok: true, value: { recorded: 1 }, events: [] });
    // A second report (a re-sent ack) does not move a recorded start.
    expect(started([{ id: "1-1-r1", startedAt: T0 + MINUTE + 999 }])).toMatchObject({
      value: { recorded: 0 },
    });
    applyAll(s, [finishExecution("1-1-r2", { startedAt: T0 + MINUTE + 40 })]);
    // A report that arrives after the finish changes nothing.
    expect(started([{ id: "1-1-r2", startedAt: T0 + MINUTE + 7 }])).toMatchObject({ value: { recorded: 0 } });
    expect(times(s)).toEqual([
      ["1-1-r1", T0 + MINUTE + 5, T0 + MINUTE + 250, true],
      ["1-1-r2", T0 + MINUTE + 5, T0 + MINUTE + 40, true],
    ]);
  });

  it("a finish returns the record as stored, with and without the runner's start", () => {
    const s = db();
    applyAll(s, [putJob(), start()]);
    const [a, b] = applyAll(s, [
      finishExecution("1-1-r1", {
        startedAt: T0 + MINUTE + 40,
        exitCode: 3,
        success: false,
        state: "failed",
      }),
      finishExecution("1-1-r2"),
    ]);
    const stored = new Map(listExecutions(s, "job").map((e) => [e.id, e]));
    const record = (r: ApplyResult | undefined) =>
      r?.ok && r.value && "execution" in r.value ? r.value.execution : undefined;
    expect(record(a)).toEqual(stored.get("1-1-r1"));
    expect(record(b)).toEqual(stored.get("1-1-r2"));
  });

  it("a lost run keeps what it knew: reported start or none", () => {
    const s = db();
    applyAll(s, [
      putJob(),
      start(),
      {
        type: "executions.started",
        at: T0 + MINUTE + 500,
        starts: [{ id: "1-1-r1", startedAt: T0 + MINUTE + 250 }],
      },
      finishExecution("1-1-r1", { state: "lost", success: false }),
      finishExecution("1-1-r2", { state: "lost", success: false }),
    ]);
    expect(times(s)).toEqual([
      ["1-1-r1", T0 + MINUTE + 5, T0 + MINUTE + 250, true],
      ["1-1-r2", T0 + MINUTE + 5, T0 + MINUTE + 5, false],
    ]);
  });
});

describe("apply: run group status (per group, judged on each target's final attempt)", () => {
  const two = (retries = 0): Command[] => [
    putJob({ retries }),
    startExecution({
      group: 5,
      executions: [
        { id: "a", node: "r1" },
        { id: "b", node: "r2" },
      ],
    }),
  ];
  const status = (s: StateDb) => getStoredJob(s, "job")?.status;

  it.each([
    [true, true, "success"],
    [true, false, "partially_failed"],
    [false, true, "partially_failed"],
    [false, false, "failed"],
  ] as const)("r1 %s, r2 %s → %s", (okA, okB, expected) => {
    const s = db();
    applyAll(s, two());
    applyAll(s, [finishExecution("a", { success: okA })]);
    expect(status(s)).toBe(""); // r2 still running: no verdict yet
    const res = applyAll(s, [finishExecution("b", { success: okB })])[0];
    expect(status(s)).toBe(expected);
    expect(res).toMatchObject({
      ok: true,
      events: [{ kind: "execution.finished", outcome: { complete: true, status: expected } }],
    });
  });

  it("a failure followed by a successful retry ends as success; an exhausted retry as failed", () => {
    const s = db();
    applyAll(s, [
      putJob({ retries: 1 }),
      startExecution({ group: 5, executions: [{ id: "a1", node: "r1" }] }),
    ]);
    const first = applyAll(s, [finishExecution("a1", { success: false })])[0];
    expect(first).toMatchObject({ events: [{ retry: true, outcome: { complete: false } }] });
    expect(status(s)).toBe("");
    applyAll(s, [
      startExecution({ group: 5, attempt: 2, trigger: "retry", executions: [{ id: "a2", node: "r1" }] }),
    ]);
    applyAll(s, [finishExecution("a2")]);
    expect(status(s)).toBe("success");
    expect(getStoredJob(s, "job")).toMatchObject({ successCount: 1, errorCount: 1 });

    applyAll(s, [
      startExecution({ group: 6, executions: [{ id: "b1", node: "r1" }] }),
      finishExecution("b1", { success: false }),
    ]);
    applyAll(s, [
      startExecution({ group: 6, attempt: 2, trigger: "retry", executions: [{ id: "b2", node: "r1" }] }),
    ]);
    const last = applyAll(s, [finishExecution("b2", { state: "lost", success: false })])[0];
    expect(last).toMatchObject({ events: [{ retry: false, outcome: { complete: true, status: "failed" } }] });
    expect(status(s)).toBe("failed");
  });

  it("a retry that ran on another runner settles the group (the failed runner's record is superseded)", () => {
    const s = db();
    applyAll(s, [
      putJob({ retries: 1 }),
      startExecution({ group: 5, executions: [{ id: "a1", node: "r1" }] }),
    ]);
    applyAll(s, [finishExecution("a1", { state: "lost", success: false })]);
    applyAll(s, [
      startExecution({ group: 5, attempt: 2, trigger: "retry", executions: [{ id: "a2", node: "r2" }] }),
    ]);
    applyAll(s, [finishExecution("a2")]);
    expect(status(s)).toBe("success");
  });

  it("a run with no target is a failed group at once when the job has no retries", () => {
    const s = db();
    applyAll(s, [
      putJob(),
      startExecution({ executions: [{ id: "none", node: "", state: "failed", output: "no target" }] }),
    ]);
    expect(getStoredJob(s, "job")).toMatchObject({ status: "failed", errorCount: 1 });
  });

  it("a start whose execution ids are already recorded adds nothing (a proposal committed twice)", () => {
    const s = db();
    const retry = startExecution({
      group: 5,
      attempt: 2,
      trigger: "retry",
      executions: [{ id: "5-2-r1", node: "r1", state: "failed", output: "runner gone" }],
    });
    applyAll(s, [
      putJob({ retries: 2 }),
      startExecution({ group: 5, executions: [{ id: "5-1-r1", node: "r1" }] }),
    ]);
    applyAll(s, [finishExecution("5-1-r1", { success: false })]);
    const first = applyAll(s, [retry])[0];
    expect(first).toMatchObject({
      ok: true,
      events: [{ kind: "execution.started" }, { kind: "execution.finished", retry: true }],
    });
    const before = state(s);
    const again = applyAll(s, [retry])[0];
    expect(again).toEqual({
      ok: true,
      value: { executions: [] },
      events: [{ kind: "execution.started", job: "job", executions: [] }],
    });
    expect(state(s)).toEqual(before);
    expect(getStoredJob(s, "job")?.errorCount).toBe(2);
  });

  it("missed slots are recorded but do not change the status", () => {
    const s = db();
    applyAll(s, [
      putJob(),
      startExecution({
        trigger: "schedule",
        executions: [{ id: "m", node: "", state: "missed", output: "missed" }],
      }),
    ]);
    expect(getStoredJob(s, "job")).toMatchObject({ status: "", errorCount: 0, successCount: 0 });
    expect(listExecutions(s, "job")[0]).toMatchObject({ state: "missed", finished_at: T0 + MINUTE });
  });
});

describe("apply: dependent runs owed by a parent's success", () => {
  /** parent (two targets) ← a, b; `over` adjusts the children. */
  function family(over: Parameters<typeof putJob>[0] = {}): StateDb {
    const s = db();
    applyAll(s, [
      putJob({ name: "parent", schedule: "@manually" }),
      putJob({ name: "a", parent_job: "parent", schedule: "", ...over }),
      putJob({ name: "b", parent_job: "parent", schedule: "", ...over }),
    ]);
    return s;
  }
  /** A run of parent (group `g`) on r1 and r2, both finished with `success`; returns the last finish's index. */
  function parentRun(s: StateDb, g: number, success = true): number {
    applyAll(s, [
      startExecution({
        job: "parent",
        group: g,
        executions: [
          { id: `${g}-1-r1`, node: "r1" },
          { id: `${g}-1-r2`, node: "r2" },
        ],
      }),
      finishExecution(`${g}-1-r1`),
      finishExecution(`${g}-1-r2`, { success }),
    ]);
    return lastApplied(s);
  }
  const childStart = (job: string, g: number, mark?: number) =>
    startExecution({
      job,
      group: g,
      trigger: "dependent",
      executions: [{ id: `${g}-1-r1`, node: "r1" }],
      ...(mark === undefined ? {} : { owed: mark }),
    });

  it("marks each child owed with the index of the finish that completes the group, and says so in events", () => {
    const s = family();
    applyAll(s, [
      startExecution({
        job: "parent",
        group: 1,
        executions: [
          { id: "1-1-r1", node: "r1" },
          { id: "1-1-r2", node: "r2" },
        ],
      }),
    ]);
    const [first] = applyAll(s, [finishExecution("1-1-r1")]);
    expect(first).toMatchObject({ ok: true, events: [{ kind: "execution.finished" }] });
    expect(owed(s)).toEqual([]);

    const index = lastApplied(s) + 1;
    const res = apply(s, index, finishExecution("1-1-r2", { at: T0 + 5 * MINUTE }));
    const run = (job: string) => ({
      jobName: job,
      mark: index,
      parentJob: "parent",
      parentGroup: 1,
      owedAt: T0 + 5 * MINUTE,
    });
    expect(res).toMatchObject({
      ok: true,
      events: [
        { kind: "execution.finished", outcome: { complete: true, status: "success" } },
        { kind: "dependent.owed", run: run("a") },
        { kind: "dependent.owed", run: run("b") },
      ],
    });
    expect(owedRuns(s)).toEqual([run("a"), run("b")]);
  });

  it("a failed or partially failed group owes nothing; a retry that heals it does", () => {
    const s = family();
    parentRun(s, 1, false);
    expect(getStoredJob(s, "parent")?.status).toBe("partially_failed");
    expect(owed(s)).toEqual([]);

    applyAll(s, [putJob({ name: "parent", schedule: "@manually", retries: 1 })]);
    parentRun(s, 2, false);
    expect(owed(s)).toEqual([]);
    applyAll(s, [
      startExecution({
        job: "parent",
        group: 2,
        trigger: "retry",
        attempt: 2,
        executions: [{ id: "2-2-r2", node: "r2" }],
      }),
    ]);
    const healed = apply(s, lastApplied(s) + 1, finishExecution("2-2-r2"));
    expect(healed.ok).toBe(true);
    expect(owed(s)).toEqual([
      ["a", lastApplied(s)],
      ["b", lastApplied(s)],
    ]);
  });

  it("the child's start settles its mark; a second start for the same mark is refused and changes nothing", () => {
    const s = family();
    const mark = parentRun(s, 1);
    const [started] = applyAll(s, [childStart("a", 10, mark)]);
    expect(started).toMatchObject({ ok: true, events: [{ kind: "execution.started" }] });
    expect(ids(s, "a")).toEqual(["10-1-r1"]);
    expect(owed(s)).toEqual([["b", mark]]);

    // The take-over path and the old leader's start both reached the log: the second is refused.
    const before = state(s);
    const [again] = applyAll(s, [childStart("a", 11, mark)]);
    expect(again).toMatchObject({ ok: false, error: { code: "CONFLICT" } });
    expect(state(s)).toEqual(before);
    expect(ids(s, "a")).toEqual(["10-1-r1"]);
  });

  it("two parent successes owe two runs, each settled by its own start", () => {
    const s = family();
    const m1 = parentRun(s, 1);
    const m2 = parentRun(s, 2);
    expect(owed(s)).toEqual([
      ["a", m1],
      ["b", m1],
      ["a", m2],
      ["b", m2],
    ]);
    applyAll(s, [childStart("a", 20, m2), childStart("a", 21, m1)]);
    expect(ids(s, "a")).toEqual(["20-1-r1", "21-1-r1"]);
    expect(owed(s)).toEqual([
      ["b", m1],
      ["b", m2],
    ]);
  });

  it("a start logged before runs were owed (no mark named) settles the oldest; with none owed it runs as before", () => {
    const s = family();
    const m1 = parentRun(s, 1);
    const m2 = parentRun(s, 2);
    applyAll(s, [childStart("a", 20)]);
    expect(owed(s).filter(([j]) => j === "a")).toEqual([["a", m2]]);
    applyAll(s, [childStart("a", 21), childStart("a", 22)]);
    expect(ids(s, "a")).toEqual(["20-1-r1", "21-1-r1", "22-1-r1"]);
    expect(owed(s)).toEqual([
      ["b", m1],
      ["b", m2],
    ]);
  });

  it("a disabled child, or a forbid child still running, is skipped (Dkron's isRunnable) and its mark settled", () => {
    const s = family({ concurrency: "forbid" });
    applyAll(s, [
      { type: "job.toggle", at: T0, name: "a" },
      startExecution({ job: "b", group: 5, executions: [{ id: "5-1-r1", node: "r1" }] }),
    ]);
    const mark = parentRun(s, 1);
    const [a, b] = applyAll(s, [childStart("a", 10, mark), childStart("b", 11, mark)]);
    expect(a).toEqual({ ok: true, value: { skipped: "disabled" }, events: [] });
    expect(b).toEqual({ ok: true, value: { skipped: "concurrency", running: "5-1-r1" }, events: [] });
    expect(ids(s, "a")).toEqual([]);
    expect(ids(s, "b")).toEqual(["5-1-r1"]);
    expect(owed(s)).toEqual([]);
  });

  it("deleting a child drops the runs it was owed", () => {
    const s = family();
    const mark = parentRun(s, 1);
    applyAll(s, [{ type: "job.delete", at: T0, name: "a" }]);
    expect(owed(s)).toEqual([["b", mark]]);
  });

  it("owed runs survive a reopen and a snapshot restore; the start settles them there", () => {
    const s = family();
    const mark = parentRun(s, 1);
    close(s);
    const reopened = db();
    expect(owed(reopened)).toEqual([
      ["a", mark],
      ["b", mark],
    ]);

    const other = db("other.db");
    applyAll(other, [putJob({ name: "stale" })]);
    restoreStateSnapshot(other, takeStateSnapshot(reopened));
    expect(owedRuns(other)).toEqual(owedRuns(reopened));
    applyAll(other, [childStart("a", 10, mark)]);
    expect(owed(other)).toEqual([["b", mark]]);
    expect(apply(other, lastApplied(other) + 1, childStart("a", 11, mark)).ok).toBe(false);
  });

  it("restores a snapshot taken before the table existed as owing nothing", () => {
    const s = family();
    parentRun(s, 1);
    const older = db("older.db");
    applyAll(older, [putJob({ name: "x" })]);
    older.sqlite.exec("DROP TABLE owed_dependent_runs");
    restoreStateSnapshot(s, takeStateSnapshot(older));
    expect(owed(s)).toEqual([]);
    expect(getStoredJob(s, "x")).toBeDefined();
  });
});

describe("apply: ephemeral jobs", () => {
  it("the finish that completes a successful group deletes the job and its executions, and still returns the record", () => {
    const s = db();
    applyAll(s, [
      putJob({ name: "once", schedule: "@manually", ephemeral: true, retries: 1 }),
      startExecution({ job: "once", group: 1, executions: [{ id: "1-1-r1", node: "r1" }] }),
    ]);
    // A failure with a retry to come keeps it.
    expect(applyAll(s, [finishExecution("1-1-r1", { success: false })])[0]).toMatchObject({
      ok: true,
      events: [{ kind: "execution.finished", retry: true }],
    });
    expect(getStoredJob(s, "once")).toBeDefined();
    applyAll(s, [
      startExecution({
        job: "once",
        group: 1,
        trigger: "retry",
        attempt: 2,
        executions: [{ id: "1-2-r1", node: "r1" }],
      }),
    ]);
    const [res] = applyAll(s, [finishExecution("1-2-r1", { output: "done\n" })]);
    expect(res).toMatchObject({
      ok: true,
      value: { execution: { id: "1-2-r1", state: "success", output: "done\n" } },
      events: [
        { kind: "execution.finished", execution: { id: "1-2-r1" }, outcome: { status: "success" } },
        { kind: "job.deleted", name: "once" },
      ],
    });
    expect(getStoredJob(s, "once")).toBeUndefined();
    expect(ids(s, "once")).toEqual([]);
    // The runner's resend of the result finds nothing (the dispatcher acknowledges NOT_FOUND).
    expect(applyAll(s, [finishExecution("1-2-r1")])[0]).toMatchObject({
      ok: false,
      error: { code: "NOT_FOUND" },
    });
  });

  it("keeps an ephemeral job that failed, and one that has children (they are owed a run)", () => {
    const s = db();
    applyAll(s, [
      putJob({ name: "lone", schedule: "@manually", ephemeral: true }),
      putJob({ name: "parent", schedule: "@manually", ephemeral: true }),
      putJob({ name: "child", parent_job: "parent", schedule: "", ephemeral: true }),
      startExecution({ job: "lone", group: 1, executions: [{ id: "1-1-r1", node: "r1" }] }),
      finishExecution("1-1-r1", { success: false }),
      startExecution({ job: "parent", group: 2, executions: [{ id: "2-1-r1", node: "r1" }] }),
      finishExecution("2-1-r1"),
    ]);
    expect(getStoredJob(s, "lone")?.status).toBe("failed");
    expect(getStoredJob(s, "parent")?.status).toBe("success");
    expect(owed(s)).toEqual([["child", lastApplied(s)]]);

    // The ephemeral child goes after its own success; then the parent may be deleted.
    applyAll(s, [
      startExecution({
        job: "child",
        group: 3,
        trigger: "dependent",
        owed: lastApplied(s),
        executions: [{ id: "3-1-r1", node: "r1" }],
      }),
      finishExecution("3-1-r1"),
    ]);
    expect(getStoredJob(s, "child")).toBeUndefined();
    expect(getStoredJob(s, "parent")?.dependents).toEqual([]);
  });
});
