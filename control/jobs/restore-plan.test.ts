import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { planRestore, type RestoreStep, restoreResult } from "./restore-plan";

const job = (name: string, over: Record<string, unknown> = {}) => ({
  name,
  schedule: "@daily",
  executor: "shell",
  executor_config: { command: "true" },
  ...over,
});
const child = (name: string, parent: string) => job(name, { parent_job: parent });

/** Each step as "<label>[ after <parent label>][: error]". */
function show(plan: RestoreStep[]): string[] {
  return plan.map(
    (s) =>
      s.label +
      (s.after === undefined ? "" : ` after ${plan[s.after]!.label}`) +
      (s.error === undefined ? "" : `: ${s.error}`),
  );
}

describe("planRestore", () => {
  it("orders Dkron's sample backup as Dkron's recursiveSetJob does: each root, then its subtree depth-first", () => {
    const file = JSON.parse(
      readFileSync(new URL("../../test/fixtures/dkron-backup.json", import.meta.url), "utf8"),
    );
    const plan = planRestore(file);
    expect(show(plan)).toEqual([
      "task1",
      "task2",
      "task3 after task2",
      "task4",
      "task5 after task4",
      "task6 after task5",
      "task8 after task6",
      "task7 after task5",
    ]);
    expect(plan.map((s) => s.job?.warnings)).toEqual(
      plan.map(() => ["executor_config.url must be an absolute http:// or https:// URL"]),
    );
  });

  it("writes a parent listed after its children first", () => {
    expect(show(planRestore([child("c", "p"), job("p")]))).toEqual(["p", "c after p"]);
  });

  it("keeps a job Dkron refuses in its place with the reason, and its children after it", () => {
    const plan = planRestore([job("Bad"), child("kid", "Bad"), job("ok")]);
    expect(show(plan)).toEqual([
      "Bad: name: contains illegal character 'B' (use lowercase letters, digits, _ and -)",
      "kid after Bad",
      "ok",
    ]);
  });

  it("labels an entry without a name by its index", () => {
    expect(show(planRestore([{ schedule: "@daily" }]))).toEqual(["file[0]: name: is required"]);
  });

  it("makes a job whose parent is not in the file a root (the state machine looks for it)", () => {
    expect(show(planRestore([child("c", "stored-elsewhere")]))).toEqual(["c"]);
  });

  it("fails jobs whose parents never reach a root, and a job that is its own parent is left to the state machine", () => {
    const plan = planRestore([child("a", "b"), child("b", "a"), child("self", "self")]);
    expect(show(plan)).toEqual([
      "self",
      'a: parent_job: "b" leads to a dependency cycle',
      'b: parent_job: "a" leads to a dependency cycle',
    ]);
  });

  it("refuses a file that is not an array of objects, naming the entry", () => {
    expect(() => planRestore({ name: "x" })).toThrow("file: expected a JSON array of jobs");
    expect(() => planRestore([job("a"), 7])).toThrow("file[1]: expected a job object, got number");
    expect(() => planRestore([null])).toThrow("file[0]: expected a job object, got null");
    expect(() => planRestore([[job("a")]])).toThrow("file[0]: expected a job object, got an array");
  });
});

describe("restoreResult", () => {
  it("answers in Dkron's words, with warnings appended and a reason on failure", () => {
    expect(restoreResult("a", { warnings: [] })).toBe("success create a");
    expect(restoreResult("a", { warnings: ["x is odd", "y too"] })).toBe(
      "success create a (warning: x is odd; y too)",
    );
    expect(restoreResult("a", { error: "specified parent job not found" })).toBe(
      "fail create a: specified parent job not found",
    );
  });
});
