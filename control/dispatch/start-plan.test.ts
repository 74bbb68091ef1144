import { describe, expect, it } from "vitest";
import type { Execution } from "../../shared/execution";
import { T0 } from "../../test/helpers/builders";
import {
  executionId,
  nextGroup,
  noTargetNote,
  planMissed,
  planRetry,
  planRun,
  runFrame,
  toDispatch,
} from "./start-plan";

const runners = [
  { name: "r1", tags: { zone: "a" } },
  { name: "r2", tags: { zone: "b" } },
  { name: "r3", tags: { zone: "a" } },
];

/** A failed execution of group 7 (defaults: first attempt on r1, its first target). */
function failed(over: Partial<Execution> = {}): Execution {
  return {
    id: "7-1-r1",
    job_name: "job",
    group: 7,
    attempt: 1,
    node_name: "r1",
    trigger: "schedule",
    scheduled_at: T0,
    started_at: T0,
    dispatched_at: T0,
    start_reported: true,
    finished_at: T0 + 1000,
    state: "failed",
    success: false,
    output: "boom",
    exit_code: 1,
    ...over,
  };
}

describe("start-plan: ids and groups", () => {
  it.each([
    [1, 1, "r1", "1-1-r1"],
    [1_767_225_600_000_000, 3, "none", "1767225600000000-3-none"],
    [5, 2, "missed", "5-2-missed"],
  ])("executionId(%i, %i, %s) = %s", (group, attempt, node, id) => {
    expect(executionId(group, attempt, node)).toBe(id);
  });

  it.each([
    // now (ms), last group, next group: ms × 1000, or one above the last when that is not later.
    [1000, 0, 1_000_000],
    [1000, 1_000_000, 1_000_001],
    [1000, 5_000_000, 5_000_001],
    [2000, 1_000_001, 2_000_000],
  ])("nextGroup(%i, %i) = %i", (now, last, next) => {
    expect(nextGroup(now, last)).toBe(next);
  });
});

describe("start-plan: a new run", () => {
  const base = {
    jobName: "job",
    group: 9,
    trigger: "schedule" as const,
    scheduledAt: T0,
    at: T0 + 5,
    retain: 100,
    candidates: runners,
    random: () => 0,
  };

  it.each([
    ["every matching runner (no count)", { zone: "a" }, ["9-1-r1", "9-1-r3"]],
    ["one of them (value:count)", { zone: "a:1" }, ["9-1-r1"]],
    ["all runners without tags", null, ["9-1-r1", "9-1-r2", "9-1-r3"]],
  ] as const)("targets %s", (_what, tags, ids) => {
    const cmd = planRun({ ...base, spec: { tags: tags ? { ...tags } : null } });
    expect(cmd).toMatchObject({ type: "execution.start", job: "job", group: 9, attempt: 1, at: T0 + 5 });
    expect(cmd.executions.map((e) => e.id)).toEqual(ids);
    expect(cmd.executions.every((e) => e.state === undefined)).toBe(true);
    expect(cmd.owed).toBeUndefined();
  });

  it("records one failed execution naming the tags and the connected runners when none matches", () => {
    const cmd = planRun({ ...base, spec: { tags: { zone: "c" } } });
    expect(cmd.executions).toEqual([
      {
        id: "9-1-none",
        node: "",
        state: "failed",
        output:
          'no target nodes found to run job job (tags {"zone":"c"}; connected runners: r1 (tags differ), r2 (tags differ), r3 (tags differ))',
      },
    ]);
    expect(noTargetNote("j", undefined, [])).toBe(
      "no target nodes found to run job j (tags {}; connected runners: none)",
    );
  });

  it("names each connected runner with why it was not picked: tags, capacity, executor, draining", () => {
    const connected = [
      { name: "r1", tags: { zone: "a" }, unavailable: "at max_concurrent 1" },
      { name: "r2", tags: { zone: "b" } },
      { name: "r3", tags: { zone: "a" }, unavailable: "no http executor" },
      { name: "r4", tags: { zone: "a" }, unavailable: "draining" },
    ];
    const cmd = planRun({
      ...base,
      candidates: [runners[1]!],
      connected: () => connected,
      spec: { tags: { zone: "a" } },
    });
    expect(cmd.executions[0]?.output).toBe(
      'no target nodes found to run job job (tags {"zone":"a"}; connected runners: r1 (at max_concurrent 1), r2 (tags differ), r3 (no http executor), r4 (draining))',
    );
    // A count of 0 picks nobody, matching or not.
    expect(noTargetNote("j", { zone: "a:0" }, [runners[0]!, runners[1]!])).toBe(
      'no target nodes found to run job j (tags {"zone":"a:0"}; connected runners: r1 (the tags ask for 0 nodes), r2 (tags differ))',
    );
  });

  it("carries the owed mark of a dependent run", () => {
    expect(planRun({ ...base, trigger: "dependent", owed: 42, spec: { tags: null } }).owed).toBe(42);
  });

  it("records a missed slot as one missed execution with its note", () => {
    expect(
      planMissed({ jobName: "job", group: 3, scheduledAt: T0, at: T0 + 9, retain: 5, note: "why" }),
    ).toEqual({
      type: "execution.start",
      at: T0 + 9,
      job: "job",
      group: 3,
      trigger: "schedule",
      attempt: 1,
      scheduledAt: T0,
      retain: 5,
      executions: [{ id: "3-1-missed", node: "", state: "missed", output: "why" }],
    });
  });
});

describe("start-plan: a retry", () => {
  const base = { at: T0 + 2000, retain: 100, candidates: runners, spec: { tags: { zone: "a" } } };

  const rows: [string, Execution, string[], () => number, string, string][] = [
    ["on the same runner while it is connected", failed(), ["r1", "r2", "r3"], () => 0.9, "7-2-r1", "r1"],
    ["on another matching runner when it is gone", failed(), ["r2", "r3"], () => 0.9, "7-2-r1", "r3"],
    // The id keeps the first target: attempt 2 ran on r3 but the group first started on r1.
    [
      "keeping the first target in the id",
      failed({ id: "7-2-r1", attempt: 2, node_name: "r3" }),
      ["r3"],
      () => 0,
      "7-3-r1",
      "r3",
    ],
  ];
  it.each(rows)("%s", (_what, f, connected, random, id, node) => {
    const cmd = planRetry({ ...base, failed: f, isConnected: (n) => connected.includes(n), random });
    expect(cmd).toMatchObject({ trigger: "retry", group: 7, attempt: f.attempt + 1, scheduledAt: T0 });
    expect(cmd.executions).toEqual([{ id, node }]);
  });

  it("records a failed attempt when no runner is left", () => {
    const cmd = planRetry({
      ...base,
      candidates: [],
      failed: failed(),
      isConnected: () => false,
      random: () => 0,
    });
    expect(cmd.executions).toEqual([
      {
        id: "7-2-r1",
        node: "r1",
        state: "failed",
        output: "retry: runner r1 is gone and no other target matches",
      },
    ]);
  });

  it("names a no-target group's retry after its first target", () => {
    const cmd = planRetry({
      ...base,
      failed: failed({ id: "7-1-none", node_name: "" }),
      isConnected: () => false,
      random: () => 0,
    });
    expect(cmd.executions).toEqual([{ id: "7-2-none", node: "r1" }]);
  });
});

describe("start-plan: dispatch", () => {
  it("sends only the running records of a committed start", () => {
    const running = failed({ id: "1-1-r1", state: "running", finished_at: null });
    const noTarget = failed({ id: "1-1-none", node_name: "" });
    expect(toDispatch({ executions: [running, noTarget] })).toEqual([running]);
    expect(toDispatch({ skipped: "disabled" })).toEqual([]);
    expect(toDispatch({ skipped: "concurrency", running: "x" })).toEqual([]);
  });

  it("builds the run frame from the execution and the job's executor", () => {
    const e = failed({ state: "running", attempt: 2 });
    expect(runFrame(e, { executor: "shell", executor_config: { command: "echo" } })).toEqual({
      type: "run",
      execution_id: "7-1-r1",
      job_name: "job",
      scheduled_at: new Date(T0).toISOString(),
      attempt: 2,
      executor: "shell",
      config: { command: "echo" },
    });
  });
});
