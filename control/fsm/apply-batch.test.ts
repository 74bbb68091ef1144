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
import { type ApplyResult, apply, isStorageFault, lastApplied } from "./apply";
import type { Command, ExecutionFinishCommand, ExecutionStartCommand } from "./commands";

const { db } = stateDbsPerTest("dkron-apply-batch-");

const starts = (...cmds: ExecutionStartCommand[]): Command => ({
  type: "executions.start",
  at: T0 + MINUTE,
  starts: cmds.map(({ type: _, ...rest }) => rest),
});
const finishes = (...cmds: ExecutionFinishCommand[]): Command => ({
  type: "executions.finish",
  at: T0 + 2 * MINUTE,
  finishes: cmds.map(({ type: _, ...rest }) => rest),
});
/** Each item's outcome of a batch entry: "ok" or its rejection code. */
const outcomes = (r: ApplyResult | undefined) =>
  r?.ok && r.value && "results" in r.value
    ? r.value.results.map((x) => (x.ok ? "ok" : x.error.code))
    : `not a batch result: ${JSON.stringify(r)}`;
/** The replicated tables the job and execution commands write, without last_applied. */
const TABLES = ["jobs", "executions", "owed_dependent_runs"];
const SLOT = T0 + MINUTE;
const slot = (job: string, group: number, node = "r1") =>
  startExecution({
    job,
    group,
    trigger: "schedule",
    scheduledAt: SLOT,
    executions: [{ id: `${group}-1-${node}`, node }],
  });

describe("apply: executions.start (the starts of a tick in one entry)", () => {
  it("applies every start as its own entry would, and a refused one alone: the others still apply", () => {
    const s = db();
    applyAll(s, [putJob({ name: "a" }), putJob({ name: "b" }), putJob({ name: "c" })]);
    applyAll(s, [slot("b", 1)]);
    const [res] = applyAll(s, [starts(slot("a", 2), slot("b", 3), slot("gone", 4), slot("c", 5))]);
    // b's slot already started; "gone" was deleted (or never was) by the time the entry applied.
    expect(outcomes(res)).toEqual(["ok", "CONFLICT", "NOT_FOUND", "ok"]);
    expect(res).toMatchObject({
      ok: true,
      events: [
        { kind: "execution.started", job: "a", executions: [{ id: "2-1-r1" }] },
        { kind: "execution.started", job: "c", executions: [{ id: "5-1-r1" }] },
      ],
    });
    const ids = (job: string) => listExecutions(s, job, "started_at", "ASC").map((e) => e.id);
    expect([ids("a"), ids("b"), ids("c")]).toEqual([["2-1-r1"], ["1-1-r1"], ["5-1-r1"]]);
    expect([jobRow(s, "a")?.cursor, jobRow(s, "c")?.cursor]).toEqual([SLOT, SLOT]);
  });

  it("rolls back a start that fails after it wrote (its savepoint), so the slot can still start", () => {
    const s = db();
    applyAll(s, [putJob({ name: "a" }), putJob({ name: "b" })]);
    const cursorBefore = jobRow(s, "a")?.cursor;
    // A record without a node breaks a NOT NULL constraint after the cursor moved: a bug, INTERNAL.
    const broken = slot("a", 1);
    broken.executions = [{ id: "1-1-x", node: null as unknown as string }];
    const [res] = applyAll(s, [starts(broken, slot("b", 2))]);
    expect(outcomes(res)).toEqual(["INTERNAL", "ok"]);
    expect(jobRow(s, "a")?.cursor).toBe(cursorBefore);
    expect(listExecutions(s, "a", "started_at", "ASC")).toEqual([]);
    expect(outcomes(applyAll(s, [starts(slot("a", 3), slot("b", 4))])[0])).toEqual(["ok", "CONFLICT"]);
  });

  it("a no-target start fails its record at once inside the batch, with the finished event", () => {
    const s = db();
    applyAll(s, [putJob({ name: "a" }), putJob({ name: "b" })]);
    const none = slot("a", 1);
    none.executions = [{ id: "1-1-none", node: "", state: "failed", output: "no target" }];
    const [res] = applyAll(s, [starts(none, slot("b", 2))]);
    expect(outcomes(res)).toEqual(["ok", "ok"]);
    expect(res?.ok && res.events.map((e) => e.kind)).toEqual([
      "execution.started",
      "execution.finished",
      "execution.started",
    ]);
    expect(getStoredJob(s, "a")).toMatchObject({ status: "failed", errorCount: 1 });
  });
});

describe("apply: executions.finish (the results of a turn in one entry)", () => {
  it("applies each finish; an unknown id is refused alone, a second report is a duplicate", () => {
    const s = db();
    applyAll(s, [putJob({ name: "a" }), putJob({ name: "b" }), slot("a", 1), slot("b", 2)]);
    applyAll(s, [finishExecution("1-1-r1")]);
    const [res] = applyAll(s, [
      finishes(
        finishExecution("1-1-r1"),
        finishExecution("nope"),
        finishExecution("2-1-r1", { success: false }),
      ),
    ]);
    expect(outcomes(res)).toEqual(["ok", "NOT_FOUND", "ok"]);
    expect(res?.ok && res.value && "results" in res.value && res.value.results[0]).toMatchObject({
      ok: true,
      value: { duplicate: true },
    });
    expect(getStoredJob(s, "a")).toMatchObject({ successCount: 1, status: "success" });
    expect(getStoredJob(s, "b")).toMatchObject({ errorCount: 1, status: "failed" });
  });

  it("refuses a second finish of one job in an entry (the marks of its dependent runs would collide)", () => {
    const s = db();
    applyAll(s, [
      putJob({ name: "p", schedule: "@manually" }),
      putJob({ name: "child", parent_job: "p", schedule: "" }),
      startExecution({ job: "p", group: 1 }),
      startExecution({ job: "p", group: 2 }),
    ]);
    const index = lastApplied(s) + 1;
    const [res] = applyAll(s, [finishes(finishExecution("1-1-r1"), finishExecution("2-1-r1"))]);
    expect(outcomes(res)).toEqual(["ok", "CONFLICT"]);
    expect(owedRuns(s).map((r) => [r.jobName, r.mark])).toEqual([["child", index]]);
    // Its own entry later (the runner resends it): owed under that entry's index.
    applyAll(s, [finishExecution("2-1-r1")]);
    expect(owedRuns(s).map((r) => [r.jobName, r.mark])).toEqual([
      ["child", index],
      ["child", index + 1],
    ]);
  });
});

describe("apply: old single entries and new batch entries", () => {
  /** Jobs a, b (a's child c), runs of a and b, their results: as single entries or batched. */
  function log(batched: boolean): Command[] {
    const s1 = slot("a", 1);
    const s2 = slot("b", 2, "r2");
    const f1 = finishExecution("1-1-r1", { startedAt: T0 + MINUTE + 5 });
    const f2 = finishExecution("2-1-r2", { success: false });
    return [
      putJob({ name: "a" }),
      putJob({ name: "b", retries: 1 }),
      putJob({ name: "c", parent_job: "a", schedule: "" }),
      ...(batched ? [starts(s1, s2)] : [s1, s2]),
      ...(batched ? [finishes(f1, f2)] : [f1, f2]),
    ];
  }

  it("a log mixing both applies to the same state as the single entries, through JSON, and replays as a no-op", () => {
    const single = db("single.db");
    const batched = db("batched.db");
    const mixed = db("mixed.db");
    applyAll(single, log(false));
    applyAll(batched, log(true));
    // An old log (single starts) continued by a new leader (batched finishes), read back from JSON.
    const m = [...log(false).slice(0, 5), log(true)[4]!].map((c) => JSON.parse(JSON.stringify(c)) as Command);
    applyAll(mixed, m);
    // The dependent run's mark is the index of the finish that settled the group: one entry earlier
    // when the finishes share one, so compare the owed runs apart from their marks.
    const image = (s: StateDb) => {
      const t = dumpTables(s, TABLES);
      return { ...t, owed_dependent_runs: owedRuns(s).map(({ mark: _, ...r }) => r) };
    };
    expect(image(batched)).toEqual(image(single));
    expect(image(mixed)).toEqual(image(single));
    expect(image(single).owed_dependent_runs).toEqual([
      { jobName: "c", parentJob: "a", parentGroup: 1, owedAt: T0 + 2 * MINUTE },
    ]);
    // Replaying every entry again (a restart from an older snapshot) changes nothing.
    const before = dumpTables(mixed, [...TABLES, "meta"]);
    for (const [i, c] of m.entries()) apply(mixed, i + 1, c);
    expect(dumpTables(mixed, [...TABLES, "meta"])).toEqual(before);
  });
});

describe("a storage fault inside a batch", () => {
  it("tells a fault of the disk from an error of the entry (the same on every replica)", () => {
    const s = db();
    const thrown = (f: () => unknown) => {
      try {
        f();
      } catch (e) {
        return e;
      }
      throw new Error("did not throw");
    };
    const badJson = thrown(() => s.sqlite.prepare("SELECT json_extract('not json', '$')").get());
    expect(badJson).toMatchObject({ code: "SQLITE_ERROR" });
    expect(isStorageFault(badJson)).toBe(false);
    s.sqlite.exec("CREATE TABLE u (k TEXT PRIMARY KEY)");
    s.sqlite.exec("INSERT INTO u VALUES ('a')");
    expect(isStorageFault(thrown(() => s.sqlite.exec("INSERT INTO u VALUES ('a')")))).toBe(false);
    expect(isStorageFault(new Error("a bug"))).toBe(false);
  });

  it("fails the whole apply (nothing of the entry, not even last_applied) instead of refusing one item", () => {
    const s = db();
    applyAll(s, [putJob({ name: "a" }), putJob({ name: "b" })]);
    const before = lastApplied(s);
    const tables = dumpTables(s, TABLES);
    // A full disk, for real: the file may not grow past the pages it has now.
    const pages = s.sqlite.pragma("page_count", { simple: true }) as number;
    s.sqlite.pragma(`max_page_count = ${pages}`);
    const big = (job: string, group: number) => {
      const c = slot(job, group);
      c.executions = [{ id: `${group}-1-r1`, node: "r1", state: "failed", output: "x".repeat(64 * 1024) }];
      return c;
    };
    expect(() => apply(s, before + 1, starts(big("a", 1), big("b", 2)))).toThrow(/full/i);
    expect(lastApplied(s)).toBe(before);
    expect(dumpTables(s, TABLES)).toEqual(tables);
  });
});
