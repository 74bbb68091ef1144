import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { tempDir } from "../../test/helpers/tmp";
import { apply, lastApplied } from "../fsm/apply";
import { validateJob } from "../jobs/validate-job";
import { openStateDb } from "./db";
import { listStoredJobs } from "./job-queries";
import { restoreStateSnapshot, takeStateSnapshot } from "./snapshot";

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});

describe("state snapshots", () => {
  it("restores jobs, executions and last_applied into another database, replacing what was there", () => {
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
    apply(b, 1, { type: "job.put", at: 1000, job: job("stale") });

    restoreStateSnapshot(b, takeStateSnapshot(a));
    expect(listStoredJobs(b).map((j) => j.spec.name)).toEqual(["one", "two"]);
    expect(lastApplied(b)).toBe(3);
    expect(b.sqlite.prepare("select id, state from executions").all()).toEqual([
      { id: "e1", state: "running" },
    ]);
    a.close();
    b.close();
  });
});
