import { describe, expect, it } from "vitest";
import type { Execution, ExecutionState } from "../../shared/execution";
import { groupOutcome, retriesOwed } from "./group-status";

/** One record of group 1: `node/attempt/state`, e.g. "r1/1/failed". */
function rec(spec: string): Execution {
  const [node = "", attempt = "1", state = "success"] = spec.split("/");
  return {
    id: `1-${attempt}-${node}`,
    job_name: "job",
    group: 1,
    attempt: Number(attempt),
    node_name: node,
    trigger: attempt === "1" ? "schedule" : "retry",
    scheduled_at: 0,
    started_at: 0,
    dispatched_at: 0,
    start_reported: state !== "running",
    finished_at: state === "running" ? null : 1,
    state: state as ExecutionState,
    success: state === "success",
    output: "",
    exit_code: null,
  };
}
const group = (...specs: string[]) => specs.map(rec);

describe("groupOutcome", () => {
  it.each([
    [[], 0, { complete: false }],
    [["r1/1/missed"], 0, { complete: false }],
    [["r1/1/running"], 0, { complete: false }],
    [["r1/1/success", "r2/1/running"], 0, { complete: false }],
    [["r1/1/success", "r2/1/success"], 0, { complete: true, status: "success" }],
    [["r1/1/success", "r2/1/failed"], 0, { complete: true, status: "partially_failed" }],
    [["r1/1/lost", "r2/1/failed"], 0, { complete: true, status: "failed" }],
    [["r1/1/failed"], 1, { complete: false }],
    [["r1/1/failed", "r1/2/running"], 1, { complete: false }],
    [["r1/1/failed", "r1/2/success"], 1, { complete: true, status: "success" }],
    [["r1/1/failed", "r1/2/failed"], 1, { complete: true, status: "failed" }],
    [["r1/1/failed", "r2/2/success"], 1, { complete: true, status: "success" }],
    [["r1/1/failed", "r2/1/failed", "r2/2/success"], 1, { complete: false }],
    [
      ["r1/1/failed", "r2/1/failed", "r2/2/success", "r1/2/failed"],
      1,
      { complete: true, status: "partially_failed" },
    ],
    [["r1/1/success", "r2/1/missed"], 0, { complete: true, status: "success" }],
  ] as const)("%j with retries %i → %j", (specs, retries, expected) => {
    expect(groupOutcome(group(...specs), retries)).toEqual(expected);
  });
});

describe("retriesOwed", () => {
  const owed = (retries: number, ...specs: string[]) =>
    retriesOwed(group(...specs), retries).map((e) => e.id);

  it("lists failed records with no retry yet, while attempts remain", () => {
    expect(owed(1, "r1/1/failed", "r2/1/success")).toEqual(["1-1-r1"]);
    expect(owed(0, "r1/1/failed")).toEqual([]);
    expect(owed(2, "r1/1/failed", "r1/2/lost")).toEqual(["1-2-r1"]);
    expect(owed(2, "r1/1/failed", "r1/2/running")).toEqual([]);
  });

  it("matches a retry to the failure on its runner first, then to any", () => {
    expect(owed(1, "r1/1/failed", "r2/1/failed", "r2/2/running")).toEqual(["1-1-r1"]);
    expect(owed(1, "r1/1/failed", "r2/1/failed", "r3/2/running")).toEqual(["1-1-r2"]);
    expect(owed(1, "r1/1/failed", "r2/1/failed", "r3/2/running", "r2/2/success")).toEqual([]);
  });

  it("agrees with groupOutcome: a group waits exactly while a retry is owed or a run is going", () => {
    const cases = [
      ["r1/1/failed"],
      ["r1/1/failed", "r2/2/success"],
      ["r1/1/failed", "r2/1/failed", "r2/2/success"],
      ["r1/1/failed", "r1/2/failed", "r1/3/failed"],
      ["r1/1/failed", "r1/2/failed"],
    ];
    for (const specs of cases) {
      const g = group(...specs);
      const waiting = g.some((e) => e.state === "running") || retriesOwed(g, 2).length > 0;
      expect(groupOutcome(g, 2).complete).toBe(!waiting);
    }
  });
});
