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
