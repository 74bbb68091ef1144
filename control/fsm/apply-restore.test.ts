import { join } from "node:path";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import type { JobCounters } from "../../shared";
import { finishExecution, MINUTE, putJob, startExecution, T0 } from "../../test/helpers/builders";
import { tempDir } from "../../test/helpers/tmp";
import { openStateDb, type StateDb } from "../store/db";
import { getStoredJob } from "../store/job-queries";
import { restoreStateSnapshot, takeStateSnapshot } from "../store/snapshot";
import { apply, lastApplied } from "./apply";
import type { Command } from "./commands";

// What a job.put from POST /v1/restore adds to a plain put: warnings kept with the spec, and the
// backup's counters merged as Dkron's Store.SetJob merges them.

const dir = tempDir("dkron-apply-restore-");
const open: StateDb[] = [];
afterEach(() => {
  for (const s of open.splice(0)) s.close();
});

function db(name: string): StateDb {
  const s = openStateDb(join(dir.path, name));
  open.push(s);
  return s;
}
const run = (s: StateDb, ...cmds: Command[]) => cmds.map((c) => apply(s, lastApplied(s) + 1, c));
const counters = (over: Partial<JobCounters> = {}): JobCounters => ({
  success_count: 26,
  error_count: 6,
  last_success: T0 - 10 * MINUTE,
  last_error: T0 - 20 * MINUTE,
  status: "success",
  ...over,
});

describe("apply job.put from a restore", () => {
  it("keeps warnings through a toggle and a snapshot, and a plain put clears them", () => {
    const s = db("warnings.db");
    run(s, { ...putJob(), warnings: ["executor_config.url is a placeholder"] });
    expect(getStoredJob(s, "job")!.warnings).toEqual(["executor_config.url is a placeholder"]);
    expect(getStoredJob(s, "job")!.spec).not.toHaveProperty("warnings");
    run(s, { type: "job.toggle", at: T0, name: "job" });
    expect(getStoredJob(s, "job")!.warnings).toEqual(["executor_config.url is a placeholder"]);
    const copy = db("warnings-copy.db");
    restoreStateSnapshot(copy, takeStateSnapshot(s));
    expect(getStoredJob(copy, "job")!.warnings).toEqual(["executor_config.url is a placeholder"]);
    run(s, putJob());
    expect(getStoredJob(s, "job")!.warnings).toEqual([]);
  });

  it("stores a new job's counters and status from the backup", () => {
    const s = db("new.db");
    run(s, { ...putJob(), counters: counters() });
    expect(getStoredJob(s, "job")).toMatchObject({
      successCount: 26,
      errorCount: 6,
      lastSuccess: T0 - 10 * MINUTE,
      lastError: T0 - 20 * MINUTE,
      status: "success",
    });
  });

  it("never rolls back a job that ran here: larger counts, later times and its own status win", () => {
    const s = db("merge.db");
    run(s, putJob(), startExecution(), finishExecution("1-1-r1", { success: false }));
    const ran = getStoredJob(s, "job")!;
    expect(ran).toMatchObject({ errorCount: 1, status: "failed" });
    run(s, { ...putJob({}, T0 + 3 * MINUTE), counters: counters() });
    expect(getStoredJob(s, "job")).toMatchObject({
      successCount: 26,
      errorCount: 6,
      lastSuccess: T0 - 10 * MINUTE,
      lastError: ran.lastError,
      status: "failed",
    });
  });
});

afterAll(() => dir.cleanup());
