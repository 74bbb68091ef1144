import { afterEach, describe, expect, it } from "vitest";
import { latenessOf } from "../../shared/lateness";
import { MINUTE, putJob, startExecution, T0 } from "../../test/helpers/builders";
import { apply, lastApplied } from "../fsm/apply";
import type { Command } from "../fsm/commands";
import { openStateDb, type StateDb } from "./db";
import { jobDrift, jobLateness } from "./lateness-queries";

const open: StateDb[] = [];
afterEach(() => {
  for (const s of open.splice(0)) s.close();
});

function db(): StateDb {
  const s = openStateDb(":memory:");
  open.push(s);
  return s;
}

const applyAll = (s: StateDb, cmds: Command[]) => {
  for (const c of cmds) expect(apply(s, lastApplied(s) + 1, c).ok).toBe(true);
};

/** Slot `k` of `job` (one a minute), started by its runner `lateMs` after the slot. */
const lateRun = (
  k: number,
  lateMs: number,
  trigger: "schedule" | "catchup" = "schedule",
  job = "job",
): Command[] => {
  const slot = T0 + k * MINUTE;
  const id = `${job}-${k}`;
  return [
    startExecution({ job, trigger, group: k, at: slot, scheduledAt: slot, executions: [{ id, node: "r1" }] }),
    { type: "executions.started", at: slot + lateMs, starts: [{ id, startedAt: slot + lateMs }] },
  ];
};

/** A small deterministic generator (the test must replay). */
function lcg(seed: number): () => number {
  let x = seed;
  return () => {
    x = (x * 1_103_515_245 + 12_345) % 2 ** 31;
    return x / 2 ** 31;
  };
}

describe("lateness from the retained history (SQLite)", () => {
  it("p50/p99/max read by rank in SQL equal the same figures over the samples in memory", () => {
    for (const seed of [1, 2, 3]) {
      const s = db();
      const random = lcg(seed);
      const n = 1 + Math.floor(random() * 100);
      const samples = Array.from({ length: n }, () => Math.floor(random() * 5000) - 50);
      applyAll(s, [putJob()]);
      applyAll(
        s,
        samples.flatMap((late, k) => lateRun(k + 1, late, k % 3 === 0 ? "catchup" : "schedule")),
      );
      const sorted = [...samples].sort((a, b) => a - b);
      expect(jobLateness(s, "job"), `seed ${seed}`).toEqual(
        latenessOf(n, sorted.at(-1)!, (rank) => sorted[rank - 1]!),
      );
    }
  });

  it("is per job, and a job's drift counts each run group once (its earliest start on any target)", () => {
    const s = db();
    applyAll(s, [putJob(), putJob({ name: "other" })]);
    applyAll(s, [...lateRun(1, 10), ...lateRun(2, 20), ...lateRun(3, 5000, "schedule", "other")]);
    // Slot 3 of `job` on two targets, started 30 ms and 90 ms late.
    const slot = T0 + 3 * MINUTE;
    applyAll(s, [
      startExecution({
        trigger: "schedule",
        group: 3,
        at: slot,
        scheduledAt: slot,
        executions: [
          { id: "a", node: "r1" },
          { id: "b", node: "r2" },
        ],
      }),
      {
        type: "executions.started",
        at: slot + 100,
        starts: [
          { id: "a", startedAt: slot + 30 },
          { id: "b", startedAt: slot + 90 },
        ],
      },
    ]);
    expect(jobLateness(s, "job")).toEqual({ samples: 4, p50_ms: 20, p99_ms: 90, max_ms: 90 });
    expect(jobLateness(s, "other")).toEqual({ samples: 1, p50_ms: 5000, p99_ms: 5000, max_ms: 5000 });
    expect(jobLateness(s, "none")).toBeNull();
    // Starts at slot 1 + 10 and slot 3 + 30: two intervals of 60 010 ms on average.
    expect(jobDrift(s, "job", MINUTE, T0)).toEqual({
      configured_ms: MINUTE,
      effective_ms: 60_010,
      samples: 2,
    });
    // Only slots after `since` (the anchor of the current schedule).
    expect(jobDrift(s, "job", MINUTE, T0 + MINUTE)).toEqual({
      configured_ms: MINUTE,
      effective_ms: 60_010,
      samples: 1,
    });
    expect(jobDrift(s, "job", MINUTE, T0 + 3 * MINUTE)).toBeNull();
  });
});
